/**
 * The merge Lambda's configuration, read from the environment once at module load. Every problem is reported
 * together, naming the variable, so a bad deploy fails its first invocation with one clear message.
 *
 *   STAGING_BUCKET   bucket DMS writes to (required)
 *   FINAL_BUCKET     bucket the versions are published to (required)
 *   FINAL_PREFIX     key prefix in FINAL_BUCKET (optional, default none)
 *   GLUE_DATABASE    Glue database whose tables follow each version (optional: no catalog switch without it)
 *   LAKESYNC_TABLES_FILE  a JSON file in the bundle: { "<table>": { "stagingPrefix": "dms/public/users/",
 *                    "config": { ...as lakesync --config } } } (the CDK stack writes it: no 4 KB bound on tables)
 *   LAKESYNC_TABLES  the same JSON inline, instead of the file (a hand-made setup of a few tables)
 *   STAGING_EXPIRY_DAYS  age after which applied staging files may be deleted by the lifecycle rule (default 30)
 *   VACUUM_KEEP      committed versions whose files the daily run keeps (default 3; older ones are vacuumed)
 *   GLUE_JOB_NAME    the Glue (Spark) job that takes tables too big for the Lambda (optional: always the Lambda)
 *   LAMBDA_MAX_ROWS, LAMBDA_MAX_PENDING_BYTES, LAMBDA_MAX_STATE_BYTES  routing thresholds (lambdas/routing.ts
 *                    has the defaults and why)
 *   LEASE_SECONDS    the lease of a claimed version (default 60; etl/commit/lease.ts)
 *   QUEUE_URL        the notifications queue: a busy table's messages return when its lease ends (optional: without
 *                    it they return after the queue's visibility timeout)
 *   MAX_RECEIVE_COUNT  the queue's receives before the dead-letter queue: a busy message is not failed past it - 1
 */
import { readFileSync } from 'node:fs'
import { type RunConfig, resolveRunConfig } from '../etl/config/run-config.js'
import { ConfigError } from '../etl/errors.js'
import { DEFAULT_ROUTING, parseThreshold, type RoutingThresholds } from './routing.js'

export interface TableRoute {
  table: string // table name (the key in LAKESYNC_TABLES; must equal its config's table.name when given)
  stagingPrefix: string // key prefix of the table's DMS files in STAGING_BUCKET, ending in /
  config: Record<string, unknown> // the same object `lakesync --config` reads (format, table, cityAliases, cities)
  transactions?: TransactionRoute // format.preserveTransactions: where the CDC_TXN files of every table arrive
}

/**
 * PreserveTransactions [S3T]: DMS writes every table's changes to `<BucketFolder>/<cdcPath>/CDC_TXN-*.csv`. The DMS
 * root and the table's `<schema>/<table>` follow from its staging prefix, `<BucketFolder>/<schema>/<table>/`.
 */
export interface TransactionRoute {
  root: string // the DMS root (BucketFolder) in STAGING_BUCKET: '' or ending in /
  folder: string // `<schema>/<table>` under it
  prefix: string // `<root><cdcPath>/`: a key under it concerns every table routed with it
}

export interface LambdaConfig {
  stagingBucket: string
  finalBucket: string
  finalPrefix: string // '' or ending in /
  glueDatabase: string | undefined
  stagingExpiryDays: number
  vacuumKeep: number
  tables: TableRoute[]
  glueJobName: string | undefined // runs past the thresholds start this job instead of running here
  routing: RoutingThresholds
  leaseMs: number // the lease of a claimed version
  queueUrl: string | undefined // where busy messages' visibility is changed
  maxReceiveCount: number | undefined // the queue's redrive limit (undefined: unknown)
}

const withSlash = (p: string) => (p === '' || p.endsWith('/') ? p : `${p}/`)

export function loadLambdaConfig(env: NodeJS.ProcessEnv): LambdaConfig {
  const problems: string[] = []
  const need = (name: string): string => {
    const v = env[name]
    if (!v) problems.push(`${name} is not set`)
    return v ?? ''
  }
  const stagingBucket = need('STAGING_BUCKET')
  const finalBucket = need('FINAL_BUCKET')
  const tablesJson = tablesText(env, problems)
  const tables: TableRoute[] = []
  if (tablesJson) {
    let parsed: unknown
    try {
      parsed = JSON.parse(tablesJson.text)
    } catch (e) {
      problems.push(`${tablesJson.from} is not valid JSON: ${(e as Error).message}`)
    }
    if (parsed !== undefined) {
      if (
        typeof parsed !== 'object' ||
        parsed === null ||
        Array.isArray(parsed) ||
        Object.keys(parsed).length === 0
      )
        problems.push('LAKESYNC_TABLES must be a JSON object with one entry per table')
      else
        for (const [table, v] of Object.entries(parsed)) {
          const route = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>
          if (typeof route.stagingPrefix !== 'string')
            problems.push(
              `LAKESYNC_TABLES.${table}.stagingPrefix must be a string (the table's DMS folder in STAGING_BUCKET)`,
            )
          const config = (route.config ?? {}) as Record<string, unknown>
          const specName = (config.table as { name?: unknown } | undefined)?.name
          if (specName !== undefined && specName !== table)
            problems.push(
              `LAKESYNC_TABLES.${table}.config.table.name is ${JSON.stringify(specName)}, not ${JSON.stringify(table)}`,
            )
          const stagingPrefix = withSlash(String(route.stagingPrefix ?? ''))
          const transactions = transactionRoute(stagingPrefix, config.format)
          if (transactions === 'bad')
            problems.push(
              `LAKESYNC_TABLES.${table}: format.preserveTransactions needs a stagingPrefix <BucketFolder>/<schema>/<table>/ (the CDC_TXN folder is <BucketFolder>/<cdcPath>/), got ${JSON.stringify(stagingPrefix)}`,
            )
          tables.push({
            table,
            stagingPrefix,
            config,
            ...(transactions && transactions !== 'bad' ? { transactions } : {}),
          })
        }
    }
  }
  for (const a of tables)
    for (const b of tables)
      if (a !== b && a.stagingPrefix.startsWith(b.stagingPrefix))
        problems.push(`LAKESYNC_TABLES: the staging prefixes of ${a.table} and ${b.table} overlap`)
  const expiry = Number(env.STAGING_EXPIRY_DAYS ?? '30')
  if (!Number.isFinite(expiry) || expiry <= 0)
    problems.push('STAGING_EXPIRY_DAYS must be a positive number of days')
  const keep = Number(env.VACUUM_KEEP ?? '3')
  if (!Number.isInteger(keep) || keep < 1) problems.push('VACUUM_KEEP must be a whole number of at least 1')
  const maxRows = parseThreshold(env.LAMBDA_MAX_ROWS, DEFAULT_ROUTING.maxLambdaRows)
  if (maxRows === undefined) problems.push('LAMBDA_MAX_ROWS must be a positive whole number')
  const maxBytes = parseThreshold(env.LAMBDA_MAX_PENDING_BYTES, DEFAULT_ROUTING.maxLambdaPendingBytes)
  if (maxBytes === undefined) problems.push('LAMBDA_MAX_PENDING_BYTES must be a positive whole number')
  const maxState = parseThreshold(env.LAMBDA_MAX_STATE_BYTES, DEFAULT_ROUTING.maxLambdaStateBytes)
  if (maxState === undefined) problems.push('LAMBDA_MAX_STATE_BYTES must be a positive whole number')
  const lease = Number(env.LEASE_SECONDS ?? '60')
  if (!Number.isFinite(lease) || lease < 1) problems.push('LEASE_SECONDS must be a number of seconds >= 1')
  const maxReceive = env.MAX_RECEIVE_COUNT ? Number(env.MAX_RECEIVE_COUNT) : undefined
  if (maxReceive !== undefined && !(Number.isInteger(maxReceive) && maxReceive >= 1))
    problems.push('MAX_RECEIVE_COUNT must be a whole number of at least 1')
  if (problems.length > 0)
    throw new ConfigError('bad_config', `lakesync lambda configuration: ${problems.join('; ')}`)
  return {
    stagingBucket,
    finalBucket,
    finalPrefix: withSlash(env.FINAL_PREFIX ?? ''),
    glueDatabase: env.GLUE_DATABASE || undefined,
    stagingExpiryDays: expiry,
    vacuumKeep: keep,
    tables,
    glueJobName: env.GLUE_JOB_NAME || undefined,
    routing: { maxLambdaRows: maxRows!, maxLambdaPendingBytes: maxBytes!, maxLambdaStateBytes: maxState! },
    leaseMs: Math.round(lease * 1000),
    queueUrl: env.QUEUE_URL || undefined,
    maxReceiveCount: maxReceive,
  }
}

/** A table's transaction route when its format preserves transactions; 'bad' when the prefix cannot say where. */
function transactionRoute(stagingPrefix: string, format: unknown): TransactionRoute | 'bad' | undefined {
  const f = (typeof format === 'object' && format !== null ? format : {}) as Record<string, unknown>
  if (f.preserveTransactions !== true || typeof f.cdcPath !== 'string') return undefined
  const parts = stagingPrefix.split('/').slice(0, -1)
  if (parts.length < 2) return 'bad'
  const root = parts
    .slice(0, -2)
    .map((p) => `${p}/`)
    .join('')
  return { root, folder: parts.slice(-2).join('/'), prefix: `${root}${f.cdcPath}/` }
}

/** The tables JSON and where it came from: the bundled file (LAKESYNC_TABLES_FILE) or the variable. */
function tablesText(env: NodeJS.ProcessEnv, problems: string[]): { text: string; from: string } | undefined {
  const file = env.LAKESYNC_TABLES_FILE
  const inline = env.LAKESYNC_TABLES
  if (file && inline) {
    problems.push('LAKESYNC_TABLES_FILE and LAKESYNC_TABLES are both set: give the tables one way')
    return undefined
  }
  if (inline) return { text: inline, from: 'LAKESYNC_TABLES' }
  if (!file) {
    problems.push('LAKESYNC_TABLES_FILE (or LAKESYNC_TABLES) is not set')
    return undefined
  }
  try {
    return { text: readFileSync(file, 'utf8'), from: `LAKESYNC_TABLES_FILE ${file}` }
  } catch (e) {
    problems.push(`LAKESYNC_TABLES_FILE: cannot read ${file}: ${(e as Error).message}`)
    return undefined
  }
}

/**
 * Each table's run configuration, resolved (its city map read) once per container. A bad one stays a rejected
 * promise: every run of that table fails with its error, as when it was resolved per run; the other tables run.
 */
export function resolveTableConfigs(config: LambdaConfig): Map<string, Promise<RunConfig>> {
  const resolved = new Map<string, Promise<RunConfig>>()
  for (const route of config.tables) {
    const rc = resolveRunConfig(route.config, `LAKESYNC_TABLES.${route.table}.config`, '.')
    rc.catch(() => {}) // awaited by each run of the table; not an unhandled rejection before the first one
    resolved.set(route.table, rc)
  }
  return resolved
}
