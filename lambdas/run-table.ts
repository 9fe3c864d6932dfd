/** Runs the pipeline for one configured table on S3, with the Glue catalog when configured. */
import { dirname } from 'node:path'
import { openGlueCatalog } from '../etl/catalog-glue.js'
import { openStorage } from '../etl/open-storage.js'
import { type RunResult, runPipeline } from '../etl/pipeline.js'
import { resolveRunConfig } from '../etl/run-config.js'
import type { LambdaConfig, TableRoute } from './config.js'

export interface TableRun {
  route: TableRoute
  asOf: number // days since epoch
  engineVersion: string
  onWarning: (message: string) => void
}

export async function runTable(config: LambdaConfig, run: TableRun): Promise<RunResult> {
  const { route } = run
  const rc = await resolveRunConfig(route.config, `LAKESYNC_TABLES.${route.table}.config`, dirname('.'))
  return runPipeline({
    source: openStorage(`s3://${config.stagingBucket}/${route.stagingPrefix}`),
    target: openStorage(`s3://${config.finalBucket}/${config.finalPrefix}`),
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
