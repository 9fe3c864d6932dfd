/**
 * Arranging and checking S3 state on moto for the S3 integration tests: buckets named through useMoto() (so its
 * reset() cleans them), folders uploaded under a prefix with their relative paths, and listings of a prefix.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { enc } from './bytes.js'
import { listTree } from './fixtures.js'
import type { Moto } from './moto.js'

let buckets = 0

/** A new empty bucket named through moto.bucket() (8 lowercase hex digits of the file's tag follow `base`). */
export async function newBucket(moto: Moto, base: string): Promise<string> {
  const name = moto.bucket(`${base}-${++buckets}`)
  await moto.s3.send(new CreateBucketCommand({ Bucket: name }))
  return name
}

export async function putObject(moto: Moto, bucket: string, key: string, body: Uint8Array | string) {
  await moto.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: typeof body === 'string' ? enc(body) : body,
    }),
  )
}

export async function deleteObject(moto: Moto, bucket: string, key: string) {
  await moto.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
}

export async function getObject(moto: Moto, bucket: string, key: string): Promise<Uint8Array> {
  const res = await moto.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return res.Body ? res.Body.transformToByteArray() : new Uint8Array()
}

/**
 * Uploads files of a local folder to `s3://bucket/prefix/<relative path>` (all of them, or only `only`), keeping
 * date folders. `rename` maps a relative path to the key's relative path (default: unchanged).
 */
export async function uploadFolder(
  moto: Moto,
  dir: string,
  bucket: string,
  prefix: string,
  opts: { only?: readonly string[]; rename?: (path: string) => string } = {},
): Promise<string[]> {
  const files = listTree(dir).filter((f) => !opts.only || opts.only.includes(f))
  const keys: string[] = []
  for (const f of files) {
    const key = `${prefix}/${opts.rename ? opts.rename(f) : f}`
    await putObject(moto, bucket, key, readFileSync(join(dir, f)))
    keys.push(key)
  }
  return keys
}

/** Every object under `s3://bucket/prefix/` with its ETag, sorted by key (to prove a failed run changed nothing). */
export async function listPrefix(
  moto: Moto,
  bucket: string,
  prefix: string,
): Promise<{ key: string; etag: string; size: number }[]> {
  const out: { key: string; etag: string; size: number }[] = []
  let token: string | undefined
  do {
    const page: ListObjectsV2CommandOutput = await moto.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }),
    )
    for (const o of page.Contents ?? []) out.push({ key: o.Key ?? '', etag: o.ETag ?? '', size: o.Size ?? 0 })
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token !== undefined)
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}
