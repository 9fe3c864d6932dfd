/**
 * `lakesync run --engine spark`: the Glue job's logic (glue/lakesync_spark) in Spark local mode, on folders. It
 * spawns `.venv/bin/python glue/run_local.py` (pyspark 3.5.6 from scripts/setup-spark.sh, Java 17) and relays its
 * output and exit code, then publishes the Iceberg metadata of what Spark committed (etl/pipeline.ts
 * publishCommitted). S3 locations are for the Glue job itself: local Spark has no S3 filesystem jars.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { loadRunConfig, packageRoot, type RunConfig } from '../../etl/config/run-config.js'
import { ConfigError } from '../../etl/errors.js'
import { publishCommitted } from '../../etl/publish.js'
import { LocalStorage } from '../../etl/storage/local.js'
import { type Flags, type Io, required } from '../common.js'
import { combinedExitCode, EXIT } from '../exit-codes.js'

function missingRuntime(python: string): string | undefined {
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' })
  if (java.error !== undefined && !process.env.JAVA_HOME)
    return 'Java is not installed: Spark needs Java 17 (e.g. apt-get install openjdk-17-jre-headless)'
  if (!existsSync(python))
    return `no Python environment at ${python}: run \`bash scripts/setup-spark.sh\` to install pyspark 3.5.6`
  const py = spawnSync(python, ['-c', 'import pyspark'], { stdio: 'ignore' })
  if (py.status !== 0)
    return `pyspark is not installed in ${python}: run \`bash scripts/setup-spark.sh\` to install pyspark 3.5.6`
  return undefined
}

export async function sparkRun(flags: Flags, io: Io, reload: boolean): Promise<number> {
  const source = required(flags, 'source')
  const target = required(flags, 'target')
  for (const [flag, v] of [
    ['--source', source],
    ['--target', target],
  ] as const)
    if (v.startsWith('s3://'))
      throw new ConfigError(
        'bad_usage',
        `${flag} ${v}: --engine spark runs Spark in local mode on folders; S3 is for the Glue job (docs/scale-out.md)`,
      )
  if (typeof flags['glue-database'] === 'string')
    throw new ConfigError('bad_usage', '--glue-database is not supported with --engine spark')
  const root = packageRoot()
  const python = process.env.LAKESYNC_PYTHON ?? join(root, '.venv', 'bin', 'python')
  const missing = missingRuntime(python)
  if (missing !== undefined) throw new ConfigError('bad_config', `spark: ${missing}`)
  const configFile = flags.config as string | undefined
  const config = await loadRunConfig(configFile, flags.cities as string | undefined)
  const format = flags['table-format']
  if (format !== undefined && format !== 'iceberg' && format !== 'hive')
    throw new ConfigError('bad_usage', `--table-format ${JSON.stringify(format)}: expected iceberg or hive`)
  if (format !== undefined) config.tableFormat = format
  const code =
    config.tables[0]!.folder !== null
      ? await sparkTables(python, root, source, target, config, flags, io, reload)
      : await sparkOne(python, root, source, target, flags, io, reload)
  // The Spark job writes the versions and the commit log; their Iceberg metadata is published by the same code as
  // after a TypeScript run (a table that failed in Spark may still have committed earlier versions).
  const lake = new LocalStorage(target)
  for (const t of config.tables)
    await publishCommitted({ target: lake, spec: t.spec, tableFormat: config.tableFormat })
  return code
}

async function sparkOne(
  python: string,
  root: string,
  source: string,
  target: string,
  flags: Flags,
  io: Io,
  reload: boolean,
): Promise<number> {
  const args = [join(root, 'glue', 'run_local.py'), '--source', source, '--target', target]
  for (const name of ['as-of', 'cities', 'config'] as const) {
    const v = flags[name]
    if (typeof v === 'string') args.push(`--${name}`, v)
  }
  if (reload) args.push('--reload')
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (d: Buffer) => io.out.write(d))
    child.stderr.on('data', (d: Buffer) => {
      // Spark's JVM start-up chatter stays out of the way; our own lines (lakesync: ...) pass through.
      for (const line of d.toString().split('\n'))
        if (line.startsWith('lakesync:') || line.startsWith('run_local.py:') || line.startsWith('Traceback'))
          io.err.write(`${line}\n`)
    })
    child.on('error', reject)
    child.on('close', (code) => resolve(code === 0 ? 0 : 1))
  })
}

/**
 * A "tables" config on the Spark route: one run per table with files under its `<schema>/<table>/` folder, all in
 * one Spark session (`run_local.py --batch`), each from a one-table config cut from this one. Failures are named per
 * table and the exit code follows the contract of cli/exit-codes.ts, as the TypeScript engine's many-tables run.
 */
async function sparkTables(
  python: string,
  root: string,
  source: string,
  target: string,
  config: RunConfig,
  flags: Flags,
  io: Io,
  reload: boolean,
): Promise<number> {
  const raw = JSON.parse(readFileSync(flags.config as string, 'utf8')) as Record<string, unknown>
  const only = typeof flags.tables === 'string' ? flags.tables.split(',').map((t) => t.trim()) : null
  const dir = mkdtempSync(join(tmpdir(), 'lakesync-spark-tables-'))
  const runs = []
  for (const t of config.tables) {
    if (only && !only.includes(t.spec.name)) continue
    const folder = join(source, t.folder!)
    if (!existsSync(folder)) {
      io.out.write(`${t.spec.name}: no files under its folder in ${source}\n`)
      continue
    }
    const entry = (raw.tables as Record<string, unknown>[]).find(
      (e) => (e.schema ?? 'public') === t.schema && e.name === t.folder!.slice(t.schema!.length + 1),
    )!
    const { schema: _s, publishAs: _p, ...table } = entry
    const one = join(dir, `${t.spec.name}.json`)
    const cities =
      typeof raw.cities === 'string' ? resolve(dirname(flags.config as string), raw.cities) : undefined
    writeFileSync(
      one,
      JSON.stringify({
        ...(raw.format ? { format: raw.format } : {}),
        ...(raw.cityAliases ? { cityAliases: raw.cityAliases } : {}),
        ...(cities ? { cities } : {}),
        table: { ...table, name: t.spec.name },
      }),
    )
    const asOf = flags['as-of']
    runs.push({
      id: t.spec.name,
      source: folder,
      target,
      config: one,
      ...(typeof asOf === 'string' ? { asOf } : {}),
      ...(typeof flags.cities === 'string' ? { cities: flags.cities } : {}),
      ...(reload ? { reload: true } : {}),
    })
  }
  if (runs.length === 0) return EXIT.ok
  const batch = join(dir, 'batch.json')
  writeFileSync(batch, JSON.stringify(runs))
  const lines: string[] = []
  const code = await new Promise<number | null>((resolveRun, reject) => {
    const child = spawn(python, [join(root, 'glue', 'run_local.py'), '--batch', batch], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const parts = out.split('\n')
      out = parts.pop()!
      lines.push(...parts.filter((l) => l.trim() !== ''))
    })
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n'))
        if (line.startsWith('lakesync:') || line.startsWith('run_local.py:') || line.startsWith('Traceback'))
          io.err.write(`${line}\n`)
    })
    child.on('error', reject)
    child.on('close', resolveRun)
  })
  if (code !== 0 && lines.length === 0) return EXIT.internal
  const failures: number[] = []
  let fine = 0
  runs.forEach((r, i) => {
    const res = JSON.parse(lines[i] ?? '{"ok":false,"error":"no result"}') as {
      ok: boolean
      message?: string
      code?: string
      error?: string
    }
    if (res.ok) {
      io.out.write(`${r.id}: ${res.message}\n`)
      fine++
    } else {
      io.err.write(`lakesync run: table ${r.id}: ${res.error}\n`)
      failures.push(res.code === 'bad_usage' || res.code === 'bad_config' ? EXIT.usage : EXIT.input)
    }
  })
  return combinedExitCode(failures, fine)
}
