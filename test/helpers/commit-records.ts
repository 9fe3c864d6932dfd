/**
 * A target's commit log as tests check it: the current record, the published state, claims as another run leaves
 * them, and the parts of a commit record on which two engines (TypeScript and Spark) must agree.
 */
import { USERS_FEATURES_SPEC } from '../../etl/city-features.js'
import { readVersionTable } from '../../etl/commit/load-version.js'
import { type ClaimRecord, type CommitRecord, lineage, readCommitLog } from '../../etl/commit/log.js'
import { tableToCsv } from '../../etl/report/csv-export.js'
import type { Storage } from '../../etl/storage/storage.js'
import { USERS_SPEC } from '../../etl/table/spec.js'

/** The current committed record of the users table (the test fails if there is none). */
export async function currentRecord(target: Storage): Promise<CommitRecord> {
  const rec = (await readCommitLog(target, USERS_SPEC.name)).current
  if (!rec) throw new Error(`no committed version in ${target.root}`)
  return rec
}

export interface PublishedState {
  users: string // the current version's users table as CSV
  features: string // the current version's users_features table as CSV
  applied: string[] // every file applied by the committed lineage, in apply order (duplicates kept)
}

/** The published state of a target: both tables of the current version, and the lineage's applied files. */
export async function publishedState(target: Storage): Promise<PublishedState> {
  const log = await readCommitLog(target, USERS_SPEC.name)
  const current = log.current
  if (!current) throw new Error(`no committed version in ${target.root}`)
  return {
    users: tableToCsv(await readVersionTable(target, current, USERS_SPEC, 'users')),
    features: tableToCsv(await readVersionTable(target, current, USERS_FEATURES_SPEC, 'users_features')),
    applied: lineage(log).flatMap((r) => r.files.map((f) => f.path)),
  }
}

/** The claim of a run that is still writing `version` (or died doing so): it expires `ttlMs` after `claimedAt`. */
export function pendingClaim(version: number, runId: string, claimedAt: Date, ttlMs = 60_000): ClaimRecord {
  return {
    state: 'pending',
    version,
    table: USERS_SPEC.name,
    runId,
    claimedAt: claimedAt.toISOString(),
    expiresAt: new Date(claimedAt.getTime() + ttlMs).toISOString(),
  }
}

/**
 * The parts of a commit record both engines must agree on: not the engine, ids and times (they differ by nature), nor
 * the snapshot (a lakesync-only cache Spark does not write). Local runs compare each file by content and leave the
 * source out; on S3 the source and every listed field of a file (ETag, LastModified) must agree too.
 */
export function comparableRecord(r: CommitRecord, where: 'local' | 's3') {
  return {
    version: r.version,
    table: r.table,
    asOf: r.asOf,
    ...(where === 's3' ? { source: r.source } : {}),
    files: r.files.map((f) =>
      where === 's3'
        ? { ...f }
        : { path: f.path, kind: f.kind, size: f.size, sha256: f.sha256, rows: f.rows, counts: f.counts },
    ),
    fullLoad: r.fullLoad,
    reload: r.reload,
    counts: r.counts,
    rows: r.rows,
    outputs: r.outputs,
    features: r.features,
    keys: Object.keys(r)
      .filter((k) => k !== 'engine' && k !== 'snapshot')
      .sort(),
  }
}
