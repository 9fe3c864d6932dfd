/**
 * `npm run load:moto -- [--tables 50] [--files 20] [--pollers 4] [--lease 5] [--out FILE]`: a load test of the deployed path on
 * moto (not part of `npm test`; docs/reliability.md records the figures). Every table's LOAD file and change files
 * are uploaded at once to the staging bucket, whose notifications go to an SQS queue with a dead-letter queue
 * (maxReceiveCount 5); `--pollers` loops stand in for the Lambda service (receive up to 10, invoke the real handler,
 * delete what it did not fail; failed messages come back when their visibility ends). Checked at the end: every
 * file applied exactly once in its table's commit log, no message in the dead-letter queue. Reported: commits, the
 * worst lag (upload to commit) and how many batch item failures (busy tables) there were.
 */
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { mulberry32 } from '../bench/generate.js'
import { readCommitLog } from '../etl/commit/log.js'
import { openStorage } from '../etl/storage/open.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import { Stream } from './soak-checks.js'
import { startMoto } from './test-services.js'

const { values: flags } = parseArgs({
  options: {
    tables: { type: 'string', default: '50' },
    files: { type: 'string', default: '20' },
    pollers: { type: 'string', default: '4' },
    lease: { type: 'string', default: '5' },
    deadline: { type: 'string', default: '900' },
    out: { type: 'string' }, // also write the report here (the handler's JSON logs share stdout)
  },
})
const TABLES = Number(flags.tables)
const FILES = Number(flags.files)
const REGION = 'us-east-1'
const names = Array.from({ length: TABLES }, (_, i) => `t${String(i).padStart(2, '0')}`)
const prefixOf = (t: string) => `dms/public/${t}/`

const moto = await startMoto()
try {
  const endpoint = moto.endpoint
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ENDPOINT_URL_GLUE: endpoint,
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: REGION,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  })
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' }
  const s3 = new S3Client({ endpoint, region: REGION, credentials, forcePathStyle: true })
  const sqs = new SQSClient({ endpoint, region: REGION, credentials })
  await s3.send(new CreateBucketCommand({ Bucket: 'staging' }))
  await s3.send(new CreateBucketCommand({ Bucket: 'final' }))
  const arnOf = async (url: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
      .Attributes!.QueueArn!
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'lakesync-dlq' }))).QueueUrl!
  const queueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: 'lakesync',
        Attributes: {
          VisibilityTimeout: '60',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await arnOf(dlqUrl), maxReceiveCount: 5 }),
        },
      }),
    )
  ).QueueUrl!
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'staging',
      NotificationConfiguration: {
        QueueConfigurations: [{ QueueArn: await arnOf(queueUrl), Events: ['s3:ObjectCreated:*'] }],
      },
    }),
  )
  const table = (name: string) => ({ name, columns: USERS_SPEC.columns, primaryKey: USERS_SPEC.primaryKey })
  Object.assign(process.env, {
    STAGING_BUCKET: 'staging',
    FINAL_BUCKET: 'final',
    FINAL_PREFIX: 'lake/',
    LAKESYNC_TABLES: JSON.stringify(
      Object.fromEntries(names.map((t) => [t, { stagingPrefix: prefixOf(t), config: { table: table(t) } }])),
    ),
    QUEUE_URL: queueUrl,
    MAX_RECEIVE_COUNT: '5',
    LEASE_SECONDS: flags.lease,
  })
  const { handler } = (await import('../lambdas/merge.js')) as {
    handler: (e: SQSEvent) => Promise<SQSBatchResponse | undefined>
  }

  // Every table's files, generated up front, uploaded at once (a few dozen PUTs in flight).
  const uploads: { key: string; text: string }[] = []
  for (const [i, t] of names.entries()) {
    const stream = new Stream(mulberry32(1000 + i))
    uploads.push({ key: `${prefixOf(t)}LOAD00000001.csv`, ...stream.load(50) })
    for (let f = 0; f < FILES; f++) {
      const c = stream.change()
      uploads.push({ key: `${prefixOf(t)}${c.name}`, text: c.text })
    }
  }
  const uploadedAt = new Map<string, number>()
  const started = Date.now()
  let next = 0
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < uploads.length; i = next++) {
        const u = uploads[i]!
        await s3.send(new PutObjectCommand({ Bucket: 'staging', Key: u.key, Body: u.text }))
        uploadedAt.set(u.key, Date.now())
      }
    }),
  )
  process.stdout.write(`uploaded ${uploads.length} files in ${Date.now() - started} ms\n`)

  // The Lambda service: pollers receive, invoke, delete what did not fail, until every file is applied.
  const target = openStorage('s3://final/lake/')
  let invocations = 0
  let failures = 0
  let done = false
  const deadline = started + Number(flags.deadline) * 1000
  const applied = async () => {
    let n = 0
    for (const t of names) n += (await readCommitLog(target, t)).committed.flatMap((r) => r.files).length
    return n
  }
  const pollers = Array.from({ length: Number(flags.pollers) }, async () => {
    while (!done && Date.now() < deadline) {
      const got = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      )
      const messages = got.Messages ?? []
      if (messages.length === 0) continue
      const event: SQSEvent = {
        Records: messages.map((m) => ({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body!,
          attributes: {
            ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
            SentTimestamp: '0',
            SenderId: 'load',
            ApproximateFirstReceiveTimestamp: '0',
          },
          messageAttributes: {},
          md5OfBody: createHash('md5').update(m.Body!).digest('hex'),
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:lakesync',
          awsRegion: REGION,
        })),
      }
      invocations++
      const failed = new Set(((await handler(event))?.batchItemFailures ?? []).map((f) => f.itemIdentifier))
      failures += failed.size
      const ok = messages.filter((m) => !failed.has(m.MessageId!))
      if (ok.length > 0)
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: ok.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        )
    }
  })
  const watcher = (async () => {
    while (Date.now() < deadline && (await applied()) < uploads.length)
      await new Promise((r) => setTimeout(r, 2000))
    done = true
  })()
  await Promise.all([...pollers, watcher])

  // Exactly once, no dead letters; commits and the worst upload-to-commit lag.
  const problems: string[] = []
  let commits = 0
  let worstLagMs = 0
  for (const t of names) {
    const log = await readCommitLog(target, t)
    commits += log.committed.length
    const files = log.committed.flatMap((r) => r.files.map((f) => f.path))
    const expected = uploads
      .filter((u) => u.key.startsWith(prefixOf(t)))
      .map((u) => u.key.slice(prefixOf(t).length))
    if (files.join('|') !== expected.join('|'))
      problems.push(`${t}: applied ${files.length} file(s), expected ${expected.length} once each, in order`)
    for (const r of log.committed)
      for (const f of r.files)
        worstLagMs = Math.max(
          worstLagMs,
          Date.parse(r.committedAt) - uploadedAt.get(`${prefixOf(t)}${f.path}`)!,
        )
  }
  const dlq = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  )
  const dead = Number(dlq.Attributes?.ApproximateNumberOfMessages ?? '0')
  if (dead > 0) problems.push(`${dead} message(s) in the dead-letter queue`)
  const report = {
    tables: TABLES,
    files: uploads.length,
    pollers: Number(flags.pollers),
    leaseSeconds: Number(flags.lease),
    seconds: Math.round((Date.now() - started) / 1000),
    invocations,
    batchItemFailures: failures,
    commits,
    worstLagSeconds: Math.round(worstLagMs / 100) / 10,
    deadLetters: dead,
    problems,
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  if (flags.out) writeFileSync(flags.out, `${JSON.stringify(report, null, 2)}\n`)
  process.exitCode = problems.length > 0 ? 1 : 0
} finally {
  await moto.stop()
}
