/**
 * What `cdk deploy` would create, checked on the synthesized template (no AWS account, no bundling): the database's
 * logical replication, DMS settings derived from DmsFormat, the notification -> queue -> function wiring, encryption,
 * public access, and IAM statements without wildcards on the data buckets.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_DMS_FORMAT } from '../../etl/dms/format.js'
import type { DmsFormat } from '../../etl/types.js'
import { SWEEP_EVENT } from '../../lambdas/sweep-event.js'
import { DEFAULT_PARAMS, paramsFromContext } from '../../lib/config.js'
import { type Json, removeOutdirs, synthTemplate, synthWithTables } from './synth.js'

/** The merge function (the stack also holds CDK's bucket-notifications handler). */
const MERGE = { Properties: { Description: Match.stringLikeRegexp('^lakesync: applies DMS files') } }

const only = (t: Template, type: string, props: Json = {}): [string, Json] => {
  const found = Object.entries(t.findResources(type, props))
  expect(found, `${type} ${JSON.stringify(props)}`).toHaveLength(1)
  return found[0] as [string, Json]
}

/** The reader's view of a synthesized S3 target endpoint: the DmsFormat fields DMS settings decide. */
function formatOf(s3: Json): Partial<DmsFormat> {
  expect(s3.DataFormat).toBe('csv')
  return {
    includeOpForFullLoad: s3.IncludeOpForFullLoad,
    addColumnName: s3.AddColumnName,
    timestampColumnName: s3.TimestampColumnName ?? null,
    csvDelimiter: s3.CsvDelimiter,
    csvNullValue: s3.CsvNullValue ?? null,
    datePartitionTimezone: s3.DatePartitionTimezone ?? null,
    cdcInsertsOnly: s3.CdcInsertsOnly,
    cdcInsertsAndUpdates: s3.CdcInsertsAndUpdates,
    useCsvNoSupValue: s3.UseCsvNoSupValue ?? false,
    csvNoSupValue: s3.CsvNoSupValue ?? null,
    rfc4180: s3.Rfc4180,
    csvRowDelimiter: s3.CsvRowDelimiter,
  }
}

function pick(f: DmsFormat): Partial<DmsFormat> {
  const { includeOpForFullLoad, addColumnName, timestampColumnName, csvDelimiter, csvNullValue } = f
  const { datePartitionTimezone } = f
  const { cdcInsertsOnly, cdcInsertsAndUpdates, useCsvNoSupValue, csvNoSupValue, rfc4180, csvRowDelimiter } =
    f
  return {
    ...{ includeOpForFullLoad, addColumnName, timestampColumnName, csvDelimiter, csvNullValue },
    ...{ cdcInsertsOnly, cdcInsertsAndUpdates, useCsvNoSupValue, csvNoSupValue, rfc4180, csvRowDelimiter },
    datePartitionTimezone,
  }
}

/** Every statement of every IAM policy in the template. */
function statements(t: Template): { policy: string; s: Json }[] {
  return Object.entries(t.findResources('AWS::IAM::Policy')).flatMap(([policy, r]: [string, Json]) =>
    (r.Properties.PolicyDocument.Statement as Json[]).map((s) => ({ policy, s })),
  )
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])

describe('lakesync stack (defaults)', () => {
  let t: Template
  let tables: Json // the merge function's tables file
  let ids: { staging: string; final: string; logs: string; queue: string; dlq: string; merge: string }

  beforeAll(() => {
    ;({ template: t, tables } = synthWithTables())
    const bucketId = (id: string) =>
      Object.keys(t.findResources('AWS::S3::Bucket')).find((k) => k.includes(id))!
    const [queue] = only(t, 'AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } })
    const [dlq] = only(t, 'AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.absent() } })
    const [merge] = only(t, 'AWS::Lambda::Function', MERGE)
    ids = {
      staging: bucketId('Staging'),
      final: bucketId('Final'),
      logs: bucketId('Logs'),
      queue,
      dlq,
      merge,
    }
  })

  it('creates each part once', () => {
    t.resourceCountIs('AWS::S3::Bucket', 3)
    t.resourceCountIs('AWS::RDS::DBInstance', 1)
    t.resourceCountIs('AWS::DMS::ReplicationInstance', 1)
    t.resourceCountIs('AWS::DMS::ReplicationSubnetGroup', 1)
    t.resourceCountIs('AWS::DMS::Endpoint', 2)
    t.resourceCountIs('AWS::DMS::ReplicationTask', 1)
    t.resourceCountIs('AWS::SQS::Queue', 2)
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1)
    t.resourceCountIs('AWS::Events::Rule', 2) // the daily refresh and the sweep
    t.resourceCountIs('AWS::CloudWatch::Alarm', 2)
    t.resourceCountIs('AWS::Glue::Database', 1)
    t.resourceCountIs('AWS::Glue::Table', 2) // users and users_features: shells the merge function fills
    t.resourceCountIs('AWS::IAM::Role', 6) // incl. the Glue job's
  })

  it('creates users and users_features as Iceberg Glue tables whose metadata location the function owns', () => {
    const glueTables = Object.values(t.findResources('AWS::Glue::Table')) as Json[]
    const inputs = glueTables.map((r) => r.Properties.TableInput)
    expect(inputs.map((i) => i.Name).sort()).toEqual(['users', 'users_features'])
    for (const r of glueTables) expect(r.Properties.DatabaseName).toBe('lakesync')
    for (const i of inputs) {
      expect(i.TableType).toBe('EXTERNAL_TABLE')
      expect(i.Parameters).toEqual({ table_type: 'ICEBERG' })
      // The table root in the final bucket: `<lake>/<name>`, whose metadata/ folder the function writes.
      expect(JSON.stringify(i.StorageDescriptor.Location)).toContain(`/lake/${i.Name}"`)
      // Nothing a later stack update could roll back: the columns and metadata_location come from the function.
      expect(i.StorageDescriptor.Columns).toBeUndefined()
    }
    // Created after the database they belong to.
    const [dbId] = Object.keys(t.findResources('AWS::Glue::Database'))
    for (const r of glueTables) expect(r.DependsOn).toContain(dbId)
    // The function's config asks for the same format.
    for (const entry of Object.values(tables) as Json[])
      expect(entry.config.publish).toEqual({ tableFormat: 'iceberg' })
  })

  it('has the scale-out Glue job: script asset, bookmarks off, and the Lambda may start only that job', () => {
    t.resourceCountIs('AWS::Glue::Job', 1)
    t.hasResourceProperties('AWS::Glue::Job', {
      Command: Match.objectLike({ Name: 'glueetl', PythonVersion: '3' }),
      GlueVersion: '5.1', // Spark 3.5.6, the pyspark the conformance tests pin
      DefaultArguments: Match.objectLike({ '--job-bookmark-option': 'job-bookmark-disable' }),
      WorkerType: 'G.1X',
      NumberOfWorkers: 4,
    })
    // Nothing is fetched from PyPI at job start (a job in a private subnet without NAT must start): no pip modules.
    const [job] = Object.values(t.findResources('AWS::Glue::Job')) as Json[]
    expect(job.Properties.DefaultArguments).not.toHaveProperty('--additional-python-modules')
    expect(JSON.stringify(t.toJSON())).not.toMatch(/additional-python-modules|python-modules-installer|pypi/i)
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'StartGlueJob', Action: ['glue:GetJobRuns', 'glue:StartJobRun'] }),
        ]),
      },
    })
  })

  it('has a private network: isolated subnets, no NAT or internet gateway, S3 and Secrets Manager endpoints', () => {
    t.resourceCountIs('AWS::EC2::NatGateway', 0)
    t.resourceCountIs('AWS::EC2::InternetGateway', 0)
    t.resourceCountIs('AWS::EC2::Subnet', 2)
    t.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false })
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3'])]) }),
    })
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.secretsmanager'])]) }),
    })
    t.hasResourceProperties('AWS::EC2::FlowLog', { LogDestinationType: 's3' })
  })

  it('runs PostgreSQL 17 with logical replication, encrypted, private, backed up and protected', () => {
    t.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres17',
      Parameters: { 'rds.logical_replication': '1' },
    })
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: '17',
      StorageEncrypted: true,
      PubliclyAccessible: false,
      BackupRetentionPeriod: 7,
      DeletionProtection: true,
      DBParameterGroupName: { Ref: Match.stringLikeRegexp('DatabaseParameters') },
    })
    t.resourceCountIs('AWS::SecretsManager::Secret', 1)
  })

  it('derives the S3 target endpoint settings from DEFAULT_DMS_FORMAT', () => {
    const [, target] = only(t, 'AWS::DMS::Endpoint', { Properties: { EndpointType: 'target' } })
    const s3 = target.Properties.S3Settings
    expect(formatOf(s3)).toEqual(pick(DEFAULT_DMS_FORMAT))
    expect(s3).not.toHaveProperty('CsvNullValue') // null: DMS's default, NULL as an empty unquoted field
    expect(s3).toMatchObject({
      BucketName: { Ref: ids.staging },
      BucketFolder: 'dms',
      CdcMaxBatchInterval: DEFAULT_PARAMS.cdcMaxBatchIntervalSeconds,
      CdcMinFileSize: DEFAULT_PARAMS.cdcMinFileSizeKb,
      DatePartitionEnabled: false,
      EncryptionMode: 'SSE_S3',
      Rfc4180: true,
    })
    // The function reads with the very same format.
    expect(tables.users.config.format).toEqual(DEFAULT_DMS_FORMAT)
  })

  it('reads the source through the secret with the regional DMS principal, and replicates public.users', () => {
    const [roleId] = only(t, 'AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [
            Match.objectLike({
              Principal: {
                Service: { 'Fn::Join': ['', ['dms.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            }),
          ],
        },
      },
    })
    t.hasResourceProperties('AWS::DMS::Endpoint', {
      EndpointType: 'source',
      EngineName: 'postgres',
      SslMode: 'require',
      PostgreSqlSettings: Match.objectLike({
        SecretsManagerAccessRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
        SecretsManagerSecretId: Match.anyValue(),
      }),
    })
    t.hasResourceProperties('AWS::DMS::ReplicationInstance', {
      PubliclyAccessible: false,
      EngineVersion: '3.6.1',
    })
    const [, task] = only(t, 'AWS::DMS::ReplicationTask')
    expect(task.Properties.MigrationType).toBe('full-load-and-cdc')
    expect(JSON.parse(task.Properties.TableMappings).rules).toEqual([
      expect.objectContaining({
        'rule-type': 'selection',
        'rule-action': 'include',
        'object-locator': { 'schema-name': 'public', 'table-name': 'users' },
      }),
    ])
    t.hasResourceProperties('AWS::IAM::Role', { RoleName: 'dms-vpc-role' })
  })

  it('wires staging notifications -> queue -> function with partial batch failures and capped concurrency', () => {
    t.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: ids.staging },
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            QueueArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'dms/public/users/' }] } },
          },
        ],
      },
    })
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
      FunctionName: { Ref: ids.merge },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    })
    // Concurrency is capped on the mapping, never by reserved concurrency (throttles redrive healthy messages).
    const [, merge] = only(t, 'AWS::Lambda::Function', MERGE)
    expect(merge.Properties).not.toHaveProperty('ReservedConcurrentExecutions')
    expect(merge.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] })
    expect(merge.Properties).not.toHaveProperty('VpcConfig')

    const [, queue] = only(t, 'AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } })
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * merge.Properties.Timeout)
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] },
      maxReceiveCount: 5,
    })
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
      Threshold: 1,
    })
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(15 0 * * ? *)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [ids.merge, 'Arn'] } })],
    })
  })

  it("sweeps every 15 minutes, and lets the function return a busy table's messages when its lease ends", () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [ids.merge, 'Arn'] }, Input: JSON.stringify(SWEEP_EVENT) }),
      ],
    })
    const [, merge] = only(t, 'AWS::Lambda::Function', MERGE)
    expect(merge.Properties.Environment.Variables).toMatchObject({
      QUEUE_URL: { Ref: ids.queue },
      MAX_RECEIVE_COUNT: '5',
      LEASE_SECONDS: '60',
    })
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:ChangeMessageVisibility']),
            Resource: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
          }),
        ]),
      },
    })
    const swept = synthTemplate({
      'lakesync:sweepExpression': 'rate(5 minutes)',
      'lakesync:leaseSeconds': '30',
    })
    swept.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' })
    swept.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ LEASE_SECONDS: '30' }) },
    })
  })

  it('configures the function like lambdas/config.ts documents, consistent with the lifecycle rule', () => {
    const [, merge] = only(t, 'AWS::Lambda::Function', MERGE)
    const env = merge.Properties.Environment.Variables
    expect(env).toMatchObject({
      STAGING_BUCKET: { Ref: ids.staging },
      FINAL_BUCKET: { Ref: ids.final },
      FINAL_PREFIX: 'lake/',
      GLUE_DATABASE: 'lakesync',
      LAKESYNC_DATA_DIR: '/var/task/data',
      LAKESYNC_TABLES_FILE: '/var/task/tables.json',
    })
    expect(Object.keys(tables)).toEqual(['users'])
    const rules: Json[] = t.toJSON().Resources[ids.staging].Properties.LifecycleConfiguration.Rules
    const expiry = rules.find((r) => r.ExpirationInDays !== undefined)
    expect(expiry).toMatchObject({ Prefix: tables.users.stagingPrefix, Status: 'Enabled' })
    expect(String(expiry.ExpirationInDays)).toBe(env.STAGING_EXPIRY_DAYS)
  })

  it('encrypts everything at rest, blocks public access and refuses plain HTTP', () => {
    t.allResourcesProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    })
    for (const id of [ids.staging, ids.final, ids.logs])
      t.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      })
    for (const id of [ids.staging, ids.final])
      expect(t.toJSON().Resources[id].Properties.LoggingConfiguration).toMatchObject({
        DestinationBucketName: { Ref: ids.logs },
      })
    t.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true })
    t.hasResourceProperties('AWS::RDS::DBInstance', { StorageEncrypted: true })
  })

  it('grants no wildcard action, no * resource, and only table-prefix-scoped access to the data buckets', () => {
    const all = statements(t)
    expect(all.length).toBeGreaterThan(5)
    for (const { policy, s } of all) {
      for (const a of list<string>(s.Action)) expect(a, `${policy}: ${a}`).not.toContain('*')
      for (const r of list<Json>(s.Resource)) expect(r, policy).not.toBe('*')
    }
    // The merge function: read the staging prefix, write the final prefix, nothing else on the data buckets.
    const onBucket = (id: string) =>
      all
        .filter(({ policy }) => policy.startsWith('ProcessingRole'))
        .flatMap(({ s }) =>
          list<Json>(s.Resource)
            .filter((r) => JSON.stringify(r).includes(`"${id}"`))
            .map((r) => ({
              actions: list<string>(s.Action).sort(),
              resource: r['Fn::Join'] ? r['Fn::Join'][1][1] : 'bucket',
              prefix: s.Condition?.StringLike?.['s3:prefix'],
            })),
        )
    expect(onBucket(ids.staging)).toEqual([
      { actions: ['s3:ListBucket'], resource: 'bucket', prefix: ['dms/public/users/*'] },
      { actions: ['s3:GetObject'], resource: '/dms/public/users/*', prefix: undefined },
    ])
    // The lake: only the users table's folders (its versions, its features' and its commit log), not all of lake/.
    const lake = ['lake/users/', 'lake/users_features/', 'lake/_lakesync/users/']
    expect(onBucket(ids.final)).toEqual([
      { actions: ['s3:ListBucket'], resource: 'bucket', prefix: lake.map((p) => `${p}*`) },
      ...['/lake/_lakesync/users/*', '/lake/users/*', '/lake/users_features/*'].map((resource) => ({
        actions: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        resource,
        prefix: undefined,
      })),
    ])
    // Glue: the database and its two tables only.
    const glue = all.find(({ s }) => list<string>(s.Action).includes('glue:UpdateTable'))!.s
    const arns = list<Json>(glue.Resource).map((r) => (r['Fn::Join'][1] as Json[]).at(-1))
    expect(arns).toEqual([
      ':catalog',
      ':database/lakesync',
      ':table/lakesync/users',
      ':table/lakesync/users_features',
    ])
  })

  it('outputs the bucket names, queue, Glue database and an Athena query', () => {
    for (const name of [
      'StagingBucketName',
      'FinalBucketName',
      'QueueUrl',
      'GlueDatabaseName',
      'AthenaQuery',
    ])
      t.hasOutput(name, {})
    t.hasOutput('AthenaQuery', { Value: Match.stringLikeRegexp('FROM "lakesync"."users_features"') })
  })
})

describe('lakesync stack parameters', () => {
  it('maps another DmsFormat onto the endpoint and adds the change-sequence column to the table mappings', () => {
    const format: DmsFormat = {
      ...DEFAULT_DMS_FORMAT,
      includeOpForFullLoad: true,
      addColumnName: true,
      timestampColumnName: 'commit_ts',
      csvDelimiter: '|',
      csvNullValue: 'NULL',
      changeSequenceColumnName: 'change_seq',
      orderChangesBy: 'changeSequence',
      datePartitionTimezone: 'Europe/Paris',
    }
    const t = synthTemplate({
      'lakesync:dmsFormat': JSON.stringify(format),
      'lakesync:createDmsVpcRole': 'false',
      'lakesync:deletionProtection': 'false',
      'lakesync:maxConcurrency': '5',
      'lakesync:stagingExpiryDays': '10',
    })
    const [, target] = only(t, 'AWS::DMS::Endpoint', { Properties: { EndpointType: 'target' } })
    expect(formatOf(target.Properties.S3Settings)).toEqual(pick(format))
    const [, task] = only(t, 'AWS::DMS::ReplicationTask')
    expect(JSON.parse(task.Properties.TableMappings).rules[1]).toMatchObject({
      'rule-action': 'add-column',
      value: 'change_seq',
      expression: '$AR_H_CHANGE_SEQ',
    })
    t.resourceCountIs('AWS::IAM::Role', 5) // incl. the Glue job's
    expect(
      Object.keys(t.findResources('AWS::IAM::Role', { Properties: { RoleName: 'dms-vpc-role' } })),
    ).toEqual([])
    t.hasResourceProperties('AWS::RDS::DBInstance', { DeletionProtection: false })
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 5 } })
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STAGING_EXPIRY_DAYS: '10' }) },
    })
  })

  it('keeps Hive-style tables with tableFormat hive: Parquet shells that read no version until switched', () => {
    const { template: t, tables } = synthWithTables({ 'lakesync:tableFormat': 'hive' })
    const inputs = (Object.values(t.findResources('AWS::Glue::Table')) as Json[]).map(
      (r) => r.Properties.TableInput,
    )
    expect(inputs.map((i) => i.Name).sort()).toEqual(['users', 'users_features'])
    for (const i of inputs) {
      expect(i.Parameters).toEqual({ classification: 'parquet', EXTERNAL: 'TRUE' })
      expect(i.StorageDescriptor.SerdeInfo.SerializationLibrary).toMatch(/ParquetHiveSerDe$/)
      expect(JSON.stringify(i.StorageDescriptor.Location)).toContain(`/lake/${i.Name}/v=0/"`)
    }
    for (const entry of Object.values(tables) as Json[])
      expect(entry.config.publish).toEqual({ tableFormat: 'hive' })
    expect(() => paramsFromContext((k) => (k === 'lakesync:tableFormat' ? 'delta' : undefined))).toThrow(
      /tableFormat must be iceberg or hive/,
    )
  })

  it('parses context strings and rejects bad values with the parameter name', () => {
    const ctx = (o: Record<string, unknown>) => (k: string) => o[k]
    const p = paramsFromContext(ctx({ 'lakesync:dbMultiAz': 'true', 'lakesync:lambdaMemoryMb': '2048' }))
    expect(p).toMatchObject({ dbMultiAz: true, lambdaMemoryMb: 2048, maxConcurrency: 2 })
    expect(() => paramsFromContext(ctx({ 'lakesync:maxConcurrency': '1' }))).toThrow(/maxConcurrency/)
    expect(() => paramsFromContext(ctx({ 'lakesync:dbMultiAz': 'yes' }))).toThrow(/lakesync:dbMultiAz/)
    expect(() => paramsFromContext(ctx({ 'lakesync:dmsFormat': { csvDelimiter: '"' } }))).toThrow(
      /csvDelimiter/,
    )
  })
})

afterAll(removeOutdirs)
