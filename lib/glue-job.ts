/**
 * The scale-out engine: an AWS Glue (Spark) job running glue/glue_entry.py, which the merge Lambda starts for tables
 * past its routing thresholds (lambdas/routing.ts). Same commit log, same layout, same catalog switch as the Lambda, so
 * the two alternate on one table. Job bookmarks are off: the commit log is the bookmark.
 */
import { join } from 'node:path'
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib'
import * as glue from 'aws-cdk-lib/aws-glue'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as s3assets from 'aws-cdk-lib/aws-s3-assets'
import { Construct } from 'constructs'
import { projectRoot } from './paths.js'
import { acknowledgeDataAccess, type DataAccessProps, mergeFunctionStatements } from './processing.js'

export interface GlueJobProps extends DataAccessProps {
  glueVersion?: string // default '5.1' (Spark 3.5.6, Python 3.11, Java 17: the pyspark the tests pin); '5.0' runs Spark 3.5.4
  workerType?: string // default G.1X (4 vCPU, 16 GB)
  numberOfWorkers?: number // default 4
  timeoutMinutes?: number // default 240
  maxConcurrentRuns?: number // runs of different tables at once; one table never has two (the Lambda checks)
}

export class GlueJob extends Construct {
  readonly job: glue.CfnJob
  readonly role: iam.Role
  readonly jobName: string
  readonly jobArn: string

  constructor(scope: Construct, id: string, props: GlueJobProps) {
    super(scope, id)
    const stack = Stack.of(this)
    const root = projectRoot()
    const script = new s3assets.Asset(this, 'Script', { path: join(root, 'glue', 'glue_entry.py') })
    const library = new s3assets.Asset(this, 'Library', {
      path: join(root, 'glue', 'lakesync_spark'),
      exclude: ['__pycache__', '*.pyc'],
    })
    const cities = new s3assets.Asset(this, 'Cities', { path: join(root, 'data', 'city_to_state.csv') })
    const aliases = new s3assets.Asset(this, 'Aliases', { path: join(root, 'data', 'city_aliases.json') })

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description:
        "lakesync Glue job: reads each table's staging prefix, writes its lake prefixes and catalog tables",
    })
    const arn = (service: string, resource: string) => stack.formatArn({ service, resource })
    const db = props.glueDatabaseName
    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadJobAssets', // exactly the four objects: the script, the library zip and the two data files
        actions: ['s3:GetObject'],
        resources: [script, library, cities, aliases].map(
          (a) => `arn:${stack.partition}:s3:::${a.s3BucketName}/${a.s3ObjectKey}`,
        ),
      }),
      ...mergeFunctionStatements(props, stack),
      new iam.PolicyStatement({
        sid: 'JobLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '/aws-glue/*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    ]
    for (const s of statements) this.role.addToPolicy(s)

    const securityConfiguration = new glue.CfnSecurityConfiguration(this, 'Security', {
      name: `${stack.stackName}-lakesync-glue`,
      encryptionConfiguration: {
        s3Encryptions: [{ s3EncryptionMode: 'SSE-S3' }],
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'DISABLED' },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'DISABLED' },
      },
    })
    this.job = new glue.CfnJob(this, 'Job', {
      description: 'lakesync Spark job: the merge Lambda semantics for tables too big for a Lambda',
      role: this.role.roleArn,
      glueVersion: props.glueVersion ?? '5.1',
      workerType: props.workerType ?? 'G.1X',
      numberOfWorkers: props.numberOfWorkers ?? 4,
      timeout: props.timeoutMinutes ?? 240,
      maxRetries: 0, // the next notification or the daily schedule retries; a failed run committed nothing
      executionProperty: { maxConcurrentRuns: props.maxConcurrentRuns ?? 10 },
      securityConfiguration: securityConfiguration.name,
      command: { name: 'glueetl', pythonVersion: '3', scriptLocation: script.s3ObjectUrl },
      defaultArguments: {
        '--job-bookmark-option': 'job-bookmark-disable',
        '--extra-py-files': library.s3ObjectUrl,
        '--extra-files': `${cities.s3ObjectUrl},${aliases.s3ObjectUrl}`,
        // No --additional-python-modules: pip would fetch from PyPI at start, and a job in a private subnet without NAT
        // could not start. The DMS Parquet reader uses the pyarrow Glue ships (only basic reading: docs/scale-out.md).
        '--enable-continuous-cloudwatch-log': 'true',
        '--glue-database': db,
      },
    })
    this.job.addResourceDependency(securityConfiguration)
    this.jobName = this.job.ref
    this.jobArn = arn('glue', `job/${this.job.ref}`)

    acknowledgeDataAccess(this.role, props, {
      staging: (prefix) =>
        `Object ARNs of the files DMS writes, unknown in advance: read-only and limited to the table's staging prefix ${prefix}.`,
      lake: (prefix) =>
        `The job writes this table's files under ${prefix} (version folders, commit records, Spark staging files), named at run time.`,
    })
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/*]',
      reason:
        'Glue writes job logs to the /aws-glue/ log groups it names per run type (jobs/output, jobs/error, jobs/logs-v2).',
    })
    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-GL1',
        reason:
          'Job logs hold file names, counts and error messages, never row data; encrypting them needs a KMS key the logs service may use, which this stack does not create.',
      },
      {
        id: 'AwsSolutions-GL3',
        reason:
          'Job bookmarks are disabled: the commit log in the final bucket is the bookmark, so there is nothing to encrypt.',
      },
    )
  }
}
