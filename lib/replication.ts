/**
 * AWS DMS: a replication instance in the isolated subnets, a Postgres source endpoint that reads the database secret
 * through an access role, an S3 target endpoint whose CSV settings come from the reader's `DmsFormat`, and a
 * full-load-and-CDC task selecting every configured table (one selection rule per schema.table), in limited LOB mode
 * with truncation failing the task (dmsTaskSettings). The task is created stopped: start it once the tables exist.
 */
import { Aws, Stack, Validations } from 'aws-cdk-lib'
import * as dms from 'aws-cdk-lib/aws-dms'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as iam from 'aws-cdk-lib/aws-iam'
import type * as s3 from 'aws-cdk-lib/aws-s3'
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager'
import { Construct } from 'constructs'
import type { DmsFormat } from '../etl/types.js'
import {
  type DmsTable,
  dmsS3CsvSettings,
  dmsTableMappings,
  dmsTaskSettings,
  type LobSettings,
  type S3TargetTuning,
} from './dms-settings.js'

export interface ReplicationProps {
  vpc: ec2.IVpc
  subnets: ec2.SubnetSelection
  createDmsVpcRole: boolean
  instanceClass: string
  allocatedStorageGb: number
  engineVersion: string
  databaseName: string
  databaseSecret: secretsmanager.ISecret
  tables: DmsTable[] // what the task replicates: DMS writes each to <stagingFolder>/<schema>/<table>/
  lob: LobSettings
  stagingBucket: s3.IBucket
  stagingFolder: string // BucketFolder
  format: DmsFormat
  tuning: S3TargetTuning
}

export class Replication extends Construct {
  readonly securityGroup: ec2.SecurityGroup
  readonly instance: dms.CfnReplicationInstance
  readonly sourceEndpoint: dms.CfnEndpoint
  readonly targetEndpoint: dms.CfnEndpoint
  readonly task: dms.CfnReplicationTask

  constructor(scope: Construct, id: string, props: ReplicationProps) {
    super(scope, id)
    const subnetIds = props.vpc.selectSubnets(props.subnets).subnetIds

    const subnetGroup = new dms.CfnReplicationSubnetGroup(this, 'SubnetGroup', {
      replicationSubnetGroupDescription: 'lakesync: isolated subnets of the replication instance',
      subnetIds,
    })
    if (props.createDmsVpcRole) {
      // DMS looks this role up by its fixed name; an account has it once, whoever created it.
      const vpcRole = new iam.Role(this, 'DmsVpcRole', {
        roleName: 'dms-vpc-role',
        assumedBy: new iam.ServicePrincipal('dms.amazonaws.com'),
        managedPolicies: [
          iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonDMSVPCManagementRole'),
        ],
      })
      subnetGroup.node.addDependency(vpcRole)
      Validations.of(vpcRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonDMSVPCManagementRole]',
        reason:
          'DMS requires the account-wide dms-vpc-role to carry exactly this AWS managed policy (it manages the ENIs of every replication instance in the account).',
      })
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'lakesync DMS replication instance (no inbound; outbound stays inside the isolated VPC)',
      // The subnets have no route out of the VPC: egress reaches only Postgres and the S3/Secrets Manager endpoints.
      allowAllOutbound: true,
    })

    this.instance = new dms.CfnReplicationInstance(this, 'Instance', {
      replicationInstanceClass: props.instanceClass,
      allocatedStorage: props.allocatedStorageGb,
      engineVersion: props.engineVersion,
      publiclyAccessible: false,
      multiAz: false,
      autoMinorVersionUpgrade: true,
      replicationSubnetGroupIdentifier: subnetGroup.ref,
      vpcSecurityGroupIds: [this.securityGroup.securityGroupId],
    })

    // Secrets Manager access: the trusted principal is the regional DMS service principal.
    const secretRole = new iam.Role(this, 'SecretAccessRole', {
      assumedBy: new iam.ServicePrincipal(`dms.${Stack.of(this).region}.amazonaws.com`),
      description: 'lets DMS read the lakesync source database secret',
    })
    props.databaseSecret.grantRead(secretRole)

    this.sourceEndpoint = new dms.CfnEndpoint(this, 'Source', {
      endpointType: 'source',
      engineName: 'postgres',
      databaseName: props.databaseName,
      sslMode: 'require',
      postgreSqlSettings: {
        secretsManagerSecretId: props.databaseSecret.secretArn,
        secretsManagerAccessRoleArn: secretRole.roleArn,
        heartbeatEnable: true, // keeps the replication slot's WAL from piling up while the table is idle
        // Limited LOB mode cuts values over LobMaxSize with only a log warning; this stops the task instead.
        failTasksOnLobTruncation: true,
      },
    })
    this.sourceEndpoint.node.addDependency(secretRole)

    const folder = props.stagingFolder
    const targetRole = new iam.Role(this, 'S3TargetRole', {
      assumedBy: new iam.ServicePrincipal('dms.amazonaws.com'),
      description: `lets DMS write its CSV files under ${folder}/ in the staging bucket`,
    })
    targetRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:DeleteObject', 's3:PutObjectTagging'],
        resources: [props.stagingBucket.arnForObjects(`${folder}/*`)],
      }),
    )
    targetRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.stagingBucket.bucketArn] }),
    )
    Validations.of(targetRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.stagingBucket.node.defaultChild as s3.CfnBucket)}.Arn>/${folder}/*]`,
      reason: `DMS names its files itself (LOAD00000001.csv, <timestamp>.csv, under <schema>/<table>/); the grant is limited to the ${folder}/ folder of the staging bucket.`,
    })

    this.targetEndpoint = new dms.CfnEndpoint(this, 'Target', {
      endpointType: 'target',
      engineName: 's3',
      s3Settings: {
        bucketName: props.stagingBucket.bucketName,
        bucketFolder: folder,
        serviceAccessRoleArn: targetRole.roleArn,
        expectedBucketOwner: Aws.ACCOUNT_ID,
        encryptionMode: 'SSE_S3',
        ...dmsS3CsvSettings(props.format, props.tuning),
      },
    })
    this.targetEndpoint.node.addDependency(targetRole)

    this.task = new dms.CfnReplicationTask(this, 'Task', {
      migrationType: 'full-load-and-cdc',
      replicationInstanceArn: this.instance.ref,
      sourceEndpointArn: this.sourceEndpoint.ref,
      targetEndpointArn: this.targetEndpoint.ref,
      tableMappings: dmsTableMappings(props.format, props.tables),
      replicationTaskSettings: dmsTaskSettings(props.lob),
    })
  }
}
