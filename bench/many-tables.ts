/**
 * `npm run bench:tables [-- --tables 200,1000 --changed 2 --runs 3]`: a run's cost grows with what changed, not with
 * how many tables exist (issue 17). A DMS root of N small tables, all mirrored once; then 2 of them get a change file.
 * Measured: `lakesync run` over the whole root with all N configured, against the same run with only those 2
 * configured (what a run over the changed tables alone costs). Each run in a fresh child process, on a fresh copy of
 * the lake, alternating; medians reported.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const cli = join(root, 'dist', 'cli', 'main.js')

const { values } = parseArgs({
  options: {
    tables: { type: 'string', default: '200,1000' },
    changed: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
  },
})

const COLUMNS = [
  { name: 'id', type: 'int64' },
  { name: 'label', type: 'string' },
  { name: 'at', type: 'timestamptz' },
]
const name = (i: number) => `t${String(i).padStart(4, '0')}`

function run(source: string, lake: string, config: string): number {
  const t0 = performance.now()
  const r = spawnSync(
    process.execPath,
    [cli, 'run', '--source', source, '--target', lake, '--config', config],
    {
      encoding: 'utf8',
    },
  )
  const ms = performance.now() - t0
  if (r.status !== 0) throw new Error(`lakesync run exited ${r.status}: ${r.stderr}`)
  return ms
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]!
}

function bench(n: number, changed: number, runs: number): { all: number; only: number } {
  const dir = join(tmpdir(), `lakesync-bench-tables-${n}`)
  rmSync(dir, { recursive: true, force: true })
  const src = join(dir, 'src')
  for (let i = 0; i < n; i++) {
    const folder = join(src, 'public', name(i))
    mkdirSync(folder, { recursive: true })
    const rows = Array.from({ length: 100 }, (_, r) => `${r},row ${r} of ${name(i)},2021-10-17 10:00:00+00`)
    writeFileSync(join(folder, 'LOAD00000001.csv'), `${rows.join('\n')}\n`)
  }
  const tables = (k: number[]) => ({
    tables: k.map((i) => ({ schema: 'public', name: name(i), columns: COLUMNS, primaryKey: 'id' })),
  })
  const allConfig = join(dir, 'all.json')
  writeFileSync(allConfig, JSON.stringify(tables(Array.from({ length: n }, (_, i) => i))))
  const touched = Array.from({ length: changed }, (_, k) => Math.floor(((k + 0.5) * n) / changed))
  const onlyConfig = join(dir, 'only.json')
  writeFileSync(onlyConfig, JSON.stringify(tables(touched)))
  const base = join(dir, 'lake-base')
  run(src, base, allConfig) // every table mirrored once (not measured)
  for (const i of touched)
    writeFileSync(
      join(src, 'public', name(i), '20211018-000000000.csv'),
      'U,1,changed,2021-10-18 00:00:00+00\n',
    )
  const all: number[] = []
  const only: number[] = []
  for (let r = 0; r < runs; r++) {
    for (const [config, out] of [
      [allConfig, all],
      [onlyConfig, only],
    ] as const) {
      const lake = join(dir, 'lake-run')
      rmSync(lake, { recursive: true, force: true })
      cpSync(base, lake, { recursive: true })
      out.push(run(src, lake, config))
    }
  }
  rmSync(dir, { recursive: true, force: true })
  return { all: median(all), only: median(only) }
}

const changed = Number(values.changed)
const runs = Number(values.runs)
console.log(`| tables | changed | run over all (ms) | run over the changed only (ms) | ratio (target <= 2) |`)
console.log('|--:|--:|--:|--:|--:|')
for (const n of String(values.tables).split(',').map(Number)) {
  const r = bench(n, changed, runs)
  console.log(
    `| ${n} | ${changed} | ${Math.round(r.all)} | ${Math.round(r.only)} | ${(r.all / r.only).toFixed(2)} |`,
  )
}
