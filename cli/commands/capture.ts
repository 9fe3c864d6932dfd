/**
 * `lakesync capture`: the local stand-in for DMS. A full load, then the tables' changes from a logical replication
 * slot, written as DMS-format files: with --table, one table into --out (its staging folder); with a "tables" config
 * (and --tables to narrow it), several tables through one slot into --out/<schema>/<table>/, the layout a DMS task
 * writes. Stops cleanly on SIGINT/SIGTERM (after the files being written are acknowledged); a restart resumes from the
 * slot.
 */
import {
  type CaptureEvent,
  type CaptureResult,
  DEFAULT_FILE_SIZE,
  runCapture,
  runCaptureTables,
} from '../../etl/capture/capture.js'
import { CaptureStreamError, type SourceTable } from '../../etl/capture/changes.js'
import { checkSlotName, defaultSlotName, parseTableName } from '../../etl/capture/names.js'
import {
  type SourceTable as ConfiguredTable,
  loadRunConfig,
  type RunConfig,
} from '../../etl/config/run-config.js'
import { ConfigError, LakesyncError } from '../../etl/errors.js'
import { PrefixedStorage } from '../../etl/storage/prefixed.js'
import type { Storage } from '../../etl/storage/storage.js'
import type { TableSpec } from '../../etl/types.js'
import { type Flags, type Io, openStorage, required } from '../common.js'

/** `1s`, `500ms`, `2m` or plain seconds, to milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (!m)
    throw new ConfigError(
      'bad_usage',
      `${flag} ${JSON.stringify(text)}: expected a duration like 500ms, 1s or 2m`,
    )
  const n = Number(m[1])
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000)
}

/** `1048576`, `64KB`, `32MB` (binary multiples), to bytes. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+)\s*(B|KB|K|MB|M|GB|G)?$/i.exec(text.trim())
  if (!m || Number(m[1]) === 0)
    throw new ConfigError(
      'bad_usage',
      `${flag} ${JSON.stringify(text)}: expected a size like 65536, 64KB or 32MB`,
    )
  const unit = (m[2] ?? 'B').toUpperCase()[0]
  return Number(m[1]) * (unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1)
}

/** The default slot (and publication) of a capture of a "tables" config. */
export const TABLES_SLOT = 'lakesync_tables'

function describe(e: CaptureEvent, folder = ''): string {
  switch (e.type) {
    case 'load-file':
      return `full load: wrote ${folder}${e.path} (${e.rows} rows, ${e.bytes} bytes)`
    case 'change-file':
      return `wrote ${folder}${e.path}: ${e.counts.I} I, ${e.counts.U} U, ${e.counts.D} D (lag ${e.lagMs} ms)`
    case 'load-skipped':
    case 'replayed':
    case 'warning':
      return e.message
  }
}

/** The source table a configured table (of a "tables" config) is captured from: its schema and folder name. */
function sourceOf(t: ConfiguredTable): SourceTable {
  return { schema: t.schema!, name: t.folder!.slice(t.schema!.length + 1) }
}

const named = (t: SourceTable) => `${t.schema}.${t.name}`

/**
 * The configured tables `--tables` names (every one without it), in config order. A name is `schema.table` (the
 * source table) or a bare name (a published or source table name, when only one table has it).
 */
export function pickCaptureTables(config: RunConfig, flag: string | undefined): ConfiguredTable[] {
  const all = config.tables
  if (flag === undefined) return all
  const names = flag
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (names.length === 0) throw new ConfigError('bad_usage', '--tables needs schema.table names')
  const known = all.map((t) => named(sourceOf(t))).join(', ')
  const chosen = new Set<ConfiguredTable>()
  for (const name of names) {
    let found: ConfiguredTable[]
    if (name.includes('.') || name.includes('"')) {
      const want = parseTableName(name, '--tables')
      found = all.filter((t) => named(sourceOf(t)) === named(want))
      if (found.length === 0)
        found = all.filter((t) => named(sourceOf(t)).toLowerCase() === named(want).toLowerCase())
    } else found = all.filter((t) => t.spec.name === name || sourceOf(t).name === name)
    if (found.length !== 1)
      throw new ConfigError(
        'bad_usage',
        `--tables: ${JSON.stringify(name)} ${found.length === 0 ? 'is not a table of the config' : 'names several tables of the config (say schema.table)'} (tables: ${known})`,
      )
    chosen.add(found[0]!)
  }
  return all.filter((t) => chosen.has(t))
}

/** One line of the summary: what the capture did for a table (or the only one). */
function summary(r: CaptureResult, root: string): string {
  return `${r.loaded ? `loaded ${r.loadRows} rows in ${r.loadFiles.length} file(s); ` : ''}captured ${r.counts.I} I, ${r.counts.U} U, ${r.counts.D} D in ${r.changeFiles.length} change file(s) to ${root}${r.replayed.length ? `; skipped ${r.replayed.length} already written` : ''}`
}

export async function captureCommand(flags: Flags, io: Io): Promise<number> {
  const url = required(flags, 'pg')
  const outFlag = required(flags, 'out')
  const out = openStorage(outFlag, '--out')
  const config = await loadRunConfig(flags.config as string | undefined)
  // The capture writes each table's changes to its own folder, never CDC_TXN files: a run would refuse them.
  if (config.format.preserveTransactions)
    throw new ConfigError(
      'bad_config',
      "config: lakesync capture writes DMS files without PreserveTransactions (each table's changes in its own folder); set format.preserveTransactions false for it",
    )
  // The PostgreSQL adapter (and the pg client) load only for this command.
  const { PostgresSource } = await import('../../etl/capture/postgres.js')
  const many = config.tables[0]!.folder !== null
  if (flags.table !== undefined && flags.tables !== undefined)
    throw new ConfigError(
      'bad_usage',
      '--table and --tables together: --table captures one table into --out, --tables several into --out/<schema>/<table>/',
    )
  if (flags.tables !== undefined && !many)
    throw new ConfigError(
      'bad_usage',
      '--tables needs a config with "tables" (lakesync schema prints one); with a "table" config, use --table',
    )
  const severalTables = many && flags.table === undefined
  let table: SourceTable | undefined
  let spec: TableSpec = config.table
  let captured: { table: SourceTable; spec: TableSpec; out: Storage }[] = []
  if (severalTables) {
    const chosen = pickCaptureTables(config, flags.tables as string | undefined)
    const listed = await out.list() // the root once; each table's folder starts from its part of it
    captured = chosen.map((t) => {
      const under = listed.filter((o) => o.path.startsWith(`${t.folder}/`))
      return { table: sourceOf(t), spec: t.spec, out: new PrefixedStorage(out, t.folder!, under) }
    })
  } else {
    table = parseTableName(required(flags, 'table'))
    if (many) {
      // A "tables" config and --table: that table's spec, its files straight into --out.
      const t = table
      const entry = config.tables.find((c) => named(sourceOf(c)) === named(t))
      if (!entry)
        throw new ConfigError(
          'bad_usage',
          `--table ${named(t)} is not a table of the config (tables: ${config.tables.map((c) => named(sourceOf(c))).join(', ')})`,
        )
      spec = entry.spec
    }
  }
  const slot = checkSlotName(
    (flags.slot as string | undefined) ?? (table ? defaultSlotName(table) : TABLES_SLOT),
  )
  const intervalMs = parseDuration((flags.interval as string | undefined) ?? '1s', '--interval')
  const fileSize =
    typeof flags['file-size'] === 'string' ? parseSize(flags['file-size'], '--file-size') : DEFAULT_FILE_SIZE
  const source = new PostgresSource({
    url,
    ...(table ? { table, spec } : { tables: captured }),
    slot,
    publication: (flags.publication as string | undefined) ?? slot,
  })
  const stop = new AbortController()
  const onSignal = () => {
    if (!stop.signal.aborted) io.err.write('capture: stopping after the current file\n')
    stop.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const log = (line: string) => io.err.write(`capture: ${line}\n`)
  const settings = {
    source,
    format: config.format,
    intervalMs,
    fileSize,
    once: flags.once === true,
    signal: stop.signal,
  }
  try {
    if (table) {
      const r = await runCapture({ ...settings, out, table, spec, onEvent: (e) => log(describe(e)) })
      io.out.write(`${summary(r, out.root)}\n`)
    } else {
      const r = await runCaptureTables({
        ...settings,
        tables: captured,
        onEvent: (e) => log(describe(e, 'table' in e && e.table ? `${e.table.schema}/${e.table.name}/` : '')),
      })
      for (const [i, t] of r.tables.entries())
        io.out.write(`${named(t.table)}: ${summary(t, captured[i]!.out.root)}\n`)
    }
    return 0
  } catch (e) {
    if (e instanceof LakesyncError) throw e
    if (e instanceof CaptureStreamError || (e instanceof Error && ('severity' in e || 'code' in e))) {
      // A stopped stream, a database or connection error: the message says what; the slot kept every change.
      io.err.write(`lakesync capture: ${e.message}\n`)
      return 1
    }
    throw e
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await source.close()
  }
}
