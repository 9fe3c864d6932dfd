/**
 * `lakesync run` and `lakesync reload`: apply pending DMS files (or rebuild from all of them) and publish. With a
 * `tables` config the source is a DMS root of `<schema>/<table>/` folders and every table runs (etl/run-tables.ts).
 */

import {
  loadRunConfig,
  type RunConfig,
  type RunSettings,
  runOptionsFor,
} from '../../etl/config/run-config.js'
import { ConfigError } from '../../etl/errors.js'
import { type RunResult, runPipeline } from '../../etl/pipeline.js'
import { runTables } from '../../etl/run-tables.js'
import { asOfFlag, type Flags, type Io, openStorage, required } from '../common.js'
import { combinedExitCode, describeFailure, EXIT, exitCodeOf } from '../exit-codes.js'
import { faultHookFromEnv } from '../fault-hook.js'
import { failedEntry, printJson, type RunEntry, runEntry, wantsJson } from '../json-output.js'
import { sparkRun } from './spark.js'

/** `--tables a,b`: the published names to run, or undefined for all. */
function tablesFlag(flags: Flags, config: RunConfig): string[] | undefined {
  const v = flags.tables
  if (typeof v !== 'string') return undefined
  const names = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  const known = config.tables.map((t) => t.spec.name)
  const unknown = names.filter((n) => !known.includes(n))
  if (names.length === 0 || unknown.length > 0)
    throw new ConfigError(
      'bad_usage',
      `--tables ${JSON.stringify(v)}: ${unknown.length > 0 ? `${unknown.join(', ')} not configured` : 'no table named'} (tables: ${known.join(', ')})`,
    )
  return names
}

/** What a run printed for one table: its message, its versions, the cities without a state. */
function report(result: RunResult, io: Io, prefix = '', verbose = false): void {
  io.out.write(`${prefix}${result.message}\n`)
  for (const rec of result.records) {
    const c = rec.counts
    io.out.write(
      `${prefix}  v${rec.version} as_of ${rec.asOf}: ${rec.files.length} file(s); inserts ${c.inserts}, replaces ${c.replaces}, updates ${c.updates}, upserts-of-missing ${c.upsertsOfMissing}, deletes ${c.deletes}, deletes-of-missing ${c.deletesOfMissing}\n`,
    )
    if (verbose)
      for (const f of rec.files)
        io.out.write(
          `${prefix}    ${f.path}: ${f.rows} rows${
            f.counts
              ? `; ${Object.entries(f.counts)
                  .map(([k, n]) => `${k} ${n}`)
                  .join(', ')}`
              : ''
          }\n`,
        )
  }
  const f = result.record?.features
  if (f && f.rowsWithoutState > 0) {
    const n = f.citiesWithoutState.length
    const shown = f.citiesWithoutState
      .slice(0, 10)
      .map((c) => (c === null ? 'NULL' : JSON.stringify(c)))
      .join(', ')
    io.out.write(
      `${prefix}  ${f.rowsWithoutState} row(s) in ${n} cit${n === 1 ? 'y' : 'ies'} without a state: ${shown}${n > 10 ? ', ...' : ''}\n`,
    )
  }
}

/** Exit 3 when the run did nothing because another run holds the table. */
function busyCode(result: RunResult, io: Io, table: string): number {
  if (!result.busy || result.committed) return EXIT.ok
  io.err.write(
    `lakesync run: table ${table} is held by run ${result.busy.runId} (claimed ${result.busy.claimedAt}, until ${result.busy.expiresAt})\n`,
  )
  return EXIT.busy
}

export async function runCommand(flags: Flags, io: Io, reload = false): Promise<number> {
  const engine = flags.engine ?? 'lakesync'
  if (engine === 'spark') return sparkRun(flags, io, reload)
  if (engine !== 'lakesync')
    throw new ConfigError('bad_usage', `--engine ${JSON.stringify(engine)}: expected lakesync or spark`)
  const source = openStorage(required(flags, 'source'), '--source')
  const target = openStorage(required(flags, 'target'), '--target')
  const asOf = asOfFlag(flags)
  const config = await loadRunConfig(flags.config as string | undefined, flags.cities as string | undefined)
  const format = flags['table-format']
  if (format !== undefined && format !== 'iceberg' && format !== 'hive')
    throw new ConfigError('bad_usage', `--table-format ${JSON.stringify(format)}: expected iceberg or hive`)
  if (format !== undefined) config.tableFormat = format
  const only = tablesFlag(flags, config)
  const many = config.tables[0]!.folder !== null
  if (only && !many)
    throw new ConfigError(
      'bad_usage',
      '--tables needs a config with "tables" (a DMS source root of many tables)',
    )
  // The Glue client (and the AWS SDK) is loaded only when a catalog is asked for: local runs never need it.
  const database = flags['glue-database']
  const catalog =
    typeof database === 'string'
      ? (await import('../../etl/catalog/glue.js')).openGlueCatalog(database)
      : undefined
  const started = performance.now()
  const faults = faultHookFromEnv()
  const settings: RunSettings = {
    source,
    target,
    asOf,
    engineVersion: io.version,
    reload,
    ...(catalog ? { catalog } : {}),
    ...(faults ? { faults } : {}),
    onWarning: (m) => io.err.write(`lakesync: warning: ${m}\n`),
  }
  const json = wantsJson(flags)
  if (!many) {
    const run = runPipeline(
      runOptionsFor(config, {
        ...settings,
        onPhase: io.errIsTty ? (phase) => io.err.write(`\r${phase}...\x1b[K`) : undefined,
        onProgress: io.errIsTty
          ? (rows, file) => {
              const s = (performance.now() - started) / 1000
              io.err.write(
                `\rread ${rows} rows (${Math.round(rows / Math.max(s, 1e-3))} rows/s) ${file}\x1b[K`,
              )
            }
          : undefined,
      }),
    )
    // With --json the failure is an entry too; the error still reaches stderr and the exit code.
    const result = json
      ? await run.catch((e: unknown) => {
          printJson(io, { tables: [failedEntry(config.table.name, e)] })
          throw e
        })
      : await run
    if (io.errIsTty) io.err.write('\r\x1b[K')
    if (json) printJson(io, { tables: [runEntry(config.table.name, result)] })
    else report(result, io, '', flags.verbose === true)
    return busyCode(result, io, config.table.name)
  }
  const { spec: _first, ...common } = runOptionsFor(config, settings)
  const outcomes = await runTables({ ...common, tables: config.tables, ...(only ? { only } : {}) })
  const failures: number[] = []
  const entries: RunEntry[] = []
  let fine = 0
  for (const o of outcomes) {
    if (o.status === 'no files') {
      if (!json) io.out.write(`${o.table}: no files under its folder in ${source.root}\n`)
      entries.push({ table: o.table, status: 'unchanged', versions: [], applied: [], error: null })
      fine++
    } else if (o.status === 'ran') {
      if (!json) report(o.result, io, `${o.table}: `, flags.verbose === true)
      entries.push(runEntry(o.table, o.result))
      const code = busyCode(o.result, io, o.table)
      if (code === EXIT.ok) fine++
      else failures.push(code)
    } else {
      const code = exitCodeOf(o.error)
      io.err.write(`lakesync run: table ${o.table}: ${describeFailure(o.error, code)}\n`)
      entries.push(failedEntry(o.table, o.error))
      failures.push(code)
    }
  }
  if (json) printJson(io, { tables: entries })
  return combinedExitCode(failures, fine)
}
