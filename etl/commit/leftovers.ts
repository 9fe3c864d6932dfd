/**
 * Temporary files of writes whose process died (a local target's `.lakesync-tmp-*`, etl/storage/local.ts) are
 * removed by the next run and by `lakesync vacuum` once older than a lease: a live write touches its file far more
 * often than that, and its holder's lease would have lapsed anyway.
 */
import type { Storage } from '../storage/storage.js'
import { commitsPrefix, featuresTableName, snapshotsPrefix } from './layout.js'

/** Removes a table's dead temporary files (commit log, snapshots, both tables' folders): their paths. */
export async function removeDeadTemporaries(
  target: Storage,
  table: string,
  olderThanMs: number,
  now: Date,
): Promise<string[]> {
  if (!target.removeTemporaries) return []
  const before = new Date(now.getTime() - olderThanMs)
  const prefixes = [commitsPrefix(table), snapshotsPrefix(table), `${table}/`, `${featuresTableName(table)}/`]
  const removed: string[] = []
  for (const p of prefixes) removed.push(...(await target.removeTemporaries(p, before)))
  return removed
}
