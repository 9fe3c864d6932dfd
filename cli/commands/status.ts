/** `lakesync status` and `lakesync vacuum`: the table's log, lag and pending files; removing old versions. */

import { loadRunConfig } from '../../etl/config/run-config.js'
import { ConfigError } from '../../etl/errors.js'
import { tableStatus } from '../../etl/status.js'
import { vacuum } from '../../etl/vacuum.js'
import { type Flags, type Io, openStorage, required } from '../common.js'

function duration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (Math.abs(s) < 120) return `${s} s`
  if (Math.abs(s) < 7200) return `${Math.round(s / 60)} min`
  if (Math.abs(s) < 172_800) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86_400)} days`
}

export async function statusCommand(flags: Flags, io: Io): Promise<number> {
  const source = openStorage(required(flags, 'source'), '--source')
  const target = openStorage(required(flags, 'target'), '--target')
  const config = await loadRunConfig(flags.config as string | undefined)
  const s = await tableStatus(source, target, config.table, config.format)
  const w = (line: string) => io.out.write(`${line}\n`)
  w(`table ${s.table} in ${target.root}`)
  if (s.current)
    w(
      `current version ${s.current.version} (as_of ${s.current.asOf}, committed ${s.current.committedAt}, ${s.current.rows.users} users)`,
    )
  else w('current version: none')
  w(`last applied file: ${s.lastApplied ?? 'none'}${s.lagMs === null ? '' : ` (lag ${duration(s.lagMs)})`}`)
  w(
    `pending files: ${s.pending.length}${s.pending.length ? `: ${s.pending.slice(0, 10).join(', ')}${s.pending.length > 10 ? ', ...' : ''}` : ''}`,
  )
  w(`last error: ${s.error ? `${s.error.code}: ${s.error.message}` : 'none'}`)
  if (s.versions.length) {
    w('versions (newest first):')
    for (const v of s.versions.slice(0, Number((flags.limit as string | undefined) ?? '10')))
      w(
        `  ${String(v.version).padStart(6)}  ${v.state.padEnd(9)}  ${v.asOf ?? '          '}  ${v.at}  ${v.files} file(s)  ${v.detail}`,
      )
  }
  return s.error ? 1 : 0
}

export async function vacuumCommand(flags: Flags, io: Io): Promise<number> {
  const target = openStorage(required(flags, 'target'), '--target')
  const keep = Number((flags.keep as string | undefined) ?? '3')
  if (!Number.isInteger(keep) || keep < 1)
    throw new ConfigError('bad_usage', `--keep must be a whole number >= 1, got ${flags.keep}`)
  const { table: spec } = await loadRunConfig(flags.config as string | undefined)
  const r = await vacuum(target, spec.name, keep)
  io.out.write(
    `deleted ${r.deleted.length} file(s) and ${r.deletedSnapshots.length} snapshot(s); kept versions ${r.keptVersions.join(', ') || 'none'}\n`,
  )
  return 0
}
