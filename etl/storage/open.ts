/**
 * Turns a location from the command line or the Lambda's configuration into a Storage: `s3://bucket/prefix` is S3,
 * anything else a local folder. All S3 locations share one client (its connection pool and credential cache), made
 * on first use so local runs never load the AWS configuration. (The CLI loads this module, and with it the AWS SDK,
 * only for an s3:// location: cli/deferred-storage.ts.)
 *
 * The client takes everything from the standard AWS environment (etl/storage/s3.ts s3ClientFromEnv). The region is
 * AWS_REGION or AWS_DEFAULT_REGION (the SDK for JavaScript reads only the first), else us-east-1.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { LocalStorage } from './local.js'
import { S3Storage, s3ClientFromEnv } from './s3.js'
import { parseS3Url } from './s3-url.js'
import type { Storage } from './storage.js'

let sharedS3: S3Client | undefined

/** The region for AWS clients made from the environment. */
export function awsRegion(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1'
}

export function openStorage(location: string): Storage {
  if (location.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(location)
    sharedS3 ??= s3ClientFromEnv(awsRegion())
    return new S3Storage(sharedS3, bucket, prefix)
  }
  return new LocalStorage(location)
}
