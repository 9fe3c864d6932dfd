/**
 * The source database: RDS for PostgreSQL 17 (the newest major version AWS DMS 3.6.1 supports as a source) with
 * logical replication on, generated credentials in Secrets Manager, encrypted storage, no public access, automated
 * backups and configurable deletion protection. The `users` table is created by hand (docs/deploy.md): creating it
 * from a custom resource would need a Postgres driver and a VPC Lambda just for one DDL statement.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as rds from 'aws-cdk-lib/aws-rds'
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager'
import { Construct } from 'constructs'

export const POSTGRES_VERSION = rds.PostgresEngineVersion.VER_17

export interface SourceDatabaseProps {
  vpc: ec2.IVpc
  subnets: ec2.SubnetSelection
  instanceType: string // e.g. t4g.micro
  allocatedStorageGb: number
  multiAz: boolean
  deletionProtection: boolean
  databaseName: string
}

export class SourceDatabase extends Construct {
  readonly instance: rds.DatabaseInstance
  readonly secret: secretsmanager.ISecret
  readonly securityGroup: ec2.SecurityGroup
  readonly databaseName: string

  constructor(scope: Construct, id: string, props: SourceDatabaseProps) {
    super(scope, id)
    const engine = rds.DatabaseInstanceEngine.postgres({ version: POSTGRES_VERSION })
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'lakesync source: logical replication for AWS DMS change data capture',
      parameters: { 'rds.logical_replication': '1' },
    })
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'lakesync source database: Postgres from the DMS replication instance only',
      allowAllOutbound: false,
    })
    this.databaseName = props.databaseName
    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceType: new ec2.InstanceType(props.instanceType),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      parameterGroup,
      databaseName: props.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret('lakesync_admin'),
      allocatedStorage: props.allocatedStorageGb,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      publiclyAccessible: false,
      multiAz: props.multiAz,
      backupRetention: Duration.days(7),
      deletionProtection: props.deletionProtection,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      autoMinorVersionUpgrade: true,
    })
    this.secret = this.instance.secret!

    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'A non-default port would add nothing: the instance sits in isolated subnets with no route to or from the internet, and its security group admits only the DMS replication instance.',
    })
    if (!props.multiAz)
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason:
          'Single-AZ by default to halve the cost of a replication source; DMS resumes from its replication slot after a failover or restore. Set lakesync:dbMultiAz=true for production.',
      })
    if (!props.deletionProtection)
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'Deletion protection was switched off on purpose (lakesync:deletionProtection=false) to let cdk destroy remove the instance; a final snapshot is still taken.',
      })
    // instance.secret is the attachment; the generated secret itself is the instance's `Secret` child.
    Validations.of(this.instance.node.findChild('Secret')).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The DMS source endpoint holds a long-lived logical replication connection with these credentials; an unattended rotation would break CDC mid-stream. docs/deploy.md describes rotating with the task stopped.',
    })
  }

  /** Lets `peer` connect to Postgres. */
  allowFrom(peer: ec2.IConnectable): void {
    this.instance.connections.allowDefaultPortFrom(peer, 'DMS replication instance to Postgres')
  }
}
