/**
 * `npm run bench:iceberg [-- --users 10000000 --runs 3]` (issue 18): what publishing Iceberg metadata costs a
 * steady-state run, and how many data files a key-range filter reads.
 * 1. Steady state: a committed table of N users, one change file of 10k rows; `lakesync run` with
 *    `publish.tableFormat` hive and iceberg, alternating in fresh child processes on fresh copies of the state;
 *    medians and the overhead of iceberg over hive.
 * 2. Pruning: the same N users published with `publish.targetFileMiB` small enough for several files; DuckDB's
 *    `iceberg_scan(...) WHERE user_id BETWEEN a AND b` (its profile's files scanned) and pyiceberg's planned files,
 *    against the table's file count.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { measureOnce } from './case.js'
import { dataDir, generate } from './generate.js'
import { linkFolder } from './steady.js'

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '3' },
    'file-mib': { type: 'string', default: '16' },
  },
})
const users = Number(values.users)
const runs = Number(values.runs)
const p = { users, changes: 10_000, files: 1, seed: 1 }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

const source = generate(root, p, (m) => console.error(m))
const names = readdirSync(source)
const work = join(dataDir(root, p), 'iceberg')
const baseSource = linkFolder(
  join(work, 'base-source'),
  source,
  names.filter((n) => n.startsWith('LOAD')),
)
const fullSource = linkFolder(join(work, 'full-source'), source, names)
const config = (publish: Record<string, unknown>) => {
  const file = join(work, `${JSON.stringify(publish).replace(/\W+/g, '_')}.json`)
  writeFileSync(file, JSON.stringify({ publish }))
  return file
}

// 1. Steady state, hive against iceberg.
const times: Record<'hive' | 'iceberg', number[]> = { hive: [], iceberg: [] }
for (const format of ['hive', 'iceberg'] as const) {
  const state = join(work, `state-${format}`)
  measureOnce('lakesync', baseSource, state, { config: config({ tableFormat: format }) })
}
for (let i = 0; i < runs; i++)
  for (const format of ['hive', 'iceberg'] as const) {
    const target = join(work, `out-${format}`)
    rmSync(target, { recursive: true, force: true })
    cpSync(join(work, `state-${format}`), target, { recursive: true })
    const m = measureOnce('lakesync', fullSource, target, {
      keepTarget: true,
      config: config({ tableFormat: format }),
    })
    times[format].push(m.wallMs)
    console.error(`  steady ${users} users, ${format}, run ${i + 1}/${runs}: ${Math.round(m.wallMs)} ms`)
  }
const [hive, iceberg] = [median(times.hive), median(times.iceberg)]
console.log(
  `steady state, ${users} users + 10k changes: hive ${Math.round(hive)} ms, iceberg ${Math.round(iceberg)} ms (medians of ${runs}); iceberg overhead ${(((iceberg - hive) / hive) * 100).toFixed(1)}%`,
)

// 2. Pruning through the manifests' bounds.
const lake = join(work, 'pruned')
measureOnce('lakesync', baseSource, lake, { config: config({ targetFileMiB: Number(values['file-mib']) }) })
const lo = Math.floor(users * 0.4)
const hi = lo + Math.floor(users / 100)
const script = `
import sys, json, re
sys.path.insert(0, 'test/helpers')
import duckdb, iceberg_read
from pyiceberg.table import StaticTable
from pyiceberg.expressions import And, GreaterThanOrEqual, LessThanOrEqual
table, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = StaticTable.from_metadata(table + "/metadata/v1.metadata.json")
con = duckdb.connect(config={"allow_unsigned_extensions": "true", "autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
for name in ["avro", "iceberg"]:
    con.execute(f"LOAD '{iceberg_read.duckdb_extension_file(name)}'")
q = f"SELECT count(*) FROM iceberg_scan('{table}') WHERE user_id BETWEEN {lo} AND {hi}"
plan = "\\n".join(r[1] for r in con.execute("EXPLAIN ANALYZE " + q).fetchall())
scanned = re.findall(r"(?:Total Files Read|Scanning Files|Files Read)[^0-9]*(\\d+)", plan)
print(json.dumps({
  "files": len(t.inspect.files()),
  "planned": len(list(t.scan(row_filter=And(GreaterThanOrEqual("user_id", lo), LessThanOrEqual("user_id", hi))).plan_files())),
  "rows": con.execute(q).fetchone()[0],
  "duckdbFilesRead": [int(x) for x in scanned],
}))
`
const r = spawnSync(
  join(root, '.venv', 'bin', 'python'),
  ['-c', script, join(lake, 'users'), String(lo), String(hi)],
  {
    cwd: root,
    encoding: 'utf8',
  },
)
if (r.status !== 0) throw new Error(`pruning probe failed: ${r.stderr}`)
const got = JSON.parse(r.stdout) as {
  files: number
  planned: number
  rows: number
  duckdbFilesRead: number[]
}
console.log(
  `pruning, ${users} users in files of ~${values['file-mib']} MiB: ${got.files} data files; user_id BETWEEN ${lo} AND ${hi} (${got.rows} rows): pyiceberg plans ${got.planned} file(s), DuckDB's profile reports files read ${JSON.stringify(got.duckdbFilesRead)}`,
)
