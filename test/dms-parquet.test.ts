/**
 * DMS DataFormat=parquet input (etl/dms/parquet.ts): the reference data rewritten as Parquet by DuckDB (an
 * independent writer, Snappy and GZIP) must publish exactly what the CSV files do; bad Parquet input fails with the
 * file, row and column.
 */
import { cpSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tableToCsv } from '../etl/report/csv-export.js'
import { currentTables, rejection, runEngine, SEED, SEED_CITIES, tempDir } from './helpers/fixtures.js'
import { parquetSeed, toParquet } from './helpers/parquet.js'

async function expectError(dir: string, code: string, text: string): Promise<void> {
  const e = await rejection(runEngine(dir, '2021-10-17', SEED_CITIES, tempDir()))
  expect(e.code).toBe(code)
  expect(e.message).toContain(text)
}

describe('DMS Parquet files', () => {
  it.each(['snappy', 'gzip'] as const)('publish the same tables as the CSV files (%s)', async (codec) => {
    const csv = await runEngine(SEED, '2021-10-17', SEED_CITIES)
    const parquet = await runEngine(await parquetSeed(codec), '2021-10-17', SEED_CITIES)
    const a = await currentTables(csv.target)
    const b = await currentTables(parquet.target)
    expect(tableToCsv(b.users)).toBe(tableToCsv(a.users))
    expect(tableToCsv(b.features)).toBe(tableToCsv(a.features))
    expect(parquet.result.record?.counts).toEqual(csv.result.record?.counts)
  })

  // One bad change file at a time, added to the seed: the error names it with the row and column.
  const bad: [string, string, string, string][] = [
    [
      "SELECT 'X' AS Op, 5::INTEGER AS user_id, 'a' AS name, 'b' AS city, DATE '2021-01-01' AS last_login",
      'unknown_op',
      '20211019-000000000.parquet',
      '20211019-000000000.parquet line 1 column 1',
    ],
    [
      "SELECT * FROM (VALUES ('U', 1, 'a', 'b', DATE '2021-01-01'), ('U', NULL, 'a', 'b', DATE '2021-01-01')) t(Op, user_id, name, city, last_login)",
      'null_key',
      '20211019-000000001.parquet',
      '20211019-000000001.parquet line 2 column 2',
    ],
    [
      "SELECT 'U' AS Op, 'a' AS name, 'b' AS city", // no key column (a dropped non-key column reads NULL)
      'bad_header',
      '20211019-000000002.parquet',
      'expected Op,user_id,name,city,last_login',
    ],
  ]
  it('reject an unknown Op, a NULL key and a schema without the key, naming file, row and column', async () => {
    const dir = await parquetSeed('snappy')
    for (const [select, code, file, text] of bad) {
      await toParquet(select, join(dir, file), 'snappy')
      await expectError(dir, code, text)
      rmSync(join(dir, file))
    }
  })

  it('treat X.csv beside X.parquet as the same file twice', async () => {
    const dir = await parquetSeed('snappy')
    cpSync(join(SEED, '20211017-194324349.csv'), join(dir, '20211017-194324349.csv'))
    await expectError(dir, 'duplicate_file', 'same DMS file twice')
  })
})

describe('DMS Parquet timestamp column', () => {
  it('orders changes by a TIMESTAMP column as ISO text to the millisecond (as the Spark route does)', async () => {
    const { parseDmsParquet } = await import('../etl/dms/parquet.js')
    const { csvLayout } = await import('../etl/dms/layout.js')
    const { DEFAULT_DMS_FORMAT } = await import('../etl/dms/format.js')
    const { USERS_SPEC } = await import('../etl/table/spec.js')
    const { readFileSync } = await import('node:fs')
    const format = { ...DEFAULT_DMS_FORMAT, timestampColumnName: 'ts', orderChangesBy: 'timestamp' as const }
    const file = join(tempDir(), '20211019-000000000.parquet')
    await toParquet(
      "SELECT * FROM (VALUES ('U', TIMESTAMP '2021-10-19 10:00:00.123456', 1, 'a', 'b', DATE '2021-01-01'), ('I', TIMESTAMP '1999-01-01 00:00:00', 2, 'c', 'd', NULL)) t(Op, ts, user_id, name, city, last_login)",
      file,
      'snappy',
    )
    const parsed = await parseDmsParquet(
      readFileSync(file),
      file,
      USERS_SPEC,
      csvLayout(USERS_SPEC, format, 'change'),
    )
    expect(parsed.sequence).toEqual(['2021-10-19T10:00:00.123Z', '1999-01-01T00:00:00.000Z'])
  })
})
