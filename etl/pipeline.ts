/**
 * One run: list the source, take the files not yet applied in DMS order, read them all (failing closed before any
 * write), apply, compute features, write both tables, then commit. A run that fails commits nothing.
 */
import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import {
  applyChangeFile,
  finishMerge,
  type MergeState,
  startFromFullLoad,
  startMerge,
  zeroCounts,
} from './apply-changes.js'
import { cityFeatures, USERS_FEATURES_SPEC } from './city-features.js'
import {
  type AppliedFile,
  type CommitRecord,
  commitPath,
  readCommitLog,
  versionName,
  writeCommit,
} from './commit-log.js'
import { csvLayout, parseDmsCsv } from './csv-reader.js'
import { compareChangeFiles, type DmsFile, listDmsFiles } from './dms-files.js'
import { InputError, StateError } from './errors.js'
import { parquetToTable } from './parquet-reader.js'
import { writeParquet } from './parquet-writer.js'
import type { Storage } from './storage.js'
import type { DmsFormat, FeatureSummary, OpCounts, ParsedFile, Table, TableSpec } from './types.js'
import { formatDate } from './values.js'

export interface RunOptions {
  source: Storage // where DMS writes the table's files
  target: Storage // where versions and the commit log live
  spec: TableSpec // the table's shape
  format: DmsFormat // the DMS CSV settings
  asOf: number // features reference date, days since epoch
  cityToState: ReadonlyMap<string, string> // state lookup
  cityAliases: ReadonlyMap<string, string> // applied to the features' city first
  engineVersion: string // recorded in the commit
  onWarning?: (message: string) => void // ignored files and the like
  onProgress?: (rowsDone: number, file: string) => void // after each file is read
  now?: () => Date // clock for committedAt
}

export interface RunResult {
  committed: boolean // false when there was nothing to do
  version: number // the current version after the run (0 = none)
  record: CommitRecord | null // this run's commit, if any
  message: string // one line for humans
}

const ENGINE = 'lakesync'

function sumCounts(all: OpCounts[]): OpCounts {
  const t = zeroCounts()
  for (const c of all) for (const k of Object.keys(t) as (keyof OpCounts)[]) t[k] += c[k]
  return t
}

/** Raw bytes of a source file, gunzipped when its name says .gz. */
function decodeFile(f: DmsFile, raw: Uint8Array): Uint8Array {
  if (!f.gzip) return raw
  try {
    return gunzipSync(raw)
  } catch (e) {
    throw new InputError(
      'truncated_gzip',
      `dms files: cannot gunzip ${f.path}: ${(e as Error).message} (expected a complete gzip file)`,
      { file: f.path },
      { cause: e },
    )
  }
}

export async function runPipeline(opts: RunOptions): Promise<RunResult> {
  const { source, target, spec, format, asOf, onWarning = () => {}, onProgress = () => {} } = opts
  const now = opts.now ?? (() => new Date())
  const t0 = performance.now()
  const asOfText = formatDate(asOf)

  const objects = await source.list()
  const sizeOf = new Map(objects.map((o) => [o.path, o.size]))
  const listing = listDmsFiles(objects.map((o) => o.path))
  for (const p of listing.ignored) onWarning(`ignoring ${p}: not a DMS .csv or .csv.gz file`)

  const log = await readCommitLog(target, spec.name)
  const current = log.at(-1)
  const applied = new Map<string, AppliedFile>()
  for (const rec of log) for (const f of rec.files) applied.set(f.path, f)

  // Files the log already has must not have changed; new change files must not be older than applied ones.
  for (const f of [...listing.loads, ...listing.changes]) {
    const a = applied.get(f.path)
    if (a && a.size !== sizeOf.get(f.path))
      throw new InputError(
        'changed_file',
        `dms files: ${f.path} was applied in an earlier version with ${a.size} bytes and now has ${sizeOf.get(f.path)}; run lakesync reload to rebuild from the source`,
        { file: f.path },
      )
  }
  const appliedChanges = listing.changes.filter((f) => applied.has(f.path))
  const newestApplied = appliedChanges.at(-1)
  const pendingChanges = listing.changes.filter((f) => !applied.has(f.path))
  const pendingLoads = listing.loads.filter((f) => !applied.has(f.path))
  if (newestApplied) {
    const late = pendingChanges.find((f) => compareChangeFiles(f, newestApplied) < 0)
    if (late)
      throw new InputError(
        'late_file',
        `dms files: ${late.path} is older than ${newestApplied.path}, which is already applied; applying it now would reorder changes (run lakesync reload to rebuild in DMS order)`,
        { file: late.path },
      )
    if (pendingLoads.length > 0)
      throw new InputError(
        'late_file',
        `dms files: new full-load file ${pendingLoads[0]!.path} after change files were applied (DMS reloaded the table?); run lakesync reload to rebuild from the new load`,
        { file: pendingLoads[0]!.path },
      )
  }
  if (!current && listing.loads.length === 0) {
    if (listing.changes.length > 0)
      throw new InputError(
        'no_full_load',
        `dms files: ${source.root} has ${listing.changes.length} change file(s) but no full load (LOAD*.csv) and ${target.root} has no previous version to apply them to`,
        { file: listing.changes[0]!.path },
      )
    throw new InputError(
      'no_full_load',
      `dms files: ${source.root} holds no DMS files (expected LOAD*.csv and change files)`,
      {
        file: source.root,
      },
    )
  }
  if (current && pendingChanges.length === 0 && pendingLoads.length === 0 && current.asOf === asOfText)
    return {
      committed: false,
      version: current.version,
      record: null,
      message: `up to date: version ${current.version} already has every file in ${source.root} and as_of ${asOfText}`,
    }

  // Read and parse everything pending before anything is written: a bad file anywhere fails the run closed.
  const rebuild = pendingLoads.length > 0 // LOAD parts that arrive before any change is applied join the load
  const toRead = [...(rebuild ? listing.loads : []), ...pendingChanges]
  const parsed = new Map<string, ParsedFile>()
  const files: AppliedFile[] = []
  const loadLayout = csvLayout(spec, format, 'load')
  const changeLayout = csvLayout(spec, format, 'change')
  let rowsRead = 0
  for (const f of toRead) {
    const raw = await source.read(f.path)
    const p = parseDmsCsv(
      decodeFile(f, raw),
      f.path,
      spec,
      f.kind === 'load' ? loadLayout : changeLayout,
      format,
    )
    parsed.set(f.path, p)
    files.push({
      path: f.path,
      kind: f.kind,
      size: raw.length,
      sha256: createHash('sha256').update(raw).digest('hex'),
      rows: p.rows.length,
    })
    rowsRead += p.rows.length
    onProgress(rowsRead, f.path)
  }
  const t1 = performance.now()

  let state: MergeState
  if (rebuild)
    state = startFromFullLoad(
      spec,
      listing.loads.map((f) => parsed.get(f.path)!),
    )
  else {
    if (!current) throw new StateError('no_version', 'commit: no previous version to apply changes to') // guarded above
    state = startMerge(await readVersionTable(target, current, spec))
  }
  for (const f of files) {
    if (f.kind !== 'change') continue
    f.counts = applyChangeFile(state, parsed.get(f.path)!)
  }
  const users = finishMerge(state)
  const t2 = performance.now()

  const features = cityFeatures(users, { asOf, cityToState: opts.cityToState, cityAliases: opts.cityAliases })
  const t3 = performance.now()

  const version = (current?.version ?? 0) + 1
  const outputs = {
    users: [`${spec.name}/v=${versionName(version)}/part-00000.parquet`],
    users_features: [`${USERS_FEATURES_SPEC.name}/v=${versionName(version)}/part-00000.parquet`],
  }
  await target.write(outputs.users[0]!, writeParquet(users))
  await target.write(outputs.users_features[0]!, writeParquet(features.table))
  const t4 = performance.now()

  const record: CommitRecord = {
    version,
    table: spec.name,
    asOf: asOfText,
    committedAt: now().toISOString(),
    engine: { name: ENGINE, version: opts.engineVersion },
    source: source.root,
    files,
    fullLoad: rebuild,
    counts: sumCounts(files.flatMap((f) => (f.counts ? [f.counts] : []))),
    rows: { users: users.length, users_features: features.table.length },
    outputs,
    features: features.summary,
    timingsMs: {
      read: Math.round(t1 - t0),
      apply: Math.round(t2 - t1),
      features: Math.round(t3 - t2),
      write: Math.round(t4 - t3),
      total: Math.round(performance.now() - t0),
    },
  }
  await writeCommit(target, record)
  return {
    committed: true,
    version,
    record,
    message: `committed version ${version} (${commitPath(spec.name, version)}): ${files.length} file(s), ${users.length} users`,
  }
}

/** The table of a committed version, read back from its Parquet files. */
export async function readVersionTable(
  target: Storage,
  record: CommitRecord,
  spec: TableSpec,
  which: 'users' | 'users_features' = 'users',
): Promise<Table> {
  const paths = record.outputs[which]
  const tables: Table[] = []
  for (const p of paths) tables.push(await parquetToTable(await target.read(p), spec, p))
  if (tables.length !== 1)
    throw new StateError(
      'corrupt_state',
      `commit: version ${record.version} lists ${paths.length} ${which} files`,
    )
  return tables[0]!
}

export type { FeatureSummary }
