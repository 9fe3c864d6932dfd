/**
 * One version, built in memory from the plan before the version is claimed (so that the claimed section only
 * writes): read every pending file, apply the changes, compute the features, and encode both Parquet files and the
 * snapshot. On one thread, or on two for large tables (etl/threads/policy.ts parallelForRows).
 */
import {
  applyChangeFile,
  applyInSequence,
  finishMerge,
  type MergeState,
  startFromFullLoad,
  startMerge,
} from './apply-changes.js'
import { type CityFeatureOptions, type CityFeatures, cityFeatures } from './city-features.js'
import { TARGET_FILE_BYTES } from './commit/layout.js'
import { loadVersionTable } from './commit/load-version.js'
import { type AppliedFile, type CommitLog, lineage } from './commit/log.js'
import type { RunPlan } from './commit/plan.js'
import { encodeSnapshot } from './commit/snapshot.js'
import { compareSequence } from './dms/format.js'
import { InputError } from './errors.js'
import { writeParquetFiles } from './parquet/files.js'
import type { ParquetWriteOptions } from './parquet/writer.js'
import { type ReadFile, readDmsFile } from './read-dms-file.js'
import type { Storage, StoredObject } from './storage/storage.js'
import { encodeParquetFilesParallel } from './threads/parquet-parallel.js'
import { parallelForRows } from './threads/policy.js'
import { encodeParquetFilesAsync, warmPool } from './threads/worker-pool.js'
import type { DmsFormat, ParsedFile, Table, TableSpec } from './types.js'

/** What building a version uses. */
export interface BuildInputs {
  source: Storage // where the pending files are read from
  target: Storage // where the previous version is loaded from
  spec: TableSpec
  format: DmsFormat
  features: CityFeatureOptions // used when the spec has a features section
  onWarning?: (message: string) => void // a snapshot that cannot be used
  onProgress?: (rowsDone: number, file: string) => void // after each file is read
  onPhase?: (phase: 'applying' | 'computing features') => void // long steps as they start
  targetFileBytes?: number // a table's Parquet files hold about this much each (layout.ts TARGET_FILE_BYTES)
  preread?: ReadonlyMap<string, ReadFile> // pending files the run has read already (etl/commit/pass.ts), by path
}

/** The tables of the next version, built in memory from the plan; nothing is written. */
export interface Built {
  users: Table
  features: CityFeatures | null // null for a table without a features section
  files: AppliedFile[]
  lastSequence: string | undefined // newest ordering value, when a column orders the changes
  encoded: EncodedOutputs
  timings: { read: number; apply: number; features: number; encode: number }
}

export async function buildVersion(
  inputs: BuildInputs,
  plan: RunPlan,
  objects: ReadonlyMap<string, StoredObject>,
  log: CommitLog,
): Promise<Built> {
  const { source, target, spec, format, onProgress = () => {}, onPhase = () => {} } = inputs
  const t0 = performance.now()
  // A table large enough for both threads (etl/threads/policy.ts): the worker loads its modules while this thread reads.
  // A bulk load of a large file starts it when the file is cut for parsing (etl/threads/csv-parallel.ts).
  if (parallelForRows(log.current?.rows.users ?? 0)) warmPool()
  const parsed = new Map<string, ParsedFile>()
  const files: AppliedFile[] = []
  let rowsRead = 0
  for (const f of plan.toRead) {
    const {
      raw,
      sha256: digest,
      parsed: p,
    } = inputs.preread?.get(f.path) ?? (await readDmsFile(source, f, spec, format))
    parsed.set(f.path, p)
    const o = objects.get(f.path)
    files.push({
      path: f.path,
      kind: f.kind,
      size: raw.length,
      sha256: digest,
      ...(o?.etag !== undefined ? { etag: o.etag } : {}),
      ...(o?.mtimeMs !== undefined ? { mtimeMs: o.mtimeMs } : {}),
      rows: p.rows.length,
    })
    rowsRead += p.rows.length
    onProgress(rowsRead, f.path)
  }
  const t1 = performance.now()
  onPhase('applying')
  let state: MergeState
  if (plan.rebuild)
    state = startFromFullLoad(
      spec,
      plan.toRead.filter((f) => f.kind === 'load').map((f) => parsed.get(f.path)!),
    )
  else state = startMerge(await loadVersionTable(target, log.current!, spec, inputs.onWarning))
  let lastSequence = appliedSequence(log, plan.rebuild)
  const changes = files.filter((f) => f.kind === 'change')
  if (format.orderChangesBy === 'file')
    for (const f of changes) f.counts = applyChangeFile(state, parsed.get(f.path)!)
  else {
    const files = changes.map((f) => parsed.get(f.path)!)
    checkNotOlder(files, lastSequence, format.orderChangesBy)
    const counts = applyInSequence(state, files, compareSequence)
    changes.forEach((f, i) => {
      f.counts = counts[i]!
    })
    for (const p of files)
      for (const seq of p.sequence!)
        if (lastSequence === undefined || compareSequence(seq, lastSequence) > 0) lastSequence = seq
  }
  // In normal form: repetitive string columns are dictionary columns, for the features step, the writer and the
  // snapshot (and the next run's merge) alike.
  const users = finishMerge(state)
  const t2 = performance.now()
  const { features, encoded, timings } = await versionOutputs(
    users,
    spec.features ? inputs.features : null,
    () => onPhase('computing features'),
    { targetFileBytes: inputs.targetFileBytes ?? TARGET_FILE_BYTES },
  )
  return {
    users,
    features,
    files,
    lastSequence,
    encoded,
    timings: { read: t1 - t0, apply: t2 - t1, ...timings },
  }
}

/** The bytes of a version's files. */
export interface EncodedOutputs {
  users: Uint8Array[] // the table's files: one, or several key ranges of a large table
  features: Uint8Array[] | null
  snapshot: Uint8Array
}

export interface VersionOutputs {
  features: CityFeatures | null
  encoded: EncodedOutputs
  timings: { features: number; encode: number } // ms: computing the features, then encoding what was left
}

/** The newest ordering value the lineage applied; a rebuild starts a new lineage, whose sequence starts over. */
export function appliedSequence(log: CommitLog, rebuild: boolean): string | undefined {
  return rebuild ? undefined : lineage(log).findLast((r) => r.lastSequence !== undefined)?.lastSequence
}

/** Ordered by a column: a change older than one already applied would overwrite newer data, so it stops the run. */
export function checkNotOlder(
  files: ParsedFile[],
  lastSequence: string | undefined,
  orderChangesBy: DmsFormat['orderChangesBy'],
): void {
  if (lastSequence === undefined) return
  for (const p of files)
    p.sequence!.forEach((seq, r) => {
      if (compareSequence(seq, lastSequence) >= 0) return
      const loc = { file: p.file, line: p.lines[r]! }
      throw new InputError(
        'late_file',
        `dms files: the change in ${p.file} line ${loc.line} has ${orderChangesBy} ${seq}, older than ${lastSequence} already applied; applying it would overwrite newer data (run lakesync reload to rebuild in order)`,
        loc,
      )
    })
}

/** `onFeatures` is called as the features step starts (the CLI's progress line). */
async function versionOutputs(
  users: Table,
  options: CityFeatureOptions | null,
  onFeatures: () => void,
  files: ParquetWriteOptions,
): Promise<VersionOutputs> {
  const t0 = performance.now()
  let features: CityFeatures
  let encoded: EncodedOutputs
  let t1: number
  if (options === null) {
    // A mirrored table without features: the table and its snapshot.
    const usersParquet = parallelForRows(users.length) ? encodeParquetFilesAsync(users, files) : null
    usersParquet?.catch(() => {}) // awaited below
    const snapshot = encodeSnapshot(users)
    encoded = {
      users: usersParquet ? await usersParquet : writeParquetFiles(users, files),
      features: null,
      snapshot,
    }
    return { features: null, encoded, timings: { features: 0, encode: performance.now() - t0 } }
  }
  if (parallelForRows(users.length)) {
    // Both threads: the worker encodes the users table (a copy of its arrays) while this thread computes the
    // features, then they share the features' columns; this thread encodes the snapshot while the worker finishes.
    const usersParquet = encodeParquetFilesAsync(users, files)
    usersParquet.catch(() => {}) // awaited below; this only keeps an early failure from going unhandled meanwhile
    onFeatures()
    features = cityFeatures(users, options)
    t1 = performance.now()
    const featuresParquet = encodeParquetFilesParallel(features.table, files)
    featuresParquet.catch(() => {}) // awaited below
    const snapshot = encodeSnapshot(users)
    encoded = { users: await usersParquet, features: await featuresParquet, snapshot }
  } else {
    onFeatures()
    features = cityFeatures(users, options)
    t1 = performance.now()
    encoded = {
      users: writeParquetFiles(users, files),
      features: writeParquetFiles(features.table, files),
      snapshot: encodeSnapshot(users),
    }
  }
  return { features, encoded, timings: { features: t1 - t0, encode: performance.now() - t1 } }
}
