/**
 * The hand-written Parquet writer, checked by two independent readers (DuckDB, hyparquet) on tables with NULLs in
 * every column type, unicode, dictionary and plain strings, several row groups, and zero rows.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { USERS_FEATURES_SPEC } from '../etl/city-features.js'
import { fileRanges, writeParquetFiles } from '../etl/parquet/files.js'
import { parquetToTable } from '../etl/parquet/reader.js'
import { type EncodedColumnChunk, writeParquet } from '../etl/parquet/writer.js'
import { tableToCsv } from '../etl/report/csv-export.js'
import { stringColumnFrom } from '../etl/table/columns.js'
import {
  encodeParquetFilesParallel,
  encodeParquetParallel,
  splitColumns,
} from '../etl/threads/parquet-parallel.js'
import type { Table } from '../etl/types.js'
import { NULL_DATE } from '../etl/types.js'
import { tempDir } from './helpers/fixtures.js'
import { duckdb, queryObjects, sqlString } from './helpers/parquet.js'

type FeatureRow = [
  number,
  string | null,
  string | null,
  number | null,
  string | null,
  number | null,
  number,
  number | null,
]

function table(rows: FeatureRow[]): Table {
  const n = rows.length
  const col = (i: number) => rows.map((r) => r[i])
  const ints = (i: number) => ({
    type: 'int32' as const,
    values: Int32Array.from(col(i), (v) => (v as number | null) ?? 0),
    valid: Uint8Array.from(col(i), (v) => (v === null ? 0 : 1)),
  })
  return {
    spec: USERS_FEATURES_SPEC,
    length: n,
    columns: [
      ints(0),
      stringColumnFrom(col(1) as (string | null)[]),
      stringColumnFrom(col(2) as (string | null)[]),
      { type: 'date', values: Int32Array.from(col(3), (v) => (v as number | null) ?? NULL_DATE) },
      stringColumnFrom(col(4) as (string | null)[]),
      ints(5),
      { type: 'double', values: Float64Array.from(col(6) as number[]) },
      ints(7),
    ],
  }
}

const row: fc.Arbitrary<FeatureRow> = fc.tuple(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.option(fc.string({ unit: 'grapheme', maxLength: 8 })),
  fc.option(fc.constantFrom('Austin', 'Zürich', '😀', '', 'Ａcity')),
  fc.option(fc.integer({ min: -719162, max: 2932896 })),
  fc.option(fc.constantFrom('Texas', 'ZH')),
  fc.option(fc.integer()),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.option(fc.nat()),
)

describe('writeParquet', () => {
  it('round-trips through hyparquet for any rows, row-group size and compression', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        fc.boolean(),
        async (rows, rg, snappy) => {
          const t = table(rows)
          const bytes = writeParquet(t, { rowGroupSize: rg, compression: snappy ? 'snappy' : 'none' })
          const back = await parquetToTable(bytes, USERS_FEATURES_SPEC, 'x')
          expect(tableToCsv(back)).toBe(tableToCsv(t))
        },
      ),
      { numRuns: 150 },
    )
  })

  it('is read by DuckDB with the published types and values, across row groups', async () => {
    const dir = tempDir()
    const rows: FeatureRow[] = []
    for (let i = 0; i < 5000; i++)
      rows.push([
        i,
        i % 7 === 0 ? null : `name ${i} ✓`,
        i % 11 === 0 ? null : ['Austin', 'Zürich', '😀'][i % 3]!,
        i % 13 === 0 ? null : 18000 + (i % 400),
        i % 3 === 2 ? null : 'S',
        i % 17 === 0 ? null : i % 5,
        i / 5000,
        i,
      ])
    const file = join(dir, 't.parquet')
    writeFileSync(file, writeParquet(table(rows), { rowGroupSize: 1024 }))
    const parquet = `read_parquet(${sqlString(file)})`
    const types = await queryObjects(`describe select * from ${parquet}`)
    expect(types.map((t) => t.column_type)).toEqual([
      'INTEGER',
      'VARCHAR',
      'VARCHAR',
      'DATE',
      'VARCHAR',
      'INTEGER',
      'DOUBLE',
      'INTEGER',
    ])
    const agg = await queryObjects(`select count(*)::int n, count(name)::int nm, count(city)::int cities,
        count(last_login)::int dates, count(state)::int states, count(last_login_rank_by_city)::int ranks,
        sum(user_id)::bigint ids, min(last_login)::varchar dmin, string_agg(distinct city, '|' order by city) cs
        from ${parquet}`)
    expect(agg).toEqual([
      {
        n: 5000,
        nm: 5000 - 715,
        cities: 5000 - 455,
        dates: 5000 - 385,
        states: 5000 - 1666,
        ranks: 5000 - 295,
        ids: '12497500',
        dmin: '2019-04-14',
        cs: 'Austin|Zürich|😀',
      },
    ])
    const rg = await queryObjects(
      `select count(distinct row_group_id)::int g from parquet_metadata(${sqlString(file)})`,
    )
    expect(rg).toEqual([{ g: 5 }])
  })

  it('round-trips runs and repeated numbers (RLE runs, int and double dictionaries)', async () => {
    // Runs of equal values become RLE runs; few distinct ints and doubles get dictionary pages.
    const runs = <T>(value: fc.Arbitrary<T>) =>
      fc
        .array(fc.tuple(value, fc.integer({ min: 1, max: 40 })), { maxLength: 12 })
        .map((rs) => rs.flatMap(([v, k]) => Array<T>(k).fill(v)))
    await fc.assert(
      fc.asyncProperty(
        runs(fc.option(fc.integer({ min: 0, max: 3 }))),
        runs(fc.constantFrom(0.5, 1 / 3, 0, 2)),
        runs(fc.option(fc.constantFrom('Austin', 'Zürich'))),
        fc.integer({ min: 1, max: 200 }),
        async (ranks, rates, cities, rg) => {
          const n = Math.min(ranks.length, rates.length, cities.length)
          const rows: FeatureRow[] = []
          for (let i = 0; i < n; i++)
            rows.push([
              i,
              null,
              cities[i]!,
              ranks[i] === null ? null : 18000 + ranks[i]!,
              null,
              ranks[i]!,
              rates[i]!,
              7,
            ])
          const t = table(rows)
          const back = await parquetToTable(writeParquet(t, { rowGroupSize: rg }), USERS_FEATURES_SPEC, 'x')
          expect(tableToCsv(back)).toBe(tableToCsv(t))
        },
      ),
      { numRuns: 150 },
    )
  })

  it('round-trips int columns drawn from narrow and wide ranges, around the dictionary limit', async () => {
    // Narrow ranges (fewer distinct values than half the rows) are coded through a table indexed by value - min,
    // wide ones by hashing; past dictionaryLimit distinct values a column is written PLAIN. Negative values and the
    // int32 extremes included.
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 300 }),
        async (base, span, picks) => {
          const value = (p: number) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, base + (p % span)))
          const rows: FeatureRow[] = picks.map((p) => [
            value(p),
            null,
            null,
            p % 7 === 0 ? null : value(p * 3),
            null,
            value(p + 1),
            0,
            p % span,
          ])
          const t = table(rows)
          const back = await parquetToTable(writeParquet(t), USERS_FEATURES_SPEC, 'x')
          expect(tableToCsv(back)).toBe(tableToCsv(t))
        },
      ),
      { numRuns: 200 },
    )
  })

  it('is read by DuckDB value for value when columns run and repeat', async () => {
    const dir = tempDir()
    const rows: FeatureRow[] = []
    for (let i = 0; i < 20000; i++)
      rows.push([
        i,
        i % 5 === 0 ? 'Ann' : 'Bo',
        i % 97 === 0 ? null : ['Austin', 'Zürich', '😀'][Math.floor(i / 300) % 3]!,
        i % 89 === 0 ? null : 18000 + (Math.floor(i / 50) % 30),
        null,
        i % 91 === 0 ? null : Math.floor(i / 37) % 5,
        Math.floor(i / 100) / 7,
        Math.floor(i / 1000),
      ])
    const file = join(dir, 'runs.parquet')
    writeFileSync(file, writeParquet(table(rows), { rowGroupSize: 4096 }))
    const got = (
      await (
        await duckdb()
      ).runAndReadAll(
        `select user_id, name, city, (last_login - date '1970-01-01')::int d, last_login_rank_by_city,
         login_rate_last_3_months_by_city, users_by_city from read_parquet(${sqlString(file)}) order by file_row_number`,
      )
    ).getRows()
    expect(
      got.map((r) => r.map((v) => (v === null ? null : Number.isNaN(Number(v)) ? v : Number(v)))),
    ).toEqual(rows.map((r) => [r[0], r[1], r[2], r[3], r[5], r[6], r[7]]))
  })

  it('writes an empty table that readers accept', async () => {
    const bytes = writeParquet(table([]))
    expect((await parquetToTable(bytes, USERS_FEATURES_SPEC, 'x')).length).toBe(0)
  })
})

describe('encodeParquetParallel', () => {
  it('writes the same bytes as writeParquet, some columns encoded in a worker', async () => {
    const rows: FeatureRow[] = []
    for (let i = 0; i < 3000; i++)
      rows.push([i, `n${i % 97}`, i % 5 ? 'Austin' : null, 18000 + (i % 30), 'S', i % 7, i / 3000, i % 11])
    const t = table(rows)
    expect(splitColumns(t).worker.length).toBeGreaterThan(0)
    const parallel = await encodeParquetParallel(t, { rowGroupSize: 1000 })
    expect(Buffer.from(parallel).equals(Buffer.from(writeParquet(t, { rowGroupSize: 1000 })))).toBe(true)
  })
})

describe('several files per table (targetFileBytes)', () => {
  const rows: FeatureRow[] = []
  for (let i = 0; i < 5000; i++)
    rows.push([i, `n${i % 97}`, i % 5 ? 'Austin' : null, 18000 + (i % 30), 'S', i % 7, i / 5000, i % 11])

  it('cuts a table into files of whole row groups, each about the target, together the whole table in order', async () => {
    const t = table(rows)
    const opts = { rowGroupSize: 1000, targetFileBytes: 1 } // every row group exceeds 1 byte: one file each
    const files = writeParquetFiles(t, opts)
    expect(files).toHaveLength(5)
    const back = await Promise.all(files.map((f) => parquetToTable(f, USERS_FEATURES_SPEC, 'x')))
    expect(back.map((b) => b.length)).toEqual([1000, 1000, 1000, 1000, 1000])
    expect(back.map((b) => tableToCsv(b).split('\n')[1]!.split(',')[0])).toEqual([
      '0',
      '1000',
      '2000',
      '3000',
      '4000',
    ])
    expect((await encodeParquetFilesParallel(t, opts)).map((f) => Buffer.from(f).toString('hex'))).toEqual(
      files.map((f) => Buffer.from(f).toString('hex')),
    )
    const whole = writeParquetFiles(t, { rowGroupSize: 1000 })
    expect(whole).toHaveLength(1)
    expect(Buffer.from(whole[0]!).equals(Buffer.from(writeParquet(t, { rowGroupSize: 1000 })))).toBe(true)
  })

  it('groups row groups up to the target; a group larger than it is a file of its own', () => {
    const chunk = (size: number) => ({ size }) as EncodedColumnChunk
    const columns = [[10, 10, 10, 50, 10].map(chunk), [5, 5, 5, 5, 5].map(chunk)] // groups of 15, 15, 15, 55, 15
    expect(fileRanges(columns, 30)).toEqual([
      [0, 2],
      [2, 3],
      [3, 4],
      [4, 5],
    ])
    expect(fileRanges(columns)).toEqual([[0, 5]])
    expect(fileRanges([[chunk(0)]], 1)).toEqual([[0, 1]]) // an empty table: one empty file
  })
})

describe('data pages', () => {
  it('cuts chunks above 1 MiB into pages of about 1 MiB, read back equal by DuckDB and hyparquet', async () => {
    // 300k rows: unique int64s (PLAIN, 2.4 MB), unique text (PLAIN byte arrays), a repeating int with NULLs
    // (dictionary codes), booleans with NULLs (bit-packed), a wide decimal (FIXED_LEN_BYTE_ARRAY).
    const n = 300_000
    const spec = {
      name: 'paged',
      columns: [
        { name: 'id', type: 'int64' as const },
        { name: 'txt', type: 'string' as const },
        { name: 'rep', type: 'int32' as const },
        { name: 'flag', type: 'boolean' as const },
        { name: 'amount', type: 'decimal' as const, precision: 38, scale: 2 },
      ],
      primaryKey: ['id'],
    }
    const wide = new Uint8Array(n * 16)
    for (let i = 0; i < n; i++)
      if (i % 5 !== 0) new DataView(wide.buffer).setBigInt64(i * 16 + 8, BigInt(i) * 12345n - 7n)
    const t: Table = {
      spec,
      length: n,
      columns: [
        {
          type: 'int64',
          values: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 3_000_000_007n),
          valid: new Uint8Array(n).fill(1),
        },
        stringColumnFrom(Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : `row number ${i} ü`))),
        {
          type: 'int32',
          values: Int32Array.from({ length: n }, (_, i) => i % 100),
          valid: Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1)),
        },
        {
          type: 'bool',
          values: Uint8Array.from({ length: n }, (_, i) => i % 2),
          valid: Uint8Array.from({ length: n }, (_, i) => (i % 11 === 0 ? 0 : 1)),
        },
        {
          type: 'string',
          bytes: wide,
          offsets: Int32Array.from({ length: n + 1 }, (_, i) => Math.min(i, n) * 16),
          valid: Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : 1)),
        },
      ],
    }
    // NULL wide decimals take no bytes
    const amount = t.columns[4] as { bytes: Uint8Array; offsets: Int32Array; valid: Uint8Array }
    let o = 0
    const packed = new Uint8Array(n * 16)
    for (let i = 0; i < n; i++) {
      amount.offsets[i] = o
      if (amount.valid[i] === 1) {
        packed.set(wide.subarray(i * 16, i * 16 + 16), o)
        o += 16
      }
    }
    amount.offsets[n] = o
    amount.bytes = packed
    const bytes = writeParquet(t)
    const { columnPages } = await import('./helpers/parquet-pages.js')
    for (let ci = 0; ci < spec.columns.length; ci++) {
      const data = columnPages(bytes, 0, ci).filter((p) => p.type === 'data')
      expect(data.reduce((s, p) => s + p.rows, 0)).toBe(n)
      for (const p of data) expect(p.uncompressed).toBeLessThan(1.2 * 2 ** 20)
    }
    expect(columnPages(bytes, 0, 0).length).toBeGreaterThan(2)
    const file = join(tempDir(), 'paged.parquet')
    writeFileSync(file, bytes)
    const got = await queryObjects(
      `SELECT count(*) AS n, sum(id)::VARCHAR AS ids, count(txt) AS txts, sum(length(txt)) AS chars, sum(rep) AS reps,
              count(rep) AS rep_n, sum(flag::INT) AS flags, count(flag) AS flag_n, sum(amount)::VARCHAR AS amounts
         FROM read_parquet(${sqlString(file)})`,
    )
    let ids = 0n
    let chars = 0
    let reps = 0
    let flags = 0
    let amounts = 0n
    for (let i = 0; i < n; i++) {
      ids += BigInt(i) * 3_000_000_007n
      if (i % 7 !== 0) chars += `row number ${i} ü`.length
      if (i % 3 !== 0) reps += i % 100
      if (i % 11 !== 0) flags += i % 2
      if (i % 5 !== 0) amounts += BigInt(i) * 12345n - 7n
    }
    expect(got).toEqual([
      {
        n: '300000',
        ids: ids.toString(),
        txts: String(n - Math.ceil(n / 7)),
        chars: String(chars),
        reps: String(reps),
        rep_n: String(n - n / 3),
        flags: String(flags),
        flag_n: String(n - Math.ceil(n / 11)),
        amounts: `${(amounts / 100n).toString()}.${(amounts % 100n).toString().padStart(2, '0')}`,
      },
    ])
    const back = await parquetToTable(bytes, spec, 'paged.parquet')
    expect(tableToCsv(back)).toBe(tableToCsv(t))
  })
})
