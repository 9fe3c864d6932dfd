/**
 * Turns a location from the command line or the Lambda's configuration into a Storage: `s3://bucket/prefix` is S3,
 * anything else a local folder. All S3 locations share one client (its connection pool and credential cache), made
 * on first use so local runs never load the AWS configuration.
 *
 * The client takes everything from the standard AWS environment: credentials from the default provider chain, the
 * endpoint from AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL), which the SDK reads itself. The region is AWS_REGION or
 * AWS_DEFAULT_REGION (the SDK for JavaScript reads only the first), else us-east-1.
 */
import { S3Client } from '@aws-sdk/client-s3'
import type { Storage } from './storage.js'
import { LocalStorage } from './storage-local.js'
import { parseS3Url, S3Storage } from './storage-s3.js'

let sharedS3: S3Client | undefined

/** The region for AWS clients made from the environment. */
export function awsRegion(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1'
}

function s3Client(): S3Client {
  sharedS3 ??= new S3Client({
    region: awsRegion(),
    // An endpoint override (MinIO, LocalStack, moto) usually has no wildcard DNS for bucket.host virtual hosting.
    forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL),
  })
  return sharedS3
}

export function openStorage(location: string): Storage {
  if (location.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(location)
    return new S3Storage(s3Client(), bucket, prefix)
  }
  return new LocalStorage(location)
}
