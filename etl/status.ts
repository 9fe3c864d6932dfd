/**
 * The state of a table for humans and for `lakesync status`: versions, last applied file and its lag, pending files,
 * and the error the next run would stop on (found by the same planning and parsing a run does, writing nothing).
 */

import { type CommitLog, type CommitRecord, lineage, readCommitLog } from './commit/log.js'
import { planRun } from './commit/plan.js'
import { classifyDmsFile, compareChangeFiles, type DmsFile, listDmsFiles } from './dms/files.js'
import { LakesyncError } from './errors.js'
import { readDmsFile } from './read-dms-file.js'
import type { Storage } from './storage/storage.js'
import type { DmsFormat, TableSpec } from './types.js'

export interface TableStatus {
  table: string
  current: CommitRecord | null // the current version
  versions: { version: number; state: string; asOf?: string; at: string; files: number; detail: string }[] // newest first
  lastApplied: string | null // newest change file of the lineage (or LOAD part when no change yet)
  lagMs: number | null // now minus the timestamp in the last applied change file's name
  pending: string[] // files the next run would apply, in order
  error: { code: string; message: string } | null // what the next run would stop on, or the last failed claim
}

/** Milliseconds since epoch of a change file's name timestamp (yyyyMMdd-HHmmssfff, UTC as DMS writes it). */
export function changeFileTime(name: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(\d{3})/.exec(name.slice(name.lastIndexOf('/') + 1))
  if (!m) return null
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[]
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!)
}

/** The lineage's newest change file (DMS order), else its last applied file; its name's age at `now`. */
export function lastAppliedOf(
  log: CommitLog,
  now: Date,
): { lastApplied: string | null; lagMs: number | null } {
  const applied = lineage(log).flatMap((r) => r.files)
  const changes = applied.filter((f) => f.kind === 'change').map((f) => f.path)
  const lastApplied =
    changes
      .sort((a, b) => compareChangeFiles(classifyDmsFile(a) as DmsFile, classifyDmsFile(b) as DmsFile))
      .at(-1) ??
    applied.at(-1)?.path ??
    null
  const t = lastApplied ? changeFileTime(lastApplied) : null
  return { lastApplied, lagMs: t === null ? null : now.getTime() - t }
}

export async function tableStatus(
  source: Storage,
  target: Storage,
  spec: TableSpec,
  format: DmsFormat,
  now = new Date(),
): Promise<TableStatus> {
  const log = await readCommitLog(target, spec.name)
  const versions = log.entries
    .slice()
    .reverse()
    .map(({ record: r }) => {
      if (r.state === 'committed') {
        const c = r.counts
        return {
          version: r.version,
          state: r.state,
          asOf: r.asOf,
          at: r.committedAt,
          files: r.files.length,
          detail: `${r.rows.users} users; I ${c.inserts} R ${c.replaces} U ${c.updates} U-missing ${c.upsertsOfMissing} D ${c.deletes} D-missing ${c.deletesOfMissing}${r.reload ? '; reload' : ''}`,
        }
      }
      if (r.state === 'pending')
        return {
          version: r.version,
          state: r.state,
          at: r.claimedAt,
          files: 0,
          detail: `claimed by run ${r.runId} until ${r.expiresAt}`,
        }
      return { version: r.version, state: r.state, at: r.abandonedAt, files: 0, detail: r.reason }
    })
  const { lastApplied, lagMs } = lastAppliedOf(log, now)

  let pending: string[] = []
  let error: TableStatus['error'] = null
  const lastAbandoned = log.head?.record.state === 'abandoned' ? log.head.record : null
  if (lastAbandoned)
    error = { code: 'run_failed', message: `version ${lastAbandoned.version}: ${lastAbandoned.reason}` }
  try {
    const listed = await source.list()
    const objects = new Map(listed.map((o) => [o.path, o]))
    const plan = planRun(listDmsFiles(listed.map((o) => o.path)), objects, log, source.root, {
      now: now.getTime(),
    })
    pending = (plan.rebuild ? plan.toRead.filter((f) => !plan.applied.has(f.path)) : plan.toRead).map(
      (f) => f.path,
    )
    // Parse what is pending, as the run would, to surface bad input before the run does.
    for (const f of plan.toRead.filter((x) => pending.includes(x.path)))
      await readDmsFile(source, f, spec, format)
  } catch (e) {
    if (e instanceof LakesyncError) error = { code: e.code, message: e.message }
    else error = { code: 'error', message: (e as Error).message }
  }
  return { table: spec.name, current: log.current ?? null, versions, lastApplied, lagMs, pending, error }
}
