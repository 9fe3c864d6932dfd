/**
 * The three buckets: staging (DMS writes CSV here), final (the Parquet lake and its commit log) and the log bucket
 * that receives both buckets' server access logs and the VPC flow logs. All block public access, refuse plain HTTP
 * and encrypt with S3-managed keys (the only encryption S3 server access logging delivers to).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib'
import * as s3 from 'aws-cdk-lib/aws-s3'
import { Construct } from 'constructs'

export interface StorageProps {
  stagingPrefixes: string[] // each table's DMS folder: its files expire after stagingExpiryDays
  stagingExpiryDays: number
  accessLogExpiryDays: number
}

export class Storage extends Construct {
  readonly logBucket: s3.Bucket
  readonly stagingBucket: s3.Bucket
  readonly finalBucket: s3.Bucket

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id)
    const common = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN, // data outlives the stack; see docs/deploy.md (cdk destroy)
    } satisfies s3.BucketProps
    const abortUploads: s3.LifecycleRule = {
      id: 'abort-incomplete-uploads',
      abortIncompleteMultipartUploadAfter: Duration.days(7),
    }

    // The log bucket logs nowhere itself (it would log its own deliveries); cdk-nag's S1 exempts log destinations.
    this.logBucket = new s3.Bucket(this, 'Logs', {
      ...common,
      lifecycleRules: [
        { id: 'expire-logs', expiration: Duration.days(props.accessLogExpiryDays) },
        abortUploads,
      ],
    })

    this.stagingBucket = new s3.Bucket(this, 'Staging', {
      ...common,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'access/staging/',
      lifecycleRules: [
        // The engine's rule (STAGING_EXPIRY_DAYS): an applied file older than this may vanish from the source.
        ...props.stagingPrefixes.map(
          (prefix, i): s3.LifecycleRule => ({
            id: i === 0 ? 'expire-staging-files' : `expire-staging-files-${i + 1}`,
            prefix,
            expiration: Duration.days(props.stagingExpiryDays),
          }),
        ),
        abortUploads,
      ],
    })

    this.finalBucket = new s3.Bucket(this, 'Final', {
      ...common,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'access/final/',
      // Old versions (v=<n>/ folders) are removed by `lakesync vacuum`, which knows which ones readers may still use.
      lifecycleRules: [abortUploads],
    })
  }
}
