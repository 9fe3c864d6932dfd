/**
 * The merge Lambda end to end on moto: DMS files uploaded to the staging bucket notify an SQS queue, the real handler
 * consumes the messages, and the final bucket and the Glue tables follow. Bad input fails only its table's
 * messages and leaves the published state and the catalog on the last good version.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { GetTableCommand, UpdateTableCommand } from '@aws-sdk/client-glue'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { readCommitLog } from '../etl/commit/log.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { tableToCsv } from '../etl/report/csv-export.js'
import { tableStatus } from '../etl/status.js'
import { openStorage } from '../etl/storage/open.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import { SWEEP_EVENT } from '../lambdas/sweep-event.js'
import { currentTables, runEngine, SEED, SEED_CITIES, tempDir } from './helpers/fixtures.js'
import { createStackShells, shellInput } from './helpers/glue-shells.js'
import { useMoto } from './helpers/moto.js'
import { notifiedQueue, S3_TEST_EVENT, sqsEvent, sqsRecord } from './helpers/sqs-events.js'

const PREFIX = 'dms/public/users/'

describe('merge Lambda on moto (S3 -> SQS -> handler -> S3 + Glue)', () => {
  const moto = useMoto()
  const staging = moto.bucket('staging')
  const final = moto.bucket('final')
  const database = moto.database('lake')
  const sqs = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1' })
  let queueUrl = ''
  let handler: (e: unknown) => Promise<SQSBatchResponse | undefined>

  beforeAll(async () => {
    await moto.reset()
    await moto.s3.send(new CreateBucketCommand({ Bucket: staging }))
    await moto.s3.send(new CreateBucketCommand({ Bucket: final }))
    // As deployed: the stack made the database and empty Iceberg shells of both tables (lib/catalog.ts).
    await createStackShells(moto.glue, database, `s3://${final}/lake/`, ['users', 'users_features'])
    queueUrl = await notifiedQueue(moto.s3, sqs, staging, `lakesync-${moto.tag}`)
    Object.assign(process.env, {
      STAGING_BUCKET: staging,
      FINAL_BUCKET: final,
      FINAL_PREFIX: 'lake',
      GLUE_DATABASE: database,
      LAKESYNC_TABLES: JSON.stringify({ users: { stagingPrefix: PREFIX } }),
      VACUUM_KEEP: '1',
    })
    vi.resetModules()
    handler = (await import('../lambdas/merge.js')).handler as typeof handler
    await drain() // the s3:TestEvent moto may send when the notification is configured
  })

  async function upload(name: string, body: Uint8Array | string, prefix = PREFIX): Promise<void> {
    await moto.s3.send(new PutObjectCommand({ Bucket: staging, Key: `${prefix}${name}`, Body: body }))
  }

  /** Receives what the queue holds, as the Lambda service would hand it over in one SQS event. */
  async function receive(): Promise<SQSEvent> {
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    )
    const messages = got.Messages ?? []
    if (messages.length > 0)
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      )
    return sqsEvent(messages.map((m) => sqsRecord(m.MessageId!, m.Body!, m.ReceiptHandle!)))
  }

  async function drain(): Promise<void> {
    while ((await receive()).Records.length > 0) {}
  }

  async function glueVersion(name: string): Promise<{ version: string; location: string; metadata: string }> {
    const t = (await moto.glue.send(new GetTableCommand({ DatabaseName: database, Name: name }))).Table!
    return {
      version: t.Parameters?.lakesync_version as string,
      location: t.StorageDescriptor?.Location as string,
      metadata: t.Parameters?.metadata_location as string,
    }
  }

  const target = () => openStorage(`s3://${final}/lake/`)

  it('applies uploaded DMS files in order, publishes Parquet and switches Glue', async () => {
    expect((await glueVersion('users')).metadata).toBeUndefined() // the shell before the first commit
    await upload('LOAD00000001.csv', readFileSync(join(SEED, 'LOAD00000001.csv')))
    await upload('20211017-194324349.csv', readFileSync(join(SEED, '20211017-194324349.csv')))
    const event = await receive()
    expect(event.Records).toHaveLength(2)
    expect(await handler(event)).toEqual({ batchItemFailures: [] })
    expect((await readCommitLog(target(), 'users')).current?.version).toBe(1)
    for (const f of readdirSync(SEED).filter((n) => n.startsWith('20211018')))
      await upload(f, readFileSync(join(SEED, f)))
    const more = await receive()
    expect(more.Records.length).toBeGreaterThan(0)
    expect(await handler(more)).toEqual({ batchItemFailures: [] })
    await drain()
    const log = await readCommitLog(target(), 'users')
    expect(log.current?.version).toBe(2)
    expect(log.committed.flatMap((r) => r.files.map((f) => f.path)).sort()).toEqual(readdirSync(SEED).sort())
    // The Glue table is the Iceberg table: its metadata_location is the current metadata file (version-hint.text).
    const hint = new TextDecoder().decode(await target().read('users/metadata/version-hint.text'))
    expect(await glueVersion('users')).toEqual({
      version: '2',
      location: `s3://${final}/lake/users`,
      metadata: `s3://${final}/lake/users/metadata/v${hint}.metadata.json`,
    })
    expect((await glueVersion('users_features')).version).toBe('2')
    // The function filled the shell's columns from the table's types.
    const columns = (await moto.glue.send(new GetTableCommand({ DatabaseName: database, Name: 'users' })))
      .Table!.StorageDescriptor!.Columns!
    expect(columns.map((c) => `${c.Name} ${c.Type}`)).toEqual([
      'user_id int',
      'name string',
      'city string',
      'last_login date',
    ])
    // The published tables equal a local run of the same files (as_of is today in the Lambda).
    const local = await runEngine(SEED, log.current!.asOf, SEED_CITIES, tempDir())
    const [published, expected] = [await currentTables(target()), await currentTables(local.target)]
    expect(tableToCsv(published.users)).toBe(tableToCsv(expected.users))
    expect(tableToCsv(published.features)).toBe(tableToCsv(expected.features))
  })

  it('the daily schedule refreshes every table and vacuums old versions', async () => {
    const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }
    expect(await handler(scheduled)).toBeUndefined()
    // Same day, nothing new: no new version; version 1's files go (VACUUM_KEEP=1), version 2's stay.
    expect((await readCommitLog(target(), 'users')).current?.version).toBe(2)
    const parquet = (await target().list()).map((o) => o.path).filter((p) => p.endsWith('.parquet'))
    expect(parquet).toEqual([
      'users/v=00000000000000000002/part-00000.parquet',
      'users_features/v=00000000000000000002/part-00000.parquet',
    ])
    // Vacuum expired snapshot 1 in new metadata; the Glue tables follow it (no reader lands on metadata that
    // lists deleted files).
    for (const table of ['users', 'users_features']) {
      const hint = new TextDecoder().decode(await target().read(`${table}/metadata/version-hint.text`))
      expect((await glueVersion(table)).metadata).toBe(
        `s3://${final}/lake/${table}/metadata/v${hint}.metadata.json`,
      )
      const meta = JSON.parse(
        new TextDecoder().decode(await target().read(`${table}/metadata/v${hint}.metadata.json`)),
      )
      expect(meta.snapshots.map((x: { 'snapshot-id': number }) => x['snapshot-id'])).toEqual([2])
    }
  })

  it('a replayed message commits nothing', async () => {
    await upload('20211018-225959941.csv', readFileSync(join(SEED, '20211018-225959941.csv'))) // same bytes again
    expect(await handler(await receive())).toEqual({ batchItemFailures: [] })
    expect((await readCommitLog(target(), 'users')).current?.version).toBe(2)
  })

  it('the sweep republishes a Glue table that a stack update put back to its shell', async () => {
    // What CloudFormation would do were it to update the table: its own TableInput, no metadata location.
    await moto.glue.send(
      new UpdateTableCommand({
        DatabaseName: database,
        TableInput: shellInput('users', `s3://${final}/lake/`, 'iceberg'),
      }),
    )
    expect((await glueVersion('users')).metadata).toBeUndefined()
    expect(await handler(SWEEP_EVENT)).toBeUndefined()
    const log = await readCommitLog(target(), 'users')
    const hint = new TextDecoder().decode(await target().read('users/metadata/version-hint.text'))
    expect(await glueVersion('users')).toEqual({
      version: String(log.current!.version),
      location: `s3://${final}/lake/users`,
      metadata: `s3://${final}/lake/users/metadata/v${hint}.metadata.json`,
    })
    await handler(SWEEP_EVENT) // in step again: the sweep leaves the table alone
    expect((await readCommitLog(target(), 'users')).head!.record.version).toBe(log.head!.record.version)
  })

  it('ignores keys outside the table prefix and S3 test events', async () => {
    await upload('notes.csv', 'x', 'elsewhere/')
    const event = await receive()
    event.Records.push(sqsRecord('test-event', S3_TEST_EVENT))
    expect(await handler(event)).toEqual({ batchItemFailures: [] })
    expect((await readCommitLog(target(), 'users')).current?.version).toBe(2)
  })

  it('bad input fails only its messages; state and catalog stay on the last good version', async () => {
    await upload('20211019-000000000.csv', 'U,1,Fine,Austin,2021-10-01\n')
    await upload('20211019-000000001.csv', 'U,2,Bad,Austin,2021-02-30\n')
    const event = await receive()
    const result = await handler(event)
    expect(result?.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      event.Records.map((r) => r.messageId).sort(),
    )
    expect((await readCommitLog(target(), 'users')).current?.version).toBe(2)
    expect((await glueVersion('users')).version).toBe('2')
    // The error names the S3 key, in `lakesync status` as in the logs.
    const status = await tableStatus(
      openStorage(`s3://${staging}/${PREFIX}`),
      target(),
      USERS_SPEC,
      DEFAULT_DMS_FORMAT,
    )
    expect(status.error?.message).toContain(`s3://${staging}/${PREFIX}20211019-000000001.csv line 1 column 5`)
    expect(status.pending).toEqual(['20211019-000000000.csv', '20211019-000000001.csv'])
  })
})
