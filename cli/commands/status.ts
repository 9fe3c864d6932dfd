/** `lakesync status` and `lakesync vacuum`: the table's log, lag and pending files; removing old versions. */

import { describeLease } from '../../etl/commit/lease.js'
import { loadRunConfig, pickTable, type RunConfig } from '../../etl/config/run-config.js'
import { ConfigError } from '../../etl/errors.js'
import { publishCommitted } from '../../etl/publish.js'
import { type TableStatus, tableStatus } from '../../etl/status.js'
import type { Storage } from '../../etl/storage/storage.js'
import { tableSource as tableSourceOf } from '../../etl/storage/table-source.js'
import type { TableSpec } from '../../etl/types.js'
import { vacuum } from '../../etl/vacuum.js'
import { type Flags, type Io, openStorage, required } from '../common.js'
import { printJson, wantsJson } from '../json-output.js'

function duration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (Math.abs(s) < 120) return `${s} s`
  if (Math.abs(s) < 7200) return `${Math.round(s / 60)} min`
  if (Math.abs(s) < 172_800) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86_400)} days`
}

/** Every configured table's status (one block each), or the `--table` one; exit 1 when any would fail. */
export async function statusCommand(flags: Flags, io: Io): Promise<number> {
  const source = openStorage(required(flags, 'source'), '--source')
  const target = openStorage(required(flags, 'target'), '--target')
  const config = await loadRunConfig(flags.config as string | undefined)
  const tables = typeof flags.table === 'string' ? [pickTable(config, flags.table).table] : config.tables
  let failing = 0
  const entries: unknown[] = []
  for (const [i, t] of tables.entries()) {
    const tableSource = t.folder === null ? source : tableSourceOf(source, t.folder, config.format)
    if (wantsJson(flags)) {
      const s = await tableStatus(tableSource, target, t.spec, config.format)
      entries.push(statusEntry(s))
      failing += s.error ? 1 : 0
      continue
    }
    if (i > 0) io.out.write('\n')
    failing += (await printStatus(tableSource, target, t.spec, config, flags, io)) ? 1 : 0
  }
  if (wantsJson(flags)) printJson(io, { tables: entries })
  return failing > 0 ? 1 : 0
}

/** A table's `status --json` entry. */
function statusEntry(s: TableStatus) {
  return {
    table: s.table,
    version: s.current?.version ?? null,
    asOf: s.current?.asOf ?? null,
    committedAt: s.current?.committedAt ?? null,
    rows: s.current?.rows.users ?? null,
    lastApplied: s.lastApplied,
    lagSeconds: s.lagMs === null ? null : Math.round(s.lagMs / 1000),
    pending: s.pending,
    skipped: s.skipped,
    lease: s.lease,
    versions: s.versions,
    error: s.error,
  }
}

/** One table's block; true when its next run would stop on an error. */
async function printStatus(
  source: Storage,
  target: Storage,
  spec: TableSpec,
  config: RunConfig,
  flags: Flags,
  io: Io,
): Promise<boolean> {
  const s = await tableStatus(source, target, spec, config.format)
  const w = (line: string) => io.out.write(`${line}\n`)
  w(`table ${s.table} in ${target.root} (source ${source.root})`)
  if (s.current)
    w(
      `current version ${s.current.version} (as_of ${s.current.asOf}, committed ${s.current.committedAt}, ${s.current.rows.users} rows)`,
    )
  else w('current version: none')
  w(`last applied file: ${s.lastApplied ?? 'none'}${s.lagMs === null ? '' : ` (lag ${duration(s.lagMs)})`}`)
  w(
    `pending files: ${s.pending.length}${s.pending.length ? `: ${s.pending.slice(0, 10).join(', ')}${s.pending.length > 10 ? ', ...' : ''}` : ''}`,
  )
  w(`last error: ${s.error ? `${s.error.code}: ${s.error.message}` : 'none'}`)
  w(`skipped files: ${s.skipped.length}`)
  for (const k of s.skipped)
    w(
      `  ${k.path}: ${k.rows ?? 'unknown'} rows, set aside in version ${k.version} by ${k.by} at ${k.at}: ${k.reason}`,
    )
  if (s.lease) w(`lease: ${describeLease(s.lease)}`)
  if (s.versions.length) {
    w('versions (newest first):')
    for (const v of s.versions.slice(0, Number((flags.limit as string | undefined) ?? '10')))
      w(
        `  ${String(v.version).padStart(6)}  ${v.state.padEnd(9)}  ${v.asOf ?? '          '}  ${v.at}  ${v.files} file(s)  ${v.detail}`,
      )
  }
  return s.error !== null && s.error !== undefined
}

export async function vacuumCommand(flags: Flags, io: Io): Promise<number> {
  const target = openStorage(required(flags, 'target'), '--target')
  const keep = Number((flags.keep as string | undefined) ?? '3')
  if (!Number.isInteger(keep) || keep < 1)
    throw new ConfigError('bad_usage', `--keep must be a whole number >= 1, got ${flags.keep}`)
  const config = await loadRunConfig(flags.config as string | undefined)
  const tables = typeof flags.table === 'string' ? [pickTable(config, flags.table).table] : config.tables
  // The Glue client (and the AWS SDK) is loaded only when a catalog is asked for.
  const database = flags['glue-database']
  const catalog =
    typeof database === 'string'
      ? (await import('../../etl/catalog/glue.js')).openGlueCatalog(database)
      : undefined
  const entries: unknown[] = []
  for (const t of tables) {
    const r = await vacuum(target, t.spec.name, keep)
    entries.push({ table: t.spec.name, ...r })
    // The catalog's Iceberg tables follow the metadata that vacuum wrote without the expired snapshots.
    if (catalog && r.deleted.length > 0)
      await publishCommitted({ target, spec: t.spec, tableFormat: config.tableFormat, catalog })
    if (!wantsJson(flags))
      io.out.write(
        `${tables.length > 1 ? `${t.spec.name}: ` : ''}deleted ${r.deleted.length} file(s) and ${r.deletedSnapshots.length} snapshot(s)${r.deletedTemporaries.length > 0 ? ` (and ${r.deletedTemporaries.length} temporary file(s) of dead runs)` : ''}; kept versions ${r.keptVersions.join(', ') || 'none'}\n`,
      )
  }
  if (wantsJson(flags)) printJson(io, { tables: entries })
  return 0
}
