/**
 * The stack's parameters: one typed object with defaults, and the reader of `cdk deploy -c lakesync:NAME=VALUE`
 * context values (strings on the command line, JSON values in cdk.json) that fills it. The replicated tables are the
 * `tables` form of a lakesync config (what `lakesync schema` prints), given inline (`lakesync:tables`) or as a file
 * (`lakesync:tablesFile`); without them the stack replicates the reference `users` table.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DEFAULT_DMS_FORMAT, parseDmsFormat } from '../etl/dms/format.js'
import { parseTableSpec, USERS_SPEC } from '../etl/table/spec.js'
import type { DmsFormat, TableSpec } from '../etl/types.js'

/** One entry of a `tables` list: { schema?, name, columns, primaryKey, features?, publishAs? } (as `lakesync schema` prints). */
export type TableEntry = Record<string, unknown>

export interface LakesyncParams {
  // Source database
  dbInstanceType: string // RDS instance class without the `db.` prefix
  dbAllocatedStorageGb: number
  dbMultiAz: boolean
  deletionProtection: boolean // on the RDS instance; turn off before `cdk destroy`
  databaseName: string // the Postgres database DMS reads
  schemaName: string // schema of the replicated table; with `tables`, the schema of entries that name none
  tableName: string // the replicated table without `tables`: only the reference users table
  tables: TableEntry[] | undefined // the replicated tables (the `tables` form of a lakesync config)
  tablesFile: string | undefined // a JSON file holding `{"tables": [...]}` (e.g. `lakesync schema` output)
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
  dmsLobMaxSizeKb: number // limited LOB mode's LobMaxSize: text/json/bytea values up to this size (KB) stay whole
  dmsFullLoadCommitRate: number // FullLoadSettings.CommitRate: full-load memory is LobMaxSize x this x LOB columns
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
  sweepExpression: string // EventBridge schedule of the sweep: runs tables with files pending and no live lease
  leaseSeconds: number // lease of a claimed version (renewed every third): a dead run holds its table this long
  logRetentionDays: number
  alarmTopicArn: string | undefined // SNS topic for the alarms (none: alarms only show in the console)
  // Catalog
  glueDatabaseName: string
  tableFormat: 'iceberg' | 'hive' // every table's publish.tableFormat: Iceberg v2 tables, or Hive-style folders
}

export const DEFAULT_PARAMS: LakesyncParams = {
  dbInstanceType: 't4g.micro',
  dbAllocatedStorageGb: 20,
  dbMultiAz: false,
  deletionProtection: true,
  databaseName: 'app',
  schemaName: 'public',
  tableName: 'users',
  tables: undefined,
  tablesFile: undefined,
  createDmsVpcRole: true,
  replicationInstanceClass: 'dms.t3.small',
  replicationAllocatedStorageGb: 50,
  dmsEngineVersion: '3.6.1',
  stagingFolder: 'dms',
  dmsFormat: DEFAULT_DMS_FORMAT,
  cdcMaxBatchIntervalSeconds: 60,
  cdcMinFileSizeKb: 32_000,
  datePartitionEnabled: false,
  dmsLobMaxSizeKb: 1024,
  dmsFullLoadCommitRate: 10_000,
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
  sweepExpression: 'rate(15 minutes)',
  leaseSeconds: 60,
  logRetentionDays: 30,
  alarmTopicArn: undefined,
  glueDatabaseName: 'lakesync',
  tableFormat: 'iceberg',
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

/** A replicated table as the stack sees it. */
export interface StackTable {
  schema: string // the source schema
  sourceName: string // the source table: DMS writes it to <stagingFolder>/<schema>/<sourceName>/
  name: string // the published name (`publishAs`, else the source name): lake folders, commit log, Glue tables
  spec: TableSpec // its columns, key and features, as the engine parses them (spec.name = name)
  table: TableEntry | undefined // the Lambda config's `table`; undefined: the engine's reference users spec
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/
const PUBLISHED_NAME = /^[a-z_][a-z0-9_]*$/

/**
 * The tables of `p`, checked: each entry a table spec the engine accepts (etl/table/spec.ts), its schema a plain
 * name (default `p.schemaName`), its published name lower case (Glue and Athena fold table names), no two entries
 * for one source table or one published name. Without `tables`: the reference users table.
 */
export function stackTables(p: Pick<LakesyncParams, 'schemaName' | 'tableName' | 'tables'>): StackTable[] {
  if (p.tables === undefined)
    return [
      {
        schema: p.schemaName,
        sourceName: p.tableName,
        name: USERS_SPEC.name,
        spec: USERS_SPEC,
        table: undefined,
      },
    ]
  const problems: string[] = []
  if (!Array.isArray(p.tables) || p.tables.length === 0)
    throw new Error('lakesync stack parameters: tables must be a non-empty array of table specs')
  const out: StackTable[] = []
  p.tables.forEach((raw: unknown, i) => {
    const where = `tables[${i}]`
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${where} must be an object`)
      return
    }
    const { schema = p.schemaName, publishAs, ...rest } = raw as TableEntry
    if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
      problems.push(
        `${where}.schema must be a plain name (letters, digits, _ -), got ${JSON.stringify(schema)}`,
      )
      return
    }
    let spec: TableSpec
    try {
      spec = parseTableSpec(rest, where)
    } catch (e) {
      problems.push((e as Error).message.replace(/^config: /, ''))
      return
    }
    if (publishAs !== undefined && typeof publishAs !== 'string') {
      problems.push(`${where}.publishAs must be a name, got ${JSON.stringify(publishAs)}`)
      return
    }
    const name = publishAs ?? spec.name
    if (!PUBLISHED_NAME.test(name)) {
      problems.push(
        `${where}: the published name ${JSON.stringify(name)} must be lower case letters, digits and _ (Glue and Athena fold table names to lower case; give "publishAs")`,
      )
      return
    }
    out.push({
      schema,
      sourceName: spec.name,
      name,
      spec: { ...spec, name },
      table: { ...rest, name },
    })
  })
  const sources = new Set<string>()
  const published = new Map<string, StackTable>()
  for (const t of out) {
    const source = `${t.schema}.${t.sourceName}`
    const other = published.get(t.name)
    if (sources.has(source)) problems.push(`tables: ${source} is listed twice`)
    else if (other)
      problems.push(
        `tables: ${other.schema}.${other.sourceName} and ${source} both publish as ${t.name}; give one "publishAs": "<another name>"`,
      )
    sources.add(source)
    published.set(t.name, t)
  }
  if (problems.length > 0) throw new Error(`lakesync stack parameters: ${problems.join('; ')}`)
  return out
}

/** With PreserveTransactions, where DMS writes every table's CDC_TXN files: <folder>/<cdcPath>/; else undefined. */
export function transactionPrefix(
  p: Pick<LakesyncParams, 'stagingFolder' | 'dmsFormat'>,
): string | undefined {
  const f = p.dmsFormat
  return f.preserveTransactions && f.cdcPath !== null ? `${p.stagingFolder}/${f.cdcPath}/` : undefined
}

/** The staging prefix DMS writes a table to and the Lambda reads: <folder>/<schema>/<table>/. */
export function tableStagingPrefix(p: Pick<LakesyncParams, 'stagingFolder'>, t: StackTable): string {
  return `${p.stagingFolder}/${t.schema}/${t.sourceName}/`
}

/**
 * A `tables` value: an array of entries, or a lakesync config object holding one (`{"tables": [...]}`, optionally
 * with the `format` the stack's dmsFormat must equal), or the JSON text of either. `where` names it in errors.
 */
function parseTablesValue(v: unknown, where: string, format: DmsFormat): TableEntry[] {
  let value = v
  if (typeof v === 'string') {
    try {
      value = JSON.parse(v)
    } catch (e) {
      throw new Error(`lakesync stack parameters: ${where} is not valid JSON: ${(e as Error).message}`)
    }
  }
  if (Array.isArray(value)) return value as TableEntry[]
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>
    for (const k of Object.keys(obj))
      if (k !== 'tables' && k !== 'format')
        throw new Error(
          `lakesync stack parameters: ${where} has ${JSON.stringify(k)}; the stack reads only "tables" (and "format", which must equal lakesync:dmsFormat)`,
        )
    if (obj.format !== undefined) {
      const theirs = parseDmsFormat(obj.format)
      if (JSON.stringify(theirs) !== JSON.stringify(format))
        throw new Error(
          `lakesync stack parameters: ${where} has a "format" other than lakesync:dmsFormat (${JSON.stringify(theirs)}); set lakesync:dmsFormat to it, so DMS writes what the Lambda reads`,
        )
    }
    if (obj.tables !== undefined) return obj.tables as TableEntry[]
  }
  throw new Error(
    `lakesync stack parameters: ${where} must be an array of table specs or an object {"tables": [...]}`,
  )
}

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
  positiveInt('leaseSeconds', p.leaseSeconds, 5, 3600)
  positiveInt('dbAllocatedStorageGb', p.dbAllocatedStorageGb, 20, 65_536)
  positiveInt('replicationAllocatedStorageGb', p.replicationAllocatedStorageGb, 5, 6144)
  positiveInt('cdcMaxBatchIntervalSeconds', p.cdcMaxBatchIntervalSeconds)
  positiveInt('cdcMinFileSizeKb', p.cdcMinFileSizeKb)
  positiveInt('dmsLobMaxSizeKb', p.dmsLobMaxSizeKb, 1, 102_400) // DMS's maximum (100 MB)
  positiveInt('dmsFullLoadCommitRate', p.dmsFullLoadCommitRate, 1, 50_000)
  if (p.batchSize > 10 && p.maxBatchingWindowSeconds === 0)
    problems.push(
      'batchSize above 10 needs maxBatchingWindowSeconds of at least 1 (an SQS event source rule)',
    )
  if (!LOG_RETENTION_DAYS.includes(p.logRetentionDays))
    problems.push(`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
  if (p.lambdaRuntime !== '22' && p.lambdaRuntime !== '24') problems.push('lambdaRuntime must be 22 or 24')
  if (p.tableFormat !== 'iceberg' && p.tableFormat !== 'hive')
    problems.push('tableFormat must be iceberg or hive')
  if (!/^[a-z_][a-z0-9_]*$/.test(p.glueDatabaseName))
    problems.push('glueDatabaseName must be lower case letters, digits and _')
  for (const k of ['stagingFolder', 'schemaName', 'tableName'] as const)
    if (!/^[A-Za-z0-9_.-]+$/.test(p[k])) problems.push(`${k} must be a plain name (letters, digits, _ . -)`)
  const dmsFormat = parseDmsFormat(p.dmsFormat)
  let tables = p.tables
  if (p.tablesFile !== undefined) {
    if (tables !== undefined) problems.push('tables and tablesFile: give the tables one way')
    else {
      let text: string
      try {
        text = readFileSync(resolve(p.tablesFile), 'utf8')
      } catch (e) {
        throw new Error(
          `lakesync stack parameters: tablesFile: cannot read ${p.tablesFile}: ${(e as Error).message}`,
        )
      }
      tables = parseTablesValue(text, `tablesFile ${p.tablesFile}`, dmsFormat)
    }
  }
  if (tables === undefined && p.tableName !== 'users')
    problems.push(
      'tableName: without tables the stack replicates the reference users table (users and users_features); list other tables in tables',
    )
  if (dmsFormat.preserveTransactions && p.datePartitionEnabled)
    problems.push(
      'datePartitionEnabled cannot be used with dmsFormat.preserveTransactions (DMS refuses both)',
    )
  if (tables !== undefined && p.tableName !== DEFAULT_PARAMS.tableName)
    problems.push('tableName is for the reference users table; with tables, list every table there')
  if (problems.length > 0) throw new Error(`lakesync stack parameters: ${problems.join('; ')}`)
  const out: LakesyncParams = { ...p, tables, finalPrefix: withSlash(p.finalPrefix), dmsFormat }
  stackTables(out) // throws naming every bad entry
  return out
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
    else if (name === 'tables') p[name] = v
    else if (typeof def === 'boolean') p[name] = parseBoolean(key, v)
    else if (typeof def === 'number') p[name] = parseNumber(key, v)
    else p[name] = String(v)
  }
  if (p.tables !== undefined)
    p.tables = parseTablesValue(p.tables, contextKey('tables'), parseDmsFormat(p.dmsFormat))
  return validateParams(p as unknown as LakesyncParams)
}
