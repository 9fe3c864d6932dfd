/**
 * The whole pipeline in one stack: RDS PostgreSQL -> DMS -> staging bucket -> SQS -> merge Lambda -> final bucket +
 * Glue catalog, for every configured table (lib/config.ts: the reference users table, or a `tables` list): one DMS
 * task selecting them all, one queue and one function routing by each table's staging prefix, IAM scoped per table.
 * Environment-agnostic (no lookups): `cdk synth` runs offline; pin an account/region in bin/ to deploy.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import type { Construct } from 'constructs'
import { Catalog } from './catalog.js'
import { type LakesyncParams, stackTables, tableStagingPrefix, transactionPrefix } from './config.js'
import { GlueJob } from './glue-job.js'
import { Network } from './network.js'
import { catalogTables, Processing, type ProcessingTable, stagingPrefixes } from './processing.js'
import { Replication } from './replication.js'
import { SourceDatabase } from './source-database.js'
import { Storage } from './storage.js'

export interface LakesyncStackProps extends StackProps {
  params: LakesyncParams // validated (see config.ts)
}

export class LakesyncStack extends Stack {
  readonly storage: Storage
  readonly network: Network
  readonly database: SourceDatabase
  readonly replication: Replication
  readonly catalog: Catalog
  readonly processing: Processing
  readonly glueJob: GlueJob
  readonly tables: ProcessingTable[] // what the stack replicates, in configuration order

  constructor(scope: Construct, id: string, props: LakesyncStackProps) {
    super(scope, id, props)
    const p = props.params
    const tables = stackTables(p)
    this.tables = tables.map(
      (t): ProcessingTable => ({
        name: t.name,
        stagingPrefix: tableStagingPrefix(p, t),
        features: t.spec.features !== undefined,
        table: t.table,
      }),
    )

    // PreserveTransactions: every table's changes arrive in one CDC_TXN folder, which the function reads too.
    const txnPrefix = transactionPrefix(p)
    this.storage = new Storage(this, 'Storage', {
      stagingPrefixes: stagingPrefixes({ tables: this.tables, transactionPrefix: txnPrefix }),
      stagingExpiryDays: p.stagingExpiryDays,
      accessLogExpiryDays: p.accessLogExpiryDays,
    })
    const { stagingBucket, finalBucket } = this.storage
    this.network = new Network(this, 'Network', { logBucket: this.storage.logBucket })
    this.database = new SourceDatabase(this, 'Database', {
      vpc: this.network.vpc,
      subnets: this.network.subnets,
      instanceType: p.dbInstanceType,
      allocatedStorageGb: p.dbAllocatedStorageGb,
      multiAz: p.dbMultiAz,
      deletionProtection: p.deletionProtection,
      databaseName: p.databaseName,
    })
    this.replication = new Replication(this, 'Replication', {
      vpc: this.network.vpc,
      subnets: this.network.subnets,
      createDmsVpcRole: p.createDmsVpcRole,
      instanceClass: p.replicationInstanceClass,
      allocatedStorageGb: p.replicationAllocatedStorageGb,
      engineVersion: p.dmsEngineVersion,
      databaseName: p.databaseName,
      databaseSecret: this.database.secret,
      tables: tables.map((t) => ({ schema: t.schema, table: t.sourceName })),
      lob: { lobMaxSizeKb: p.dmsLobMaxSizeKb, fullLoadCommitRate: p.dmsFullLoadCommitRate },
      stagingBucket,
      stagingFolder: p.stagingFolder,
      format: p.dmsFormat,
      tuning: {
        cdcMaxBatchIntervalSeconds: p.cdcMaxBatchIntervalSeconds,
        cdcMinFileSizeKb: p.cdcMinFileSizeKb,
        datePartitionEnabled: p.datePartitionEnabled,
      },
    })
    this.database.allowFrom(this.replication.securityGroup)
    this.network.allowFrom(this.replication.securityGroup)

    const lakeUri = `s3://${finalBucket.bucketName}/${p.finalPrefix}`
    this.catalog = new Catalog(this, 'Catalog', {
      databaseName: p.glueDatabaseName,
      locationUri: lakeUri,
      tables: this.tables.flatMap(catalogTables),
      tableFormat: p.tableFormat,
    })
    this.processing = new Processing(this, 'Processing', {
      stagingBucket,
      finalBucket,
      finalPrefix: p.finalPrefix,
      glueDatabaseName: p.glueDatabaseName,
      tables: this.tables,
      ...(txnPrefix !== undefined ? { transactionPrefix: txnPrefix } : {}),
      format: p.dmsFormat,
      tableFormat: p.tableFormat,
      stagingExpiryDays: p.stagingExpiryDays,
      runtime: p.lambdaRuntime,
      memoryMb: p.lambdaMemoryMb,
      timeoutSeconds: p.lambdaTimeoutSeconds,
      maxConcurrency: p.maxConcurrency,
      batchSize: p.batchSize,
      maxBatchingWindowSeconds: p.maxBatchingWindowSeconds,
      maxReceiveCount: p.maxReceiveCount,
      scheduleExpression: p.scheduleExpression,
      sweepExpression: p.sweepExpression,
      leaseSeconds: p.leaseSeconds,
      logRetentionDays: p.logRetentionDays,
      alarmTopicArn: p.alarmTopicArn,
    })

    // Scale-out: tables past the Lambda's routing thresholds run as this Glue job (same semantics and commit log).
    this.glueJob = new GlueJob(this, 'GlueJob', {
      stagingBucket,
      finalBucket,
      finalPrefix: p.finalPrefix,
      glueDatabaseName: p.glueDatabaseName,
      tables: this.tables,
    })
    this.processing.function.addEnvironment('GLUE_JOB_NAME', this.glueJob.jobName)
    this.processing.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StartGlueJob',
        actions: ['glue:StartJobRun', 'glue:GetJobRuns'],
        resources: [this.glueJob.jobArn],
      }),
    )

    const out = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description })
    out('StagingBucketName', stagingBucket.bucketName, 'DMS writes its CSV files here')
    out('FinalBucketName', finalBucket.bucketName, 'the Parquet lake and its commit log')
    out('LogBucketName', this.storage.logBucket.bucketName, 'S3 access logs and VPC flow logs')
    // The reference deployment points at its one table folder; a `tables` deployment at the DMS root, which the CLI
    // reads with the same tables config (`--config`).
    const manyTables = p.tables !== undefined
    const sourceUri = `s3://${stagingBucket.bucketName}/${manyTables ? `${p.stagingFolder}/` : this.tables[0]!.stagingPrefix}`
    out(
      'StagingUri',
      sourceUri,
      manyTables ? 'the DMS root: one <schema>/<table>/ folder per table' : 'the table folder DMS writes to',
    )
    out(
      'Tables',
      tables
        .map((t) => `${t.schema}.${t.sourceName}${t.name === t.sourceName ? '' : ` as ${t.name}`}`)
        .join(', '),
      'the replicated tables (DMS selection rules, the merge function tables file)',
    )
    out(
      'LakeUri',
      lakeUri,
      'the lake: <table>/v=<version>/, <table>_features/v=<version>/ (tables with features), _lakesync/<table>/',
    )
    out('QueueUrl', this.processing.queue.queueUrl, 'staging notifications for the merge function')
    out(
      'DeadLetterQueueUrl',
      this.processing.deadLetterQueue.queueUrl,
      'notifications whose run kept failing',
    )
    out('GlueJobName', this.glueJob.jobName, 'the Spark job for tables too big for the Lambda')
    out('MergeFunctionName', this.processing.function.functionName, 'the merge Lambda')
    out('MergeLogGroupName', this.processing.logGroup.logGroupName, 'the merge Lambda logs')
    out('GlueDatabaseName', p.glueDatabaseName, 'the Glue database Athena reads')
    out('DatabaseEndpoint', this.database.instance.dbInstanceEndpointAddress, 'the source Postgres host')
    out('DatabaseSecurityGroupId', this.database.securityGroup.securityGroupId, 'allow a psql client here')
    out('VpcId', this.network.vpc.vpcId, 'the isolated VPC of the database and DMS')
    out('DatabaseSecretArn', this.database.secret.secretArn, 'the source Postgres credentials')
    out('ReplicationTaskArn', this.replication.task.ref, 'start it once the table exists')
    out(
      'StatusCommand',
      `npx lakesync status --source ${sourceUri} --target ${lakeUri}${manyTables ? ' --config <the tables config>' : ''}`,
      'what has been applied so far',
    )
    const featured = this.tables.find((t) => t.features)
    out(
      'AthenaQuery',
      featured
        ? `SELECT city, state, users_by_city, login_rate_last_3_months_by_city FROM "${p.glueDatabaseName}"."${catalogTables(featured)[1]}" ORDER BY users_by_city DESC LIMIT 10`
        : `SELECT * FROM "${p.glueDatabaseName}"."${this.tables[0]!.name}" LIMIT 10`,
      'an example query (Athena, engine v3)',
    )
  }
}
