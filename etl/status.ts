/**
 * The state of a table for humans and for `lakesync status`: versions, last applied file and its lag, pending files,
 * and the error the next run would stop on (found by the same planning and parsing a run does, writing nothing).
 */

import { appliedSequence, checkNotOlder } from './build.js'
import { describeLease, type LeaseView, leaseOf } from './commit/lease.js'
import {
  activeSkips,
  type CommitLog,
  type CommitRecord,
  describeSkipRecord,
  lineageFiles,
  readCommitLog,
} from './commit/log.js'
import { planSource } from './commit/plan-source.js'
import { classifyDmsFile, compareChangeFiles, type DmsFile } from './dms/files.js'
import { LakesyncError } from './errors.js'
import { readDmsFile } from './read-dms-file.js'
import type { Storage } from './storage/storage.js'
import type { DmsFormat, ParsedFile, TableSpec } from './types.js'

export interface TableStatus {
  table: string
  current: CommitRecord | null // the current version
  versions: { version: number; state: string; asOf?: string; at: string; files: number; detail: string }[] // newest first
  lastApplied: string | null // newest change file of the lineage (or LOAD part when no change yet)
  lagMs: number | null // now minus the timestamp in the last applied change file's name
  pending: string[] // files the next run would apply, in order
  error: { code: string; message: string } | null // what the next run would stop on, or the last failed claim
  skipped: SkippedStatus[] // files set aside (lakesync skip), oldest first
  lease: LeaseView | null // the claim on the next version, live or with its holder presumed dead; null when none
}

/** A file set aside, for status and report. */
export interface SkippedStatus {
  path: string
  version: number // of the skip record
  rows: number | null // data rows it held
  by: string
  reason: string
  at: string // ISO timestamp
  readError: string | null // why it could not be applied
}

/** The files set aside now (lakesync skip), oldest first. */
export function skippedOf(log: CommitLog): SkippedStatus[] {
  return [...activeSkips(log).values()]
    .sort((a, b) => a.version - b.version)
    .map((r) => ({
      path: r.file.path,
      version: r.version,
      rows: r.file.rows,
      by: r.by,
      reason: r.reason,
      at: r.skippedAt,
      readError: r.file.readError,
    }))
}

export interface StatusOptions {
  now?: Date
  stagingExpiryDays?: number // as the run's: applied files older than this may vanish; default 30
}

/**
 * Milliseconds since epoch of a change file's name timestamp (yyyyMMdd-HHmmssfff, UTC as DMS writes it; a
 * transaction file's CDC_TXN-yyyyMMddHHmmssfff).
 */
export function changeFileTime(name: string): number | null {
  const base = name.slice(name.lastIndexOf('/') + 1)
  const m = base.startsWith('CDC_TXN-')
    ? /^CDC_TXN-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})/.exec(base)
    : /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(\d{3})/.exec(base)
  if (!m) return null
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[]
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!)
}

/** The lineage's newest change file (DMS order), else its last applied file; its name's age at `now`. */
export function lastAppliedOf(
  log: CommitLog,
  now: Date,
  timeZone: string | null = null,
): { lastApplied: string | null; lagMs: number | null } {
  const applied = lineageFiles(log)
  // Names in a local zone (format.datePartitionTimezone) are ordered and aged by their UTC time.
  const changes = applied
    .filter((f) => f.kind === 'change')
    .map((f) => classifyDmsFile(f.path, '', { timeZone, mtimeMs: () => f.mtimeMs }) as DmsFile)
    .sort(compareChangeFiles)
  const newest = changes.at(-1)
  const lastApplied = newest?.path ?? applied.at(-1)?.path ?? null
  const t = newest ? changeFileTime(`${newest.timestamp.slice(0, 8)}-${newest.timestamp.slice(8)}`) : null
  return { lastApplied, lagMs: t === null ? null : now.getTime() - t }
}

export async function tableStatus(
  source: Storage,
  target: Storage,
  spec: TableSpec,
  format: DmsFormat,
  opts: StatusOptions = {},
): Promise<TableStatus> {
  const now = opts.now ?? new Date()
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
          detail: `${r.rows.users} rows; I ${c.inserts} R ${c.replaces} U ${c.updates} U-missing ${c.upsertsOfMissing} D ${c.deletes} D-missing ${c.deletesOfMissing}${r.reload ? '; reload' : ''}`,
        }
      }
      if (r.state === 'pending')
        return {
          version: r.version,
          state: r.state,
          at: r.claimedAt,
          files: 0,
          detail: describeLease(leaseOf({ record: r, etag: '' }, now)!),
        }
      if (r.state === 'abandoned')
        return { version: r.version, state: r.state, at: r.abandonedAt, files: 0, detail: r.reason }
      return { version: r.version, state: r.state, files: 0, ...describeSkipRecord(r) }
    })
  const { lastApplied, lagMs } = lastAppliedOf(log, now, format.datePartitionTimezone)

  let pending: string[] = []
  let error: TableStatus['error'] = null
  const lastAbandoned = log.head?.record.state === 'abandoned' ? log.head.record : null
  if (lastAbandoned)
    error = { code: 'run_failed', message: `version ${lastAbandoned.version}: ${lastAbandoned.reason}` }
  try {
    const planned = await planSource(source, log, format, {
      stagingExpiryDays: opts.stagingExpiryDays,
      now: now.getTime(),
    })
    pending = planned.pending.map((p) => p.file.path)
    // Parse what is pending, as the run would, to surface bad input before the run does.
    const changes: ParsedFile[] = []
    for (const { file } of planned.pending) {
      const parsed = (await readDmsFile(source, file, spec, format)).parsed
      if (file.kind === 'change') changes.push(parsed)
    }
    if (format.orderChangesBy !== 'file')
      checkNotOlder(changes, appliedSequence(log, planned.plan.rebuild), format.orderChangesBy)
  } catch (e) {
    if (e instanceof LakesyncError) error = { code: e.code, message: e.message }
    else error = { code: 'error', message: (e as Error).message }
  }
  const skipped = skippedOf(log)
  const lease = leaseOf(log.head, now)
  return {
    table: spec.name,
    current: log.current ?? null,
    versions,
    lastApplied,
    lagMs,
    pending,
    error,
    skipped,
    lease,
  }
}
