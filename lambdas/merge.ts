/**
 * The merge Lambda: SQS batches of S3 notifications from the staging bucket, and the daily EventBridge schedule.
 * A thin adapter: configuration, logger and metrics live at module scope (read once per container); each table the
 * batch mentions is run once; a table that fails reports its messages as batch item failures, so only they retry
 * (and reach the dead-letter queue after maxReceiveCount) while the other tables' messages are deleted.
 */
import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { todayUtc } from '../etl/dms/values.js'
import { LakesyncError } from '../etl/errors.js'
import type { RunResult } from '../etl/pipeline.js'
import { changeFileTime } from '../etl/status.js'
import { loadLambdaConfig, resolveTableConfigs, type TableRoute } from './config.js'
import { runTable, vacuumTable } from './run-table.js'
import { routeRecords } from './s3-events.js'

const config = loadLambdaConfig(process.env)
const runConfigs = resolveTableConfigs(config)
const logger = new Logger({ serviceName: 'lakesync' })
const metrics = new Metrics({ namespace: 'lakesync', serviceName: 'lakesync' })
const ENGINE_VERSION = process.env.LAKESYNC_VERSION ?? 'lambda'

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
    message: result.message,
    durationMs: Math.round(ms),
  })
}

async function runOne(route: TableRoute): Promise<boolean> {
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
    return true
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
    return false
  }
}

function isScheduled(event: SQSEvent | ScheduledEvent): event is ScheduledEvent {
  return (event as ScheduledEvent)['detail-type'] === 'Scheduled Event'
}

export async function handler(event: SQSEvent | ScheduledEvent): Promise<SQSBatchResponse | undefined> {
  if (isScheduled(event)) {
    // The daily refresh: the 90-day rate moves with the date even when nothing new arrived. Then old versions go.
    const failed: string[] = []
    for (const route of config.tables) {
      if (!(await runOne(route))) {
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
  for (const route of config.tables) {
    const ids = byTable.get(route.table)
    if (!ids) continue
    if (!(await runOne(route))) for (const id of ids) failures.push({ itemIdentifier: id })
  }
  return { batchItemFailures: failures }
}
