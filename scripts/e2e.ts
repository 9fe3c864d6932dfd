/**
 * `npm run e2e`: the whole pipeline on one machine, with no AWS account.
 *
 *   PostgreSQL 15 (a throwaway cluster) --capture--> s3://staging (moto) --notification--> SQS (moto)
 *     --> the real merge Lambda handler --> s3://final (moto) + Glue (moto)
 *
 * Steps: load the reference database (create_db.pg.sql), capture its full load, run the handler on the queue; then
 * the reference updates (update_test.pg.sql) and a seeded random workload of inserts, updates (city moves, NULLs,
 * awkward text, key changes) and deletes, captured in three ways: a capture that crashes between writing a file and
 * acknowledging it (injected fault), a capture process killed with SIGKILL mid-stream, and a clean restart. The
 * handler runs after each. At the end the published users table must equal `SELECT * FROM cdc.users` row for row,
 * the published features must equal the engine's features over that source table, and Glue must point at the
 * current version. Everything started here is stopped, also on failure.
 *
 * The test suite runs the same flow (test/e2e-local.test.ts) against its own moto server; run standalone, this
 * script starts moto from .venv (scripts/setup-test-env.sh) on a free port.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { GetTableCommand, GlueClient } from '@aws-sdk/client-glue'
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda'
import pg from 'pg'
import { mulberry32 } from '../bench/generate.js'
import { type CaptureFault, type CaptureResult, runCapture } from '../etl/capture/capture.js'
import { PostgresSource } from '../etl/capture/postgres.js'
import { cityFeatures, USERS_FEATURES_SPEC } from '../etl/city-features.js'
import { readVersionTable } from '../etl/commit/load-version.js'
import { readCommitLog } from '../etl/commit/log.js'
import { loadRunConfig } from '../etl/config/run-config.js'
import { listDmsFiles } from '../etl/dms/files.js'
import { formatDate, parseDateString, todayUtc } from '../etl/dms/values.js'
import { readDmsFile } from '../etl/read-dms-file.js'
import { showTable, tableToCsv } from '../etl/report/csv-export.js'
import { openStorage } from '../etl/storage/open.js'
import { stringColumnFrom } from '../etl/table/columns.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import type { Table } from '../etl/types.js'
import { NULL_DATE, OP_INSERT, OP_UPDATE } from '../etl/types.js'
import { startPgCluster } from './pg-cluster.js'
import { startMoto } from './test-services.js'

const ROOT = join(import.meta.dirname, '..')
const EXAMPLES = join(ROOT, 'examples', 'pyspark-cdc')
const TABLE = { schema: 'cdc', name: 'users' }
const PREFIX = 'dms/cdc/users/'
const REGION = 'us-east-1'

export interface E2eOptions {
  endpoint?: string // a running moto server; without it one is started from .venv
  names?: { staging: string; final: string; database: string; queue: string } // AWS resource names
  seed?: number // of the random workload
  operations?: number // random statements (about 4 per transaction)
  log?: (line: string) => void
}

export interface E2eReport {
  rowsLoaded: number
  loadFiles: number
  changeFiles: number // in the staging bucket at the end
  changes: { I: number; U: number; D: number } // change rows in the staging bucket, per op
  replayed: number // written-but-unacknowledged files the restarts found and skipped
  killedAfterFiles: number // change files the SIGKILLed capture had written
  sourceRows: number
  version: number // the published version at the end
  captureLagMs: number // longest commit-to-file time of the streaming capture process (--interval 50ms)
  publishLagMs: number // last source commit to the last published version
  firstFeatures: string // the first feature rows, as a table
  seconds: number
}

const NAMES = [
  'Ada Lovelace',
  'Grace Hopper',
  "Conan O'Brien, Jr.",
  'Zoë "Z" Ångström',
  'two\nlines',
  '',
  'Ray Bowman',
  '山田 太郎',
]
const CITIES = [
  'New York',
  'Seattle',
  'Portland',
  'Nashville-Davidson', // an alias of Nashville in data/city_aliases.json
  'Nashville',
  'Atlantis', // in no state
  'Columbus',
  'Phoenix',
  null,
]

/** A seeded workload of transactions of 1-4 statements against cdc.users. */
export async function randomWorkload(db: pg.Client, seed: number, operations: number): Promise<number> {
  const rnd = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const ids = (await db.query<{ user_id: number }>('SELECT user_id FROM cdc.users')).rows.map(
    (r) => r.user_id,
  )
  let nextId = Math.max(1000, ...ids.map((i) => i + 1))
  const today = todayUtc()
  const dateText = () => (rnd() < 0.08 ? null : formatDate(today - Math.floor(rnd() * 200)))
  let done = 0
  while (done < operations) {
    await db.query('BEGIN')
    const n = 1 + Math.floor(rnd() * 4)
    for (let i = 0; i < n && done < operations; i++, done++) {
      const r = rnd()
      if (r < 0.35 || ids.length < 5) {
        const id = nextId++
        await db.query('INSERT INTO cdc.users VALUES ($1, $2, $3, $4)', [
          id,
          pick(NAMES),
          pick(CITIES),
          dateText(),
        ])
        ids.push(id)
      } else if (r < 0.5) {
        await db.query('UPDATE cdc.users SET city = $2 WHERE user_id = $1', [pick(ids), pick(CITIES)])
      } else if (r < 0.7) {
        await db.query('UPDATE cdc.users SET name = $2, last_login = $3 WHERE user_id = $1', [
          pick(ids),
          pick(NAMES),
          dateText(),
        ])
      } else if (r < 0.75) {
        await db.query('UPDATE cdc.users SET last_login = $2 WHERE city = $1', [pick(CITIES), dateText()])
      } else if (r < 0.8) {
        const k = Math.floor(rnd() * ids.length)
        const id = nextId++
        await db.query('UPDATE cdc.users SET user_id = $2 WHERE user_id = $1', [ids[k], id])
        ids[k] = id
      } else {
        const k = Math.floor(rnd() * ids.length)
        await db.query('DELETE FROM cdc.users WHERE user_id = $1', [ids[k]])
        ids.splice(k, 1)
      }
    }
    await db.query('COMMIT')
  }
  return done
}

/** The source table as the published CSV (etl/report/csv-export.ts's format), read straight from PostgreSQL. */
async function sourceRows(db: pg.Client): Promise<(string | null)[][]> {
  return (
    await db.query<(string | null)[]>({
      text: 'SELECT user_id::text, name, city, last_login::text FROM cdc.users AS u ORDER BY u.user_id',
      rowMode: 'array',
    })
  ).rows
}

function csvOf(rows: (string | null)[][]): string {
  const field = (v: string | null) =>
    v === null ? '' : v === '' ? '""' : /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v
  const header = USERS_SPEC.columns.map((c) => c.name).join(',')
  return `${[header, ...rows.map((r) => r.map(field).join(','))].join('\n')}\n`
}

/** The source rows as an engine table (for the features). */
function tableOf(rows: (string | null)[][]): Table {
  const n = rows.length
  const ids = new Int32Array(n)
  const dates = new Int32Array(n)
  rows.forEach((r, i) => {
    ids[i] = Number(r[0])
    dates[i] = r[3] === null ? NULL_DATE : parseDateString(r[3]!)!
  })
  return {
    spec: USERS_SPEC,
    length: n,
    columns: [
      { type: 'int32', values: ids, valid: new Uint8Array(n).fill(1) },
      stringColumnFrom(rows.map((r) => r[1] ?? null)),
      stringColumnFrom(rows.map((r) => r[2] ?? null)),
      { type: 'date', values: dates },
    ],
  }
}

/** The first line where two texts differ, for a readable failure. */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n')
  const e = expected.split('\n')
  for (let i = 0; i < Math.max(a.length, e.length); i++)
    if (a[i] !== e[i])
      return `line ${i + 1}: published ${JSON.stringify(a[i])}, source ${JSON.stringify(e[i])} (${a.length - 2} vs ${e.length - 2} rows)`
  return 'no difference'
}

export async function runE2e(opts: E2eOptions = {}): Promise<E2eReport> {
  const started = performance.now()
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`))
  const tag = Math.random().toString(16).slice(2, 10)
  const names = opts.names ?? {
    staging: `staging-${tag}`,
    final: `final-${tag}`,
    database: `lake_${tag}`,
    queue: `lakesync-e2e-${tag}`,
  }
  const cleanup: (() => Promise<void>)[] = []
  let child: ChildProcess | undefined
  try {
    let endpoint = opts.endpoint
    if (!endpoint) {
      const moto = await startMoto()
      cleanup.push(moto.stop)
      endpoint = moto.endpoint
    }
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ENDPOINT_URL_GLUE: endpoint,
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: REGION,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    })
    delete process.env.AWS_SESSION_TOKEN
    delete process.env.AWS_PROFILE
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' }
    const s3 = new S3Client({ endpoint, region: REGION, credentials, forcePathStyle: true })
    const sqs = new SQSClient({ endpoint, region: REGION, credentials })
    const glue = new GlueClient({ endpoint, region: REGION, credentials })

    log('starting a throwaway PostgreSQL cluster')
    const cluster = await startPgCluster()
    cleanup.push(cluster.stop)
    const db = new pg.Client({ connectionString: cluster.url })
    db.on('error', () => {})
    await db.connect()
    cleanup.push(() => db.end().catch(() => {}))

    await s3.send(new CreateBucketCommand({ Bucket: names.staging }))
    await s3.send(new CreateBucketCommand({ Bucket: names.final }))
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: names.queue }))).QueueUrl!
    cleanup.push(async () => {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {})
    })
    const arn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes!.QueueArn!
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: names.staging,
        NotificationConfiguration: {
          QueueConfigurations: [{ QueueArn: arn, Events: ['s3:ObjectCreated:*'] }],
        },
      }),
    )
    Object.assign(process.env, {
      STAGING_BUCKET: names.staging,
      FINAL_BUCKET: names.final,
      FINAL_PREFIX: 'lake',
      GLUE_DATABASE: names.database,
      LAKESYNC_TABLES: JSON.stringify({ users: { stagingPrefix: PREFIX } }),
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
    })
    const { handler } = (await import('../lambdas/merge.js')) as {
      handler: (e: SQSEvent) => Promise<SQSBatchResponse | undefined>
    }

    /** Hands the queue to the handler, 10 messages at a time as the Lambda service would, until it is empty. */
    const drain = async (): Promise<number> => {
      let batches = 0
      for (;;) {
        const got = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        )
        const messages = got.Messages ?? []
        if (messages.length === 0) return batches
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        )
        const result = await handler({
          Records: messages.map((m) => ({
            messageId: m.MessageId!,
            receiptHandle: m.ReceiptHandle!,
            body: m.Body!,
            attributes: {} as never,
            messageAttributes: {},
            md5OfBody: m.MD5OfBody ?? '',
            eventSource: 'aws:sqs',
            eventSourceARN: arn,
            awsRegion: REGION,
          })),
        })
        if (result && result.batchItemFailures.length > 0)
          throw new Error(`the handler failed ${result.batchItemFailures.length} message(s) (see its logs)`)
        batches++
      }
    }

    const staging = openStorage(`s3://${names.staging}/${PREFIX}`)
    const final = openStorage(`s3://${names.final}/lake/`)
    const config = await loadRunConfig()
    const totals: CaptureResult = {
      loaded: false,
      loadRows: 0,
      loadFiles: [],
      changeFiles: [],
      counts: { I: 0, U: 0, D: 0 },
      replayed: [],
      maxLagMs: 0,
    }
    const capture = async (fault?: { at: CaptureFault; after: number }): Promise<void> => {
      const source = new PostgresSource({
        url: cluster.url,
        table: TABLE,
        spec: config.table,
        slot: 'lakesync_e2e',
        publication: 'lakesync_e2e',
      })
      let steps = 0
      let r: CaptureResult | undefined
      try {
        r = await runCapture({
          source,
          out: staging,
          table: TABLE,
          spec: config.table,
          format: config.format,
          once: true,
          fileSize: 4096,
          onEvent: (e) => {
            if (e.type === 'replayed') {
              totals.replayed.push(e.path)
              log(`  restart: ${e.message}`)
            }
          },
          ...(fault
            ? {
                faults: (step: CaptureFault) => {
                  if (step === fault.at && ++steps === fault.after)
                    throw new Error(`injected crash ${fault.at} #${fault.after}`)
                },
              }
            : {}),
        })
      } catch (e) {
        if (!fault || !(e as Error).message.startsWith('injected crash')) throw e
        log(`  capture crashed as planned: ${(e as Error).message}`)
      } finally {
        await source.close()
      }
      if (r?.loaded) {
        totals.loaded = true
        totals.loadRows += r.loadRows
        totals.loadFiles.push(...r.loadFiles)
      }
    }

    // 1. The reference database, its full load, the first version.
    await db.query(readFileSync(join(EXAMPLES, 'create_db.pg.sql'), 'utf8'))
    await capture()
    log(`full load: ${totals.loadRows} rows in ${totals.loadFiles.join(', ')}`)
    await drain()

    // 2. The reference updates and the first part of the workload; a capture that crashes after writing its second
    //    file, before acknowledging it; a restart that must recognise that file rather than write it again.
    const operations = opts.operations ?? 600
    const seed = opts.seed ?? 20211017
    await db.query(readFileSync(join(EXAMPLES, 'update_test.pg.sql'), 'utf8'))
    await randomWorkload(db, seed, Math.floor(operations / 3))
    await capture({ at: 'after-change-file', after: 2 })
    await drain()
    await capture()
    await drain()

    // 3. A capture process killed with SIGKILL while the workload runs and it writes files.
    const before = (await staging.list()).length
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'cli', 'main.ts'),
        'capture',
        '--pg',
        cluster.url,
        '--table',
        'cdc.users',
        '--out',
        `s3://${names.staging}/${PREFIX}`,
        '--slot',
        'lakesync_e2e',
        '--interval',
        '50ms',
        '--file-size',
        '2KB',
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: process.env },
    )
    let childLog = ''
    child.stderr?.on('data', (b: Buffer) => {
      childLog += b.toString()
    })
    const running = child
    const until = async (what: string, done: () => Promise<boolean> | boolean): Promise<void> => {
      for (const deadline = Date.now() + 30_000; !(await done()); ) {
        if (running.exitCode !== null) throw new Error(`the capture process exited early:\n${childLog}`)
        if (Date.now() > deadline) throw new Error(`the capture process ${what} within 30 s:\n${childLog}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    await until('did not start', () => childLog.includes('resuming'))
    // The workload runs while the capture streams; it is killed once it has written a few files (or, should the
    // workload make fewer, once it has been idle for half a second after the workload ended).
    let workloadDone = false
    const workload = randomWorkload(db, seed + 1, Math.floor(operations / 3)).finally(() => {
      workloadDone = true
    })
    let killedAfterFiles = 0
    let lastChange = Date.now()
    await until('wrote no files', async () => {
      const n = (await staging.list()).length - before
      if (n !== killedAfterFiles) lastChange = Date.now()
      killedAfterFiles = n
      return n >= 3 || (workloadDone && n >= 1 && Date.now() - lastChange > 500)
    })
    if (running.exitCode !== null) throw new Error(`the capture process exited early:\n${childLog}`)
    running.kill('SIGKILL')
    await new Promise((r) => running.once('exit', r))
    child = undefined
    killedAfterFiles = (await staging.list()).length - before
    for (const m of childLog.matchAll(/\(lag (\d+) ms\)/g))
      totals.maxLagMs = Math.max(totals.maxLagMs, Number(m[1]))
    log(`capture process killed with SIGKILL after ${killedAfterFiles} file(s)`)
    await workload
    await drain()
    // Its backend may hold the slot a moment longer: the restart waits for it (postgres.ts retries "in use").

    // 4. The rest of the workload, a clean restart, the handler.
    await randomWorkload(db, seed + 2, operations - 2 * Math.floor(operations / 3))
    const lastCommitMs = Date.now()
    await capture()
    await drain()

    // 5. Published state = source.
    const logState = await readCommitLog(final, 'users')
    const current = logState.current
    if (!current) throw new Error('nothing was published')
    const rows = await sourceRows(db)
    const users = await readVersionTable(final, current, USERS_SPEC, 'users')
    const expectedUsers = csvOf(rows)
    const publishedUsers = tableToCsv(users)
    if (publishedUsers !== expectedUsers)
      throw new Error(
        `published users differ from the source: ${firstDifference(publishedUsers, expectedUsers)}`,
      )
    const features = await readVersionTable(final, current, USERS_FEATURES_SPEC, 'users_features')
    const expectedFeatures = cityFeatures(tableOf(rows), {
      asOf: parseDateString(current.asOf)!,
      cityToState: config.cityToState,
      cityAliases: config.cityAliases,
    }).table
    if (tableToCsv(features) !== tableToCsv(expectedFeatures))
      throw new Error(
        `published features differ from the features of the source: ${firstDifference(tableToCsv(features), tableToCsv(expectedFeatures))}`,
      )
    for (const name of ['users', 'users_features']) {
      const t = (await glue.send(new GetTableCommand({ DatabaseName: names.database, Name: name }))).Table
      if (t?.Parameters?.lakesync_version !== String(current.version))
        throw new Error(
          `Glue table ${name} is at version ${t?.Parameters?.lakesync_version}, not ${current.version}`,
        )
    }

    // What the staging bucket holds, read back with the engine's own reader.
    const listing = listDmsFiles((await staging.list()).map((o) => o.path))
    const changes = { I: 0, U: 0, D: 0 }
    for (const f of listing.changes) {
      const { parsed } = await readDmsFile(staging, f, config.table, config.format)
      for (const op of parsed.ops ?? []) changes[op === OP_INSERT ? 'I' : op === OP_UPDATE ? 'U' : 'D']++
    }

    return {
      rowsLoaded: totals.loadRows,
      loadFiles: listing.loads.length,
      changeFiles: listing.changes.length,
      changes,
      replayed: totals.replayed.length,
      killedAfterFiles,
      sourceRows: rows.length,
      version: current.version,
      captureLagMs: totals.maxLagMs,
      publishLagMs: Date.parse(current.committedAt) - lastCommitMs,
      firstFeatures: showTable(features, 8),
      seconds: (performance.now() - started) / 1000,
    }
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL')
    for (const step of cleanup.reverse()) await step().catch(() => {})
  }
}

export function formatReport(r: E2eReport): string {
  return [
    '',
    'lakesync local end-to-end: PostgreSQL -> capture -> S3 staging -> SQS -> Lambda handler -> S3 final + Glue',
    `  rows loaded         ${r.rowsLoaded} (${r.loadFiles} LOAD file(s))`,
    `  changes captured    ${r.changes.I} I, ${r.changes.U} U, ${r.changes.D} D in ${r.changeFiles} change file(s) in staging`,
    `  crash tests         injected crash before the acknowledgement, SIGKILL after ${r.killedAfterFiles} file(s); ${r.replayed} written-but-unacknowledged file(s) recognised on restart, none applied twice`,
    `  lag                 streaming capture: commit -> staged file at most ${r.captureLagMs} ms (polling every 50 ms); last commit -> published version ${r.publishLagMs} ms`,
    `  published           version ${r.version}: ${r.sourceRows} users, equal to SELECT * FROM cdc.users row for row; features equal the engine's over the source`,
    `  took                ${r.seconds.toFixed(1)} s`,
    '',
    'first feature rows:',
    r.firstFeatures,
  ].join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Ctrl-C: exit through process.exit, whose 'exit' handlers stop the PostgreSQL cluster and moto.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
  runE2e().then(
    (r) => {
      process.stdout.write(`${formatReport(r)}\n`)
    },
    (e: unknown) => {
      process.stderr.write(`e2e failed: ${(e as Error).stack ?? String(e)}\n`)
      process.exitCode = 1
    },
  )
}
