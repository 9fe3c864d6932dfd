/** Runs the pipeline for one configured table on S3, with the Glue catalog when configured. */
import { dirname } from 'node:path'
import { openGlueCatalog } from '../etl/catalog-glue.js'
import { USERS_FEATURES_SPEC } from '../etl/city-features.js'
import { openStorage } from '../etl/open-storage.js'
import { type RunResult, runPipeline } from '../etl/pipeline.js'
import { resolveRunConfig } from '../etl/run-config.js'
import { type VacuumResult, vacuum } from '../etl/vacuum.js'
import type { LambdaConfig, TableRoute } from './config.js'

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
  return vacuum(targetOf(config), [route.table, USERS_FEATURES_SPEC.name], route.table, config.vacuumKeep)
}

export async function runTable(config: LambdaConfig, run: TableRun): Promise<RunResult> {
  const { route } = run
  const rc = await resolveRunConfig(route.config, `LAKESYNC_TABLES.${route.table}.config`, dirname('.'))
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
