/**
 * What a run must do, decided from the source listing and the commit log alone (pure: no I/O).
 *
 * - A file's identity is its path plus content: the S3 ETag when both sides have one, else size and the SHA-256
 *   recorded in the log (a file whose mtime or ETag changed is re-hashed by planSource before it is called changed).
 * - Files the lineage applied must not change, and must not vanish before the staging expiry age.
 * - A change file older than the newest applied one, or a LOAD file after changes were applied, stops the run:
 *   applying it would reorder changes or mix two loads. `lakesync reload` is the way out.
 * - A change file set aside by `lakesync skip` (etl/commit/skip.ts) is left out, and the checks above pass over it;
 *   it must still be the file that was set aside.
 */

import { classifyDmsFile, compareChangeFiles, type DmsFile, type DmsListing } from '../dms/files.js'
import { InputError } from '../errors.js'
import { objectName, type StoredObject } from '../storage/storage.js'
import type { AppliedFile, CommitLog, SkippedFile } from './log.js'
import { activeSkips, lineageFiles } from './log.js'

export interface RunPlan {
  rebuild: boolean // start from the LOAD files (no state yet, LOAD parts still arriving, or reload)
  toRead: DmsFile[] // files to read, in apply order (LOAD parts first when rebuilding)
  recheck: DmsFile[] // applied files whose ETag/mtime changed: planSource compares their SHA-256 with the log's
  applied: Map<string, AppliedFile> // the lineage's files by path
  skipped: Map<string, SkippedFile> // files set aside (lakesync skip) by path: never read
  nothingNew: boolean // no file to apply
}

export interface PlanOptions {
  reload?: boolean // rebuild from every file in the source
  stagingExpiryDays?: number // applied files older than this may disappear (lifecycle rule); default 30
  now?: number // ms since epoch
  fileOrder?: boolean // changes are ordered by file name (default); when false a column orders them instead
  timeZone?: string | null // format.datePartitionTimezone: change-file names in this zone's local time
}

const DAY_MS = 86_400_000
const TRANSACTION_FILE = /(^|\/)CDC_TXN-[^/]*$/

function reloadHint(what: string): string {
  return `${what}; run lakesync reload to rebuild the table from the files now in the source`
}

export function planRun(
  listing: DmsListing,
  objects: ReadonlyMap<string, StoredObject>,
  log: CommitLog,
  sourceRoot: string,
  opts: PlanOptions = {},
): RunPlan {
  const { reload = false, stagingExpiryDays = 30, now = Date.now(), fileOrder = true, timeZone = null } = opts
  const source = { root: sourceRoot }
  const skipped = new Map([...activeSkips(log)].map(([path, r]) => [path, r.file]))
  const recheck: DmsFile[] = []
  for (const f of listing.changes) {
    const s = skipped.get(f.path)
    const o = objects.get(f.path)
    if (s && o && !sameFile(s, o, source, f, 'set aside')) recheck.push(f)
  }
  const changes = listing.changes.filter((f) => !skipped.has(f.path))
  const all = [...listing.loads, ...changes]
  if (reload || log.current === undefined) {
    if (listing.loads.length === 0) {
      if (changes.length > 0)
        throw new InputError(
          'no_full_load',
          `dms files: ${sourceRoot} has ${changes.length} change file(s) but no full load (LOAD*.csv), and there is no previous version to apply them to`,
          { file: objectName(source, changes[0]!.path) },
        )
      throw new InputError(
        'no_full_load',
        `dms files: ${sourceRoot} holds no DMS files (expected LOAD*.csv and change files)`,
        {
          file: sourceRoot,
        },
      )
    }
    return { rebuild: true, toRead: all, recheck, applied: new Map(), skipped, nothingNew: false }
  }

  const applied = new Map<string, AppliedFile>()
  for (const f of lineageFiles(log)) applied.set(f.path, f)

  for (const f of all) {
    const a = applied.get(f.path)
    const o = objects.get(f.path)
    if (a && o && !sameFile(a, o, source, f, 'applied')) recheck.push(f)
  }

  const expiry = now - stagingExpiryDays * DAY_MS
  for (const a of applied.values()) {
    if (objects.has(a.path)) continue
    if (a.mtimeMs !== undefined && a.mtimeMs < expiry) continue // expired by the staging lifecycle rule, as intended
    throw new InputError(
      'missing_file',
      reloadHint(
        `dms files: ${objectName(source, a.path)} was applied but is gone from ${sourceRoot} before the ${stagingExpiryDays}-day staging expiry (did DMS truncate or reload the table?)`,
      ),
      { file: objectName(source, a.path) },
    )
  }

  const pendingLoads = listing.loads.filter((f) => !applied.has(f.path))
  const pendingChanges = changes.filter((f) => !applied.has(f.path))
  const appliedChanges = [...applied.values()].filter((a) => a.kind === 'change')
  // PreserveTransactions: transaction files without rows of this table (another table's changes, written while this
  // table's full load was still arriving) left the table as its LOAD parts made it, so more parts join the load.
  const changedByFiles = appliedChanges.some((a) => a.rows > 0 || !TRANSACTION_FILE.test(a.path))
  if (appliedChanges.length > 0) {
    if (pendingLoads.length > 0 && changedByFiles)
      throw new InputError(
        'late_file',
        reloadHint(
          `dms files: new full-load file ${objectName(source, pendingLoads[0]!.path)} after change files were applied (DMS reloaded the table?); its rows are not mixed with the current load`,
        ),
        { file: objectName(source, pendingLoads[0]!.path) },
      )
    const byPath = new Map(changes.map((f) => [f.path, f]))
    const newest = appliedChanges
      .map(
        (a) =>
          byPath.get(a.path) ??
          (classifyDmsFile(a.path, sourceRoot, { timeZone, mtimeMs: () => a.mtimeMs }) as DmsFile),
      )
      .sort(compareChangeFiles)
      .at(-1)!
    const late = fileOrder ? pendingChanges.find((f) => compareChangeFiles(f, newest) < 0) : undefined
    if (late)
      throw new InputError(
        'late_file',
        `${reloadHint(
          `dms files: ${objectName(source, late.path)} is older than ${objectName(source, newest.path)}, which is already applied; applying it now would reorder changes`,
        )}, or lakesync skip ${late.path} to set it aside`,
        { file: objectName(source, late.path) },
      )
  }
  // LOAD parts that arrive before any change is applied join the current load: rebuild from all parts, and every
  // change file again (the new lineage lists them; applied ones held no rows of this table).
  const rebuild = pendingLoads.length > 0
  const toRead = rebuild ? [...listing.loads, ...changes] : pendingChanges
  return { rebuild, toRead, recheck, applied, skipped, nothingNew: toRead.length === 0 }
}

/**
 * Size differs: changed (throws). Same ETag or mtime: the same file (true). Otherwise false: planSource compares
 * the SHA-256 with the log's.
 */
function sameFile(
  known: Pick<AppliedFile, 'size' | 'etag' | 'mtimeMs'>,
  o: StoredObject,
  source: { root: string },
  f: DmsFile,
  what: 'applied' | 'set aside',
): boolean {
  if (known.size !== o.size)
    throw new InputError(
      'changed_file',
      reloadHint(
        `dms files: ${objectName(source, f.path)} changed after it was ${what} (${known.size} bytes then, ${o.size} now)`,
      ),
      { file: objectName(source, f.path) },
    )
  const sameEtag = known.etag !== undefined && o.etag !== undefined && known.etag === o.etag
  const sameMtime = known.mtimeMs !== undefined && o.mtimeMs !== undefined && known.mtimeMs === o.mtimeMs
  return sameEtag || sameMtime
}
