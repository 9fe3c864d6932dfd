/**
 * Drives the local Spark job (glue/run_local.py) from the tests: every run of a file in one Spark session; and reads
 * what the Spark job and the TypeScript engine published, to compare them.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { type CommitRecord, readCommitLog } from '../../etl/commit/log.js'
import { LocalStorage } from '../../etl/storage/local.js'
import { comparableRecord } from './commit-records.js'
import { REPO, tempDir } from './fixtures.js'
import { queryRows, sqlString } from './parquet.js'

export const PYTHON = join(REPO, '.venv', 'bin', 'python')
export const RUN_LOCAL = join(REPO, 'glue', 'run_local.py')

export interface SparkRun {
  id: string
  source: string
  target: string
  asOf: string
  cities?: string
  config?: string
  glueDatabase?: string
}

export interface SparkResult {
  ok: boolean
  message?: string
  code?: string
  error?: string
  version?: number
  ms?: number // the run's wall time in the shared session
}

/** Runs the project's Python with `args` (environment inherited: useMoto()'s AWS variables reach boto3 and S3A). */
export function python(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: REPO, env: process.env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Runs every job in one Spark session (`run_local.py --batch`); results by id. */
export async function sparkBatch(runs: SparkRun[]): Promise<Map<string, SparkResult>> {
  const file = join(tempDir('lakesync-spark-batch-'), 'batch.json')
  writeFileSync(file, JSON.stringify(runs))
  const { code, stdout, stderr } = await python([RUN_LOCAL, '--batch', file, '--master', 'local[2]'])
  if (code !== 0) throw new Error(`run_local.py --batch exited ${code}:\n${stderr.slice(-4000)}`)
  const lines = stdout.trim().split('\n')
  if (lines.length !== runs.length) throw new Error(`expected ${runs.length} results, got:\n${stdout}`)
  return new Map(runs.map((r, i) => [r.id, JSON.parse(lines[i]!) as SparkResult]))
}

// ---------------------------------------------------------------- both engines' published tables, read back with DuckDB

export type PublishedTable = 'users' | 'users_features'

export interface Published {
  rows: unknown[][] // every value as DuckDB's text of it (which tells -0.0 from 0 and shows NaN, ±Infinity)
  schema: unknown[][] // Parquet schema: name, type, converted type, logical type, repetition, field id, length
  types: unknown[][] // DuckDB's column types
}

/** The published Parquet file of a table's current version (`which`: the table or its features), as SQL. */
export async function parquetFile(target: string, which: PublishedTable, table = 'users'): Promise<string> {
  return sqlString(join(target, (await current(target, table)).outputs[which]![0]!))
}

/** A published table as DuckDB reads it: rows, Parquet schema, column types. */
export async function published(target: string, which: PublishedTable, table = 'users'): Promise<Published> {
  const file = await parquetFile(target, which, table)
  return {
    rows: await queryRows(`SELECT COLUMNS(*)::VARCHAR FROM read_parquet(${file})`),
    schema: await queryRows(
      `SELECT name, type, converted_type, logical_type::VARCHAR, repetition_type, field_id, type_length FROM parquet_schema(${file}) WHERE type IS NOT NULL`, // leaves: the root's name is the writer's
    ),
    types: await queryRows(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${file}))`,
    ),
  }
}

/** The current committed record of `table` in a local target. */
export async function current(target: string, table = 'users'): Promise<CommitRecord> {
  const rec = (await readCommitLog(new LocalStorage(target), table)).current
  if (!rec) throw new Error(`no committed version of ${table} in ${target}`)
  return rec
}
/** The parts of a local target's commit record on which the two engines must agree. */
export const comparable = (r: CommitRecord) => comparableRecord(r, 'local')

/** Both engines published the same tables of `table` (and of its features table, unless it has none). */
export async function expectSameTables(spark: string, ts: string, table = 'users'): Promise<void> {
  const withFeatures = (await current(ts, table)).outputs.users_features !== undefined
  expect((await current(spark, table)).outputs.users_features !== undefined, 'features published').toBe(
    withFeatures,
  )
  for (const which of withFeatures ? (['users', 'users_features'] as const) : (['users'] as const)) {
    const a = await published(spark, which, table)
    const b = await published(ts, which, table)
    expect(a.types, `${table} ${which} column types`).toEqual(b.types)
    expect(a.schema, `${table} ${which} Parquet schema`).toEqual(b.schema)
    expect(a.rows, `${table} ${which} rows`).toEqual(b.rows)
  }
}
