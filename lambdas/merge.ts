/**
 * The merge Lambda: SQS batches of S3 notifications from the staging bucket, the daily EventBridge schedule and the
 * periodic sweep. A thin adapter: configuration, clients, logger and metrics live at module scope (read once per
 * container); each table the batch mentions is run once; a table that fails reports its messages as batch item
 * failures, so only they retry (and reach the dead-letter queue after maxReceiveCount) while the other tables'
 * messages are deleted. A busy table's messages come back when its lease ends (lambdas/retry.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { SQSClient } from '@aws-sdk/client-sqs'
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { todayUtc } from '../etl/dms/values.js'
import { LakesyncError } from '../etl/errors.js'
import type { RunResult } from '../etl/pipeline.js'
import { changeFileTime } from '../etl/status.js'
import { awsRegion } from '../etl/storage/open.js'
import { loadLambdaConfig, resolveTableConfigs, type TableRoute } from './config.js'
import { planRetry, returnIn, visibilityUntil } from './retry.js'
import { runTable, sweepReason, vacuumTable } from './run-table.js'
import { routeRecords } from './s3-events.js'
import { SWEEP_EVENT, type SweepEvent } from './sweep-event.js'

const config = loadLambdaConfig(process.env)
const runConfigs = resolveTableConfigs(config)
const logger = new Logger({ serviceName: 'lakesync' })
const metrics = new Metrics({ namespace: 'lakesync', serviceName: 'lakesync' })
const ENGINE_VERSION = process.env.LAKESYNC_VERSION ?? 'lambda'
const sqs = new SQSClient({ region: awsRegion() })

type ScheduledEvent = EventBridgeEvent<'Scheduled Event', unknown>

/** Logs and records the metrics of one table's run. */
function report(table: string, result: RunResult, ms: number): void {
  const files = result.records.flatMap((r) => r.files)
  const newest = files
    .map((f) => changeFileTime(f.path))
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b)
    .at(-1)
  metrics.addDimension('table', table)
  metrics.addMetric('FilesApplied', MetricUnit.Count, files.length)
  for (const r of result.records) {
    metrics.addMetric('RowsInserted', MetricUnit.Count, r.counts.inserts + r.counts.upsertsOfMissing)
    metrics.addMetric('RowsUpdated', MetricUnit.Count, r.counts.updates + r.counts.replaces)
    metrics.addMetric('RowsDeleted', MetricUnit.Count, r.counts.deletes)
  }
  if (newest !== undefined) metrics.addMetric('LagSeconds', MetricUnit.Seconds, (Date.now() - newest) / 1000)
  metrics.addMetric('DurationMs', MetricUnit.Milliseconds, ms)
  metrics.publishStoredMetrics()
  logger.info('table run', {
    table,
    committed: result.committed,
    version: result.version,
    versions: result.records.map((r) => r.version),
    files: files.map((f) => f.path),
    counts: result.records.map((r) => r.counts),
    outcome: result.message, // not `message`: the logger reserves that key (and dropped it with a warning)
    durationMs: Math.round(ms),
  })
}

/** A table's run: failed, or done (busy: another run holds its lease, until when). */
type Outcome = { ok: false } | { ok: true; busyUntil?: string }

async function runOne(route: TableRoute): Promise<Outcome> {
  const started = performance.now()
  try {
    const result = await runTable(config, {
      route,
      runConfig: await runConfigs.get(route.table)!,
      asOf: todayUtc(),
      engineVersion: ENGINE_VERSION,
      onWarning: (message) => logger.warn(message, { table: route.table }),
    })
    report(route.table, result, performance.now() - started)
    return result.busy && !result.committed ? { ok: true, busyUntil: result.busy.expiresAt } : { ok: true }
  } catch (e) {
    const err = e as Error
    metrics.addDimension('table', route.table)
    metrics.addMetric('Rejects', MetricUnit.Count, 1)
    metrics.publishStoredMetrics()
    logger.error('table run failed; nothing was committed', {
      table: route.table,
      code: e instanceof LakesyncError ? e.code : 'internal',
      location: e instanceof LakesyncError ? e.location : undefined,
      error: err,
    })
    return { ok: false }
  }
}

/** A busy table's messages: failed and back at the lease's end, or let go near the dead-letter queue. */
async function retrySoon(table: string, records: SQSRecord[], until: string): Promise<string[]> {
  const { retry, release } = planRetry(records, config.maxReceiveCount)
  if (release.length > 0)
    logger.info('busy table: messages left to the holder and the sweep', { table, messages: release.length })
  if (retry.length === 0 || !config.queueUrl) return retry.map((r) => r.messageId)
  const seconds = visibilityUntil(until, Date.now())
  const unchanged = await returnIn(sqs, config.queueUrl, retry, seconds).catch((e: unknown) => {
    logger.warn('could not shorten the visibility of busy messages', { table, error: e as Error })
    return []
  })
  logger.info('busy table: messages return when the lease ends', {
    table,
    messages: retry.length,
    visibilitySeconds: seconds,
    unchanged: unchanged.length,
  })
  return retry.map((r) => r.messageId)
}

function isScheduled(event: SQSEvent | ScheduledEvent | SweepEvent): event is ScheduledEvent {
  return (event as ScheduledEvent)['detail-type'] === 'Scheduled Event'
}

function isSweep(event: SQSEvent | ScheduledEvent | SweepEvent): event is SweepEvent {
  return (event as SweepEvent).lakesync === SWEEP_EVENT.lakesync
}

/** The sweep: every table with files pending and no live lease runs (a dead run's, a released message's). */
async function sweep(): Promise<void> {
  const failed: string[] = []
  for (const route of config.tables) {
    const reason = await sweepReason(config, route, await runConfigs.get(route.table)!)
    if (reason === null) continue
    logger.info('sweep runs table', { table: route.table, reason })
    if (!(await runOne(route)).ok) failed.push(route.table)
  }
  if (failed.length > 0) throw new Error(`lakesync: sweep failed for ${failed.join(', ')} (see the logs)`)
}

export async function handler(
  event: SQSEvent | ScheduledEvent | SweepEvent,
): Promise<SQSBatchResponse | undefined> {
  if (isSweep(event)) {
    await sweep()
    return undefined
  }
  if (isScheduled(event)) {
    // The daily refresh: the 90-day rate moves with the date even when nothing new arrived. Then old versions go.
    const failed: string[] = []
    for (const route of config.tables) {
      if (!(await runOne(route)).ok) {
        failed.push(route.table)
        continue
      }
      const removed = await vacuumTable(config, route, await runConfigs.get(route.table)!)
      logger.info('vacuum', {
        table: route.table,
        deleted: removed.deleted.length,
        deletedSnapshots: removed.deletedSnapshots.length,
        kept: removed.keptVersions,
      })
    }
    if (failed.length > 0)
      throw new Error(`lakesync: daily refresh failed for ${failed.join(', ')} (see the logs)`)
    return undefined
  }
  const { byTable, ignored } = routeRecords(event.Records ?? [], config)
  for (const i of ignored) logger.warn('ignored message', i)
  const failures: SQSBatchResponse['batchItemFailures'] = []
  const records = new Map(event.Records.map((r) => [r.messageId, r]))
  for (const route of config.tables) {
    const ids = byTable.get(route.table)
    if (!ids) continue
    const outcome = await runOne(route)
    const failed = !outcome.ok
      ? ids
      : outcome.busyUntil
        ? await retrySoon(
            route.table,
            ids.map((id) => records.get(id)!),
            outcome.busyUntil,
          )
        : []
    for (const id of failed) failures.push({ itemIdentifier: id })
  }
  return { batchItemFailures: failures }
}
