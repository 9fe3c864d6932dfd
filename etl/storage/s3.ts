/**
 * Storage on an S3 prefix: what the Lambda (and the CLI given an s3:// URL) runs on. Paths are keys relative to the
 * prefix. The commit protocol's two conditional writes are S3's own: PutObject with If-None-Match: * (create only if
 * absent) and If-Match: <etag> (compare-and-swap), both answered 412 Precondition Failed when the condition does not
 * hold, or 409 ConditionalRequestConflict when a concurrent conditional write to the key is still in flight.
 *
 * The client is injected (etl/storage/open.ts builds the shared one), so the adapter holds no configuration of its own.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { ConfigError, StateError } from '../errors.js'
import { s3Root } from './s3-url.js'
import type { Storage, StoredObject } from './storage.js'

/** What an SDK error carries that we dispatch on (the SDK's S3ServiceException, matched by shape). */
interface SdkError {
  name?: string
  message?: string
  $metadata?: { httpStatusCode?: number; attempts?: number }
}

function sdkError(e: unknown): SdkError {
  return typeof e === 'object' && e !== null ? (e as SdkError) : {}
}

/** The object does not exist (a missing bucket is also a 404, but a configuration error, not an absent object). */
function isNotFound(e: unknown): boolean {
  const { name, $metadata } = sdkError(e)
  if (name === 'NoSuchBucket') return false
  return name === 'NoSuchKey' || name === 'NotFound' || $metadata?.httpStatusCode === 404
}

/** The condition of a conditional PutObject did not hold, or another conditional write to the key won the race. */
function isConditionFailed(e: unknown): boolean {
  const { name, $metadata } = sdkError(e)
  const status = $metadata?.httpStatusCode
  return (
    name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409
  )
}

/** Errors that no retry fixes: the bucket, the credentials or the region are wrong. */
const CONFIG_ERRORS = new Set([
  'NoSuchBucket',
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'InvalidBucketName',
])

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** readPieces hands the caller a piece each time this much more has arrived. */
const S3_PIECE_BYTES = 4 << 20

/**
 * A client from the standard AWS environment (etl/storage/open.ts shares one): credentials from the default provider
 * chain, the endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (read by the SDK itself).
 */
export function s3ClientFromEnv(region: string): S3Client {
  return new S3Client({
    region,
    // An endpoint override (MinIO, LocalStack, moto) usually has no wildcard DNS for bucket.host virtual hosting.
    forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL),
  })
}

export class S3Storage implements Storage {
  readonly root: string
  private readonly prefix: string

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    prefix: string,
  ) {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`
    this.root = s3Root(bucket, this.prefix)
  }

  private key(path: string): string {
    return this.prefix + path
  }

  private url(path: string): string {
    return `s3://${this.bucket}/${this.key(path)}`
  }

  /** Turns an unexpected SDK error into one that names the operation and the object. */
  private fail(op: string, path: string, e: unknown): never {
    const { name, message } = sdkError(e)
    const what = `s3: ${op} ${this.url(path)}: ${name ?? 'Error'}: ${message ?? String(e)}`
    if (name === 'NoSuchBucket')
      throw new ConfigError(
        'bad_config',
        `s3: bucket ${JSON.stringify(this.bucket)} does not exist (${op} ${this.url(path)})`,
        undefined,
        {
          cause: e,
        },
      )
    if (name !== undefined && CONFIG_ERRORS.has(name))
      throw new ConfigError('bad_config', what, undefined, { cause: e })
    throw new Error(what, { cause: e })
  }

  async list(prefix = ''): Promise<StoredObject[]> {
    const out: StoredObject[] = []
    let token: string | undefined
    do {
      let page: ListObjectsV2CommandOutput
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.key(prefix),
            ContinuationToken: token,
          }),
        )
      } catch (e) {
        this.fail('ListObjectsV2', prefix, e)
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue
        const item: StoredObject = { path: o.Key.slice(this.prefix.length), size: o.Size ?? 0 }
        if (o.ETag !== undefined) item.etag = o.ETag
        if (o.LastModified !== undefined) item.mtimeMs = o.LastModified.getTime()
        out.push(item)
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token !== undefined)
    // S3 lists in UTF-8 byte order; sort like the other adapters (UTF-16 code units) so callers see one order.
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }

  async read(path: string): Promise<Uint8Array> {
    const got = await this.readVersioned(path)
    if (got === null) throw new StateError('missing_file', `s3: no object ${this.url(path)}`)
    return got.bytes
  }

  async readPieces(path: string, onPiece: (bytes: Uint8Array, end: number) => void): Promise<Uint8Array> {
    let res: GetObjectCommandOutput
    try {
      res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }))
    } catch (e) {
      if (isNotFound(e)) throw new StateError('missing_file', `s3: no object ${this.url(path)}`)
      this.fail('GetObject', path, e)
    }
    // In Node the SDK's body is a Readable (with the SDK's mixins): async-iterable in chunks, and destroyable.
    const body = res.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined
    let buf = new Uint8Array(res.ContentLength ?? 0)
    let end = 0
    let handed = 0
    let inCaller = false // a throw from onPiece is the caller's own error, passed on as it is
    if (body === undefined) {
      onPiece(buf, 0)
      return buf
    }
    try {
      for await (const chunk of body) {
        if (end + chunk.length > buf.length) {
          const grown = new Uint8Array(Math.max(end + chunk.length, buf.length * 2))
          grown.set(buf.subarray(0, end))
          buf = grown
        }
        buf.set(chunk, end)
        end += chunk.length
        // The socket keeps receiving into the kernel's buffers while the caller works on a piece.
        if (end - handed >= S3_PIECE_BYTES) {
          inCaller = true
          onPiece(buf, end)
          inCaller = false
          handed = end
        }
      }
    } catch (e) {
      body.destroy?.()
      if (inCaller) throw e
      this.fail('GetObject', path, e)
    }
    if (end < buf.length) buf = buf.subarray(0, end)
    if (handed < end || end === 0) onPiece(buf, end)
    return buf
  }

  async readVersioned(path: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }))
      const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array()
      if (res.ETag === undefined)
        throw new StateError('corrupt_state', `s3: GetObject ${this.url(path)} returned no ETag`)
      return { bytes, etag: res.ETag }
    } catch (e) {
      if (e instanceof StateError) throw e
      if (isNotFound(e)) return null
      this.fail('GetObject', path, e)
    }
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: bytes }))
    } catch (e) {
      this.fail('PutObject', path, e)
    }
  }

  async createExclusive(path: string, bytes: Uint8Array): Promise<string | null> {
    return this.conditionalPut(path, bytes, { IfNoneMatch: '*' })
  }

  async replaceIfMatch(path: string, bytes: Uint8Array, etag: string): Promise<string | null> {
    return this.conditionalPut(path, bytes, { IfMatch: etag })
  }

  /**
   * A PutObject that S3 may refuse: the new ETag, or null when the condition failed (412), a concurrent conditional
   * write won (409), or — for If-Match — the object is gone (404).
   *
   * One subtlety: the SDK retries a request whose response was lost (a timeout, a reset connection). If the lost
   * attempt had in fact succeeded, the retry fails its condition against our own write, and we would report a lost
   * race we actually won. So when a condition fails after more than one attempt, we read the object back: if it holds
   * exactly our bytes, our write landed and its ETag is returned. Commit-log records carry the run id and timestamps,
   * so another run never writes the same bytes.
   */
  private async conditionalPut(
    path: string,
    bytes: Uint8Array,
    condition: { IfNoneMatch: string } | { IfMatch: string },
  ): Promise<string | null> {
    try {
      const res = await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: bytes, ...condition }),
      )
      if (res.ETag === undefined)
        throw new StateError('corrupt_state', `s3: PutObject ${this.url(path)} returned no ETag`)
      return res.ETag
    } catch (e) {
      if (e instanceof StateError) throw e
      if (isConditionFailed(e) || ('IfMatch' in condition && isNotFound(e))) {
        if ((sdkError(e).$metadata?.attempts ?? 1) > 1) {
          const now = await this.readVersioned(path)
          if (now !== null && sameBytes(now.bytes, bytes)) return now.etag
        }
        return null
      }
      this.fail('PutObject', path, e)
    }
  }

  async remove(path: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(path) }))
    } catch (e) {
      if (isNotFound(e)) return
      this.fail('DeleteObject', path, e)
    }
  }
}
