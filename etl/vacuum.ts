/**
 * `lakesync vacuum`: deletes the Parquet files of committed versions older than the newest `keep`, and the files of
 * versions that never committed (abandoned, or claims expired). Never the current version, never an active claim's,
 * never a commit record: the log stays whole, so no file is ever applied twice. A version's snapshot
 * (`_lakesync/<table>/snapshots/v=<version>.lsnap`) goes and stays with its Parquet files, by the same rule, and so
 * does its Iceberg snapshot (expired from the table's metadata before the files are deleted).
 */

import { featuresTableName, snapshotsPrefix, versionOfPath, versionsPrefix } from './commit/layout.js'
import { DEFAULT_LEASE_MS } from './commit/lease.js'
import { removeDeadTemporaries } from './commit/leftovers.js'
import { abandonClaim, readCommitLog } from './commit/log.js'
import { ConfigError } from './errors.js'
import { expireIcebergSnapshots } from './iceberg/publish.js'
import type { Storage } from './storage/storage.js'

export interface VacuumResult {
  deleted: string[] // Parquet files removed (paths under the tables' v=<version>/ folders)
  deletedSnapshots: string[] // snapshots removed (_lakesync/<table>/snapshots/v=<version>.lsnap)
  deletedTemporaries: string[] // temporary files of dead writes (local targets), older than a lease
  keptVersions: number[] // committed versions whose files remain
}

/** Vacuums `table` and its features table, by `table`'s commit log; no other table's files are looked at. */
export async function vacuum(
  target: Storage,
  logTable: string,
  keep: number,
  now = new Date(),
): Promise<VacuumResult> {
  if (!Number.isInteger(keep) || keep < 1)
    throw new ConfigError('bad_usage', `--keep must be a whole number of at least 1, got ${keep}`)
  const log = await readCommitLog(target, logTable)
  const committed = log.committed.map((r) => r.version)
  const kept = new Set(committed.slice(-keep))
  // A claim is active while its lease runs. A lapsed one is abandoned first (compare-and-swap): its holder, if it
  // comes back, can then never commit the files deleted here; if it renewed meanwhile, the swap fails and it stays.
  const active = new Set<number>()
  for (const e of log.entries) {
    if (e.record.state !== 'pending') continue
    const lapsed = Date.parse(e.record.expiresAt) <= now.getTime()
    if (!lapsed || !(await abandonClaim(target, e, `lease expired at ${e.record.expiresAt} (vacuum)`, now)))
      active.add(e.record.version)
  }
  const highest = log.head?.record.version ?? 0
  // Keep: the newest versions, active claims, and any version above the log's head (a claim being created now).
  const keeps = (v: number) => kept.has(v) || active.has(v) || v > highest
  const deleted: string[] = []
  for (const table of [logTable, featuresTableName(logTable)]) {
    const doomed = (await target.list(versionsPrefix(table))).filter((o) => {
      const v = versionOfPath(o.path)
      return v !== null && !keeps(v)
    })
    // Iceberg first: the snapshots of these versions leave the table's metadata before their files go, so no
    // reader's time travel reaches a deleted file.
    await expireIcebergSnapshots(
      target,
      table,
      new Set(doomed.map((o) => versionOfPath(o.path)!)),
      now.getTime(),
    )
    for (const o of doomed) {
      await target.remove(o.path)
      deleted.push(o.path)
    }
  }
  const deletedSnapshots: string[] = []
  const snapshots = snapshotsPrefix(logTable)
  for (const o of await target.list(snapshots)) {
    const m = /^v=(\d{20})\.lsnap$/.exec(o.path.slice(snapshots.length))
    if (!m || keeps(Number(m[1]))) continue
    await target.remove(o.path)
    deletedSnapshots.push(o.path)
  }
  const deletedTemporaries = await removeDeadTemporaries(target, logTable, DEFAULT_LEASE_MS, now)
  return { deleted, deletedSnapshots, deletedTemporaries, keptVersions: [...kept].sort((a, b) => a - b) }
}
