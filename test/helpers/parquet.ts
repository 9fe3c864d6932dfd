/**
 * DuckDB, an independent reader and writer of Parquet, for tests: one in-memory database per test file, SQL string
 * quoting, and the seed data rewritten as DMS Parquet files (DataFormat=parquet).
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { SEED, tempDir } from './fixtures.js'

let connection: Promise<DuckDBConnection> | undefined

export function duckdb(): Promise<DuckDBConnection> {
  connection ??= DuckDBInstance.create(':memory:').then((db) => db.connect())
  return connection
}

/** A SQL string literal: `'...'` with quotes doubled (paths of temp folders are spliced into queries). */
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`

/** A query's rows as JSON values (dates as YYYY-MM-DD text, big integers as text). */
export async function queryRows(sql: string): Promise<unknown[][]> {
  return (await (await duckdb()).runAndReadAll(sql)).getRowsJson() as unknown[][]
}

/** A query's rows as objects by column name, JSON values. */
export async function queryObjects(sql: string): Promise<Record<string, unknown>[]> {
  return (await (await duckdb()).runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]
}

export type ParquetCodec = 'snappy' | 'gzip'

/** Writes the result of `select` to `out` as Parquet, row order kept. */
export async function toParquet(select: string, out: string, codec: ParquetCodec): Promise<void> {
  await (await duckdb()).run(`COPY (${select}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION ${codec})`)
}

const USERS_COLUMNS = "'user_id': 'INTEGER', 'name': 'VARCHAR', 'city': 'VARCHAR', 'last_login': 'DATE'"
const LOAD_COLUMNS = `columns = {${USERS_COLUMNS}}`
const CHANGE_COLUMNS = `columns = {'Op': 'VARCHAR', ${USERS_COLUMNS}}`

/** A new folder with every seed file converted to DMS Parquet (row order kept: DuckDB reads CSV in order). */
export async function parquetSeed(codec: ParquetCodec): Promise<string> {
  const dir = tempDir('lakesync-parquet-src-')
  for (const f of readdirSync(SEED)) {
    const columns = f.startsWith('LOAD') ? LOAD_COLUMNS : CHANGE_COLUMNS
    await toParquet(
      `SELECT * FROM read_csv(${sqlString(join(SEED, f))}, header = false, ${columns})`,
      join(dir, f.replace(/\.csv$/, '.parquet')),
      codec,
    )
  }
  return dir
}
