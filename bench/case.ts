/**
 * What every bench case shares (bench/run.ts's bulk cases, bench/steady.ts's steady state): one engine run in a fresh
 * child process (bench/measure.ts), lakesync's commit timings, the row-by-row output comparison and the case's label.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { AS_OF, type GenParams } from './generate.js'

const measureJs = fileURLToPath(new URL('measure.js', import.meta.url)) // dist/bench/measure.js

export interface Measurement {
  engine: string
  wallMs: number
  maxRssMB: number
  output: string
}

export interface CaseResult {
  label?: string // overrides the label made from params
  table?: 'events' // the mixed-type cases (bench/mixed.ts); absent for the users cases
  params: GenParams
  lakesync: Measurement[]
  duckdb: Measurement[]
  timings: Record<string, number>[] // lakesync's commit timingsMs, one per run
  lakesyncOutput: string
}

export function measureOnce(
  engine: 'lakesync' | 'duckdb',
  source: string,
  target: string,
  opts: { keepTarget?: boolean; env?: Record<string, string>; config?: string } = {},
): Measurement {
  if (!opts.keepTarget) rmSync(target, { recursive: true, force: true })
  const args = [measureJs, engine, source, target, AS_OF, ...(opts.config ? [opts.config] : [])]
  const run = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 26,
    env: { ...process.env, ...opts.env },
  })
  process.stderr.write(run.stderr ?? '')
  if (run.status !== 0) {
    // The child's own words: measure.ts's error line, or V8's (out of memory), else how it ended.
    const lines = (run.stderr ?? '').split('\n')
    const why =
      lines.find((l) => l.startsWith('measure: ')) ??
      lines.find((l) => l.startsWith('FATAL ERROR')) ??
      `exit status ${run.status}${run.signal ? `, signal ${run.signal}` : ''}${run.error ? `: ${run.error.message}` : ''}`
    throw new Error(`${engine} failed: ${why.replace(/^measure: /, '').slice(0, 400)}`)
  }
  const line = run.stdout.trim().split('\n').at(-1) ?? ''
  return JSON.parse(line) as Measurement
}

/** lakesync's commit record of the newest version of `table` in `target`. */
export function commitTimings(target: string, table = 'users'): Record<string, number> {
  const dir = join(target, '_lakesync', table, 'commits')
  const name = readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .at(-1)
  if (!name) throw new Error(`no commit record in ${dir}`)
  return (JSON.parse(readFileSync(join(dir, name), 'utf8')) as { timingsMs: Record<string, number> })
    .timingsMs
}

function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

/**
 * Compares two Parquet files row by row (same columns, same types, same values in the same order). Returns a
 * description of the differences, or null when they are identical.
 */
export async function compareParquet(a: string, b: string): Promise<string | null> {
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    const describe = async (f: string) =>
      (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit(f)}, hive_partitioning = false)`))
        .getRowObjectsJson()
        .map((r) => `${r.column_name} ${r.column_type}`)
    const sa = await describe(a)
    const sb = await describe(b)
    if (sa.join(', ') !== sb.join(', '))
      return `schemas differ:\n  lakesync: ${sa.join(', ')}\n  duckdb:   ${sb.join(', ')}`
    const cols = sa.map((s) => s.slice(0, s.indexOf(' ')))
    await c.run(
      `CREATE VIEW a AS SELECT * FROM read_parquet(${lit(a)}, file_row_number = true, hive_partitioning = false)`,
    )
    await c.run(
      `CREATE VIEW b AS SELECT * FROM read_parquet(${lit(b)}, file_row_number = true, hive_partitioning = false)`,
    )
    const differs = [
      'a.file_row_number IS NULL',
      'b.file_row_number IS NULL',
      ...cols.map((col) => `a."${col}" IS DISTINCT FROM b."${col}"`),
    ].join(' OR ')
    const from = `a FULL JOIN b ON a.file_row_number = b.file_row_number WHERE ${differs}`
    const n = (await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM ${from}`)).getRowObjectsJson()[0]!
      .n as number
    if (n === 0) return null
    const rows = (
      await c.runAndReadAll(
        `SELECT coalesce(a.file_row_number, b.file_row_number) AS row, ${cols.map((col) => `a."${col}" AS "lakesync.${col}", b."${col}" AS "duckdb.${col}"`).join(', ')} FROM ${from} ORDER BY 1 LIMIT 5`,
      )
    ).getRowObjectsJson()
    return `${n} row(s) differ; the first:\n${rows.map((r) => `  ${JSON.stringify(r)}`).join('\n')}`
  } finally {
    c.closeSync()
    db.closeSync()
  }
}

export function label(p: GenParams): string {
  const n = (x: number) =>
    x >= 1e6 && x % 1e6 === 0 ? `${x / 1e6}M` : x >= 1e3 && x % 1e3 === 0 ? `${x / 1e3}k` : String(x)
  return `${n(p.users)} users / ${n(p.changes)} changes / ${p.files} files`
}
