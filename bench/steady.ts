/**
 * The steady-state case (issue 5): a committed table of N users exists; one change file of 10k rows arrives; apply it
 * and publish both tables. lakesync starts from its own committed version (the target folder of a base run, copied
 * fresh before each measured run), DuckDB from its own Parquet copy of the users table (read, merge, windows,
 * write). Both read the same change file; the outputs must be identical before a time is reported.
 */
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { type CaseResult, commitTimings, compareParquet, label, measureOnce } from './case.js'
import { dataDir, type GenParams, generate } from './generate.js'

/** A folder of hard links to some of the generated files: same inode, so same size and mtime for lakesync. */
export function linkFolder(dir: string, from: string, names: string[]): string {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true })
    for (const n of names) linkSync(join(from, n), join(dir, n))
  }
  return dir
}

export async function runSteadyCase(root: string, p: GenParams, runs: number): Promise<CaseResult> {
  const source = generate(root, p, (m) => console.error(m))
  const names = readdirSync(source)
  const loads = names.filter((n) => n.startsWith('LOAD'))
  const work = join(dataDir(root, p), 'steady')
  const baseSource = linkFolder(join(work, 'base-source'), source, loads)
  const fullSource = linkFolder(join(work, 'full-source'), source, names)
  const name = `steady: ${label({ ...p, changes: 0 }).split(' / ')[0]} + 1 file of ${p.changes / 1000}k changes`

  // The committed states, made once (not timed).
  const lakesyncState = join(work, 'state-lakesync')
  const duckdbState = join(work, 'state-duckdb')
  // lakesync's state is made by the code under test, every time: what a version holds (its snapshot) may change.
  rmSync(lakesyncState, { recursive: true, force: true })
  measureOnce('lakesync', baseSource, lakesyncState)
  if (!existsSync(join(duckdbState, 'users'))) measureOnce('duckdb', baseSource, duckdbState)
  const baseParquet = join(duckdbState, 'users', 'part-00000.parquet')

  const lakesyncTarget = join(work, 'out-lakesync')
  const duckdbTarget = join(work, 'out-duckdb')
  const result: CaseResult = {
    label: name,
    params: p,
    lakesync: [],
    duckdb: [],
    timings: [],
    lakesyncOutput: '',
  }
  for (let i = 0; i < runs; i++) {
    rmSync(lakesyncTarget, { recursive: true, force: true })
    cpSync(lakesyncState, lakesyncTarget, { recursive: true })
    const l = measureOnce('lakesync', fullSource, lakesyncTarget, { keepTarget: true })
    result.lakesync.push(l)
    result.timings.push(commitTimings(lakesyncTarget))
    result.lakesyncOutput = l.output
    const d = measureOnce('duckdb', fullSource, duckdbTarget, { env: { BENCH_BASE_PARQUET: baseParquet } })
    result.duckdb.push(d)
    console.error(
      `  ${name} run ${i + 1}/${runs}: lakesync ${Math.round(l.wallMs)} ms ${Math.round(l.maxRssMB)} MB, duckdb ${Math.round(d.wallMs)} ms ${Math.round(d.maxRssMB)} MB`,
    )
  }
  const version = 'v=00000000000000000002'
  for (const table of ['users', 'users_features']) {
    const diff = await compareParquet(
      join(lakesyncTarget, table, version, 'part-00000.parquet'),
      join(duckdbTarget, table, 'part-00000.parquet'),
    )
    if (diff !== null) {
      console.error(`\n${name}: lakesync and DuckDB disagree on ${table}: ${diff}`)
      process.exit(1)
    }
  }
  console.error(`  ${name}: outputs identical (users and users_features: values and row order)`)
  return result
}
