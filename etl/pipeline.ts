/**
 * One run of a table: list the source, plan, read and apply every pending file (failing closed before anything is
 * written), then claim the next version, write both tables, commit, and switch the catalog.
 *
 * Exactly once: a file is applied by the version whose commit record lists it, and a version is written only by the
 * run that claimed it (etl/commit/log.ts). A run that loses the claim re-reads the log: either another run is writing
 * (it re-lists the source after committing, so files that arrived meanwhile are not stranded) or the run retries on
 * the new state. Either way it exits successfully, and two racing runs leave the state of one serial run.
 */
import { createHash, randomUUID } from 'node:crypto'
import {
  applyChangeFile,
  applyInSequence,
  finishMerge,
  type MergeState,
  startFromFullLoad,
  startMerge,
  sumCounts,
} from './apply-changes.js'
import { type EncodedOutputs, versionOutputs } from './build.js'
import type { Catalog } from './catalog/catalog.js'
import { type CityFeatures, USERS_FEATURES_SPEC } from './city-features.js'
import { loadVersionTable, writeSnapshot } from './commit/load-version.js'
import {
  type AppliedFile,
  abandonClaim,
  type ClaimRecord,
  type CommitLog,
  type CommitRecord,
  claimVersion,
  commitPath,
  completeClaim,
  featuresTableName,
  lineage,
  readCommitLog,
  type SnapshotRef,
  versionDir,
  versionFile,
} from './commit/log.js'
import { planRun, type RunPlan } from './commit/plan.js'
import { listDmsFiles } from './dms/files.js'
import { compareSequence } from './dms/format.js'
import { formatDate } from './dms/values.js'
import { InputError, StateError } from './errors.js'
import { readDmsFile } from './read-dms-file.js'
import { objectName, type Storage, type StoredObject } from './storage/storage.js'
import { parallelMinRows } from './threads/policy.js'
import { warmPool, workerCount } from './threads/worker-pool.js'
import type { DmsFormat, ParsedFile, Table, TableSpec } from './types.js'

export interface RunOptions {
  source: Storage // where DMS writes the table's files
  target: Storage // where versions and the commit log live
  spec: TableSpec // the table's shape
  format: DmsFormat // the DMS CSV settings
  asOf: number // features reference date, days since epoch
  cityToState: ReadonlyMap<string, string> // state lookup
  cityAliases: ReadonlyMap<string, string> // applied to the features' city first
  engineVersion: string // recorded in the commit
  catalog?: Catalog // switched to each new version after its commit (Glue); none for local runs
  reload?: boolean // rebuild from every file in the source as a new version (lakesync reload)
  stagingExpiryDays?: number // applied files older than this may vanish from the source; default 30
  claimTtlMs?: number // a claim older than this is abandoned by the next run; default 16 min (> Lambda's 15)
  maxCommits?: number // commits per run before returning (the source keeps changing); default 10
  onWarning?: (message: string) => void // ignored files and the like
  onProgress?: (rowsDone: number, file: string) => void // after each file is read
  onPhase?: (phase: 'applying' | 'computing features' | 'writing') => void // long steps as they start
  now?: () => Date // clock
  faults?: (step: FaultStep) => void | Promise<void> // test hook: throws to simulate a crash at a step
}

/**
 * Steps where fault-injection tests make a run fail. The three files are written at once: 'after-write-users' is
 * when the users file is written (the others may still be in flight; all settle before the run gives up).
 */
export type FaultStep =
  | 'after-read'
  | 'after-claim'
  | 'after-write-users'
  | 'after-write'
  | 'after-write-snapshot'
  | 'after-commit'
  | 'after-catalog'

export interface RunResult {
  committed: boolean // this run committed at least one version
  version: number // the current version after the run (0 = none)
  records: CommitRecord[] // this run's commits, oldest first
  record: CommitRecord | null // the last of them
  message: string // one line for humans
}

const ENGINE = 'lakesync'
const DEFAULT_CLAIM_TTL_MS = 16 * 60_000

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** The tables of the next version, built in memory from the plan; nothing is written. */
interface Built {
  users: Table
  features: CityFeatures
  files: AppliedFile[]
  lastSequence: string | undefined // newest ordering value, when a column orders the changes
  encoded: EncodedOutputs
  timings: { read: number; apply: number; features: number; encode: number }
}

/** Applied files whose ETag or mtime changed must still hash the same: a re-upload of identical bytes is a no-op. */
async function verifyUnchanged(source: Storage, plan: RunPlan): Promise<void> {
  for (const f of plan.recheck) {
    const a = plan.applied.get(f.path)!
    if (sha256(await source.read(f.path)) !== a.sha256)
      throw new InputError(
        'changed_file',
        `dms files: ${objectName(source, f.path)} changed after it was applied (same size, different content); run lakesync reload to rebuild the table from the files now in the source`,
        { file: objectName(source, f.path) },
      )
  }
}

async function build(
  opts: RunOptions,
  plan: RunPlan,
  objects: Map<string, StoredObject>,
  log: CommitLog,
): Promise<Built> {
  const { source, target, spec, format, onProgress = () => {}, onPhase = () => {} } = opts
  const t0 = performance.now()
  // A table large enough for both threads (etl/threads/policy.ts): the worker loads its modules while this thread reads.
  // A bulk load of a large file starts it when the file is cut for parsing (etl/threads/csv-parallel.ts).
  if (workerCount() > 0 && (log.current?.rows.users ?? 0) >= parallelMinRows()) warmPool()
  const parsed = new Map<string, ParsedFile>()
  const files: AppliedFile[] = []
  let rowsRead = 0
  for (const f of plan.toRead) {
    const { raw, sha256: digest, parsed: p } = await readDmsFile(source, f, spec, format)
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
  else state = startMerge(await loadVersionTable(target, log.current!, spec, opts.onWarning))
  // A rebuild starts a new lineage, whose sequence starts over.
  let lastSequence = plan.rebuild
    ? undefined
    : lineage(log).findLast((r) => r.lastSequence !== undefined)?.lastSequence
  const changes = files.filter((f) => f.kind === 'change')
  if (format.orderChangesBy === 'file')
    for (const f of changes) f.counts = applyChangeFile(state, parsed.get(f.path)!)
  else {
    // Ordered by a column: never let a change older than one already applied overwrite it.
    for (const f of changes) {
      const p = parsed.get(f.path)!
      p.sequence!.forEach((seq, r) => {
        if (lastSequence !== undefined && compareSequence(seq, lastSequence) < 0) {
          const loc = { file: p.file, line: p.lines[r]! }
          throw new InputError(
            'late_file',
            `dms files: the change in ${p.file} line ${loc.line} has ${format.orderChangesBy} ${seq}, older than ${lastSequence} already applied; applying it would overwrite newer data (run lakesync reload to rebuild in order)`,
            loc,
          )
        }
      })
    }
    const files = changes.map((f) => parsed.get(f.path)!)
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
    { asOf: opts.asOf, cityToState: opts.cityToState, cityAliases: opts.cityAliases },
    () => onPhase('computing features'),
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

function joinUrl(root: string, path: string): string {
  return `${root.replace(/\/+$/, '')}/${path}`
}

/** Points the catalog at `record`'s version unless it already does. */
async function publishCatalog(opts: RunOptions, record: CommitRecord): Promise<void> {
  const { catalog, target, spec } = opts
  if (!catalog) return
  const featuresName = featuresTableName(spec.name)
  const names = [spec.name, featuresName]
  const versions = await catalog.currentVersions(names)
  if (names.every((n) => versions.get(n) === record.version)) return
  await catalog.publish([
    {
      name: spec.name,
      location: joinUrl(target.root, versionDir(spec.name, record.version)),
      columns: spec.columns,
      version: record.version,
    },
    {
      name: featuresName,
      location: joinUrl(target.root, versionDir(featuresName, record.version)),
      columns: USERS_FEATURES_SPEC.columns,
      version: record.version,
    },
  ])
}

export async function runPipeline(opts: RunOptions): Promise<RunResult> {
  const { source, target, spec, onWarning = () => {}, faults = () => {} } = opts
  const now = opts.now ?? (() => new Date())
  const claimTtlMs = opts.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS
  const maxCommits = opts.maxCommits ?? 10
  const asOfText = formatDate(opts.asOf)
  const runId = randomUUID()
  const records: CommitRecord[] = []
  let reload = opts.reload ?? false
  const result = (message: string, version: number): RunResult => ({
    committed: records.length > 0,
    version,
    records,
    record: records.at(-1) ?? null,
    message,
  })

  for (let attempt = 0; ; attempt++) {
    if (attempt > maxCommits * 4)
      throw new StateError('commit_conflict', `commit: ${spec.name} kept changing under this run; run again`)
    const t0 = performance.now()
    const log = await readCommitLog(target, spec.name)
    // A catalog switch that failed after an earlier commit is repaired here, before anything else.
    if (log.current) await publishCatalog(opts, log.current)
    const head = log.head
    if (head?.record.state === 'pending') {
      const expires = Date.parse(head.record.expiresAt)
      if (now().getTime() < expires) {
        const by = `version ${head.record.version} is being written by run ${head.record.runId} (claimed ${head.record.claimedAt})`
        return result(
          records.length > 0
            ? `committed version ${records.at(-1)!.version}; ${by}, which will apply what arrived since`
            : `${by}: it applies every file it finds, so nothing is left for this run`,
          log.current?.version ?? 0,
        )
      }
      await abandonClaim(target, head, `claim expired at ${head.record.expiresAt}`, now())
      onWarning(`abandoned the expired claim of version ${head.record.version} by run ${head.record.runId}`)
      continue
    }

    const listed = await source.list()
    const objects = new Map(listed.map((o) => [o.path, o]))
    const listing = listDmsFiles(
      listed.map((o) => o.path),
      source.root,
    )
    if (attempt === 0)
      for (const p of listing.ignored) onWarning(`ignoring ${p}: not a DMS .csv, .csv.gz or .parquet file`)
    const plan = planRun(listing, objects, log, source.root, {
      reload,
      ...(opts.stagingExpiryDays !== undefined ? { stagingExpiryDays: opts.stagingExpiryDays } : {}),
      now: now().getTime(),
      fileOrder: opts.format.orderChangesBy === 'file',
    })
    await verifyUnchanged(source, plan)
    const current = log.current
    if (plan.nothingNew && current && current.asOf === asOfText) {
      return result(
        records.length > 0
          ? `committed version ${current.version} (${commitPath(spec.name, current.version)}): ${records.reduce((n, r) => n + r.files.length, 0)} file(s), ${current.rows.users} users`
          : `up to date: version ${current.version} already has every file in ${source.root} and as_of ${asOfText}`,
        current.version,
      )
    }
    if (records.length >= maxCommits)
      return result(
        `committed ${records.length} versions; more files are waiting for the next run`,
        current?.version ?? 0,
      )

    const built = await build(opts, plan, objects, log)
    await faults('after-read')

    const version = (head?.record.version ?? 0) + 1
    const claimedAt = now()
    const claim: ClaimRecord = {
      state: 'pending',
      version,
      table: spec.name,
      runId,
      claimedAt: claimedAt.toISOString(),
      expiresAt: new Date(claimedAt.getTime() + claimTtlMs).toISOString(),
    }
    const claimEtag = await claimVersion(target, claim)
    if (claimEtag === null) continue // another run claimed this version first: look again
    let record: CommitRecord
    try {
      await faults('after-claim')
      opts.onPhase?.('writing')
      const t3 = performance.now()
      const outputs = {
        users: [versionFile(spec.name, version)],
        users_features: [versionFile(featuresTableName(spec.name), version)],
      }
      // The three files are written at once: each write ends in a flush to disk (local) or an upload (S3), and
      // those overlap. A failure is raised once all have settled, so that nothing lands after the claim is given up.
      let snapshotMs = 0
      const [usersWrite, featuresWrite, snapshotWrite] = await Promise.allSettled([
        target.write(outputs.users[0]!, built.encoded.users).then(() => faults('after-write-users')),
        target.write(outputs.users_features[0]!, built.encoded.features),
        writeSnapshot(target, spec.name, version, built.encoded.snapshot).then((ref) => {
          snapshotMs = performance.now() - t3
          return ref
        }),
      ])
      for (const w of [usersWrite, featuresWrite, snapshotWrite]) if (w.status === 'rejected') throw w.reason
      await faults('after-write')
      const snapshot = (snapshotWrite as PromiseFulfilledResult<SnapshotRef>).value
      await faults('after-write-snapshot')
      const t4 = performance.now()
      record = {
        state: 'committed',
        version,
        table: spec.name,
        runId,
        asOf: asOfText,
        committedAt: now().toISOString(),
        engine: { name: ENGINE, version: opts.engineVersion },
        source: source.root,
        files: built.files,
        fullLoad: plan.rebuild,
        reload,
        counts: sumCounts(built.files.flatMap((f) => (f.counts ? [f.counts] : []))),
        rows: { users: built.users.length, users_features: built.features.table.length },
        outputs,
        features: built.features.summary,
        ...(built.lastSequence !== undefined ? { lastSequence: built.lastSequence } : {}),
        snapshot,
        timingsMs: {
          read: Math.round(built.timings.read),
          apply: Math.round(built.timings.apply),
          features: Math.round(built.timings.features),
          encode: Math.round(built.timings.encode), // both Parquet files and the snapshot, before the claim
          write: Math.round(t4 - t3), // storage writes, snapshot included
          snapshot: Math.round(snapshotMs), // until the snapshot was written, alongside the others
          total: Math.round(performance.now() - t0),
        },
      }
    } catch (e) {
      // Give the version up now rather than after the claim's TTL, so the next run need not wait. Best effort:
      // if this fails too, the claim expires.
      await abandonClaim(
        target,
        { record: claim, etag: claimEtag },
        `run failed: ${(e as Error).message}`,
        now(),
      ).catch(() => {})
      throw e
    }
    if ((await completeClaim(target, record, claimEtag)) === null) {
      onWarning(
        `the claim of version ${version} was abandoned by another run before this run committed; retrying`,
      )
      continue
    }
    records.push(record)
    reload = false
    await faults('after-commit')
    await publishCatalog(opts, record)
    await faults('after-catalog')
    // Loop: files that arrived while this run worked are applied now (a run that lost the claim counted on it).
  }
}
