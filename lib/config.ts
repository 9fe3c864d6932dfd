/**
 * The stack's parameters: one typed object with defaults, and the reader of `cdk deploy -c lakesync:NAME=VALUE`
 * context values (strings on the command line, JSON values in cdk.json) that fills it.
 */
import { DEFAULT_DMS_FORMAT, parseDmsFormat } from '../etl/dms/format.js'
import type { DmsFormat } from '../etl/types.js'

export interface LakesyncParams {
  // Source database
  dbInstanceType: string // RDS instance class without the `db.` prefix
  dbAllocatedStorageGb: number
  dbMultiAz: boolean
  deletionProtection: boolean // on the RDS instance; turn off before `cdk destroy`
  databaseName: string // the Postgres database DMS reads
  schemaName: string // schema of the replicated table
  tableName: string // the replicated table (the engine's table spec name)
  // Replication
  createDmsVpcRole: boolean // create the account-wide dms-vpc-role (false when the account already has it)
  replicationInstanceClass: string
  replicationAllocatedStorageGb: number
  dmsEngineVersion: string // 3.6.1 or later replicates PostgreSQL 17
  stagingFolder: string // BucketFolder: DMS writes <folder>/<schema>/<table>/
  dmsFormat: DmsFormat // the CSV contract, shared with the reader
  cdcMaxBatchIntervalSeconds: number
  cdcMinFileSizeKb: number
  datePartitionEnabled: boolean
  // Buckets
  stagingExpiryDays: number // lifecycle expiry of staging files; also the Lambda's STAGING_EXPIRY_DAYS
  finalPrefix: string // key prefix of the lake in the final bucket ('' or ending in /)
  accessLogExpiryDays: number
  // Processing
  lambdaRuntime: '22' | '24' // Node.js major of the merge function (and the esbuild target)
  lambdaMemoryMb: number
  lambdaTimeoutSeconds: number
  maxConcurrency: number // the SQS event source mapping's maximum concurrency (2..1000)
  batchSize: number
  maxBatchingWindowSeconds: number
  maxReceiveCount: number // deliveries before a message moves to the dead-letter queue
  scheduleExpression: string // EventBridge schedule of the daily refresh (UTC)
  logRetentionDays: number
  alarmTopicArn: string | undefined // SNS topic for the alarms (none: alarms only show in the console)
  // Catalog
  glueDatabaseName: string
}

export const DEFAULT_PARAMS: LakesyncParams = {
  dbInstanceType: 't4g.micro',
  dbAllocatedStorageGb: 20,
  dbMultiAz: false,
  deletionProtection: true,
  databaseName: 'app',
  schemaName: 'public',
  tableName: 'users',
  createDmsVpcRole: true,
  replicationInstanceClass: 'dms.t3.small',
  replicationAllocatedStorageGb: 50,
  dmsEngineVersion: '3.6.1',
  stagingFolder: 'dms',
  dmsFormat: DEFAULT_DMS_FORMAT,
  cdcMaxBatchIntervalSeconds: 60,
  cdcMinFileSizeKb: 32_000,
  datePartitionEnabled: false,
  stagingExpiryDays: 30,
  finalPrefix: 'lake/',
  accessLogExpiryDays: 90,
  lambdaRuntime: '22',
  lambdaMemoryMb: 1024,
  lambdaTimeoutSeconds: 300,
  maxConcurrency: 2,
  batchSize: 100,
  maxBatchingWindowSeconds: 20,
  maxReceiveCount: 5,
  scheduleExpression: 'cron(15 0 * * ? *)',
  logRetentionDays: 30,
  alarmTopicArn: undefined,
  glueDatabaseName: 'lakesync',
}

/** The context key of a parameter: `lakesync:dbInstanceType`, ... */
export const contextKey = (name: keyof LakesyncParams): string => `lakesync:${name}`

function parseBoolean(name: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v
  if (v === 'true') return true
  if (v === 'false') return false
  throw new Error(`context ${name} must be true or false, got ${JSON.stringify(v)}`)
}

function parseNumber(name: string, v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN
  if (!Number.isFinite(n)) throw new Error(`context ${name} must be a number, got ${JSON.stringify(v)}`)
  return n
}

/** The retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]

const withSlash = (p: string) => (p === '' || p.endsWith('/') ? p : `${p}/`)

/** Checks the parameters that CloudFormation would only reject at deploy time (or never). */
export function validateParams(p: LakesyncParams): LakesyncParams {
  const problems: string[] = []
  const positiveInt = (name: keyof LakesyncParams, v: number, min = 1, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(v) || v < min || v > max)
      problems.push(`${name} must be an integer in ${min}..${max}`)
  }
  positiveInt('stagingExpiryDays', p.stagingExpiryDays)
  positiveInt('accessLogExpiryDays', p.accessLogExpiryDays)
  positiveInt('lambdaMemoryMb', p.lambdaMemoryMb, 128, 10_240)
  positiveInt('lambdaTimeoutSeconds', p.lambdaTimeoutSeconds, 1, 900)
  positiveInt('maxConcurrency', p.maxConcurrency, 2, 1000)
  positiveInt('batchSize', p.batchSize, 1, 10_000)
  positiveInt('maxBatchingWindowSeconds', p.maxBatchingWindowSeconds, 0, 300)
  positiveInt('maxReceiveCount', p.maxReceiveCount, 1, 1000)
  positiveInt('dbAllocatedStorageGb', p.dbAllocatedStorageGb, 20, 65_536)
  positiveInt('replicationAllocatedStorageGb', p.replicationAllocatedStorageGb, 5, 6144)
  positiveInt('cdcMaxBatchIntervalSeconds', p.cdcMaxBatchIntervalSeconds)
  positiveInt('cdcMinFileSizeKb', p.cdcMinFileSizeKb)
  if (p.batchSize > 10 && p.maxBatchingWindowSeconds === 0)
    problems.push(
      'batchSize above 10 needs maxBatchingWindowSeconds of at least 1 (an SQS event source rule)',
    )
  if (!LOG_RETENTION_DAYS.includes(p.logRetentionDays))
    problems.push(`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
  if (p.lambdaRuntime !== '22' && p.lambdaRuntime !== '24') problems.push('lambdaRuntime must be 22 or 24')
  if (!/^[a-z_][a-z0-9_]*$/.test(p.glueDatabaseName))
    problems.push('glueDatabaseName must be lower case letters, digits and _')
  for (const k of ['stagingFolder', 'schemaName', 'tableName'] as const)
    if (!/^[A-Za-z0-9_.-]+$/.test(p[k])) problems.push(`${k} must be a plain name (letters, digits, _ . -)`)
  if (p.tableName !== 'users')
    problems.push(
      'tableName: the engine publishes the users table spec (users and users_features); only users',
    )
  if (problems.length > 0) throw new Error(`lakesync stack parameters: ${problems.join('; ')}`)
  return { ...p, finalPrefix: withSlash(p.finalPrefix), dmsFormat: parseDmsFormat(p.dmsFormat) }
}

/** Reads every parameter from the construct context (`tryGetContext`), falling back to the defaults. */
export function paramsFromContext(tryGetContext: (key: string) => unknown): LakesyncParams {
  const p: Record<string, unknown> = { ...DEFAULT_PARAMS }
  for (const name of Object.keys(DEFAULT_PARAMS) as (keyof LakesyncParams)[]) {
    const key = contextKey(name)
    const v = tryGetContext(key)
    if (v === undefined) continue
    const def = DEFAULT_PARAMS[name]
    if (name === 'dmsFormat') p[name] = typeof v === 'string' ? JSON.parse(v) : v
    else if (typeof def === 'boolean') p[name] = parseBoolean(key, v)
    else if (typeof def === 'number') p[name] = parseNumber(key, v)
    else p[name] = String(v)
  }
  return validateParams(p as unknown as LakesyncParams)
}

/** The staging prefix DMS writes the table to and the Lambda reads: <folder>/<schema>/<table>/. */
export function stagingPrefix(p: LakesyncParams): string {
  return `${p.stagingFolder}/${p.schemaName}/${p.tableName}/`
}
