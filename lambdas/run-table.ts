/** Runs the pipeline for one configured table on S3, with the Glue catalog when configured. */
import { dirname } from 'node:path'
import { GetJobRunsCommand, GlueClient, StartJobRunCommand } from '@aws-sdk/client-glue'
import { openGlueCatalog } from '../etl/catalog/glue.js'
import { lineage, readCommitLog } from '../etl/commit/log.js'
import { resolveRunConfig } from '../etl/config/run-config.js'
import { classifyDmsFile, compareChangeFiles, type DmsFile } from '../etl/dms/files.js'
import { formatDate } from '../etl/dms/values.js'
import { type RunResult, runPipeline } from '../etl/pipeline.js'
import { awsRegion, openStorage } from '../etl/storage/open.js'
import type { Storage } from '../etl/storage/storage.js'
import { type VacuumResult, vacuum } from '../etl/vacuum.js'
import type { LambdaConfig, TableRoute } from './config.js'
import { decideEngine, type RoutingDecision } from './routing.js'

export interface TableRun {
  route: TableRoute
  asOf: number // days since epoch
  engineVersion: string
  onWarning: (message: string) => void
}

function targetOf(config: LambdaConfig) {
  return openStorage(`s3://${config.finalBucket}/${config.finalPrefix}`)
}

/** Deletes the files of versions older than the newest VACUUM_KEEP (the daily schedule does this after the run). */
export async function vacuumTable(config: LambdaConfig, route: TableRoute): Promise<VacuumResult> {
  return vacuum(targetOf(config), route.table, config.vacuumKeep)
}

/** What routing needs: the committed rows and the files not applied yet (with the first and last pending name). */
export async function measureTable(
  source: Storage,
  target: Storage,
  table: string,
): Promise<{
  stateRows: number
  pendingBytes: number
  pendingFiles: number
  range: [string, string] | null
}> {
  const log = await readCommitLog(target, table)
  const applied = new Set(lineage(log).flatMap((r) => r.files.map((f) => f.path)))
  const pending: { path: string; size: number; file: DmsFile }[] = []
  for (const o of await source.list()) {
    if (applied.has(o.path)) continue
    let f: ReturnType<typeof classifyDmsFile>
    try {
      f = classifyDmsFile(o.path)
    } catch {
      continue // a malformed name: the run (either engine) reports it
    }
    if (f !== 'ignored') pending.push({ path: o.path, size: o.size, file: f })
  }
  pending.sort((a, b) =>
    a.file.kind !== b.file.kind ? (a.file.kind === 'load' ? -1 : 1) : compareChangeFiles(a.file, b.file),
  )
  return {
    stateRows: log.current?.rows.users ?? 0,
    pendingBytes: pending.reduce((n, p) => n + p.size, 0),
    pendingFiles: pending.length,
    range: pending.length > 0 ? [pending[0]!.path, pending.at(-1)!.path] : null,
  }
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
  const { route } = run
  const rc = await resolveRunConfig(route.config, `LAKESYNC_TABLES.${route.table}.config`, dirname('.'))
  if (config.glueJobName) {
    const m = await measureTable(
      openStorage(`s3://${config.stagingBucket}/${route.stagingPrefix}`),
      targetOf(config),
      route.table,
    )
    // The Spark job reads every DMS input the engine reads (CSV, gzip CSV, Parquet) with the same DmsFormat.
    const decision = decideEngine(m, config.routing)
    if (decision.engine === 'glue') return startGlueRun(config, route, run.asOf, decision, m.range)
  }
  return runPipeline({
    source: openStorage(`s3://${config.stagingBucket}/${route.stagingPrefix}`),
    target: targetOf(config),
    spec: rc.table,
    format: rc.format,
    asOf: run.asOf,
    cityToState: rc.cityToState,
    cityAliases: rc.cityAliases,
    engineVersion: run.engineVersion,
    stagingExpiryDays: config.stagingExpiryDays,
    ...(config.glueDatabase ? { catalog: openGlueCatalog(config.glueDatabase) } : {}),
    onWarning: run.onWarning,
  })
}
