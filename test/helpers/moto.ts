/**
 * Test access to the moto server started by test/global-setup.ts. `useMoto()` points this worker's AWS environment
 * at it (so openStorage and openGlueCatalog, which read only the standard variables, reach moto and never AWS) and
 * returns clients for arranging and checking state.
 *
 * All test files share the one server and run in parallel, so a test must not wipe the server: moto's
 * `POST /moto-api/reset` would delete another file's buckets mid-test. Instead every file names its resources with
 * a tag of its own (`moto.bucket('final')` -> `final-1a2b3c4d`, `moto.database('lake')` -> `lake_1a2b3c4d`) and
 * `reset()` deletes just those buckets (objects included) and Glue databases (tables included).
 */
import { randomBytes } from 'node:crypto'
import { DeleteDatabaseCommand, GetDatabasesCommand, GlueClient } from '@aws-sdk/client-glue'
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3'
import { inject } from 'vitest'

export interface Moto {
  endpoint: string // http://127.0.0.1:PORT
  s3: S3Client // path-style, test credentials
  glue: GlueClient
  tag: string // this test file's suffix for resource names: 8 lowercase hex digits
  bucket(base: string): string // `${base}-${tag}`: a bucket name reset() cleans up
  database(base: string): string // `${base}_${tag}`: a Glue database name reset() cleans up
  /** Deletes this file's buckets and databases (see the module comment for why not moto's global reset). */
  reset(): Promise<void>
}

const TAG = randomBytes(4).toString('hex')
const REGION = 'us-east-1'

let moto: Moto | undefined

export function useMoto(): Moto {
  if (moto) return moto
  const endpoint = inject('motoEndpoint')
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ENDPOINT_URL_GLUE: endpoint,
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: REGION,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', // once per worker: "SDK releases from 2027 need Node 22"
  })
  delete process.env.AWS_SESSION_TOKEN
  delete process.env.AWS_PROFILE
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' }
  const s3 = new S3Client({ endpoint, region: REGION, credentials, forcePathStyle: true })
  const glue = new GlueClient({ endpoint, region: REGION, credentials })

  const reset = async (): Promise<void> => {
    const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets ?? []
    for (const { Name } of buckets) {
      if (!Name?.endsWith(`-${TAG}`)) continue
      for (;;) {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: Name }))
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]))
        if (keys.length === 0) break
        await s3.send(new DeleteObjectsCommand({ Bucket: Name, Delete: { Objects: keys } }))
      }
      await s3.send(new DeleteBucketCommand({ Bucket: Name }))
    }
    let token: string | undefined
    const databases: string[] = []
    do {
      const page = await glue.send(new GetDatabasesCommand({ NextToken: token }))
      for (const { Name } of page.DatabaseList ?? []) if (Name?.endsWith(`_${TAG}`)) databases.push(Name)
      token = page.NextToken
    } while (token)
    for (const name of databases) await glue.send(new DeleteDatabaseCommand({ Name: name }))
  }

  moto = {
    endpoint,
    s3,
    glue,
    tag: TAG,
    bucket: (base) => `${base}-${TAG}`,
    database: (base) => `${base}_${TAG}`,
    reset,
  }
  return moto
}
