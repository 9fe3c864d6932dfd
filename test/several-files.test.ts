/**
 * A version written as several data files (`publish.targetFileMiB`, etl/parquet/files.ts) is one table to everything
 * that reads a version back: export and show, and the next run when the snapshot cannot be used (it then loads the
 * previous version from its Parquet files, in order).
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { stringColumnFrom, stringValues } from '../etl/table/columns.js'
import { concatTables } from '../etl/table/concat.js'
import type {
  BoolColumn,
  Float64Column,
  Int32Column,
  Int64Column,
  StringColumn,
  Table,
  TableSpec,
} from '../etl/types.js'
import { cli } from './helpers/cli.js'
import { tempDir } from './helpers/fixtures.js'

const LONG_TEST_MS = 120_000 // a million rows, four times

const ROWS = 1_100_001 // row groups hold 1M rows: at a tiny target, two files

function source(): string {
  const src = tempDir()
  const lines: string[] = []
  for (let i = 1; i <= ROWS; i++) lines.push(`${i},n${i % 997},City${i % 50},2021-0${1 + (i % 9)}-1${i % 10}`)
  writeFileSync(join(src, 'LOAD00000001.csv'), `${lines.join('\n')}\n`)
  return src
}

function config(targetFileMiB?: number): string {
  const file = join(tempDir(), 'lakesync.json')
  writeFileSync(file, JSON.stringify(targetFileMiB === undefined ? {} : { publish: { targetFileMiB } }))
  return file
}

const run = (src: string, lake: string, cfg: string) =>
  cli('run', '--source', src, '--target', lake, '--config', cfg, '--as-of', '2021-10-17', '--quiet')

async function exported(lake: string, cfg: string): Promise<string> {
  const out = join(tempDir(), 'users.csv')
  const r = await cli('export', '--target', lake, '--config', cfg, '--out', out)
  expect(r.code, r.err).toBe(0)
  return readFileSync(out, 'utf8')
}

describe('a version of several data files', () => {
  it(
    'exports the same rows as one file, and the next run without a snapshot loads it from its files',
    async () => {
      const src = source()
      const [split, whole] = [config(0.001), config()]
      const [splitLake, wholeLake] = [tempDir(), tempDir()]
      for (const [lake, cfg] of [
        [splitLake, split],
        [wholeLake, whole],
      ] as const)
        expect((await run(src, lake, cfg)).code).toBe(0)
      const files = (lake: string) => readdirSync(join(lake, 'users', 'v=00000000000000000001'))
      expect(files(splitLake)).toEqual(['part-00000.parquet', 'part-00001.parquet'])
      expect(files(wholeLake)).toEqual(['part-00000.parquet'])
      const csv = await exported(splitLake, split)
      expect(csv.split('\n').filter((l) => l !== '').length).toBe(ROWS + 1) // and the header
      expect(csv).toBe(await exported(wholeLake, whole))

      // The snapshot is a cache: without it the previous version comes from its two files.
      rmSync(join(splitLake, '_lakesync', 'users', 'snapshots'), { recursive: true, force: true })
      writeFileSync(
        join(src, '20211018-000000001.csv'),
        'U,5,renamed,City1,2021-01-01\nD,1100001,x,y,2021-01-01\n',
      )
      const next = await cli(
        'run',
        '--source',
        src,
        '--target',
        splitLake,
        '--config',
        split,
        '--as-of',
        '2021-10-17',
      )
      expect(next.code, next.err).toBe(0)
      expect(next.err).toContain(
        'reading users/v=00000000000000000001/part-00000.parquet, users/v=00000000000000000001/part-00001.parquet instead',
      )
      const after = (await exported(splitLake, split)).split('\n')
      expect(after.filter((l) => l !== '').length).toBe(ROWS) // one row deleted
      expect(after).toContain('5,renamed,City1,2021-01-01')
      const show = await cli('show', '--target', splitLake, '--config', split)
      expect(show.code, show.err).toBe(0)
    },
    LONG_TEST_MS,
  )
})

describe('concatTables', () => {
  const spec: TableSpec = {
    name: 't',
    columns: [
      { name: 'a', type: 'int32' },
      { name: 'b', type: 'int64' },
      { name: 'c', type: 'float64' },
      { name: 'd', type: 'boolean' },
      { name: 'e', type: 'date' },
      { name: 'f', type: 'string' },
    ],
    primaryKey: ['a'],
  }
  const part = (rows: number[], capacity: number): Table => ({
    spec,
    length: rows.length,
    columns: [
      {
        type: 'int32',
        values: Int32Array.from({ length: capacity }, (_, i) => rows[i] ?? -1),
        valid: new Uint8Array(capacity).fill(1),
      },
      {
        type: 'int64',
        values: BigInt64Array.from({ length: capacity }, (_, i) => BigInt(rows[i] ?? -1) * 10n),
        valid: new Uint8Array(capacity).fill(1),
      },
      {
        type: 'float64',
        values: Float64Array.from({ length: capacity }, (_, i) => (rows[i] ?? -1) / 2),
        valid: new Uint8Array(capacity).fill(1),
      },
      {
        type: 'bool',
        values: Uint8Array.from({ length: capacity }, (_, i) => (rows[i] ?? 0) % 2),
        valid: Uint8Array.from({ length: capacity }, (_, i) => (i === 0 ? 0 : 1)),
      },
      { type: 'date', values: Int32Array.from({ length: capacity }, (_, i) => 18000 + (rows[i] ?? -1)) },
      stringColumnFrom([...rows.map((r) => (r === 3 ? null : `s${r}`)), 'capacity beyond the rows']),
    ],
  })

  it('joins every column kind, rows in order, ignoring capacity beyond each part', () => {
    const t = concatTables(spec, [part([1, 2], 4), part([3], 3), part([4, 5, 6], 3)])
    expect(t.length).toBe(6)
    const [a, b, c, d, e, f] = t.columns as [
      Int32Column,
      Int64Column,
      Float64Column,
      BoolColumn,
      { values: Int32Array },
      StringColumn,
    ]
    expect([...a.values]).toEqual([1, 2, 3, 4, 5, 6])
    expect([...b.values]).toEqual([10n, 20n, 30n, 40n, 50n, 60n])
    expect([...c.values]).toEqual([0.5, 1, 1.5, 2, 2.5, 3])
    expect([...d.values]).toEqual([1, 0, 1, 0, 1, 0])
    expect([...d.valid]).toEqual([0, 1, 0, 0, 1, 1])
    expect([...e.values]).toEqual([18001, 18002, 18003, 18004, 18005, 18006])
    expect(stringValues(f, 6)).toEqual(['s1', 's2', null, 's4', 's5', 's6'])
  })

  it('returns a single table as it is', () => {
    const one = part([1], 1)
    expect(concatTables(spec, [one])).toBe(one)
  })
})
