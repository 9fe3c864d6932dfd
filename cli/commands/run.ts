/**
 * `lakesync run` and `lakesync reload`: apply pending DMS files (or rebuild from all of them) and publish. With a
 * `tables` config the source is a DMS root of `<schema>/<table>/` folders and every table runs (etl/run-tables.ts).
 */

import { describeLease, waitForLease } from '../../etl/commit/lease.js'
import {
  loadRunConfig,
  type RunConfig,
  type RunSettings,
  runOptionsFor,
} from '../../etl/config/run-config.js'
import { ConfigError } from '../../etl/errors.js'
import { type RunResult, runPipeline } from '../../etl/pipeline.js'
import { runTables, type TableOutcome } from '../../etl/run-tables.js'
import type { Storage } from '../../etl/storage/storage.js'
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
  const beat = result.busy.heartbeatAt ? `, last heartbeat ${result.busy.heartbeatAt}` : ''
  io.err.write(
    `lakesync run: table ${table} is held by run ${result.busy.runId} (claimed ${result.busy.claimedAt}${beat}, until ${result.busy.expiresAt}); --wait waits for it\n`,
  )
  return EXIT.busy
}

/** `--lease-seconds N`: the lease in ms, or undefined for the default. */
function leaseFlag(flags: Flags): number | undefined {
  const v = flags['lease-seconds']
  if (v === undefined) return undefined
  const n = Number(v)
  if (typeof v !== 'string' || !Number.isFinite(n) || n < 1)
    throw new ConfigError(
      'bad_usage',
      `--lease-seconds ${JSON.stringify(v)}: expected a number of seconds >= 1`,
    )
  return Math.round(n * 1000)
}

/** A busy table under --wait: says whom it waits for, then waits until that lease ends. */
async function waitFor(target: Storage, table: string, io: Io): Promise<void> {
  let said = ''
  await waitForLease(target, table, {
    onWait: (lease) => {
      if (lease.runId === said) return
      said = lease.runId
      io.err.write(`lakesync run: waiting for table ${table}: ${describeLease(lease)}\n`)
    },
  })
}

/** A table whose run did nothing because another run holds it. */
function isHeld(o: TableOutcome): boolean {
  return o.status === 'ran' && o.result.busy !== undefined && !o.result.committed
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
  const wait = flags.wait === true
  const leaseMs = leaseFlag(flags)
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
    ...(leaseMs !== undefined ? { claimTtlMs: leaseMs } : {}),
    onWarning: (m) => io.err.write(`lakesync: warning: ${m}\n`),
  }
  const json = wantsJson(flags)
  if (!many) {
    const once = () =>
      runPipeline(
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
    // With --json a failure is an entry too; the error still reaches stderr and the exit code.
    const guarded = () =>
      json
        ? once().catch((e: unknown) => {
            printJson(io, { tables: [failedEntry(config.table.name, e)] })
            throw e
          })
        : once()
    let result = await guarded()
    // --wait: while another run holds the table (and this one committed nothing), wait for its lease, then run.
    while (wait && result.busy && !result.committed) {
      await waitFor(target, config.table.name, io)
      result = await guarded()
    }
    if (io.errIsTty) io.err.write('\r\x1b[K')
    if (json) printJson(io, { tables: [runEntry(config.table.name, result)] })
    else report(result, io, '', flags.verbose === true)
    return busyCode(result, io, config.table.name)
  }
  const { spec: _first, ...common } = runOptionsFor(config, settings)
  let outcomes = await runTables({ ...common, tables: config.tables, ...(only ? { only } : {}) })
  for (;;) {
    const held = wait ? outcomes.filter(isHeld).map((o) => o.table) : []
    if (held.length === 0) break
    for (const table of held) await waitFor(target, table, io)
    const again = await runTables({ ...common, tables: config.tables, only: held })
    outcomes = outcomes.map((o) => again.find((a) => a.table === o.table) ?? o)
  }
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
