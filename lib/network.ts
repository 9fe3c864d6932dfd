/**
 * The private network of the database and the DMS replication instance: isolated subnets in two Availability Zones,
 * no internet or NAT gateway, and the two VPC endpoints DMS needs (S3 to write the staging files, Secrets Manager to
 * read the database credentials). Flow logs go to the log bucket. The merge Lambda stays outside: it talks only to
 * S3, SQS, Glue and CloudWatch, which would each need an endpoint inside.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import type * as s3 from 'aws-cdk-lib/aws-s3'
import { Construct } from 'constructs'

export interface NetworkProps {
  logBucket: s3.IBucket
}

export class Network extends Construct {
  readonly vpc: ec2.Vpc
  readonly subnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }
  readonly secretsManagerEndpoint: ec2.InterfaceVpcEndpoint

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id)
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.42.0.0/16'),
      maxAzs: 2, // RDS and DMS subnet groups need two AZs
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      // Nothing uses the default security group; restricting it would add a custom-resource Lambda.
      restrictDefaultSecurityGroup: false,
    })
    this.vpc.addGatewayEndpoint('S3', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [this.subnets],
    })
    // Closed by default: only the clients granted with allowFrom (the DMS replication instance) reach it on 443.
    this.secretsManagerEndpoint = this.vpc.addInterfaceEndpoint('SecretsManager', {
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      subnets: this.subnets,
      privateDnsEnabled: true,
      open: false,
    })
    this.vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toS3(props.logBucket, 'vpc-flow-logs/'),
    })
  }

  /** Lets `peer` call Secrets Manager through the interface endpoint. */
  allowFrom(peer: ec2.IConnectable): void {
    this.secretsManagerEndpoint.connections.allowDefaultPortFrom(
      peer,
      'HTTPS to the Secrets Manager endpoint',
    )
  }
}
