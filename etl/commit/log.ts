/**
 * The commit log: one JSON record per version under `_lakesync/<table>/commits/<version>.json`.
 *
 * A version is claimed before any of its files are written: the record is created with put-if-absent in state
 * `pending` (so only one run ever writes into `v=<version>/`), then replaced with compare-and-swap (If-Match on the
 * claim's ETag) by the `committed` record once the Parquet files are complete. A claim whose run died is expired
 * after its TTL and swapped to `abandoned` by the next run, which then takes the next version number; if the slow
 * run comes back, its own compare-and-swap fails and it commits nothing. The newest `committed` record is the
 * current version; files of other versions are garbage (`lakesync vacuum` removes them).
 */
import { StateError } from '../errors.js'
import type { Storage } from '../storage/storage.js'
import type { FeatureSummary, OpCounts } from '../types.js'
import { commitPath, commitsPrefix, VERSION_DIGITS } from './layout.js'

/** A source file as the log remembers it. */
export interface AppliedFile {
  path: string // relative to the source root
  kind: 'load' | 'change'
  size: number // bytes as stored (compressed for .gz)
  sha256: string // content fingerprint of the stored bytes
  etag?: string // S3 ETag when the source is S3 (identity with the key)
  mtimeMs?: number // when the file was written (for the staging-expiry rule)
  rows: number // data rows read
  counts?: OpCounts // change files: what the rows did
}

export interface CommitRecord {
  state: 'committed'
  version: number // 1, 2, ...
  table: string // table name
  runId: string // the run that claimed and committed it
  asOf: string // YYYY-MM-DD the features were computed for
  committedAt: string // ISO timestamp
  engine: { name: string; version: string } // who wrote it
  source: string // where the files came from
  files: AppliedFile[] // files applied by this version, in apply order
  fullLoad: boolean // rebuilt from the LOAD files (a first load, more LOAD parts, or a reload): starts a lineage
  reload: boolean // built by `lakesync reload` from every file in the source
  counts: OpCounts // sums over this version's change files
  rows: { users: number; users_features?: number } // rows of the table (`users`, whatever its name) and its features
  outputs: { users: string[]; users_features?: string[] } // Parquet files of this version, relative to the target
  features?: FeatureSummary // rows and cities without a state; absent for a table without features
  timingsMs: Record<string, number> // read, apply, features, write, total
  lastSequence?: string // newest ordering value applied so far, when changes are ordered by a column
  snapshot?: SnapshotRef // a verified cache of the users table (absent: older lakesync, or the Spark engine)
}

/** The snapshot of a version's users table (etl/commit/snapshot.ts): a cache for the next run, checked against this. */
export interface SnapshotRef {
  path: string // relative to the target: _lakesync/<table>/snapshots/v=<version>.lsnap
  sha256: string // of the whole object
  size: number // bytes
  format: number // snapshot format version (SNAPSHOT_FORMAT)
}

export interface ClaimRecord {
  state: 'pending'
  version: number
  table: string
  runId: string // the run holding the claim
  claimedAt: string // ISO timestamp
  expiresAt: string // after this the claim may be abandoned by another run (moved on by each heartbeat)
  heartbeatAt?: string // ISO timestamp of the holder's last renewal (absent before the first, and from older runs)
  leaseMs?: number // how far each renewal moves expiresAt (etl/commit/lease.ts)
}

export interface AbandonedRecord {
  state: 'abandoned'
  version: number
  table: string
  runId: string // the run whose claim was abandoned
  abandonedAt: string // ISO timestamp
  reason: string // why: expired claim, or the run failed after claiming
}

/** A change file set aside by `lakesync skip`: runs apply the files after it without it (etl/commit/skip.ts). */
export interface SkipRecord {
  state: 'skipped'
  version: number // its place in the log (no data version is written under this number)
  table: string
  file: SkippedFile
  by: string // who set it aside
  reason: string // why
  skippedAt: string // ISO timestamp
}

/** The skipped file as it was when set aside: runs check it is still the same file. */
export interface SkippedFile {
  path: string // relative to the table's source folder
  size: number // bytes as stored
  sha256: string // of the stored bytes
  etag?: string // S3 ETag
  mtimeMs?: number // modification time
  rows: number | null // data rows it held (null when not even its rows could be told apart)
  readError: string | null // why it could not be applied, as the reader said (null when it reads)
}

/** `lakesync unskip`: the skip record `skipVersion` no longer holds; the file is pending again. */
export interface UnskipRecord {
  state: 'unskipped'
  version: number
  table: string
  skipVersion: number // the SkipRecord taken back
  path: string // its file
  by: string
  reason: string
  unskippedAt: string // ISO timestamp
}

/**
 * Files a run read that hold none of this table's rows (PreserveTransactions: CDC_TXN files of other tables only),
 * recorded without a data version so that plans move past them, as if a version had applied them (etl/pipeline.ts).
 */
export interface PassedRecord {
  state: 'passed'
  version: number // its place in the log (no data version is written under this number)
  table: string
  runId: string // the run that read them
  passedAt: string // ISO timestamp
  files: AppliedFile[] // each with 0 rows
}

export type LogRecord =
  | CommitRecord
  | ClaimRecord
  | AbandonedRecord
  | SkipRecord
  | UnskipRecord
  | PassedRecord

/** A record as read, with the ETag needed to compare-and-swap it. */
export interface LogEntry {
  record: LogRecord
  etag: string
}

export interface CommitLog {
  entries: LogEntry[] // every record, oldest version first
  committed: CommitRecord[] // the committed ones, oldest first
  current: CommitRecord | undefined // the newest committed record
  head: LogEntry | undefined // the highest version of any state
}

function encode(record: LogRecord): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`)
}

/** Every record of a table's log. */
export async function readCommitLog(target: Storage, table: string): Promise<CommitLog> {
  const prefix = commitsPrefix(table)
  const objects = await target.list(prefix)
  const entries: LogEntry[] = []
  for (const o of objects) {
    const name = o.path.slice(prefix.length)
    if (!/^\d{20}\.json$/.test(name)) continue
    const got = await target.readVersioned(o.path)
    if (got === null) continue // removed between list and read (vacuum): not part of the log any more
    let record: LogRecord
    try {
      record = JSON.parse(new TextDecoder().decode(got.bytes)) as LogRecord
    } catch (e) {
      throw new StateError('corrupt_state', `commit: ${target.root}/${o.path} is not valid JSON`, undefined, {
        cause: e,
      })
    }
    if (record.version !== Number(name.slice(0, VERSION_DIGITS)))
      throw new StateError('corrupt_state', `commit: ${o.path} says version ${record.version}`)
    if (record.state === undefined) (record as { state: string }).state = 'committed' // records written before claims
    entries.push({ record, etag: got.etag })
  }
  entries.sort((a, b) => a.record.version - b.record.version)
  const committed = entries.map((e) => e.record).filter((r): r is CommitRecord => r.state === 'committed')
  return { entries, committed, current: committed.at(-1), head: entries.at(-1) }
}

/** The committed records of the current lineage: from the newest full load (or reload) on. */
export function lineage(log: CommitLog): CommitRecord[] {
  const start = log.committed.findLastIndex((r) => r.fullLoad)
  return start < 0 ? log.committed : log.committed.slice(start)
}

/**
 * Every file the current lineage has read: its committed records' files, and those of the passed records after its
 * first version (files without rows of this table).
 */
export function lineageFiles(log: CommitLog): AppliedFile[] {
  const commits = lineage(log)
  const from = commits[0]?.version ?? Number.POSITIVE_INFINITY
  const passed = log.entries
    .map((e) => e.record)
    .filter((r): r is PassedRecord => r.state === 'passed' && r.version > from)
  return [...commits, ...passed].sort((a, b) => a.version - b.version).flatMap((r) => r.files)
}

/** Claims `version`: its ETag, or null when another run claimed (or committed) it first. */
export async function claimVersion(target: Storage, claim: ClaimRecord): Promise<string | null> {
  return target.createExclusive(commitPath(claim.table, claim.version), encode(claim))
}

/** Writes a skip, unskip or passed record at its version, only if that version is free: its ETag, or null when taken. */
export async function createLogRecord(
  target: Storage,
  record: SkipRecord | UnskipRecord | PassedRecord,
): Promise<string | null> {
  return target.createExclusive(commitPath(record.table, record.version), encode(record))
}

/** When a skip, unskip or passed record was written, and what it says, for status and report. */
export function describeSkipRecord(r: SkipRecord | UnskipRecord | PassedRecord): {
  at: string
  detail: string
} {
  if (r.state === 'passed')
    return {
      at: r.passedAt,
      detail: `read ${r.files.map((f) => f.path).join(', ')}: no rows of this table`,
    }
  if (r.state === 'skipped')
    return {
      at: r.skippedAt,
      detail: `set aside ${r.file.path} (${r.file.rows ?? 'unknown'} rows) by ${r.by}: ${r.reason}`,
    }
  return {
    at: r.unskippedAt,
    detail: `took back ${r.path} (set aside in version ${r.skipVersion}) by ${r.by}: ${r.reason}`,
  }
}

/** The files set aside now: skip records not taken back by a later unskip record, by path. */
export function activeSkips(log: CommitLog): Map<string, SkipRecord> {
  const out = new Map<string, SkipRecord>()
  for (const { record: r } of log.entries) {
    if (r.state === 'skipped') out.set(r.file.path, r)
    else if (r.state === 'unskipped' && out.get(r.path)?.version === r.skipVersion) out.delete(r.path)
  }
  return out
}

/** Turns our claim into the commit; null when the claim was abandoned meanwhile (then nothing is committed). */
export async function completeClaim(
  target: Storage,
  record: CommitRecord,
  claimEtag: string,
): Promise<string | null> {
  return target.replaceIfMatch(commitPath(record.table, record.version), encode(record), claimEtag)
}

/** Renews our claim (a heartbeat): its new entry, or null when the record changed (the claim was abandoned). */
export async function renewClaim(
  target: Storage,
  entry: { record: ClaimRecord; etag: string },
  at: Date,
  leaseMs: number,
): Promise<{ record: ClaimRecord; etag: string } | null> {
  const record: ClaimRecord = {
    ...entry.record,
    heartbeatAt: at.toISOString(),
    expiresAt: new Date(at.getTime() + leaseMs).toISOString(),
    leaseMs,
  }
  const etag = await target.replaceIfMatch(
    commitPath(record.table, record.version),
    encode(record),
    entry.etag,
  )
  return etag === null ? null : { record, etag }
}

/** Marks a claim abandoned if it is still the one we saw; false when it changed (someone else acted first). */
export async function abandonClaim(
  target: Storage,
  entry: LogEntry,
  reason: string,
  now: Date,
): Promise<boolean> {
  const r = entry.record
  const record: AbandonedRecord = {
    state: 'abandoned',
    version: r.version,
    table: r.table,
    runId: 'runId' in r ? r.runId : '', // only claims are abandoned
    abandonedAt: now.toISOString(),
    reason,
  }
  return (await target.replaceIfMatch(commitPath(r.table, r.version), encode(record), entry.etag)) !== null
}
