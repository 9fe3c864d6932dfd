/**
 * Operator recovery: `lakesync skip` sets a change file aside, `lakesync unskip` takes it back. Both are records of
 * the commit log, written as claims are: at the next free version number, with put-if-absent, so that a skip is
 * ordered against every run's claim and a crash leaves it written whole or not at all (docs/commit-protocol.md).
 *
 * - A skip names the file, its size and SHA-256, who, why and when, and the rows it held; runs then leave the file
 *   out and apply the files after it (etl/commit/plan.ts).
 * - An unskip is refused once a committed version after the skip applied a change file that comes after it: that
 *   version's table was built without the file, and only `lakesync reload` can rebuild it with it.
 * - Both refuse while a run holds a live claim (busy): that run planned with the log as it was.
 */
import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { classifyDmsFile, compareChangeFiles, type DmsFile, type NameClock } from '../dms/files.js'
import { LakesyncError, StateError } from '../errors.js'
import { readDmsFile } from '../read-dms-file.js'
import { objectName, type Storage } from '../storage/storage.js'
import type { DmsFormat, TableSpec } from '../types.js'
import {
  abandonClaim,
  activeSkips,
  type CommitLog,
  createLogRecord,
  lineage,
  lineageFiles,
  readCommitLog,
  type SkipRecord,
  type UnskipRecord,
} from './log.js'

/** Test hook steps: after the file was read (nothing written), after the record was written. */
export type SkipFaultStep =
  | 'skip-after-read'
  | 'skip-after-write'
  | 'unskip-after-check'
  | 'unskip-after-write'

export interface SkipOptions {
  target: Storage // the lake: the table's commit log
  spec: TableSpec
  format: DmsFormat
  path: string // the file, relative to the table's source folder
  by: string // who
  reason: string // why
  now?: () => Date
  faults?: (step: SkipFaultStep) => void | Promise<void>
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Sets `path` aside: the record written, or the one already there (`already`) when the same file is set aside. */
export async function skipFile(
  source: Storage,
  opts: SkipOptions,
): Promise<{ record: SkipRecord; already: boolean }> {
  const { target, spec, format, path, now = () => new Date(), faults = () => {} } = opts
  for (let attempt = 0; attempt < 20; attempt++) {
    const log = await readCommitLog(target, spec.name)
    if (await waitForClaim(target, log, now(), 'skip')) continue
    const listed = (await source.list()).find((o) => o.path === path)
    if (!listed) refuse(`there is no file ${JSON.stringify(objectName(source, path))}`)
    const clock: NameClock = { timeZone: format.datePartitionTimezone, mtimeMs: () => listed.mtimeMs }
    const f = classifyDmsFile(path, source.root, clock)
    if (f === 'ignored' || f.kind !== 'change')
      refuse(
        `${objectName(source, path)} is not a change file; only change files can be set aside (a bad full-load part needs a fixed file and lakesync reload)`,
      )
    const raw = await source.read(path)
    const digest = sha256(raw)
    const set = activeSkips(log).get(path)
    if (set?.file.sha256 === digest) return { record: set, already: true }
    const appliedBy = lineage(log).find((r) => r.files.some((a) => a.path === path))
    if (appliedBy)
      refuse(
        `${objectName(source, path)} was applied by version ${appliedBy.version}; only a file not applied yet can be set aside`,
      )
    // A transaction file recorded without rows of this table (a passed record) is read already, like an applied one.
    if (lineageFiles(log).some((a) => a.path === path))
      refuse(
        `${objectName(source, path)} was read already (it holds no rows of ${spec.name}); only a file not applied yet can be set aside`,
      )
    const { rows, readError } = await rowsHeld(source, f, raw, spec, format)
    await faults('skip-after-read')
    const record: SkipRecord = {
      state: 'skipped',
      version: (log.head?.record.version ?? 0) + 1,
      table: spec.name,
      file: {
        path,
        size: raw.length,
        sha256: digest,
        ...(listed.etag !== undefined ? { etag: listed.etag } : {}),
        ...(listed.mtimeMs !== undefined ? { mtimeMs: listed.mtimeMs } : {}),
        rows,
        readError,
      },
      by: opts.by,
      reason: opts.reason,
      skippedAt: now().toISOString(),
    }
    if ((await createLogRecord(target, record)) === null) continue // a run or another skip took the number
    await faults('skip-after-write')
    return { record, already: false }
  }
  throw new StateError('commit_conflict', `skip: the log of ${spec.name} kept changing; run again`)
}

/** Takes back the skip of `path`, unless a committed version already applied a change file after it. */
export async function unskipFile(opts: SkipOptions): Promise<UnskipRecord> {
  const { target, spec, format, path, now = () => new Date(), faults = () => {} } = opts
  for (let attempt = 0; attempt < 20; attempt++) {
    const log = await readCommitLog(target, spec.name)
    if (await waitForClaim(target, log, now(), 'unskip')) continue
    const skip = activeSkips(log).get(path)
    if (!skip) refuse(`${path} is not set aside in the log of ${spec.name}`)
    const dependent = dependentOn(log, skip, format.datePartitionTimezone)
    if (dependent)
      refuse(
        `version ${dependent.version} read ${dependent.path}, which comes after ${path}: the table moved past it without it, so it cannot come back; run lakesync reload to rebuild the table with every file`,
      )
    await faults('unskip-after-check')
    const record: UnskipRecord = {
      state: 'unskipped',
      version: (log.head?.record.version ?? 0) + 1,
      table: spec.name,
      skipVersion: skip.version,
      path,
      by: opts.by,
      reason: opts.reason,
      unskippedAt: now().toISOString(),
    }
    if ((await createLogRecord(target, record)) === null) continue
    await faults('unskip-after-write')
    return record
  }
  throw new StateError('commit_conflict', `unskip: the log of ${spec.name} kept changing; run again`)
}

/**
 * The first change file read after the skip, by a committed version or a passed record (files without this table's
 * rows: the plan has moved past them just the same), that comes after the skipped file, if any.
 */
function dependentOn(
  log: CommitLog,
  skip: SkipRecord,
  timeZone: string | null,
): { version: number; path: string } | undefined {
  const at = (path: string, mtimeMs: number | undefined) =>
    classifyDmsFile(path, '', { timeZone, mtimeMs: () => mtimeMs }) as DmsFile
  const skipped = at(skip.file.path, skip.file.mtimeMs)
  for (const { record: r } of log.entries) {
    if ((r.state !== 'committed' && r.state !== 'passed') || r.version < skip.version) continue
    const later = r.files.find(
      (f) => f.kind === 'change' && compareChangeFiles(at(f.path, f.mtimeMs), skipped) > 0,
    )
    if (later) return { version: r.version, path: later.path }
  }
  return undefined
}

/**
 * A live claim means a run planned with the log as it was: busy (exit 3). An expired one is abandoned, as a run
 * would (true: read the log again).
 */
async function waitForClaim(
  target: Storage,
  log: CommitLog,
  now: Date,
  verb: 'skip' | 'unskip',
): Promise<boolean> {
  const head = log.head
  if (head?.record.state !== 'pending') return false
  if (now.getTime() < Date.parse(head.record.expiresAt))
    throw new StateError(
      'commit_conflict',
      `${verb}: version ${head.record.version} is being written by run ${head.record.runId} (claimed ${head.record.claimedAt}); try again when it is done`,
    )
  await abandonClaim(target, head, `claim expired at ${head.record.expiresAt}`, now)
  return true
}

function refuse(message: string): never {
  throw new StateError('not_skippable', `skip: ${message}`)
}

/** The data rows a file held: parsed when it reads; else, for CSV, its rows told apart by line ends outside quotes. */
async function rowsHeld(
  source: Storage,
  f: DmsFile,
  raw: Uint8Array,
  spec: TableSpec,
  format: DmsFormat,
): Promise<{ rows: number | null; readError: string | null }> {
  try {
    return { rows: (await readDmsFile(source, f, spec, format)).parsed.rows.length, readError: null }
  } catch (e) {
    if (!(e instanceof LakesyncError)) throw e
    return {
      rows: f.format === 'csv' ? csvRows(raw, f.gzip, format.addColumnName) : null,
      readError: e.message,
    }
  }
}

function csvRows(raw: Uint8Array, gzip: boolean, header: boolean): number | null {
  let bytes: Uint8Array
  try {
    bytes = gzip ? gunzipSync(raw) : raw
  } catch {
    return null
  }
  let rows = 0
  let quoted = false
  let filled = false // the current row has a byte other than a line end
  for (const b of bytes) {
    if (b === 0x22) quoted = !quoted
    if (b === 0x0a && !quoted) {
      if (filled) rows++
      filled = false
    } else if (b !== 0x0d) filled = true
  }
  if (filled) rows++
  return header && rows > 0 ? rows - 1 : rows
}
