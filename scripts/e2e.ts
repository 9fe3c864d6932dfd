/**
 * `npm run e2e`: the whole pipeline on one machine, with no AWS account, for three tables of one DMS task.
 *
 *   PostgreSQL 15 (a throwaway cluster) --capture--> s3://staging/dms/<schema>/<table>/ (moto) --notification--> SQS
 *     (moto) --> the real merge Lambda handler (one route per table) --> s3://final (moto) + Glue (moto)
 *
 * The tables: the reference `cdc.users` (create_db.pg.sql, published with its features), `sales.orders` (a composite
 * key, numeric and timestamptz) and `cdc.settings` (json and boolean), captured together through one slot, as one DMS
 * task writes them. Steps: load the reference database and the two other tables, capture the full load, run the
 * handler on the queue; then the reference updates (update_test.pg.sql) and a seeded random workload over the three
 * tables (inserts, updates: city moves, NULLs, awkward text, json documents, amounts and timestamps, key changes
 * (composite ones too), deletes; transactions mixing tables), captured in three ways: a capture that crashes between
 * writing a file and acknowledging it (injected fault), a capture process killed with SIGKILL mid-stream, and a clean
 * restart. The handler runs after each. Then a change to orders alone must add a change file under its folder only and
 * commit orders only. At the end each published table must equal its source table row for row, the published features
 * must equal the engine's features over the source users, and Glue must point at each table's current version.
 * Everything started here is stopped, also on failure.
 *
 * The test suite runs the same flow (test/e2e-local.test.ts) against its own moto server; run standalone, this
 * script starts moto from .venv (scripts/setup-test-env.sh) on a free port.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
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
import { type CaptureFault, runCaptureTables } from '../etl/capture/capture.js'
import { PostgresSource } from '../etl/capture/postgres.js'
import { cityFeatures, USERS_FEATURES_SPEC } from '../etl/city-features.js'
import { readVersionTable } from '../etl/commit/load-version.js'
import { readCommitLog } from '../etl/commit/log.js'
import { loadRunConfig } from '../etl/config/run-config.js'
import { listDmsFiles } from '../etl/dms/files.js'
import { formatDate, parseDateString, todayUtc } from '../etl/dms/values.js'
import { readDmsFile } from '../etl/read-dms-file.js'
import { formatValue, showTable, tableToCsv } from '../etl/report/csv-export.js'
import { openStorage } from '../etl/storage/open.js'
import { PrefixedStorage } from '../etl/storage/prefixed.js'
import { stringColumnFrom } from '../etl/table/columns.js'
import { parseTableSpec, USERS_SPEC } from '../etl/table/spec.js'
import type { Table, TableSpec } from '../etl/types.js'
import { NULL_DATE, OP_INSERT, OP_UPDATE } from '../etl/types.js'
import { startPgCluster } from './pg-cluster.js'
import { startMoto } from './test-services.js'

const ROOT = join(import.meta.dirname, '..')
const EXAMPLES = join(ROOT, 'examples', 'pyspark-cdc')
const ROOT_PREFIX = 'dms/' // the DMS task's folder in the staging bucket: dms/<schema>/<table>/
const REGION = 'us-east-1'

/** The orders and settings tables, as a config names them (users is the reference table: the default config). */
const ORDERS_TABLE = {
  name: 'orders',
  columns: [
    { name: 'order_id', type: 'int64' },
    { name: 'line_no', type: 'int16' },
    { name: 'amount', type: 'decimal(12,2)' },
    { name: 'placed', type: 'timestamptz' },
    { name: 'note', type: 'string' },
  ],
  primaryKey: ['order_id', 'line_no'],
}
const SETTINGS_TABLE = {
  name: 'settings',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'doc', type: 'json' },
    { name: 'enabled', type: 'boolean' },
    { name: 'label', type: 'string' },
  ],
  primaryKey: ['id'],
}

/** The two tables beside cdc.users, and their first rows. */
const OTHER_TABLES_SQL = `
  CREATE SCHEMA sales;
  CREATE TABLE sales.orders (order_id bigint, line_no smallint, amount numeric(12,2) NOT NULL, placed timestamptz,
                             note text, PRIMARY KEY (order_id, line_no));
  CREATE TABLE cdc.settings (id int PRIMARY KEY, doc json, enabled boolean NOT NULL, label text);
  INSERT INTO sales.orders
    SELECT o, l, ((o * 37 + l * 11) % 2000 - 1000) + 0.25 * l, TIMESTAMPTZ '2021-10-01 00:00:00+00' + o * INTERVAL '7 hours 13.000123 seconds',
           CASE WHEN l = 2 THEN NULL ELSE 'order ' || o || ', line ' || l END
    FROM generate_series(1, 20) o, generate_series(1, 3) l;
  INSERT INTO cdc.settings
    SELECT i, json_build_object('theme', CASE WHEN i % 2 = 0 THEN 'dark' ELSE 'light' END, 'n', i), i % 3 = 0, 'setting ' || i
    FROM generate_series(1, 15) i`

/** A table of the flow: where it comes from, its published name, and the SELECT that renders it as export does. */
interface FlowTable {
  schema: string
  name: string // the source table and the published name
  spec: TableSpec
  lambdaConfig?: Record<string, unknown> // its LAKESYNC_TABLES config (none: the default, users with features)
  select: string // its rows as the published CSV renders them
}

const TABLES: FlowTable[] = [
  {
    schema: 'cdc',
    name: 'users',
    spec: USERS_SPEC,
    select: 'SELECT user_id::text, name, city, last_login::text FROM cdc.users',
  },
  {
    schema: 'sales',
    name: 'orders',
    spec: parseTableSpec(ORDERS_TABLE),
    lambdaConfig: { table: ORDERS_TABLE },
    select: `SELECT order_id::text, line_no::text, amount::text,
        to_char(placed AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || 'Z', note FROM sales.orders`,
  },
  {
    schema: 'cdc',
    name: 'settings',
    spec: parseTableSpec(SETTINGS_TABLE),
    lambdaConfig: { table: SETTINGS_TABLE },
    select: 'SELECT id::text, doc::text, enabled::text, label FROM cdc.settings',
  },
]

/** The capture's config: every table of the flow, in the "tables" form (as `lakesync schema` prints it). */
const CAPTURE_CONFIG = {
  tables: [
    {
      schema: 'cdc',
      name: 'users',
      columns: USERS_SPEC.columns,
      primaryKey: USERS_SPEC.primaryKey,
      features: USERS_SPEC.features,
    },
    { schema: 'sales', ...ORDERS_TABLE },
    { schema: 'cdc', ...SETTINGS_TABLE },
  ],
}

export interface E2eOptions {
  endpoint?: string // a running moto server; without it one is started from .venv
  names?: { staging: string; final: string; database: string; queue: string } // AWS resource names
  seed?: number // of the random workload
  operations?: number // random statements (about 4 per transaction)
  log?: (line: string) => void
}

/** One table at the end of the flow. */
export interface E2eTableReport {
  name: string
  rowsLoaded: number // by the full load
  loadFiles: number
  changeFiles: number // in its staging folder at the end
  changes: { I: number; U: number; D: number } // change rows in its staging folder, per op
  sourceRows: number // rows in the source table at the end (= published rows)
  version: number // its published version at the end
}

export interface E2eReport {
  tables: E2eTableReport[] // users, orders, settings
  replayed: number // written-but-unacknowledged files the restarts found and skipped
  killedAfterFiles: number // change files the SIGKILLed capture had written
  oneTable: { files: string[]; versionsBefore: Record<string, number>; versionsAfter: Record<string, number> } // a change to orders alone
  captureLagMs: number // longest commit-to-file time of the streaming capture process (--interval 50ms)
  publishLagMs: number // last source commit to the last published version of users
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

/** json documents for cdc.settings: nesting, numbers, unicode, quotes, line breaks, JSON null, SQL NULL. */
const DOCS = [
  '{"theme": "dark", "size": 12}',
  '{ "a" : [1, 2.50, "x"],\n "b": null }',
  '[]',
  'null',
  '"é, \\"quoted\\""',
  '{"nested": {"k": [true, false, null]}, "n": -1.5e10, "s": "山田"}',
  null,
]
const OFFSETS = ['+00', '-03:30', '+05:45', '+02', '-11']

/**
 * A seeded workload of transactions of 1-4 statements: most against cdc.users, the others against sales.orders and
 * cdc.settings, mixed in one transaction at times.
 */
export async function randomWorkload(db: pg.Client, seed: number, operations: number): Promise<number> {
  const rnd = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const ids = (await db.query<{ user_id: number }>('SELECT user_id FROM cdc.users')).rows.map(
    (r) => r.user_id,
  )
  const orders = (
    await db.query<{ order_id: string; line_no: number }>('SELECT order_id, line_no FROM sales.orders')
  ).rows.map((r) => [Number(r.order_id), r.line_no] as [number, number])
  const settings = (await db.query<{ id: number }>('SELECT id FROM cdc.settings')).rows.map((r) => r.id)
  let nextId = Math.max(1000, ...ids.map((i) => i + 1))
  let nextOrder = Math.max(1000, ...orders.map(([o]) => o + 1))
  let nextSetting = Math.max(1000, ...settings.map((i) => i + 1))
  const today = todayUtc()
  const dateText = () => (rnd() < 0.08 ? null : formatDate(today - Math.floor(rnd() * 200)))
  const amount = () => ((Math.floor(rnd() * 2_000_000) - 1_000_000) / 100).toFixed(2)
  const placed = () => {
    if (rnd() < 0.08) return null
    const micros = String(Math.floor(rnd() * 1_000_000)).padStart(6, '0')
    const at = new Date(Date.UTC(1995, 0, 1) + Math.floor(rnd() * 40 * 365 * 86_400_000)).toISOString()
    return `${at.slice(0, 10)} ${at.slice(11, 19)}.${micros}${pick(OFFSETS)}`
  }
  const ordersStatement = async () => {
    const r = rnd()
    if (r < 0.4 || orders.length < 5) {
      const key: [number, number] = [nextOrder++, 1 + Math.floor(rnd() * 3)]
      await db.query('INSERT INTO sales.orders VALUES ($1, $2, $3, $4, $5)', [
        ...key,
        amount(),
        placed(),
        rnd() < 0.2 ? null : pick(NAMES),
      ])
      orders.push(key)
    } else if (r < 0.7) {
      await db.query(
        'UPDATE sales.orders SET amount = $3, placed = $4 WHERE order_id = $1 AND line_no = $2',
        [...pick(orders), amount(), placed()],
      )
    } else if (r < 0.8) {
      // A key change in one of the key's two columns.
      const k = Math.floor(rnd() * orders.length)
      const [o, l] = orders[k]!
      const moved: [number, number] = [nextOrder++, l]
      await db.query('UPDATE sales.orders SET order_id = $3 WHERE order_id = $1 AND line_no = $2', [
        o,
        l,
        moved[0],
      ])
      orders[k] = moved
    } else {
      const k = Math.floor(rnd() * orders.length)
      await db.query('DELETE FROM sales.orders WHERE order_id = $1 AND line_no = $2', orders[k]!)
      orders.splice(k, 1)
    }
  }
  const settingsStatement = async () => {
    const r = rnd()
    if (r < 0.4 || settings.length < 5) {
      const id = nextSetting++
      await db.query('INSERT INTO cdc.settings VALUES ($1, $2, $3, $4)', [
        id,
        pick(DOCS),
        rnd() < 0.5,
        rnd() < 0.2 ? null : pick(NAMES),
      ])
      settings.push(id)
    } else if (r < 0.8) {
      await db.query('UPDATE cdc.settings SET doc = $2, enabled = NOT enabled WHERE id = $1', [
        pick(settings),
        pick(DOCS),
      ])
    } else {
      const k = Math.floor(rnd() * settings.length)
      await db.query('DELETE FROM cdc.settings WHERE id = $1', [settings[k]])
      settings.splice(k, 1)
    }
  }
  let done = 0
  while (done < operations) {
    await db.query('BEGIN')
    const n = 1 + Math.floor(rnd() * 4)
    for (let i = 0; i < n && done < operations; i++, done++) {
      const table = rnd()
      if (table < 0.15) {
        await ordersStatement()
        continue
      }
      if (table < 0.3) {
        await settingsStatement()
        continue
      }
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

/** A source table as the published CSV renders each value, from its SELECT (`TABLES`), in no particular order. */
async function selectRows(db: pg.Client, sql: string): Promise<(string | null)[][]> {
  return (
    await db.query<(string | null)[]>({
      text: sql,
      rowMode: 'array',
      types: { getTypeParser: () => (v: string) => v },
    })
  ).rows
}

/** A published table's rows, each value rendered as `lakesync export` renders it. */
function renderedRows(table: Table): (string | null)[][] {
  return Array.from({ length: table.length }, (_, r) =>
    table.spec.columns.map((c, i) => formatValue(c, table.columns[i]!, r)),
  )
}

/** Null when the two row sets are equal (in any order), else the first row one has and the other not. */
function rowSetDifference(published: (string | null)[][], source: (string | null)[][]): string | null {
  const a = published.map((r) => JSON.stringify(r)).sort()
  const b = source.map((r) => JSON.stringify(r)).sort()
  const inB = new Set(b)
  const inA = new Set(a)
  const extra = a.find((r) => !inB.has(r))
  const missing = b.find((r) => !inA.has(r))
  if (extra === undefined && missing === undefined && a.length === b.length) return null
  return `${a.length} published vs ${b.length} source rows; published only: ${extra ?? 'none'}; source only: ${missing ?? 'none'}`
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
      // One route per table, each to its folder of the DMS task's root; users with the default config (features).
      LAKESYNC_TABLES: JSON.stringify(
        Object.fromEntries(
          TABLES.map((t) => [
            t.name,
            {
              stagingPrefix: `${ROOT_PREFIX}${t.schema}/${t.name}/`,
              ...(t.lambdaConfig ? { config: t.lambdaConfig } : {}),
            },
          ]),
        ),
      ),
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

    const stagingUrl = `s3://${names.staging}/${ROOT_PREFIX}`
    const staging = openStorage(stagingUrl) // the DMS task's root: <schema>/<table>/ folders
    const folderOf = (t: FlowTable) => new PrefixedStorage(staging, `${t.schema}/${t.name}`)
    const final = openStorage(`s3://${names.final}/lake/`)
    const config = await loadRunConfig()
    const work = mkdtempSync(join(tmpdir(), 'lakesync-e2e-'))
    cleanup.push(async () => rmSync(work, { recursive: true, force: true }))
    const captureConfig = join(work, 'capture.json')
    writeFileSync(captureConfig, JSON.stringify(CAPTURE_CONFIG))
    const loaded = new Map<string, { rows: number; files: string[] }>()
    const replayed: string[] = []
    let maxLagMs = 0
    const capture = async (fault?: { at: CaptureFault; after: number }): Promise<void> => {
      const tables = TABLES.map((t) => ({
        table: { schema: t.schema, name: t.name },
        spec: t.spec,
        out: folderOf(t),
      }))
      const source = new PostgresSource({
        url: cluster.url,
        tables,
        slot: 'lakesync_e2e',
        publication: 'lakesync_e2e',
      })
      let steps = 0
      try {
        const r = await runCaptureTables({
          source,
          tables,
          format: config.format,
          once: true,
          fileSize: 4096,
          onEvent: (e) => {
            if (e.type === 'replayed') {
              replayed.push(e.path)
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
        if (r.loaded)
          for (const t of r.tables) loaded.set(t.table.name, { rows: t.loadRows, files: t.loadFiles })
      } catch (e) {
        if (!fault || !(e as Error).message.startsWith('injected crash')) throw e
        log(`  capture crashed as planned: ${(e as Error).message}`)
      } finally {
        await source.close()
      }
    }
    const versions = async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        await Promise.all(
          TABLES.map(async (t) => [t.name, (await readCommitLog(final, t.name)).current?.version ?? 0]),
        ),
      )

    // 1. The reference database and the two other tables, their full load (one snapshot), the first versions.
    await db.query(readFileSync(join(EXAMPLES, 'create_db.pg.sql'), 'utf8'))
    await db.query(OTHER_TABLES_SQL)
    await capture()
    for (const [name, l] of loaded) log(`full load: ${name}: ${l.rows} rows in ${l.files.join(', ')}`)
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
        '--config',
        captureConfig,
        '--out',
        stagingUrl,
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
    for (const m of childLog.matchAll(/\(lag (\d+) ms\)/g)) maxLagMs = Math.max(maxLagMs, Number(m[1]))
    log(`capture process killed with SIGKILL after ${killedAfterFiles} file(s)`)
    await workload
    await drain()
    // Its backend may hold the slot a moment longer: the restart waits for it (postgres.ts retries "in use").

    // 4. The rest of the workload, a clean restart, the handler.
    await randomWorkload(db, seed + 2, operations - 2 * Math.floor(operations / 3))
    const lastCommitMs = Date.now()
    await capture()
    await drain()

    // 5. A change to orders alone: one change file, under its folder only; a version of orders only.
    const keysBefore = new Set((await staging.list()).map((o) => o.path))
    const versionsBefore = await versions()
    await db.query(
      "UPDATE sales.orders SET note = 'only orders changed' WHERE (order_id, line_no) = (SELECT order_id, line_no FROM sales.orders ORDER BY 1, 2 LIMIT 1)",
    )
    await capture()
    await drain()
    const oneTableFiles = (await staging.list()).map((o) => o.path).filter((p) => !keysBefore.has(p))
    const versionsAfter = await versions()
    if (oneTableFiles.length !== 1 || !oneTableFiles[0]!.startsWith('sales/orders/'))
      throw new Error(
        `a change to orders alone wrote ${JSON.stringify(oneTableFiles)}, not one file under sales/orders/`,
      )
    for (const t of TABLES)
      if (versionsAfter[t.name] !== versionsBefore[t.name]! + (t.name === 'orders' ? 1 : 0))
        throw new Error(
          `after a change to orders alone, ${t.name} went from version ${versionsBefore[t.name]} to ${versionsAfter[t.name]}`,
        )
    log(
      `a change to orders alone: ${oneTableFiles[0]}, orders v${versionsAfter.orders}, the others unchanged`,
    )

    // 6. Published state = source, for every table.
    const reports: E2eTableReport[] = []
    let usersCurrent: Awaited<ReturnType<typeof readCommitLog>>['current']
    for (const t of TABLES) {
      const current = (await readCommitLog(final, t.name)).current
      if (!current) throw new Error(`nothing was published for ${t.name}`)
      const published = await readVersionTable(final, current, t.spec, 'users')
      const source = await selectRows(db, t.select)
      const difference = rowSetDifference(renderedRows(published), source)
      if (difference) throw new Error(`published ${t.name} differs from the source: ${difference}`)
      const catalogTables = t.name === 'users' ? ['users', 'users_features'] : [t.name]
      for (const name of catalogTables) {
        const g = (await glue.send(new GetTableCommand({ DatabaseName: names.database, Name: name }))).Table
        if (g?.Parameters?.lakesync_version !== String(current.version))
          throw new Error(
            `Glue table ${name} is at version ${g?.Parameters?.lakesync_version}, not ${current.version}`,
          )
      }
      // What its staging folder holds, read back with the engine's own reader.
      const folder = folderOf(t)
      const listing = listDmsFiles((await folder.list()).map((o) => o.path))
      const changes = { I: 0, U: 0, D: 0 }
      for (const f of listing.changes) {
        const { parsed } = await readDmsFile(folder, f, t.spec, config.format)
        for (const op of parsed.ops ?? []) changes[op === OP_INSERT ? 'I' : op === OP_UPDATE ? 'U' : 'D']++
      }
      reports.push({
        name: t.name,
        rowsLoaded: loaded.get(t.name)?.rows ?? 0,
        loadFiles: listing.loads.length,
        changeFiles: listing.changes.length,
        changes,
        sourceRows: source.length,
        version: current.version,
      })
      if (t.name === 'users') usersCurrent = current
    }
    // The reference users, also as the published CSV, and their features.
    const current = usersCurrent!
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

    return {
      tables: reports,
      replayed: replayed.length,
      killedAfterFiles,
      oneTable: { files: oneTableFiles, versionsBefore, versionsAfter },
      captureLagMs: maxLagMs,
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
  const total = (f: (t: E2eTableReport) => number) => r.tables.reduce((n, t) => n + f(t), 0)
  return [
    '',
    'lakesync local end-to-end: PostgreSQL -> capture -> S3 staging -> SQS -> Lambda handler -> S3 final + Glue',
    `  tables              ${r.tables.map((t) => t.name).join(', ')}: one capture (one slot, one snapshot), one queue, one handler`,
    ...r.tables.map(
      (t) =>
        `  ${t.name.padEnd(18)}  loaded ${t.rowsLoaded} rows (${t.loadFiles} LOAD file(s)); ${t.changes.I} I, ${t.changes.U} U, ${t.changes.D} D in ${t.changeFiles} change file(s); published version ${t.version}: ${t.sourceRows} rows, equal to its source table row for row`,
    ),
    `  changes captured    ${total((t) => t.changes.I)} I, ${total((t) => t.changes.U)} U, ${total((t) => t.changes.D)} D in ${total((t) => t.changeFiles)} change file(s) in staging`,
    `  crash tests         injected crash before the acknowledgement, SIGKILL after ${r.killedAfterFiles} file(s); ${r.replayed} written-but-unacknowledged file(s) recognised on restart, none applied twice`,
    `  one table           a change to orders alone: ${r.oneTable.files.join(', ')}; committed orders only (v${r.oneTable.versionsBefore.orders} -> v${r.oneTable.versionsAfter.orders})`,
    `  lag                 streaming capture: commit -> staged file at most ${r.captureLagMs} ms (polling every 50 ms); last commit -> published version ${r.publishLagMs} ms`,
    "  features            the published users_features equal the engine's over SELECT * FROM cdc.users",
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
