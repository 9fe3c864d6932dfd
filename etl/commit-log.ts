/**
 * The commit log: one JSON record per version under `_lakesync/<table>/commits/<version>.json`, created exclusively
 * and written last. The newest record is the current version; output files without a record are garbage.
 */
import { StateError } from './errors.js'
import type { Storage } from './storage.js'
import type { FeatureSummary, OpCounts } from './types.js'

/** A source file as the log remembers it. */
export interface AppliedFile {
  path: string // relative to the source root
  kind: 'load' | 'change'
  size: number // bytes as stored (compressed for .gz)
  sha256: string // content fingerprint of the stored bytes
  rows: number // data rows read
  counts?: OpCounts // change files: what the rows did
}

export interface CommitRecord {
  version: number // 1, 2, ...
  table: string // table name
  asOf: string // YYYY-MM-DD the features were computed for
  committedAt: string // ISO timestamp
  engine: { name: string; version: string } // who wrote it
  source: string // where the files came from
  files: AppliedFile[] // files applied by this version, in apply order
  fullLoad: boolean // true when this version was rebuilt from the LOAD files (files then lists every LOAD part)
  counts: OpCounts // sums over this version's change files
  rows: { users: number; users_features: number } // rows in each published table
  outputs: { users: string[]; users_features: string[] } // Parquet files of this version, relative to the target
  features: FeatureSummary // rows and cities without a state
  timingsMs: Record<string, number> // read, apply, features, write, total
}

export const VERSION_DIGITS = 20

export function versionName(version: number): string {
  return String(version).padStart(VERSION_DIGITS, '0')
}

export function commitsPrefix(table: string): string {
  return `_lakesync/${table}/commits/`
}

export function commitPath(table: string, version: number): string {
  return `${commitsPrefix(table)}${versionName(version)}.json`
}

/** Every commit record of a table, oldest first. */
export async function readCommitLog(target: Storage, table: string): Promise<CommitRecord[]> {
  const prefix = commitsPrefix(table)
  const objects = await target.list(prefix)
  const records: CommitRecord[] = []
  for (const o of objects) {
    const name = o.path.slice(prefix.length)
    if (!/^\d{20}\.json$/.test(name)) continue
    const text = new TextDecoder().decode(await target.read(o.path))
    let record: CommitRecord
    try {
      record = JSON.parse(text) as CommitRecord
    } catch (e) {
      throw new StateError('corrupt_state', `commit: ${target.root}/${o.path} is not valid JSON`, undefined, {
        cause: e,
      })
    }
    if (record.version !== Number(name.slice(0, VERSION_DIGITS)))
      throw new StateError('corrupt_state', `commit: ${o.path} says version ${record.version}`)
    records.push(record)
  }
  return records.sort((a, b) => a.version - b.version)
}

/** Writes the record if its version is still free; a StateError when another run took it first. */
export async function writeCommit(target: Storage, record: CommitRecord): Promise<void> {
  const bytes = new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`)
  const ok = await target.createExclusive(commitPath(record.table, record.version), bytes)
  if (!ok)
    throw new StateError(
      'commit_conflict',
      `commit: version ${record.version} of ${record.table} was committed by another run; nothing was committed by this one (run again)`,
    )
}
