/**
 * The one way to find what is pending in a source: list it once, classify the names, plan (etl/commit/plan.ts) and
 * re-hash the applied files whose ETag or mtime changed. `lakesync run`, `lakesync status` and the Lambda's routing
 * measure all call this, so they agree on the pending files and on the error that stops a run.
 */
import { createHash } from 'node:crypto'
import { type DmsFile, listDmsFiles } from '../dms/files.js'
import { ConfigError, InputError } from '../errors.js'
import { objectName, type Storage, type StoredObject } from '../storage/storage.js'
import { transactionTableOf } from '../storage/transaction-source.js'
import type { DmsFormat } from '../types.js'
import type { CommitLog } from './log.js'
import { planRun, type RunPlan } from './plan.js'

export interface SourcePlanOptions {
  reload?: boolean // rebuild from every file in the source
  stagingExpiryDays?: number // applied files older than this may disappear (lifecycle rule); default 30
  now?: number // ms since epoch
  onIgnored?: (path: string) => void // each listed path that is not a DMS file, before planning (which may throw)
}

export interface PendingFile {
  file: DmsFile
  size: number // bytes as listed
}

export interface SourcePlan {
  plan: RunPlan
  objects: Map<string, StoredObject> // the listing by path
  ignored: string[] // listed paths that are not DMS files
  pending: PendingFile[] // files not applied yet, in apply order (a reload counts every file)
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

export async function planSource(
  source: Storage,
  log: CommitLog,
  format: Pick<DmsFormat, 'orderChangesBy' | 'datePartitionTimezone'> &
    Partial<Pick<DmsFormat, 'preserveTransactions'>>,
  opts: SourcePlanOptions = {},
): Promise<SourcePlan> {
  // A table's own folder holds no changes with PreserveTransactions: reading it alone would silently miss them all.
  if (format.preserveTransactions === true && transactionTableOf(source) === null)
    throw new ConfigError(
      'bad_config',
      `config: format.preserveTransactions reads the CDC_TXN files in <DMS root>/<cdcPath>/ beside the table folders, so the source must be the DMS root (BucketFolder) with the "tables" form of the config, not the table's folder ${source.root}`,
    )
  const listed = await source.list()
  const objects = new Map(listed.map((o) => [o.path, o]))
  const clock = {
    timeZone: format.datePartitionTimezone ?? null,
    mtimeMs: (path: string) => objects.get(path)?.mtimeMs,
  }
  const listing = listDmsFiles(
    listed.map((o) => o.path),
    source.root,
    clock,
    format.preserveTransactions === true,
  )
  if (opts.onIgnored) for (const p of listing.ignored) opts.onIgnored(p)
  const { reload, stagingExpiryDays, now } = opts
  const plan = planRun(listing, objects, log, source.root, {
    reload,
    stagingExpiryDays,
    now,
    fileOrder: format.orderChangesBy === 'file',
    timeZone: clock.timeZone,
  })
  await verifyUnchanged(source, plan)
  const pending = plan.toRead
    .filter((f) => !plan.applied.has(f.path))
    .map((file) => ({ file, size: objects.get(file.path)!.size }))
  return { plan, objects, ignored: listing.ignored, pending }
}

/** Applied files whose ETag or mtime changed must still hash the same: a re-upload of identical bytes is a no-op. */
async function verifyUnchanged(source: Storage, plan: RunPlan): Promise<void> {
  for (const f of plan.recheck) {
    const a = plan.applied.get(f.path) ?? plan.skipped.get(f.path)!
    if (sha256(await source.read(f.path)) !== a.sha256)
      throw new InputError(
        'changed_file',
        `dms files: ${objectName(source, f.path)} changed after it was ${plan.applied.has(f.path) ? 'applied' : 'set aside'} (same size, different content); run lakesync reload to rebuild the table from the files now in the source`,
        { file: objectName(source, f.path) },
      )
  }
}
