/** Runs the pipeline for one configured table on S3, with the Glue catalog when configured. */
import { GetJobRunsCommand, GlueClient, StartJobRunCommand } from '@aws-sdk/client-glue'
import { openGlueCatalog } from '../etl/catalog/glue.js'
import { featuresTableName } from '../etl/commit/layout.js'
import { leaseOf } from '../etl/commit/lease.js'
import { readCommitLog } from '../etl/commit/log.js'
import { planSource } from '../etl/commit/plan-source.js'
import { type RunConfig, runOptionsFor } from '../etl/config/run-config.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { formatDate } from '../etl/dms/values.js'
import { InputError } from '../etl/errors.js'
import { newestMetadata } from '../etl/iceberg/publish.js'
import { type RunResult, runPipeline } from '../etl/pipeline.js'
import { publishCommitted } from '../etl/publish.js'
import { awsRegion, openStorage } from '../etl/storage/open.js'
import type { Storage } from '../etl/storage/storage.js'
import { tableSource } from '../etl/storage/table-source.js'
import type { DmsFormat } from '../etl/types.js'
import { type VacuumResult, vacuum } from '../etl/vacuum.js'
import type { LambdaConfig, TableRoute } from './config.js'
import { decideEngine, type RoutingDecision, sparkGap } from './routing.js'

export interface TableRun {
  route: TableRoute
  runConfig: RunConfig // the table's config, resolved once per container (resolveTableConfigs)
  asOf: number // days since epoch
  engineVersion: string
  onWarning: (message: string) => void
}

function targetOf(config: LambdaConfig) {
  return openStorage(`s3://${config.finalBucket}/${config.finalPrefix}`)
}

/** A table's DMS files: its staging prefix, with the CDC_TXN folder beside it when DMS preserves transactions. */
export function stagingSource(config: LambdaConfig, route: TableRoute, format: DmsFormat): Storage {
  const t = route.transactions
  if (!t) return openStorage(`s3://${config.stagingBucket}/${route.stagingPrefix}`)
  return tableSource(openStorage(`s3://${config.stagingBucket}/${t.root}`), t.folder, format)
}

/**
 * Deletes the files of versions older than the newest VACUUM_KEEP (the daily schedule does this after the run); the
 * Glue Iceberg tables then follow the metadata vacuum wrote without the expired snapshots.
 */
export async function vacuumTable(
  config: LambdaConfig,
  route: TableRoute,
  runConfig: RunConfig,
): Promise<VacuumResult> {
  const target = targetOf(config)
  const result = await vacuum(target, route.table, config.vacuumKeep)
  if (config.glueDatabase && result.deleted.length > 0)
    await publishCommitted({
      target,
      spec: runConfig.table,
      tableFormat: runConfig.tableFormat,
      catalog: openGlueCatalog(config.glueDatabase),
    })
  return result
}

/**
 * What routing needs: the committed rows and the files not applied yet (with the first and last pending name), as
 * the run plans them (planSource) with the table's ordering and staging expiry (defaults: file order, 30 days).
 */
export async function measureTable(
  source: Storage,
  target: Storage,
  table: string,
  opts: {
    format?: Pick<DmsFormat, 'orderChangesBy' | 'datePartitionTimezone' | 'preserveTransactions'>
    stagingExpiryDays?: number
  } = {},
): Promise<{
  stateRows: number
  stateBytes: number | null
  asOf: string | null // the committed version's as_of

  pendingBytes: number
  pendingFiles: number
  range: [string, string] | null
}> {
  const log = await readCommitLog(target, table)
  const planned = await planSource(source, log, opts.format ?? DEFAULT_DMS_FORMAT, {
    stagingExpiryDays: opts.stagingExpiryDays,
  }).catch((e: unknown) => {
    if (e instanceof InputError) return null
    throw e
  })
  // Bad input goes to the Lambda (a zero measure): its run stops on this same error before loading any state.
  if (!planned)
    return { stateRows: 0, stateBytes: null, asOf: null, pendingBytes: 0, pendingFiles: 0, range: null }
  const { pending } = planned
  return {
    stateRows: log.current?.rows.users ?? 0,
    stateBytes: log.current?.snapshot?.size ?? null, // the table's columns as raw bytes: its width, not just rows
    asOf: log.current?.asOf ?? null,
    pendingBytes: pending.reduce((n, p) => n + p.size, 0),
    pendingFiles: pending.length,
    range: pending.length > 0 ? [pending[0]!.file.path, pending.at(-1)!.file.path] : null,
  }
}

/**
 * Whether the periodic sweep should run a table: it has files not applied yet and no live lease (its last run died,
 * or its messages were released or lost), or a lapsed lease to clear. Null: leave the table alone.
 */
export async function sweepReason(
  config: LambdaConfig,
  route: TableRoute,
  rc: RunConfig,
): Promise<string | null> {
  const target = targetOf(config)
  const log = await readCommitLog(target, route.table)
  const lease = leaseOf(log.head, new Date())
  if (lease?.live) return null
  // A Glue table behind the commit log (a shell CloudFormation made or replaced, a publish that failed) is
  // republished by a run, which repairs the catalog before anything else.
  if (log.current && config.glueDatabase) {
    const names = [
      route.table,
      ...(log.current.outputs.users_features ? [featuresTableName(route.table)] : []),
    ]
    const versions = await openGlueCatalog(config.glueDatabase).currentVersions(names)
    const behind = names.find((n) => (versions.get(n) ?? 0) < log.current!.version)
    if (behind !== undefined)
      return `the Glue table ${behind} is at version ${versions.get(behind) ?? 'none'}, the commit log at ${log.current.version}`
  }
  // A version the Glue (Spark) job committed gets its Iceberg metadata and catalog switch from a run here.
  if (log.current && rc.tableFormat === 'iceberg') {
    const published = (await newestMetadata(target, route.table))?.metadata['current-snapshot-id'] ?? -1
    if (published < log.current.version)
      return `version ${log.current.version} (${log.current.engine.name}) is not published as an Iceberg snapshot yet`
  }
  const m = await measureTable(stagingSource(config, route, rc.format), target, route.table, {
    format: rc.format,
    stagingExpiryDays: config.stagingExpiryDays,
  })
  if (m.pendingFiles === 0 && !lease) return null
  return lease
    ? `the lease of run ${lease.runId} on version ${lease.version} ended at ${lease.expiresAt}`
    : `${m.pendingFiles} file(s) pending`
}

let glueClient: GlueClient | undefined
/** The Glue client (endpoint from AWS_ENDPOINT_URL_GLUE when set, like the catalog's); replaceable in tests. */
export function glue(): GlueClient {
  glueClient ??= new GlueClient({ region: awsRegion() })
  return glueClient
}
export function setGlueClient(client: GlueClient | undefined): void {
  glueClient = client
}

const ACTIVE = new Set(['STARTING', 'RUNNING', 'STOPPING', 'WAITING'])

/**
 * Starts the Glue job for a table, unless a run for that table is already active (GetJobRuns): one writer at a
 * time (the commit log guards it anyway; this avoids paying for a run that would find nothing to do).
 */
export async function startGlueRun(
  config: LambdaConfig,
  route: TableRoute,
  asOf: number,
  decision: RoutingDecision,
  range: [string, string] | null,
): Promise<RunResult> {
  const jobName = config.glueJobName!
  const runs = await glue().send(new GetJobRunsCommand({ JobName: jobName, MaxResults: 50 }))
  const active = (runs.JobRuns ?? []).find(
    (r) => ACTIVE.has(r.JobRunState ?? '') && r.Arguments?.['--table'] === route.table,
  )
  const none = { committed: false, version: 0, records: [], record: null }
  if (active)
    return {
      ...none,
      message: `glue job ${jobName} run ${active.Id} is already applying ${route.table}; not starting another`,
    }
  const args: Record<string, string> = {
    '--table': route.table,
    '--source': `s3://${config.stagingBucket}/${route.stagingPrefix}`,
    '--target': `s3://${config.finalBucket}/${config.finalPrefix}`,
    '--as-of': formatDate(asOf),
    '--config': JSON.stringify(route.config),
  }
  if (range) {
    args['--pending-from'] = range[0]
    args['--pending-to'] = range[1]
  }
  if (config.glueDatabase) args['--glue-database'] = config.glueDatabase
  const started = await glue().send(new StartJobRunCommand({ JobName: jobName, Arguments: args }))
  return {
    ...none,
    message: `started glue job ${jobName} run ${started.JobRunId} for ${route.table}: ${decision.reason}`,
  }
}

export async function runTable(config: LambdaConfig, run: TableRun): Promise<RunResult> {
  const { route, runConfig: rc } = run
  if (config.glueJobName) {
    const m = await measureTable(stagingSource(config, route, rc.format), targetOf(config), route.table, {
      format: rc.format,
      stagingExpiryDays: config.stagingExpiryDays,
    })
    // The Spark job reads every DMS input the engine reads (CSV, gzip CSV, Parquet) with the same DmsFormat.
    const decision = decideEngine({ ...m, sparkGap: sparkGap(rc.format) }, config.routing)
    if (decision.engine === 'glue') {
      // The job writes no Iceberg metadata and switches no Iceberg table: what it committed is published here.
      await publishCommitted({
        target: targetOf(config),
        spec: rc.table,
        tableFormat: rc.tableFormat,
        ...(config.glueDatabase ? { catalog: openGlueCatalog(config.glueDatabase) } : {}),
      })
      if (m.pendingFiles === 0 && m.asOf === formatDate(run.asOf))
        return {
          committed: false,
          version: 0,
          records: [],
          record: null,
          message: `${route.table}: nothing pending and as_of ${m.asOf} already applied; no glue job started`,
        }
      return startGlueRun(config, route, run.asOf, decision, m.range)
    }
    if (decision.oversize) run.onWarning(decision.reason)
  }
  return runPipeline(
    runOptionsFor(rc, {
      source: stagingSource(config, route, rc.format),
      target: targetOf(config),
      asOf: run.asOf,
      engineVersion: run.engineVersion,
      stagingExpiryDays: config.stagingExpiryDays,
      claimTtlMs: config.leaseMs,
      ...(config.glueDatabase ? { catalog: openGlueCatalog(config.glueDatabase) } : {}),
      onWarning: run.onWarning,
    }),
  )
}
