/** S3 locations as the CLI and the Lambda's configuration write them: no AWS SDK here, so local runs never load it. */
import { ConfigError } from '../errors.js'

/** A plausible bucket name (general-purpose rules, loosely): 3-63 lowercase letters, digits, dots and hyphens. */
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

/**
 * Splits `s3://bucket/some/prefix` into the bucket and the key prefix (`some/prefix/`, or '' for the whole bucket).
 * Throws a ConfigError naming the URL when it is not one: a wrong scheme, no or an invalid bucket, or an empty path
 * segment (`s3://b//x`, almost always a typo that would put the data somewhere unexpected).
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url)
  if (!m) throw new ConfigError('bad_config', `s3: ${JSON.stringify(url)} is not an s3://bucket/prefix URL`)
  const bucket = m[1] ?? ''
  if (bucket === '') throw new ConfigError('bad_config', `s3: ${JSON.stringify(url)} names no bucket`)
  if (!BUCKET_RE.test(bucket))
    throw new ConfigError(
      'bad_config',
      `s3: ${JSON.stringify(url)}: ${JSON.stringify(bucket)} is not a valid bucket name`,
    )
  const path = (m[2] ?? '').replace(/\/$/, '')
  if (path !== '' && path.split('/').includes(''))
    throw new ConfigError('bad_config', `s3: ${JSON.stringify(url)} has an empty path segment`)
  return { bucket, prefix: path === '' ? '' : `${path}/` }
}

/** The root of a storage on `bucket` and key prefix `prefix` (`some/prefix/` or ''), for messages. */
export function s3Root(bucket: string, prefix: string): string {
  return `s3://${bucket}/${prefix.replace(/\/$/, '')}`
}
