/**
 * The whole pipeline in one stack: RDS PostgreSQL -> DMS -> staging bucket -> SQS -> merge Lambda -> final bucket +
 * Glue catalog. Environment-agnostic (no lookups): `cdk synth` runs offline; pin an account/region in bin/ to deploy.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import type { Construct } from 'constructs'
import { Catalog, FEATURES_TABLE } from './catalog.js'
import { type LakesyncParams, stagingPrefix } from './config.js'
import { GlueJob } from './glue-job.js'
import { Network } from './network.js'
import { Processing } from './processing.js'
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

  constructor(scope: Construct, id: string, props: LakesyncStackProps) {
    super(scope, id, props)
    const p = props.params
    const prefix = stagingPrefix(p)

    this.storage = new Storage(this, 'Storage', {
      stagingPrefix: prefix,
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
      schemaName: p.schemaName,
      tableName: p.tableName,
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
    this.catalog = new Catalog(this, 'Catalog', { databaseName: p.glueDatabaseName, locationUri: lakeUri })
    this.processing = new Processing(this, 'Processing', {
      stagingBucket,
      stagingPrefix: prefix,
      finalBucket,
      finalPrefix: p.finalPrefix,
      glueDatabaseName: p.glueDatabaseName,
      tableName: p.tableName,
      format: p.dmsFormat,
      stagingExpiryDays: p.stagingExpiryDays,
      runtime: p.lambdaRuntime,
      memoryMb: p.lambdaMemoryMb,
      timeoutSeconds: p.lambdaTimeoutSeconds,
      maxConcurrency: p.maxConcurrency,
      batchSize: p.batchSize,
      maxBatchingWindowSeconds: p.maxBatchingWindowSeconds,
      maxReceiveCount: p.maxReceiveCount,
      scheduleExpression: p.scheduleExpression,
      logRetentionDays: p.logRetentionDays,
      alarmTopicArn: p.alarmTopicArn,
    })

    // Scale-out: tables past the Lambda's routing thresholds run as this Glue job (same semantics and commit log).
    this.glueJob = new GlueJob(this, 'GlueJob', {
      stagingBucket,
      stagingPrefix: prefix,
      finalBucket,
      finalPrefix: p.finalPrefix,
      glueDatabaseName: p.glueDatabaseName,
      tableName: p.tableName,
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
    out('StagingUri', `s3://${stagingBucket.bucketName}/${prefix}`, 'the table folder DMS writes to')
    out('LakeUri', lakeUri, 'the lake: <table>/v=<version>/, users_features/v=<version>/, _lakesync/')
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
      `npx lakesync status --source s3://${stagingBucket.bucketName}/${prefix} --target ${lakeUri}`,
      'what has been applied so far',
    )
    out(
      'AthenaQuery',
      `SELECT city, state, users_by_city, login_rate_last_3_months_by_city FROM "${p.glueDatabaseName}"."${FEATURES_TABLE}" ORDER BY users_by_city DESC LIMIT 10`,
      'an example query (Athena, engine v3)',
    )
  }
}
