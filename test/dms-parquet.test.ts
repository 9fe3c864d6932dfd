/**
 * DMS DataFormat=parquet input: the reference data rewritten as Parquet by DuckDB (an independent writer, Snappy
 * and GZIP) must publish exactly what the CSV files do; bad Parquet input fails with the file, row and column.
 */
import { cpSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { describe, expect, it } from 'vitest'
import { LakesyncError } from '../etl/errors.js'
import { tableToCsv } from '../etl/report/csv-export.js'
import { cityMapFor, currentTables, REPO, runEngine, tempDir } from './helpers/fixtures.js'

const SEED = join(REPO, 'examples', 'pyspark-cdc', 'data')
const CITIES = cityMapFor({ dir: REPO })

async function toParquet(sql: string, out: string, codec: 'snappy' | 'gzip'): Promise<void> {
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  await c.run(`COPY (${sql}) TO '${out}' (FORMAT parquet, COMPRESSION ${codec})`)
  c.closeSync()
}

const COLUMNS = "columns = {'user_id': 'INTEGER', 'name': 'VARCHAR', 'city': 'VARCHAR', 'last_login': 'DATE'}"
const CHANGE_COLUMNS = `columns = {'Op': 'VARCHAR', 'user_id': 'INTEGER', 'name': 'VARCHAR', 'city': 'VARCHAR', 'last_login': 'DATE'}`

/** The seed folder with every file converted to DMS Parquet (row order kept: DuckDB reads CSV in order). */
async function parquetSeed(codec: 'snappy' | 'gzip'): Promise<string> {
  const dir = tempDir()
  for (const f of readdirSync(SEED)) {
    const src = join(SEED, f)
    const columns = f.startsWith('LOAD') ? COLUMNS : CHANGE_COLUMNS
    await toParquet(
      `SELECT * FROM read_csv('${src}', header = false, ${columns})`,
      join(dir, f.replace(/\.csv$/, '.parquet')),
      codec,
    )
  }
  return dir
}

async function expectError(dir: string, code: string, text: string): Promise<void> {
  const target = tempDir()
  const err = await runEngine(dir, '2021-10-17', CITIES, target).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(LakesyncError)
  expect((err as LakesyncError).code).toBe(code)
  expect((err as LakesyncError).message).toContain(text)
}

describe('DMS Parquet files', () => {
  it.each(['snappy', 'gzip'] as const)('publish the same tables as the CSV files (%s)', async (codec) => {
    const csv = await runEngine(SEED, '2021-10-17', CITIES)
    const parquet = await runEngine(await parquetSeed(codec), '2021-10-17', CITIES)
    const a = await currentTables(csv.target)
    const b = await currentTables(parquet.target)
    expect(tableToCsv(b.users)).toBe(tableToCsv(a.users))
    expect(tableToCsv(b.features)).toBe(tableToCsv(a.features))
    expect(parquet.result.record?.counts).toEqual(csv.result.record?.counts)
  })

  it('reject an unknown Op, a NULL key and a schema that is not the table, naming file, row and column', async () => {
    const dir = await parquetSeed('snappy')
    await toParquet(
      "SELECT 'X' AS Op, 5::INTEGER AS user_id, 'a' AS name, 'b' AS city, DATE '2021-01-01' AS last_login",
      join(dir, '20211019-000000000.parquet'),
      'snappy',
    )
    await expectError(dir, 'unknown_op', '20211019-000000000.parquet line 1 column 1')
    rmSync(join(dir, '20211019-000000000.parquet'))
    await toParquet(
      "SELECT * FROM (VALUES ('U', 1, 'a', 'b', DATE '2021-01-01'), ('U', NULL, 'a', 'b', DATE '2021-01-01')) t(Op, user_id, name, city, last_login)",
      join(dir, '20211019-000000001.parquet'),
      'snappy',
    )
    await expectError(dir, 'null_key', '20211019-000000001.parquet line 2 column 2')
    rmSync(join(dir, '20211019-000000001.parquet'))
    await toParquet(
      "SELECT 'U' AS Op, 1 AS user_id, 'a' AS name",
      join(dir, '20211019-000000002.parquet'),
      'snappy',
    )
    await expectError(dir, 'bad_header', 'expected Op,user_id,name,city,last_login')
  })

  it('treat X.csv beside X.parquet as the same file twice', async () => {
    const dir = await parquetSeed('snappy')
    cpSync(join(SEED, '20211017-194324349.csv'), join(dir, '20211017-194324349.csv'))
    await expectError(dir, 'duplicate_file', 'same DMS file twice')
  })
})
