/**
 * PreserveTransactions: every table reads every CDC_TXN file, most of which hold none of its rows. A run whose
 * pending files are all such files records them in a `passed` log record (etl/commit/log.ts) instead of writing a
 * version identical to the current one: no Parquet, snapshot, Iceberg snapshot or catalog switch for a table
 * nothing happened to, and its plan moves past them exactly as if a version had applied them.
 */
import type { DmsFile } from '../dms/files.js'
import { type ReadFile, readDmsFile } from '../read-dms-file.js'
import type { Storage, StoredObject } from '../storage/storage.js'
import type { DmsFormat, TableSpec } from '../types.js'
import type { AppliedFile, PassedRecord } from './log.js'

/** The pending files read, when every one is a transaction file (a full plan of them); null otherwise. */
export async function readPendingTransactions(
  source: Storage,
  pending: readonly DmsFile[],
  spec: TableSpec,
  format: DmsFormat,
): Promise<Map<string, ReadFile> | null> {
  if (pending.length === 0 || !pending.every((f) => f.transaction === true)) return null
  const read = new Map<string, ReadFile>()
  for (const f of pending) read.set(f.path, await readDmsFile(source, f, spec, format))
  return read
}

/** The passed record of files that hold no rows of the table, or null when one of them holds some. */
export function passedRecord(
  read: ReadonlyMap<string, ReadFile>,
  objects: ReadonlyMap<string, StoredObject>,
  at: { version: number; table: string; runId: string; passedAt: string },
): PassedRecord | null {
  const files: AppliedFile[] = []
  for (const [path, r] of read) {
    if (r.parsed.rows.length > 0) return null
    const o = objects.get(path)
    files.push({
      path,
      kind: 'change',
      size: r.raw.length,
      sha256: r.sha256,
      ...(o?.etag !== undefined ? { etag: o.etag } : {}),
      ...(o?.mtimeMs !== undefined ? { mtimeMs: o.mtimeMs } : {}),
      rows: 0,
    })
  }
  return { state: 'passed', ...at, files }
}
