/**
 * The merge pipeline: staging-bucket notifications go to an SQS queue (with a dead-letter queue and an alarm on its
 * depth) that the merge Lambda consumes through an event source mapping; an EventBridge rule runs the daily refresh.
 *
 * One writer per table is the commit protocol's job (claim by put-if-absent, commit by compare-and-swap): a run that
 * finds the table claimed returns successfully and leaves the files to the claim holder, which re-lists after its
 * commit. So concurrency is capped on the event source mapping (maximum concurrency, 2 at least) and not with
 * reserved concurrency 1, which throttles the poller's invocations and pushes healthy messages towards the DLQ.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Duration, Stack, Validations } from 'aws-cdk-lib'
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
import type { DmsFormat } from '../etl/types.js'
import { FEATURES_TABLE } from './catalog.js'
import { projectRoot } from './paths.js'

export interface ProcessingProps {
  stagingBucket: s3.IBucket
  stagingPrefix: string // the table's DMS folder, ending in /
  finalBucket: s3.IBucket
  finalPrefix: string // '' or ending in /
  glueDatabaseName: string
  tableName: string
  format: DmsFormat
  stagingExpiryDays: number
  runtime: '22' | '24'
  memoryMb: number
  timeoutSeconds: number
  maxConcurrency: number
  batchSize: number
  maxBatchingWindowSeconds: number
  maxReceiveCount: number
  scheduleExpression: string
  logRetentionDays: number
  alarmTopicArn: string | undefined
}

/** Where the bundle finds data/ (city_to_state.csv, city_aliases.json): copied beside the handler. */
export const LAMBDA_DATA_DIR = '/var/task/data'

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
    props.stagingBucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.SqsDestination(this.queue),
      {
        prefix: props.stagingPrefix,
      },
    )
    acknowledgeNotificationsHandler(stack)

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
    })
    this.logGroup = logGroup
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        'lakesync merge function: reads the staging prefix, writes the final bucket and its catalog',
    })
    logGroup.grantWrite(role)
    for (const statement of mergeFunctionStatements(props, stack)) role.addToPolicy(statement)
    const bucketId = (b: s3.IBucket) => stack.getLogicalId(b.node.defaultChild as s3.CfnBucket)
    Validations.of(role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId(props.stagingBucket)}.Arn>/${props.stagingPrefix}*]`,
        reason: `Object ARNs of the files DMS writes, which the function cannot know in advance: read-only (s3:GetObject) and limited to the table's staging prefix ${props.stagingPrefix}.`,
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId(props.finalBucket)}.Arn>/${props.finalPrefix}*]`,
        reason: `The function owns the lake under ${props.finalPrefix || 'the bucket root'} of the final bucket: it writes new version folders and commit records whose names are chosen at run time (get/put/delete object, no bucket-level action).`,
      },
    )

    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
    const tables = {
      [props.tableName]: { stagingPrefix: props.stagingPrefix, config: { format: props.format } },
    }
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
        LAKESYNC_TABLES: JSON.stringify(tables),
        STAGING_EXPIRY_DAYS: String(props.stagingExpiryDays),
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

    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize,
        maxBatchingWindow: Duration.seconds(props.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    )

    this.schedule = new events.Rule(this, 'DailyRefresh', {
      description: 'lakesync daily refresh: the 90-day login rate moves with the date',
      schedule: events.Schedule.expression(props.scheduleExpression),
    })
    this.schedule.addTarget(new targets.LambdaFunction(this.function, { retryAttempts: 2 }))

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

/** What the data permissions are scoped to. */
export type DataAccessProps = Pick<
  ProcessingProps,
  'stagingBucket' | 'stagingPrefix' | 'finalBucket' | 'finalPrefix' | 'glueDatabaseName' | 'tableName'
>

/**
 * The merge engine's data permissions (the Lambda's and the Glue job's alike), least privilege: list and read only
 * the table's staging prefix; read, write and delete only under the final prefix; the Glue database and its two
 * tables only. No wildcard action.
 */
export function mergeFunctionStatements(props: DataAccessProps, stack: Stack): iam.PolicyStatement[] {
  const glue = (resource: string) => stack.formatArn({ service: 'glue', resource })
  const db = props.glueDatabaseName
  return [
    new iam.PolicyStatement({
      sid: 'ListStagingPrefix',
      actions: ['s3:ListBucket'],
      resources: [props.stagingBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${props.stagingPrefix}*`] } },
    }),
    new iam.PolicyStatement({
      sid: 'ReadStagingPrefix',
      actions: ['s3:GetObject'],
      resources: [props.stagingBucket.arnForObjects(`${props.stagingPrefix}*`)],
    }),
    new iam.PolicyStatement({
      sid: 'ListFinalPrefix',
      actions: ['s3:ListBucket'],
      resources: [props.finalBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${props.finalPrefix}*`] } },
    }),
    new iam.PolicyStatement({
      sid: 'WriteFinalPrefix',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: [props.finalBucket.arnForObjects(`${props.finalPrefix}*`)],
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
        glue(`table/${db}/${props.tableName}`),
        glue(`table/${db}/${FEATURES_TABLE}`),
      ],
    }),
  ]
}
