/**
 * `lakesync vacuum`: deletes the Parquet files of committed versions older than the newest `keep`, and the files of
 * versions that never committed (abandoned, or claims expired). Never the current version, never an active claim's,
 * never a commit record: the log stays whole, so no file is ever applied twice.
 */
import { readCommitLog } from './commit-log.js'
import { ConfigError } from './errors.js'
import type { Storage } from './storage.js'

export interface VacuumResult {
  deleted: string[] // paths removed
  keptVersions: number[] // committed versions whose files remain
}

export async function vacuum(
  target: Storage,
  tables: string[],
  logTable: string,
  keep: number,
  now = new Date(),
): Promise<VacuumResult> {
  if (!Number.isInteger(keep) || keep < 1)
    throw new ConfigError('bad_usage', `--keep must be a whole number of at least 1, got ${keep}`)
  const log = await readCommitLog(target, logTable)
  const committed = log.committed.map((r) => r.version)
  const kept = new Set(committed.slice(-keep))
  const active = new Set(
    log.entries
      .filter((e) => e.record.state === 'pending' && Date.parse(e.record.expiresAt) > now.getTime())
      .map((e) => e.record.version),
  )
  const highest = log.head?.record.version ?? 0
  const deleted: string[] = []
  for (const table of tables) {
    for (const o of await target.list(`${table}/v=`)) {
      const m = /^[^/]+\/v=(\d{20})\//.exec(o.path)
      if (!m) continue
      const v = Number(m[1])
      // Keep: the newest versions, active claims, and any version above the log's head (a claim being created now).
      if (kept.has(v) || active.has(v) || v > highest) continue
      await target.remove(o.path)
      deleted.push(o.path)
    }
  }
  return { deleted, keptVersions: [...kept].sort((a, b) => a - b) }
}
