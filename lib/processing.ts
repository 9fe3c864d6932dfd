/**
 * The merge pipeline: staging-bucket notifications (one filter per table's DMS folder) go to one SQS queue (with a
 * dead-letter queue and an alarm on its depth) that one merge Lambda consumes through an event source mapping; the
 * Lambda routes each notification to its table by key prefix (its tables file, one entry per table). An EventBridge
 * rule runs the daily refresh of every table, another the sweep (tables with files pending and no live lease).
 *
 * One writer per table is the commit protocol's job (claim by put-if-absent, commit by compare-and-swap, a lease
 * renewed while the holder works): a run that finds the table held fails its messages with their visibility set to
 * the lease's end (lambdas/retry.ts), and the holder re-lists after its commit. So concurrency is capped on the event source mapping (maximum concurrency, 2 at least) and not with
 * reserved concurrency 1, which throttles the poller's invocations and pushes healthy messages towards the DLQ.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Duration, Stack, Stage, Validations } from 'aws-cdk-lib'
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch'
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions'
import * as events from 'aws-cdk-lib/aws-events'
import * as targets from 'aws-cdk-lib/aws-events-targets'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources'
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as s3 from 'aws-cdk-lib/aws-s3'
import * as s3n from 'aws-cdk-lib/aws-s3-notifications'
import * as sns from 'aws-cdk-lib/aws-sns'
import * as sqs from 'aws-cdk-lib/aws-sqs'
import { Construct } from 'constructs'
import { featuresTableName } from '../etl/commit/layout.js'
import type { DmsFormat } from '../etl/types.js'
import { SWEEP_EVENT } from '../lambdas/sweep-event.js'
import { projectRoot } from './paths.js'

/** A table the merge function applies. */
export interface ProcessingTable {
  name: string // the published name: its tables-file key, lake folders, commit log and Glue tables
  stagingPrefix: string // the table's DMS folder, ending in /
  features: boolean // whether it publishes <name>_features
  table: Record<string, unknown> | undefined // the `table` of its Lambda config; undefined: the engine's users spec
}

/** The data a merge engine (the Lambda, the Glue job) may touch: each table's prefixes and catalog tables. */
export interface DataAccessProps {
  stagingBucket: s3.IBucket
  finalBucket: s3.IBucket
  finalPrefix: string // '' or ending in /
  glueDatabaseName: string
  tables: Pick<ProcessingTable, 'name' | 'stagingPrefix' | 'features'>[]
  transactionPrefix?: string // PreserveTransactions: <stagingFolder>/<cdcPath>/, every table's CDC_TXN files
}

export interface ProcessingProps extends DataAccessProps {
  tables: ProcessingTable[]
  format: DmsFormat
  tableFormat: 'iceberg' | 'hive' // each table's publish.tableFormat
  stagingExpiryDays: number
  runtime: '22' | '24'
  memoryMb: number
  timeoutSeconds: number
  maxConcurrency: number
  batchSize: number
  maxBatchingWindowSeconds: number
  maxReceiveCount: number
  scheduleExpression: string
  sweepExpression: string // the sweep's schedule
  leaseSeconds: number // LEASE_SECONDS of the function
  logRetentionDays: number
  alarmTopicArn: string | undefined
}

/** Where the bundle finds data/ (city_to_state.csv, city_aliases.json): copied beside the handler. */
export const LAMBDA_DATA_DIR = '/var/task/data'

/**
 * Where the bundle finds its tables (LAKESYNC_TABLES_FILE): every table's config is shipped in the code, not in the
 * environment, whose 4 KB would cap a deployment at a handful of tables.
 */
export const LAMBDA_TABLES_FILE = '/var/task/tables.json'

/**
 * Writes the function's tables file into the cloud assembly, named by its content (the bundling step copies it beside
 * the handler), and returns its path.
 */
function writeTablesFile(scope: Construct, json: string): string {
  const dir = join(Stage.of(scope)?.outdir ?? '.', 'lakesync-tables')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${createHash('sha256').update(json).digest('hex').slice(0, 16)}.json`)
  writeFileSync(file, json)
  return file
}

const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);"

export class Processing extends Construct {
  readonly queue: sqs.Queue
  readonly deadLetterQueue: sqs.Queue
  readonly function: nodejs.NodejsFunction
  readonly logGroup: logs.LogGroup
  readonly dlqAlarm: cloudwatch.Alarm
  readonly errorsAlarm: cloudwatch.Alarm
  readonly schedule: events.Rule
  readonly sweep: events.Rule
  readonly tablesFile: string // the tables file bundled as LAMBDA_TABLES_FILE (in the cloud assembly)

  constructor(scope: Construct, id: string, props: ProcessingProps) {
    super(scope, id)
    const root = projectRoot()
    const stack = Stack.of(this)
    const timeout = Duration.seconds(props.timeoutSeconds)

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    })
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS guidance for SQS event sources: at least 6x the function timeout, plus the batching window.
      visibilityTimeout: Duration.seconds(6 * props.timeoutSeconds + props.maxBatchingWindowSeconds),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    })
    const destination = new s3n.SqsDestination(this.queue)
    for (const prefix of stagingPrefixes(props))
      props.stagingBucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, { prefix })
    acknowledgeNotificationsHandler(stack)

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
    })
    this.logGroup = logGroup
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        "lakesync merge function: reads each table's staging prefix, writes its lake prefixes and catalog tables",
    })
    logGroup.grantWrite(role)
    for (const statement of mergeFunctionStatements(props, stack)) role.addToPolicy(statement)
    acknowledgeDataAccess(role, props, {
      staging: (prefix) =>
        `Object ARNs of the files DMS writes, which the function cannot know in advance: read-only (s3:GetObject) and limited to the staging prefix ${prefix} (a table's folder, or the CDC_TXN folder every table reads).`,
      lake: (prefix) =>
        `The function owns this table's part of the lake, ${prefix}: it writes version folders, commit records and snapshots whose names are chosen at run time (get/put/delete object, no bucket-level action).`,
    })

    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
    const tablesJson = JSON.stringify(
      Object.fromEntries(
        props.tables.map((t) => [
          t.name,
          {
            stagingPrefix: t.stagingPrefix,
            config: {
              format: props.format,
              ...(t.table ? { table: t.table } : {}),
              publish: { tableFormat: props.tableFormat },
            },
          },
        ]),
      ),
      null,
      1,
    )
    this.tablesFile = writeTablesFile(this, tablesJson)
    this.function = new nodejs.NodejsFunction(this, 'Merge', {
      entry: join(root, 'lambdas', 'merge.ts'),
      handler: 'handler',
      projectRoot: root,
      depsLockFilePath: join(root, 'package-lock.json'),
      runtime: props.runtime === '24' ? lambda.Runtime.NODEJS_24_X : lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout,
      role,
      logGroup,
      description:
        'lakesync: applies DMS files to the Parquet lake (SQS notifications and the daily refresh)',
      environment: {
        STAGING_BUCKET: props.stagingBucket.bucketName,
        FINAL_BUCKET: props.finalBucket.bucketName,
        FINAL_PREFIX: props.finalPrefix,
        GLUE_DATABASE: props.glueDatabaseName,
        LAKESYNC_TABLES_FILE: LAMBDA_TABLES_FILE,
        STAGING_EXPIRY_DAYS: String(props.stagingExpiryDays),
        QUEUE_URL: this.queue.queueUrl,
        MAX_RECEIVE_COUNT: String(props.maxReceiveCount),
        LEASE_SECONDS: String(props.leaseSeconds),
        LAKESYNC_DATA_DIR: LAMBDA_DATA_DIR,
        LAKESYNC_VERSION: pkg.version,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: `node${props.runtime}`,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the AWS SDK too: the commit protocol needs conditional writes (If-Match), so the SDK version the
        // engine is tested with ships with it instead of whatever the runtime provides.
        externalModules: [],
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => [
            `cp -R "${inputDir}/data" "${outputDir}/data"`,
            `cp "${this.tablesFile}" "${outputDir}/tables.json"`,
          ],
        },
      },
    })
    if (props.runtime === '22')
      Validations.of(this.function).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22.x is pinned on purpose: the esbuild bundle targets node22 and the engine is tested on Node 20/22; lakesync:lambdaRuntime=24 switches runtime and bundle target together.',
      })

    this.node.addValidation({ validate: () => environmentProblems(stack, this.function) })

    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize,
        maxBatchingWindow: Duration.seconds(props.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    )

    // The handler runs every configured table on this event (lambdas/merge.ts), so every table with features gets
    // its 90-day rate for the new date, and every table is vacuumed.
    this.schedule = new events.Rule(this, 'DailyRefresh', {
      description: 'lakesync daily refresh: the 90-day login rate moves with the date',
      schedule: events.Schedule.expression(props.scheduleExpression),
    })
    this.schedule.addTarget(new targets.LambdaFunction(this.function, { retryAttempts: 2 }))
    // A dead run's table is picked up here when no message of it returns (lambdas/merge.ts sweep).
    this.sweep = new events.Rule(this, 'Sweep', {
      description: 'lakesync sweep: runs tables with files pending and no live lease',
      schedule: events.Schedule.expression(props.sweepExpression),
    })
    this.sweep.addTarget(
      new targets.LambdaFunction(this.function, { event: events.RuleTargetInput.fromObject(SWEEP_EVENT) }),
    )

    this.dlqAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: 'lakesync: notifications reached the dead-letter queue (a table run keeps failing)',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    })
    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: 'lakesync: the merge function failed (a rejected file or the daily refresh)',
      metric: this.function.metricErrors({ period: Duration.minutes(15) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    })
    if (props.alarmTopicArn) {
      const topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
      for (const alarm of [this.dlqAlarm, this.errorsAlarm])
        alarm.addAlarmAction(new cwActions.SnsAction(topic))
    }
  }
}

/** Lambda's limit on the environment, keys and values together. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096

/**
 * The function's environment must fit Lambda's 4 KB, or the deployment fails late: checked at synth, counting a
 * value known only at deploy time (a bucket or job name) as 128 bytes. The table configs are not in it (the tables
 * file), so this is a guard on the fixed variables.
 */
function environmentProblems(stack: Stack, fn: lambda.Function): string[] {
  const cfn = fn.node.defaultChild as lambda.CfnFunction
  const env = (stack.resolve(cfn.environment) ?? {}) as { variables?: Record<string, unknown> }
  const vars = env.variables ?? {}
  let size = 0
  for (const [k, v] of Object.entries(vars))
    size += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 128)
  if (size <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return []
  return [
    `the merge function's environment needs about ${size} bytes, over Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}`,
  ]
}

/**
 * CDK's bucket-notifications custom resource: a singleton Lambda (one per stack, created by addEventNotification)
 * that calls PutBucketNotificationConfiguration while the stack deploys.
 */
function acknowledgeNotificationsHandler(stack: Stack): void {
  for (const child of stack.node.children)
    if (child.node.id.startsWith('BucketNotificationsHandler'))
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's BucketNotificationsHandler custom resource (runs only during deployments) writes its own logs with the basic execution policy; CDK creates its role and offers no way to replace it.",
      })
}

/** What the engine reads in the staging bucket: each table's folder, and the CDC_TXN folder of PreserveTransactions. */
export function stagingPrefixes(props: Pick<DataAccessProps, 'tables' | 'transactionPrefix'>): string[] {
  return [
    ...props.tables.map((t) => t.stagingPrefix),
    ...(props.transactionPrefix !== undefined ? [props.transactionPrefix] : []),
  ]
}

/** The lake prefixes of a table: its version folders, its features' (when it has features) and its commit log. */
export function lakePrefixes(finalPrefix: string, t: Pick<ProcessingTable, 'name' | 'features'>): string[] {
  return [
    `${finalPrefix}${t.name}/`,
    ...(t.features ? [`${finalPrefix}${featuresTableName(t.name)}/`] : []),
    `${finalPrefix}_lakesync/${t.name}/`,
  ]
}

/** The Glue tables a table publishes: itself and, with features, <name>_features. */
export function catalogTables(t: Pick<ProcessingTable, 'name' | 'features'>): string[] {
  return [t.name, ...(t.features ? [featuresTableName(t.name)] : [])]
}

/**
 * The merge engine's data permissions (the Lambda's and the Glue job's alike), least privilege per table: list and
 * read only each table's staging prefix; read, write and delete only under each table's lake prefixes (etl/commit/
 * layout.ts: every path of a table starts with its own name); the Glue database and each table's catalog tables
 * only. No wildcard action.
 */
export function mergeFunctionStatements(props: DataAccessProps, stack: Stack): iam.PolicyStatement[] {
  const glue = (resource: string) => stack.formatArn({ service: 'glue', resource })
  const db = props.glueDatabaseName
  const staging = stagingPrefixes(props)
  const lake = props.tables.flatMap((t) => lakePrefixes(props.finalPrefix, t))
  return [
    new iam.PolicyStatement({
      sid: 'ListStagingPrefix',
      actions: ['s3:ListBucket'],
      resources: [props.stagingBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': staging.map((p) => `${p}*`) } },
    }),
    new iam.PolicyStatement({
      sid: 'ReadStagingPrefix',
      actions: ['s3:GetObject'],
      resources: staging.map((p) => props.stagingBucket.arnForObjects(`${p}*`)),
    }),
    new iam.PolicyStatement({
      sid: 'ListFinalPrefix',
      actions: ['s3:ListBucket'],
      resources: [props.finalBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': lake.map((p) => `${p}*`) } },
    }),
    new iam.PolicyStatement({
      sid: 'WriteFinalPrefix',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: lake.map((p) => props.finalBucket.arnForObjects(`${p}*`)),
    }),
    new iam.PolicyStatement({
      sid: 'GlueCatalog',
      actions: [
        'glue:GetDatabase',
        'glue:CreateDatabase',
        'glue:GetTable',
        'glue:CreateTable',
        'glue:UpdateTable',
      ],
      resources: [
        glue('catalog'),
        glue(`database/${db}`),
        ...props.tables.flatMap(catalogTables).map((name) => glue(`table/${db}/${name}`)),
      ],
    }),
  ]
}

/**
 * cdk-nag's IAM5 findings of mergeFunctionStatements, acknowledged one by one: each object ARN that ends in `*`
 * (one per staging prefix, one per lake prefix), with a reason naming its prefix.
 */
export function acknowledgeDataAccess(
  role: iam.IRole,
  props: DataAccessProps,
  reasons: { staging: (prefix: string) => string; lake: (prefix: string) => string },
): void {
  const stack = Stack.of(role)
  const bucketId = (b: s3.IBucket) => stack.getLogicalId(b.node.defaultChild as s3.CfnBucket)
  const finding = (b: s3.IBucket, prefix: string) =>
    `AwsSolutions-IAM5[Resource::<${bucketId(b)}.Arn>/${prefix}*]`
  Validations.of(role).acknowledge(
    ...stagingPrefixes(props).map((prefix) => ({
      id: finding(props.stagingBucket, prefix),
      reason: reasons.staging(prefix),
    })),
    ...props.tables
      .flatMap((t) => lakePrefixes(props.finalPrefix, t))
      .map((prefix) => ({ id: finding(props.finalBucket, prefix), reason: reasons.lake(prefix) })),
  )
}
