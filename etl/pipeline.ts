/**
 * One run of a table: list the source, plan, read and apply every pending file (failing closed before anything is
 * written), then claim the next version, write both tables, commit, and switch the catalog.
 *
 * Exactly once: a file is applied by the version whose commit record lists it, and a version is written only by the
 * run that claimed it (etl/commit/log.ts). A run that loses the claim re-reads the log: either another run is writing
 * (it re-lists the source after committing, so files that arrived meanwhile are not stranded) or the run retries on
 * the new state. Either way it exits successfully, and two racing runs leave the state of one serial run.
 */
import { randomUUID } from 'node:crypto'
import { sumCounts } from './apply-changes.js'
import { buildVersion } from './build.js'
import type { Catalog } from './catalog/catalog.js'
import { commitPath, featuresTableName, versionFile } from './commit/layout.js'
import { DEFAULT_LEASE_MS, describeLease, holdLease, leaseOf } from './commit/lease.js'
import { removeDeadTemporaries } from './commit/leftovers.js'
import { writeSnapshot } from './commit/load-version.js'
import {
  abandonClaim,
  type ClaimRecord,
  type CommitRecord,
  claimVersion,
  completeClaim,
  createLogRecord,
  readCommitLog,
  type SnapshotRef,
} from './commit/log.js'
import { passedRecord, readPendingTransactions } from './commit/pass.js'
import { planSource } from './commit/plan-source.js'
import { formatDate } from './dms/values.js'
import { StateError } from './errors.js'
import type { IcebergFaultStep } from './iceberg/publish.js'
import { publishCatalog, publishTableFormat } from './publish.js'
import type { Storage } from './storage/storage.js'
import type { DmsFormat, TableSpec } from './types.js'

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
  tableFormat?: 'iceberg' | 'hive' // iceberg (default): each version is also an Iceberg snapshot (etl/iceberg/)
  targetFileBytes?: number // a table's Parquet files hold about this much each; default 128 MiB (commit/layout.ts)
  reload?: boolean // rebuild from every file in the source as a new version (lakesync reload)
  stagingExpiryDays?: number // applied files older than this may vanish from the source; default 30
  claimTtlMs?: number // the lease: a claim not renewed for this long is abandoned by the next run; default 60 s
  heartbeatMs?: number // how often the holder renews its claim; default a third of the lease (etl/commit/lease.ts)
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
  | IcebergFaultStep
  | 'after-iceberg'
  | 'after-catalog'

export interface RunResult {
  committed: boolean // this run committed at least one version
  version: number // the current version after the run (0 = none)
  records: CommitRecord[] // this run's commits, oldest first
  record: CommitRecord | null // the last of them
  message: string // one line for humans
  busy?: { runId: string; claimedAt: string; expiresAt: string; heartbeatAt?: string } // another run holds the table
}

const ENGINE = 'lakesync'

export async function runPipeline(opts: RunOptions): Promise<RunResult> {
  const { source, target, spec, onWarning = () => {}, faults = () => {} } = opts
  const now = opts.now ?? (() => new Date())
  const claimTtlMs = opts.claimTtlMs ?? DEFAULT_LEASE_MS
  const maxCommits = opts.maxCommits ?? 10
  const asOfText = formatDate(opts.asOf)
  const runId = randomUUID()
  const records: CommitRecord[] = []
  let reload = opts.reload ?? false
  let passed = 0 // transaction files recorded without rows of this table (etl/commit/pass.ts)
  const result = (message: string, version: number, busy?: RunResult['busy']): RunResult => ({
    committed: records.length > 0,
    version,
    records,
    record: records.at(-1) ?? null,
    message,
    ...(busy ? { busy } : {}),
  })

  for (let attempt = 0; ; attempt++) {
    if (attempt > maxCommits * 4)
      throw new StateError('commit_conflict', `commit: ${spec.name} kept changing under this run; run again`)
    const t0 = performance.now()
    const log = await readCommitLog(target, spec.name)
    // Iceberg metadata and the catalog switch that failed after an earlier commit are repaired here, first.
    if (log.current) {
      await publishTableFormat(opts, log.committed)
      await publishCatalog(opts, log.current)
    }
    // Never younger than the default lease: a short lease must not cut another run's slow flush of a big file.
    if (attempt === 0)
      await removeDeadTemporaries(target, spec.name, Math.max(claimTtlMs, DEFAULT_LEASE_MS), now())
    const head = log.head
    const lease = leaseOf(head, now())
    if (head && lease) {
      if (lease.live) {
        const by = `version ${lease.version} is being written by run ${lease.runId} (claimed ${lease.claimedAt}${lease.heartbeatAt ? `, last heartbeat ${lease.heartbeatAt}` : ''}, lease until ${lease.expiresAt})`
        return result(
          records.length > 0
            ? `committed version ${records.at(-1)!.version}; ${by}, which will apply what arrived since`
            : `${by}: it applies every file it finds; if it dies, a run after its lease takes over`,
          log.current?.version ?? 0,
          {
            runId: lease.runId,
            claimedAt: lease.claimedAt,
            expiresAt: lease.expiresAt,
            ...(lease.heartbeatAt ? { heartbeatAt: lease.heartbeatAt } : {}),
          },
        )
      }
      // The holder stopped renewing: presumed dead. The swap fails if it renewed meanwhile (then look again).
      if (
        await abandonClaim(
          target,
          head,
          `lease expired at ${lease.expiresAt} (${describeLease(lease)})`,
          now(),
        )
      )
        onWarning(`abandoned the expired claim of version ${lease.version} by run ${lease.runId}`)
      continue
    }

    const { plan, objects } = await planSource(source, log, opts.format, {
      reload,
      stagingExpiryDays: opts.stagingExpiryDays,
      now: now().getTime(),
      onIgnored:
        attempt === 0
          ? (p) => onWarning(`ignoring ${p}: not a DMS .csv, .csv.gz or .parquet file`)
          : undefined,
    })
    const current = log.current
    // A new as_of only matters to a table with features (the daily refresh recomputes them); a mirror is up to date.
    if (plan.nothingNew && current && (current.asOf === asOfText || !spec.features)) {
      return result(
        records.length > 0
          ? `committed version ${current.version} (${commitPath(spec.name, current.version)}): ${records.reduce((n, r) => n + r.files.length, 0)} file(s), ${current.rows.users} rows`
          : `up to date: version ${current.version} already has every file in ${source.root} and as_of ${asOfText}${passed > 0 ? ` (${passed} transaction file(s) without rows of ${spec.name} recorded, no new version)` : ''}`,
        current.version,
      )
    }
    // The version would equal the current one: transaction files with none of this table's rows are only recorded.
    const sameAsOf = current !== undefined && (current.asOf === asOfText || !spec.features)
    const preread =
      sameAsOf && !plan.rebuild ? await readPendingTransactions(source, plan.toRead, spec, opts.format) : null
    const pass =
      preread &&
      passedRecord(preread, objects, {
        version: (head?.record.version ?? 0) + 1,
        table: spec.name,
        runId,
        passedAt: now().toISOString(),
      })
    if (pass) {
      // Taken by another run (a claim, a skip) since this run read the log: look again.
      if ((await createLogRecord(target, pass)) !== null) passed += pass.files.length
      continue
    }
    if (records.length >= maxCommits)
      return result(
        `committed ${records.length} versions; more files are waiting for the next run`,
        current?.version ?? 0,
      )

    const built = await buildVersion(
      {
        source,
        target,
        spec,
        format: opts.format,
        features: { asOf: opts.asOf, cityToState: opts.cityToState, cityAliases: opts.cityAliases },
        ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        ...(opts.onPhase ? { onPhase: opts.onPhase } : {}),
        ...(opts.targetFileBytes !== undefined ? { targetFileBytes: opts.targetFileBytes } : {}),
        ...(preread ? { preread } : {}),
      },
      plan,
      objects,
      log,
    )
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
    // From here until the commit the claim is renewed every heartbeat; a dead run stops renewing it.
    const held = holdLease(target, claim, claimEtag, {
      leaseMs: claimTtlMs,
      ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
      now,
      onWarning,
    })
    let record: CommitRecord
    try {
      await faults('after-claim')
      opts.onPhase?.('writing')
      const t3 = performance.now()
      const featuresBytes = built.encoded.features
      const featuresName = featuresTableName(spec.name)
      const outputs = {
        users: built.encoded.users.map((_, i) => versionFile(spec.name, version, i)),
        ...(featuresBytes
          ? { users_features: featuresBytes.map((_, i) => versionFile(featuresName, version, i)) }
          : {}),
      }
      const writeAll = (paths: string[], files: Uint8Array[]) =>
        Promise.all(paths.map((p, i) => target.write(p, files[i]!)))
      // The files are written at once: each write ends in a flush to disk (local) or an upload (S3), and those
      // overlap. A failure is raised once all have settled, so that nothing lands after the claim is given up.
      let snapshotMs = 0
      const [usersWrite, featuresWrite, snapshotWrite] = await Promise.allSettled([
        writeAll(outputs.users, built.encoded.users).then(() => faults('after-write-users')),
        featuresBytes && outputs.users_features ? writeAll(outputs.users_features, featuresBytes) : null,
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
        rows: {
          users: built.users.length,
          ...(built.features ? { users_features: built.features.table.length } : {}),
        },
        outputs,
        ...(built.features ? { features: built.features.summary } : {}),
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
      // Give the version up now rather than after the lease, so the next run need not wait. Best effort:
      // if this fails too, the lease lapses.
      const etag = await held.release()
      if (etag !== null)
        await abandonClaim(
          target,
          { record: claim, etag },
          `run failed: ${(e as Error).message}`,
          now(),
        ).catch(() => {})
      throw e
    }
    // The swap is on our last renewal's ETag: it fails if any other run touched the claim (a lost lease).
    const leaseEtag = await held.release()
    if (leaseEtag === null || (await completeClaim(target, record, leaseEtag)) === null) {
      onWarning(
        `the claim of version ${version} was abandoned by another run before this run committed (its lease lapsed); retrying`,
      )
      continue
    }
    records.push(record)
    reload = false
    await faults('after-commit')
    await publishTableFormat(opts, [...log.committed, record], built.encoded, record)
    await faults('after-iceberg')
    await publishCatalog(opts, record)
    await faults('after-catalog')
    // Loop: files that arrived while this run worked are applied now (a run that lost the claim counted on it).
  }
}
