/**
 * Retries that come back soon (lambdas/retry.ts), on moto: a busy table's messages are batch item failures whose
 * visibility ends with the holder's lease; the files of an invocation that died holding the lease are applied by a
 * redelivered message within the lease plus one visibility interval; the periodic sweep runs a table whose lease
 * lapsed with files pending, and leaves a held table alone.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { claimVersion, readCommitLog } from '../etl/commit/log.js'
import { newestMetadata } from '../etl/iceberg/publish.js'
import { runPipeline } from '../etl/pipeline.js'
import { openStorage } from '../etl/storage/open.js'
import { planRetry, visibilityUntil } from '../lambdas/retry.js'
import { SWEEP_EVENT as SWEEP } from '../lambdas/sweep-event.js'
import { pendingClaim } from './helpers/commit-records.js'
import { SEED, SEED_FILES, seedOptions } from './helpers/fixtures.js'
import { useMoto } from './helpers/moto.js'
import { notifiedQueue, sqsEvent, sqsRecord } from './helpers/sqs-events.js'

const PREFIX = 'dms/public/users/'
const QUEUE_VISIBILITY_SECONDS = 30 // what a failed message would wait without the lease's expiry

describe('retries that come back soon', () => {
  it('fails busy messages until the lease ends, and lets go of those about to reach the dead-letter queue', () => {
    const received = (n: number) => ({
      ...sqsRecord(`m${n}`, '{}'),
      attributes: { ...sqsRecord('x', '{}').attributes, ApproximateReceiveCount: String(n) },
    })
    const plan = planRetry([received(1), received(3), received(4), received(5)], 5)
    expect(plan.retry.map((r) => r.messageId)).toEqual(['m1', 'm3'])
    expect(plan.release.map((r) => r.messageId)).toEqual(['m4', 'm5'])
    expect(planRetry([received(9)], undefined).retry).toHaveLength(1)
    const now = Date.parse('2026-12-06T12:00:00Z')
    expect(visibilityUntil('2026-12-06T12:00:42.100Z', now)).toBe(44)
    expect(visibilityUntil('2026-12-06T11:00:00Z', now)).toBe(1)
  })
})

describe('merge Lambda on moto: busy tables and the sweep', () => {
  const moto = useMoto()
  const staging = moto.bucket('staging')
  const final = moto.bucket('final')
  const sqs = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1' })
  let queueUrl = ''
  let handler: (e: unknown) => Promise<SQSBatchResponse | undefined>
  const target = () => openStorage(`s3://${final}/lake/`)

  beforeAll(async () => {
    await moto.reset()
    await moto.s3.send(new CreateBucketCommand({ Bucket: staging }))
    await moto.s3.send(new CreateBucketCommand({ Bucket: final }))
    queueUrl = await notifiedQueue(moto.s3, sqs, staging, `lakesync-retries-${moto.tag}`, {
      VisibilityTimeout: String(QUEUE_VISIBILITY_SECONDS),
    })
    Object.assign(process.env, {
      STAGING_BUCKET: staging,
      FINAL_BUCKET: final,
      FINAL_PREFIX: 'lake',
      LAKESYNC_TABLES: JSON.stringify({ users: { stagingPrefix: PREFIX } }),
      QUEUE_URL: queueUrl,
      MAX_RECEIVE_COUNT: '5',
      LEASE_SECONDS: '2',
    })
    delete process.env.GLUE_DATABASE
    vi.resetModules()
    handler = (await import('../lambdas/merge.js')).handler as typeof handler
    await settle([]) // the s3:TestEvent moto may send when the notification is configured
  })

  async function upload(name: string): Promise<void> {
    await moto.s3.send(
      new PutObjectCommand({
        Bucket: staging,
        Key: `${PREFIX}${name}`,
        Body: readFileSync(join(SEED, name)),
      }),
    )
  }

  /** Receives what is visible, leaving it in flight as the Lambda poller does (`visibility`: for this receive). */
  async function receive(visibility?: number): Promise<SQSEvent> {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        ...(visibility !== undefined ? { VisibilityTimeout: visibility } : {}),
      }),
    )
    return sqsEvent((got.Messages ?? []).map(record))
  }

  function record(m: Message) {
    const r = sqsRecord(m.MessageId!, m.Body!, m.ReceiptHandle!)
    r.attributes.ApproximateReceiveCount = m.Attributes?.ApproximateReceiveCount ?? '1'
    return r
  }

  /** Deletes what the handler did not fail, as the Lambda service does after an invocation. */
  async function settle(failed: string[], event?: SQSEvent): Promise<void> {
    const done = (event ?? (await receive())).Records.filter((r) => !failed.includes(r.messageId))
    if (done.length > 0)
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      )
  }

  /** The poller: hands what returns to the handler until it fails nothing; the seconds it took. */
  async function consumeUntilApplied(started: number, deadlineMs: number): Promise<number> {
    while (Date.now() - started < deadlineMs) {
      const event = await receive()
      if (event.Records.length === 0) continue
      const failed = (await handler(event))!.batchItemFailures.map((f) => f.itemIdentifier)
      await settle(failed, event)
      if (failed.length === 0) return (Date.now() - started) / 1000
    }
    throw new Error(`nothing applied within ${deadlineMs} ms`)
  }

  const states = async () => (await readCommitLog(target(), 'users')).entries.map((e) => e.record.state)

  it("a busy table's messages are batch item failures that return when the holder's lease ends", async () => {
    await claimVersion(target(), pendingClaim(1, 'live-run', new Date(), 3_000))
    const started = Date.now()
    await upload(SEED_FILES[0]!)
    await upload(SEED_FILES[1]!)
    const event = await receive()
    expect(event.Records.length).toBeGreaterThan(0)
    const result = await handler(event)
    expect(result!.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      event.Records.map((r) => r.messageId).sort(),
    )
    expect((await receive()).Records).toEqual([]) // invisible while the lease runs
    // Back about when the lease ends (not after the queue's 30 s), and then applied: the holder never came back.
    const took = await consumeUntilApplied(started, 15_000)
    expect(took).toBeLessThan(QUEUE_VISIBILITY_SECONDS / 2)
    expect(await states()).toEqual(['abandoned', 'committed'])
  }, 30_000)

  it('the files of an invocation that died holding the lease are applied within the lease plus one visibility interval', async () => {
    const lease = 2_000
    const visibility = 3 // seconds: the dead invocation's receive
    await upload(SEED_FILES[2]!)
    const dead = await receive(visibility) // the dead invocation took the messages...
    expect(dead.Records.length).toBeGreaterThan(0)
    const head = (await readCommitLog(target(), 'users')).head!.record.version
    await claimVersion(target(), pendingClaim(head + 1, 'timed-out-invocation', new Date(), lease)) // ...and claimed
    const started = Date.now()
    const took = await consumeUntilApplied(started, 15_000)
    expect(took).toBeLessThan(lease / 1000 + visibility + 3)
    const log = await readCommitLog(target(), 'users')
    expect(log.current!.files.map((f) => f.path)).toEqual([SEED_FILES[2]])
    expect(await states()).toEqual(['abandoned', 'committed', 'abandoned', 'committed'])
  }, 30_000)

  it('the sweep leaves a held table alone and runs it once the lease lapses with files pending', async () => {
    await upload(SEED_FILES[3]!)
    await settle([]) // its messages were lost (released near the dead-letter queue, say)
    const head = (await readCommitLog(target(), 'users')).head!.record.version
    await claimVersion(target(), pendingClaim(head + 1, 'dying-run', new Date(), 1_500))
    await handler(SWEEP)
    expect((await readCommitLog(target(), 'users')).head!.record.state).toBe('pending')
    await sleep(1_600)
    await handler(SWEEP)
    const log = await readCommitLog(target(), 'users')
    expect(log.current!.version).toBe(head + 2)
    expect(log.current!.files.map((f) => f.path)).toEqual([SEED_FILES[3]])
    await handler(SWEEP) // nothing pending: nothing runs
    expect((await readCommitLog(target(), 'users')).head!.record.version).toBe(head + 2)
  }, 30_000)

  it('the sweep publishes as an Iceberg snapshot a version another engine committed without one (the Glue job)', async () => {
    await upload(SEED_FILES[4]!)
    await settle([])
    // The Spark job commits versions and the commit log, no Iceberg metadata: a hive-format run does the same.
    await runPipeline(
      seedOptions(openStorage(`s3://${staging}/${PREFIX}`), target(), { tableFormat: 'hive' }),
    )
    const current = (await readCommitLog(target(), 'users')).current!.version
    const snapshot = async () =>
      (await newestMetadata(target(), 'users'))?.metadata['current-snapshot-id'] ?? -1
    expect(await snapshot()).toBeLessThan(current)
    await handler(SWEEP)
    // Published (the run here may add a version of its own: its as_of is today's, which moves the features).
    const after = (await readCommitLog(target(), 'users')).current!.version
    expect(after).toBeGreaterThanOrEqual(current)
    expect(await snapshot()).toBe(after)
  }, 30_000)
})
