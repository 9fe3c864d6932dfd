/**
 * The capture against a real PostgreSQL (a throwaway cluster from scripts/pg-cluster.ts), into local folders, and the
 * engine over what it wrote: the published table must equal the source table. Covers the snapshot/slot handover
 * under concurrent writes, crashes during the load and between a file and its acknowledgement, REPLICA IDENTITY FULL,
 * TRUNCATE, setup errors and a clean stop on SIGTERM.
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type CaptureFault,
  type CaptureOptions,
  runCapture,
  runCaptureTables,
  type TablesCaptureOptions,
} from '../etl/capture/capture.js'
import { CaptureStreamError } from '../etl/capture/changes.js'
import { moneyText } from '../etl/capture/pg-types.js'
import { PostgresSource } from '../etl/capture/postgres.js'
import { readCommitLog } from '../etl/commit/log.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { ConfigError } from '../etl/errors.js'
import { formatFloat32, tableToCsv } from '../etl/report/csv-export.js'
import { LocalStorage } from '../etl/storage/local.js'
import { PrefixedStorage } from '../etl/storage/prefixed.js'
import { parseTableSpec, USERS_SPEC } from '../etl/table/spec.js'
import { type PgCluster, startPgCluster } from '../scripts/pg-cluster.js'
import { cli } from './helpers/cli.js'
import { csvText } from './helpers/dms-writer.js'
import { currentTables, REPO, runEngine, SEED_CITIES, tempDir } from './helpers/fixtures.js'

let cluster: PgCluster
let db: pg.Client

beforeAll(async () => {
  cluster = await startPgCluster()
  db = new pg.Client({ connectionString: cluster.url })
  await db.connect()
  await db.query('CREATE SCHEMA cdc')
})

afterAll(async () => {
  await db?.end().catch(() => {})
  await cluster?.stop()
})

const SEED_ROWS = `(0,'Herman Zimmerman','Oklahoma city','2020-10-10'), (1,'Lisa Ray','Columbus','2021-04-01'),
  (2,'Terrell Reeves','Jacksonville','2017-01-01'), (3,'Steve Goodwin','Charlotte','2021-09-19'),
  (4,'Leah Tran',NULL,NULL), (5,'','Washington','2021-07-23')`

async function createTable(name: string, extra = ''): Promise<void> {
  await db.query(
    `CREATE TABLE cdc.${name} (user_id int PRIMARY KEY, name varchar(255), city text, last_login date); ${extra}
     INSERT INTO cdc.${name} VALUES ${SEED_ROWS}`,
  )
}

function source(name: string, extra: Partial<ConstructorParameters<typeof PostgresSource>[0]> = {}) {
  return new PostgresSource({
    url: cluster.url,
    table: { schema: 'cdc', name },
    spec: USERS_SPEC,
    slot: `s_${name}`,
    publication: `p_${name}`,
    ...extra,
  })
}

async function capture(name: string, out: string, extra: Partial<CaptureOptions> = {}) {
  const src = (extra.source as PostgresSource | undefined) ?? source(name)
  try {
    return await runCapture({
      source: src,
      out: new LocalStorage(out),
      table: { schema: 'cdc', name },
      spec: USERS_SPEC,
      format: DEFAULT_DMS_FORMAT,
      once: true,
      ...extra,
    })
  } finally {
    await src.close()
  }
}

/** Runs the engine over the captured folder and compares the published users with SELECT * from the source. */
async function expectPublishedEqualsSource(name: string, out: string): Promise<void> {
  const { target } = await runEngine(out, '2021-10-17', SEED_CITIES)
  const { users } = await currentTables(target)
  const rows = (
    await db.query<(string | null)[]>({
      text: `SELECT user_id::text, name, city, last_login::text FROM cdc.${name} AS t ORDER BY t.user_id`,
      rowMode: 'array',
    })
  ).rows
  expect(tableToCsv(users)).toBe(csvText([['user_id', 'name', 'city', 'last_login'], ...rows]))
}

const changeFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^\d{8}-\d{9}\.csv$/.test(f))
    .sort()

/** Drops a slot a test is done with (the cluster has max_replication_slots = 10 for the whole file). */
async function dropSlot(slot: string): Promise<void> {
  await db.query(
    'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  )
}

async function slots(): Promise<string[]> {
  return (
    await db.query<{ slot_name: string }>('SELECT slot_name FROM pg_replication_slots ORDER BY 1')
  ).rows.map((r) => r.slot_name)
}

describe('capture from PostgreSQL', () => {
  it('load and stream hand over in one snapshot, also under concurrent writes', async () => {
    await createTable('handover')
    await db.query(
      `INSERT INTO cdc.handover SELECT g, 'user ' || g, 'City ' || (g % 7), DATE '2021-01-01' + g FROM generate_series(10, 400) g`,
    )
    const out = tempDir()
    const other = new pg.Client({ connectionString: cluster.url })
    await other.connect()
    let parts = 0
    const first = await capture('handover', out, {
      source: source('handover', { loadChunkRows: 50 }),
      fileSize: 2000,
      // While the load is being written, the table keeps changing: rows already written and rows still unread.
      faults: async (step) => {
        if (step !== 'after-load-file' || ++parts > 3) return
        await other.query(`UPDATE cdc.handover SET city = 'Moved ${parts}' WHERE user_id IN (1, 300)`)
        await other.query(`DELETE FROM cdc.handover WHERE user_id IN (${10 + parts}, ${390 + parts})`)
        await other.query(`INSERT INTO cdc.handover VALUES (${1000 + parts}, 'new', NULL, NULL)`)
      },
    })
    await other.end()
    expect(first.loaded).toBe(true)
    expect(first.loadFiles.length).toBeGreaterThan(3)
    expect(first.loadRows).toBe(397)
    expect(first.counts).toEqual({ I: 3, U: 6, D: 6 })
    await expectPublishedEqualsSource('handover', out)
  })

  it('streams inserts, updates, key changes and deletes; a restart resumes without a new load', async () => {
    const sql = (file: string) =>
      readFileSync(join(REPO, 'examples', 'pyspark-cdc', file), 'utf8')
        .replace('CREATE SCHEMA cdc;', '')
        .replaceAll('cdc.users', 'cdc.stream')
    await db.query(sql('create_db.pg.sql'))
    const out = tempDir()
    expect((await capture('stream', out)).loadRows).toBe(101)
    await db.query(sql('update_test.pg.sql'))
    await db.query(`BEGIN;
      INSERT INTO cdc.stream VALUES (200, 'a, "quoted"' || chr(10) || 'name', NULL, NULL), (201, '', '', '2021-01-01');
      UPDATE cdc.stream SET user_id = 300 WHERE user_id = 1;
      UPDATE cdc.stream SET city = 'Nashville-Davidson' WHERE user_id = 2;
      COMMIT`)
    const second = await capture('stream', out)
    expect(second.loaded).toBe(false)
    expect(second.changeFiles).toHaveLength(1)
    expect(second.counts).toEqual({ I: 5, U: 5, D: 2 })
    const body = readFileSync(join(out, second.changeFiles[0]!), 'utf8')
    expect(body).toContain('D,10,,,\n')
    expect(body).toContain('I,200,"a, ""quoted""\nname",,\n')
    expect(body).toContain('D,1,,,\nU,300,Lisa Ray,Columbus,2021-04-01\n')
    await expectPublishedEqualsSource('stream', out)
  })

  it('carries the before image of deletes under REPLICA IDENTITY FULL', async () => {
    await createTable('full', 'ALTER TABLE cdc.full REPLICA IDENTITY FULL;')
    const out = tempDir()
    await capture('full', out)
    await db.query(
      "DELETE FROM cdc.full WHERE user_id = 3; UPDATE cdc.full SET name = 'Lee' WHERE user_id = 4",
    )
    const r = await capture('full', out)
    expect(readFileSync(join(out, r.changeFiles[0]!), 'utf8')).toBe(
      'D,3,Steve Goodwin,Charlotte,2021-09-19\nU,4,Lee,,\n',
    )
    await expectPublishedEqualsSource('full', out)
  })

  it('a crash during the full load leaves no slot, and the next start loads again', async () => {
    await createTable('loadcrash')
    const out = tempDir()
    await expect(
      capture('loadcrash', out, {
        source: source('loadcrash', { loadChunkRows: 2 }),
        fileSize: 40,
        faults: (step) => {
          if (step === 'after-load-file') throw new Error('crash in the load')
        },
      }),
    ).rejects.toThrow('crash in the load')
    expect(await slots()).not.toContain('s_loadcrash')
    await db.query("INSERT INTO cdc.loadcrash VALUES (50, 'after the crash', NULL, NULL)")
    const again = await capture('loadcrash', out)
    expect(again.loaded).toBe(true)
    expect(again.loadRows).toBe(7)
    expect(await slots()).toContain('s_loadcrash')
    await expectPublishedEqualsSource('loadcrash', out)
  })

  it('a crash between writing a change file and acknowledging it neither loses nor doubles changes', async () => {
    await createTable('ackcrash')
    const out = tempDir()
    await capture('ackcrash', out)
    await db.query("INSERT INTO cdc.ackcrash VALUES (60, 'x', 'Austin', NULL)")
    await db.query("UPDATE cdc.ackcrash SET city = 'Boston' WHERE user_id = 60")
    await expect(
      capture('ackcrash', out, {
        fileSize: 1,
        faults: (step) => {
          if (step === 'after-change-file') throw new Error('crash before the ack')
        },
      }),
    ).rejects.toThrow('crash before the ack')
    expect(changeFiles(out)).toHaveLength(1)
    await db.query('DELETE FROM cdc.ackcrash WHERE user_id = 60')
    const restart = await capture('ackcrash', out, { fileSize: 1 })
    expect(restart.replayed).toHaveLength(1)
    expect(restart.counts).toEqual({ I: 0, U: 1, D: 1 })
    expect(changeFiles(out).map((f) => readFileSync(join(out, f), 'utf8'))).toEqual([
      'I,60,x,Austin,\n',
      'U,60,x,Boston,\n',
      'D,60,,,\n',
    ])
    await expectPublishedEqualsSource('ackcrash', out)
  })

  it('stops on TRUNCATE without acknowledging it', async () => {
    await createTable('trunc')
    const out = tempDir()
    await capture('trunc', out)
    await db.query('TRUNCATE cdc.trunc')
    await expect(capture('trunc', out)).rejects.toThrow(CaptureStreamError)
    await expect(capture('trunc', out)).rejects.toThrow(/truncated/)
    expect(changeFiles(out)).toEqual([])
  })

  it('checks the table before touching anything', async () => {
    await db.query('CREATE TABLE cdc.nokey (user_id int, name text, city text, last_login date)')
    await expect(capture('nokey', tempDir())).rejects.toThrow(/no replica identity/)
    await db.query('CREATE TABLE cdc.drift (user_id int PRIMARY KEY, name text, email text, last_login date)')
    await expect(capture('drift', tempDir())).rejects.toThrow(ConfigError)
    await expect(capture('missing', tempDir())).rejects.toThrow(/no table cdc.missing/)
    expect(await slots()).not.toContain('s_nokey')
  })

  it('lakesync capture runs until SIGTERM, stops cleanly, and resumes', async () => {
    await createTable('cli')
    const out = tempDir()
    const args = ['capture', '--pg', cluster.url, '--table', 'cdc.cli', '--out', out, '--interval', '50ms']
    const child = spawn(process.execPath, [join(REPO, 'dist', 'cli', 'main.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString()
    })
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString()
    })
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    for (const deadline = Date.now() + 20_000; !stderr.includes('LOAD00000001.csv'); ) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`capture did not load:\n${stderr}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    await db.query("INSERT INTO cdc.cli VALUES (70, 'streamed', NULL, NULL)")
    for (const deadline = Date.now() + 20_000; changeFiles(out).length === 0; ) {
      if (Date.now() > deadline) throw new Error(`capture wrote no change file:\n${stderr}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(stdout).toMatch(/loaded 6 rows in 1 file\(s\); captured 1 I, 0 U, 0 D in 1 change file\(s\)/)
    await db.query('DELETE FROM cdc.cli WHERE user_id = 70')
    const resumed = await cli(...args.filter((a) => a !== '--interval' && a !== '50ms'), '--once')
    expect(resumed.code).toBe(0)
    expect(resumed.out).toMatch(/^captured 0 I, 0 U, 1 D in 1 change file\(s\)/)
    expect(resumed.err).toContain('resuming cdc.cli (slot lakesync_cdc_cli)')
    await expectPublishedEqualsSource('cli', out)
    const bad = await cli(
      'capture',
      '--pg',
      cluster.url,
      '--table',
      'cdc.cli',
      '--out',
      out,
      '--slot',
      'Bad!',
    )
    expect(bad.code).toBe(2)
  })
})

// --- every type, value for value ------------------------------------------------------------------------------------

/**
 * One column of every PostgreSQL type issue 16 maps, with the config type each one is declared as. `vc` and `i64`
 * form the composite key.
 */
const EVERY_COLUMNS = [
  ['i16', 'smallint', 'int16'],
  ['i32', 'integer', 'int32'],
  ['i64', 'bigint', 'int64'],
  ['f32', 'real', 'float32'],
  ['f64', 'double precision', 'float64'],
  ['d38', 'numeric(38,10)', 'decimal(38,10)'],
  ['d9', 'numeric(9,2)', 'decimal(9,2)'],
  ['cash', 'money', 'decimal(38,4)'], // DMS: MONEY -> NUMERIC(38,4)
  ['flag', 'boolean', 'boolean'],
  ['txt', 'text', 'string'],
  ['vc', 'varchar(20)', 'string'],
  ['ch', 'char(4)', 'string'],
  ['uid', 'uuid', 'string'],
  ['doc', 'json', 'json'],
  ['docb', 'jsonb', 'json'],
  ['blob', 'bytea', 'binary'],
  ['day', 'date', 'date'],
  ['tod', 'time', 'time'],
  ['ts', 'timestamp', 'timestamp'],
  ['tstz', 'timestamptz', 'timestamptz'],
  ['span', 'interval', 'string'],
  ['tags', 'text[]', 'string'],
  ['addr', 'inet', 'string'],
] as const

/** Rows as SQL literals, in EVERY_COLUMNS order (NULL where not given). */
type EveryRow = Partial<Record<(typeof EVERY_COLUMNS)[number][0], string>>
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`
const everyValues = (rows: EveryRow[]) =>
  rows
    .map(
      (r) =>
        `(${EVERY_COLUMNS.map(([name, type]) => (r[name] === undefined ? 'NULL' : `${lit(r[name])}::${type}`)).join(', ')})`,
    )
    .join(',\n')

const EVERY_LOAD: EveryRow[] = [
  // The minimum of every type; empty strings (not NULL) in every text column.
  {
    i16: '-32768',
    i32: '-2147483648',
    i64: '-9223372036854775808',
    f32: '-Infinity',
    f64: '-1.7976931348623157e308',
    d38: '-9999999999999999999999999999.9999999999',
    d9: '-9999999.99',
    cash: '-92233720368547758.08',
    flag: 'false',
    txt: '',
    vc: '',
    ch: '',
    uid: '00000000-0000-0000-0000-000000000000',
    doc: '{ "a" : [1, 2.50, "x"],\n "b": null }',
    docb: '{"b": 1, "a": "é", "c": [1.50, true]}',
    blob: '\\x00ff80fe',
    day: '0001-01-01',
    tod: '00:00:00',
    ts: '0001-01-01 00:00:00',
    tstz: '0001-01-01 00:00:00+00',
    span: '-178000000 years',
    tags: '{}',
    addr: '0.0.0.0',
  },
  // The maximum of every type; text that needs quoting, non-ASCII, a JSON null, an empty bytea.
  {
    i16: '32767',
    i32: '2147483647',
    i64: '9223372036854775807',
    f32: '3.4028235e38',
    f64: 'Infinity',
    d38: '9999999999999999999999999999.9999999999',
    d9: '9999999.99',
    cash: '92233720368547758.07',
    flag: 'true',
    txt: 'Zürich 😀, "quoted"\nnext line\r\nand a \\ backslash',
    vc: 'Ωmega',
    ch: 'ab',
    uid: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
    doc: 'null',
    docb: '[]',
    blob: '\\x',
    day: '9999-12-31',
    tod: '23:59:59.999999',
    ts: '9999-12-31 23:59:59.999999',
    tstz: '9999-12-31 23:59:59.999999+00',
    span: '1 year 2 mons 3 days 04:05:06.789',
    tags: '{"a,b","c\\"d",NULL,""}',
    addr: '2001:db8::1/64',
  },
  // NULL in every column but the key.
  { i64: '0', vc: 'NULL' },
  // NaN, the smallest magnitudes, before 1970.
  {
    i16: '0',
    i32: '-1',
    i64: '1',
    f32: 'NaN',
    f64: 'NaN',
    d38: '-0.0000000001',
    d9: '-0.01',
    cash: '-0.01',
    flag: 'false',
    txt: ' ',
    vc: 'nan',
    ch: 'abcd',
    uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    doc: '""',
    docb: '"\\u00e9\\n"',
    blob: '\\xc328ffd800',
    day: '1969-07-20',
    tod: '12:34:56.5',
    ts: '1969-12-31 23:59:59.999999',
    tstz: '1850-03-04 05:06:07.000001-03:30',
    span: '0',
    tags: '{x}',
    addr: '10.0.0.1',
  },
  // After 2038, and the float edges.
  {
    i16: '1',
    i32: '2',
    i64: '2',
    f32: '1e-45',
    f64: '5e-324',
    d38: '12345678901234567890123456.7890123456',
    d9: '0',
    cash: '0',
    flag: 'true',
    txt: 'tab\there',
    vc: 'x',
    ch: 'a b',
    uid: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12',
    doc: '{}',
    docb: '{"n": 1e400}',
    blob: '\\x5c78',
    day: '2038-01-20',
    tod: '07:00:00.000001',
    ts: '2038-01-19 03:14:08',
    tstz: '2262-04-12 00:00:00.000001+05:30',
    span: '1 microsecond',
    tags: '{{1,2},{3,4}}',
    addr: '192.168.1.1/24',
  },
  // Two rows that share i64: only the composite key tells them apart.
  { i64: '5', vc: 'a', f32: '0.1', f64: '0.1', d9: '21000.00', cash: '1000.5', flag: 'true' },
  { i64: '5', vc: 'b', f32: '-0', f64: '-0', d9: '-21000.00', cash: '-1000.5', flag: 'false' },
]

/**
 * The changes to table `t`, in four transactions: an update that leaves every row as it is (so every loaded extreme
 * also goes through the stream), inserts, updates (one to NULLs, two of key columns) and deletes.
 */
const everyChanges = (t: string) => [
  `UPDATE ${t} SET i16 = i16`,
  `INSERT INTO ${t} VALUES ${everyValues([
    {
      i64: '-9223372036854775808',
      vc: 'second min',
      f64: '1e16',
      f32: '16777217',
      ts: '2100-02-28 12:00:00',
      tstz: '2100-02-28 12:00:00-12',
      cash: '-92233720368547758.08',
      flag: 'true',
      blob: '\\x0d0a2c22',
    },
    {
      i64: '7',
      vc: 'new',
      txt: 'ünïcödé',
      d38: '-0.5',
      tod: '23:59:59',
      day: '1900-02-28',
      docb: '{"k": "v, \\"w\\""}',
    },
  ])}`,
  `UPDATE ${t} SET f32 = 'Infinity', f64 = '-Infinity', flag = NOT flag, blob = '\\xdeadbeef', cash = '1234.56',
     tstz = '2100-01-01 00:00:00+00', d38 = '-1.5', txt = ''
   WHERE i64 = 1 AND vc = 'nan';
   UPDATE ${t} SET i16 = NULL, i32 = NULL, f32 = NULL, f64 = NULL, d38 = NULL, d9 = NULL, cash = NULL, flag = NULL,
     txt = NULL, ch = NULL, uid = NULL, doc = NULL, docb = NULL, blob = NULL, day = NULL, tod = NULL, ts = NULL, tstz = NULL,
     span = NULL, tags = NULL, addr = NULL
   WHERE i64 = 2 AND vc = 'x'`,
  `UPDATE ${t} SET vc = 'moved' WHERE i64 = 0;
   UPDATE ${t} SET i64 = 42, flag = true WHERE i64 = 1 AND vc = 'nan';
   DELETE FROM ${t} WHERE i64 = 5 AND vc = 'a';
   DELETE FROM ${t} WHERE i64 = 9223372036854775807 AND vc = 'Ωmega';
   INSERT INTO ${t} (i64, vc, flag) VALUES (5, 'c', false)`,
]

/**
 * The table as `lakesync export --format csv` renders it, computed from PostgreSQL: SQL formats each column by the
 * rendering rules (decimals with exactly s digits, timestamps with 6 fraction digits, timestamptz in UTC with Z,
 * bytea as \x + hex), floats by the same rules in JS (Number#toString; float32 shortest); text-like columns are
 * PostgreSQL's own text of the value.
 */
async function everyExpected(table: string): Promise<(string | null)[][]> {
  const raw = (v: string) => v
  const got = await db.query<(string | null)[]>({
    text: `SELECT i16::text, i32::text, i64::text, f32::text, f64::text, d38::text, d9::text,
        cash::numeric::numeric(38,4)::text, flag::text, txt, vc, ch, uid, doc, docb,
        CASE WHEN blob IS NOT NULL THEN '\\x' || encode(blob, 'hex') END,
        day::text, to_char(tod::interval, 'HH24:MI:SS.US'), to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US'),
        to_char(tstz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || 'Z', span, tags, addr
      FROM ${table}`,
    rowMode: 'array',
    types: { getTypeParser: () => raw },
  })
  return got.rows.map((r) =>
    r.map((v, i) => {
      if (v === null) return null
      if (i === 3) return formatFloat32(Math.fround(Number(v)))
      if (i === 4) return String(Number(v))
      return v
    }),
  )
}

/** RFC 4180 CSV (as `lakesync export` writes it) to rows: an empty unquoted field is NULL, `""` the empty string. */
function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = []
  let row: (string | null)[] = []
  let i = 0
  while (i < text.length) {
    let v: string | null
    if (text[i] === '"') {
      let s = ''
      i++
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') {
          s += '"'
          i += 2
        } else if (text[i] === '"') {
          i++
          break
        } else s += text[i++]
      }
      v = s
    } else {
      let end = i
      while (end < text.length && text[end] !== ',' && text[end] !== '\n') end++
      v = end === i ? null : text.slice(i, end)
      i = end
    }
    row.push(v)
    if (text[i] === ',') i++
    else {
      rows.push(row)
      row = []
      i++ // the LF
    }
  }
  return rows
}

const sortRows = (rows: (string | null)[][]) => rows.map((r) => JSON.stringify(r)).sort()

/** A DMS row of the every-type table: `op`, then `values` by column name, empty (NULL) elsewhere. */
const everyLine = (op: string, values: EveryRow) =>
  `${[op, ...EVERY_COLUMNS.map(([n]) => values[n] ?? '')].join(',')}\n`

describe('every PostgreSQL type, captured and mirrored', () => {
  it.each([
    ['default', 'every_pg'],
    ['full', 'every_pg_full'],
  ])(
    'equals the PostgreSQL table value for value, after the load and after changes (REPLICA IDENTITY %s)',
    async (identity, name) => {
      const table = `cdc.${name}`
      await db.query(
        `CREATE TABLE ${table} (${EVERY_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')}, PRIMARY KEY (i64, vc));
       ALTER TABLE ${table} REPLICA IDENTITY ${identity.toUpperCase()};
       INSERT INTO ${table} VALUES ${everyValues(EVERY_LOAD)}`,
      )
      const dir = tempDir()
      const config = join(dir, 'every_pg.json')
      writeFileSync(
        config,
        JSON.stringify({
          table: {
            name: 'every_pg',
            columns: EVERY_COLUMNS.map(([name, , type]) => ({ name, type })),
            primaryKey: ['i64', 'vc'],
          },
        }),
      )
      const out = join(dir, 'staging')
      const lake = join(dir, 'lake')
      const capture = [
        'capture',
        '--pg',
        cluster.url,
        '--table',
        table,
        '--out',
        out,
        '--config',
        config,
        '--once',
      ]
      const mirrorAndCompare = async (round: string) => {
        const run = await cli('run', '--source', out, '--target', lake, '--config', config)
        expect(run.err, round).toBe('')
        expect(run.code, round).toBe(0)
        const csv = join(dir, `${round}.csv`)
        const exported = await cli(
          'export',
          '--target',
          lake,
          '--config',
          config,
          '--table',
          'every_pg',
          '--out',
          csv,
        )
        expect(exported.err, round).toBe('')
        expect(exported.code, round).toBe(0)
        const [header, ...rows] = parseCsv(readFileSync(csv, 'utf8'))
        expect(header).toEqual(EVERY_COLUMNS.map(([n]) => n))
        expect(sortRows(rows), round).toEqual(sortRows(await everyExpected(table)))
      }

      const loaded = await cli(...capture)
      expect(loaded.err).not.toContain('lakesync capture:')
      expect(loaded.code).toBe(0)
      expect(loaded.out).toMatch(/^loaded 7 rows in 1 file\(s\)/)
      const load = readFileSync(join(out, 'LOAD00000001.csv'), 'utf8')
      // DMS's text: booleans true/false, money as a plain number (NUMERIC), char(n) padded as PostgreSQL prints it.
      expect(load).toContain(
        ',,5,0.1,0.1,,21000.00,1000.50,true,,a,,,,,,,,,,,,\n,,5,-0,-0,,-21000.00,-1000.50,false,,b,,,,,,,,,,,,\n',
      )
      expect(load).toContain(',-92233720368547758.08,false,"","",    ,')
      await mirrorAndCompare('load')

      for (const sql of everyChanges(table)) await db.query(sql)
      const streamed = await cli(...capture)
      expect(streamed.err).not.toContain('lakesync capture:')
      expect(streamed.code).toBe(0)
      // 2 + 1 inserts; 7 + 2 updates and 2 key changes (each a D of the old key, then the new row); 2 deletes.
      expect(streamed.out).toMatch(/^captured 3 I, 11 U, 4 D in 1 change file\(s\)/)
      const files = changeFiles(out)
      expect(files).toHaveLength(1)
      const body = readFileSync(join(out, files[0]!), 'utf8')
      // The stream writes every loaded row as the load wrote it (the no-op update), as U rows.
      const changed = parseCsv(body)
      for (const row of parseCsv(load)) expect(changed).toContainEqual(['U', ...row])
      // A delete, and the delete before a key change, carry the whole composite key: with the before image under
      // REPLICA IDENTITY FULL (converted like any value), else nothing more.
      if (identity === 'default') expect(body).toContain(everyLine('D', { i64: '5', vc: 'a' }))
      else
        expect(body).toContain(
          everyLine('D', {
            i64: '5',
            vc: 'a',
            f32: '0.1',
            f64: '0.1',
            d9: '21000.00',
            cash: '1000.50',
            flag: 'true',
          }),
        )
      expect(body).toMatch(
        /\nD,(,,1,|0,-1,1,)[^\n]*\nU,0,-1,42,Infinity,-Infinity,-1\.5000000000,-0\.01,1234\.56,true,"",nan,/,
      )
      await mirrorAndCompare('changes')
      await dropSlot(`lakesync_cdc_${name}`)
    },
  )
})

describe('PostgreSQL types in a capture', () => {
  it('reads money text of any lc_monetary as the number money::numeric gives', () => {
    expect(moneyText('-$92,233,720,368,547,758.08', 2)).toBe('-92233720368547758.08')
    expect(moneyText('$0.00', 2)).toBe('0.00')
    expect(moneyText('$0.05', 2)).toBe('0.05')
    expect(moneyText('1.234,56 €', 2)).toBe('1234.56')
    expect(moneyText('-1.234,56 €', 2)).toBe('-1234.56')
    expect(moneyText('($1,234.56)', 2)).toBe('-1234.56')
    expect(moneyText('￥1,235', 0)).toBe('1235')
    expect(moneyText('-￥0', 0)).toBe('0')
    expect(moneyText('Fr. 12\u2019345.678', 3)).toBe('12345.678')
  })

  it('refuses a column whose type does not fit its declared type, naming the type to declare', async () => {
    await db.query(`CREATE DOMAIN cdc.yesno AS boolean;
      CREATE TABLE cdc.fit (id bigint PRIMARY KEY, flag cdc.yesno, cash money, n numeric(12,4), t timestamptz)`)
    const open = async (types: Record<string, string>) => {
      const spec = parseTableSpec({
        name: 'fit',
        columns: Object.entries(types).map(([name, type]) => ({ name, type })),
        primaryKey: 'id',
      })
      const src = source('fit', { spec })
      try {
        return await src.open()
      } finally {
        await src.close()
      }
    }
    const good = { id: 'int64', flag: 'boolean', cash: 'decimal(38,4)', n: 'decimal(14,4)', t: 'timestamptz' }
    const opened = await open(good)
    // The domain is read as its base type: its values are rewritten like booleans.
    const rewrites = opened.columns.dmsText
    expect(rewrites.map((f) => f !== null)).toEqual([false, true, true, false, false])
    expect([rewrites[1]!('t'), rewrites[1]!('f'), rewrites[2]!('-$1,000.50')]).toEqual([
      'true',
      'false',
      '-1000.50',
    ])
    for (const [column, type, hint] of [
      ['id', 'int32', 'int64'],
      ['flag', 'int32', 'boolean'],
      ['cash', 'decimal(12,2)', 'decimal(38,4)'],
      ['n', 'decimal(12,2)', 'decimal(12,4)'],
      ['t', 'timestamp', 'timestamptz'],
    ] as const)
      await expect(open({ ...good, [column]: type }), column).rejects.toThrow(
        new RegExp(
          `column ${column} of cdc.fit is .*does not fit the spec's ${type.replace(/[()]/g, '\\$&')} \\(declare it as ${hint.replace(/[()]/g, '\\$&')}\\)`,
        ),
      )
    expect(await slots()).not.toContain('s_fit')
  })

  it('stops when the stream meets a type whose text it would write wrong', async () => {
    await db.query('CREATE TABLE cdc.retype (id int PRIMARY KEY, flag boolean, note text)')
    const spec = parseTableSpec({
      name: 'retype',
      columns: [
        { name: 'id', type: 'int32' },
        { name: 'flag', type: 'string' },
        { name: 'note', type: 'string' },
      ],
      primaryKey: 'id',
    })
    const out = tempDir()
    const run = () => capture('retype', out, { source: source('retype', { spec }), spec })
    await run()
    // A boolean change, then the column becomes text: the restart opens with text, but the slot still holds a
    // change of the boolean column, whose `t` must not be written as text `t` (the load wrote `true`).
    await db.query("INSERT INTO cdc.retype VALUES (1, true, 'before')")
    await db.query('ALTER TABLE cdc.retype ALTER COLUMN flag TYPE text USING flag::text')
    await db.query("INSERT INTO cdc.retype VALUES (2, 'yes', 'after')")
    await expect(run()).rejects.toThrow(/column flag of cdc.retype changed its type .*drop the slot/)
    expect(changeFiles(out)).toEqual([])
    await dropSlot('s_retype')
  })
})

// --- several tables at once, as one DMS task ---------------------------------------------------------------------

/** The files of one table's folder under a capture root: LOAD parts and change files. */
const folderFiles = (root: string, folder: string) => {
  try {
    return readdirSync(join(root, folder)).sort()
  } catch {
    return []
  }
}

/**
 * Each table of the three-table capture, as `lakesync export` renders it, computed from PostgreSQL (the rendering
 * rules of everyExpected: timestamptz in UTC with 6 fraction digits and Z, numeric with its scale, booleans
 * true/false, json as stored).
 */
const MANY_SELECT: Record<string, string> = {
  users: 'SELECT user_id::text, name, city, last_login::text FROM public.users',
  orders: `SELECT order_id::text, line_no::text, amount::text,
      to_char(placed AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || 'Z', note FROM sales.orders`,
  events: 'SELECT id::text, doc::text, active::text, label FROM public.events',
}

describe('several tables at once, into the layout of a DMS task', () => {
  it('captures three tables through one slot; each mirrors its source, and a change to one commits only it', async () => {
    await db.query(`
      CREATE SCHEMA sales;
      CREATE TABLE public.users (user_id int PRIMARY KEY, name varchar(255), city text, last_login date);
      CREATE TABLE sales.orders (order_id bigint, line_no smallint, amount numeric(12,2) NOT NULL, placed timestamptz,
                                 note text, PRIMARY KEY (order_id, line_no));
      CREATE TABLE public.events (id int PRIMARY KEY, doc json, active boolean NOT NULL, label text);
      INSERT INTO public.users VALUES ${SEED_ROWS};
      INSERT INTO sales.orders VALUES (7, 1, 10.50, '2021-10-17 10:00:00+02', 'a, "quoted"'), (7, 2, -1.00, NULL, NULL),
        (8, 1, 9999999999.99, '1969-07-20 20:17:40.123456-05', ''), (9, 1, 0, '2038-01-19 03:14:08+00', 'Zürich');
      INSERT INTO public.events VALUES (1, '{ "a" : [1, 2.50, "x"],\n "b": null }', true, 'first'),
        (2, 'null', false, NULL), (3, NULL, true, ''), (4, '"é, \\"q\\""', false, 'line\nbreak')`)
    const dir = tempDir()
    // The config straight from the catalog (lakesync schema), unchanged.
    const schema = await cli(
      'schema',
      '--pg',
      cluster.url,
      '--tables',
      'public.users,sales.orders,public.events',
    )
    expect(schema.err).toBe('')
    expect(schema.code).toBe(0)
    const config = join(dir, 'many.json')
    writeFileSync(config, schema.out)
    const root = join(dir, 'staging')
    const lake = join(dir, 'lake')
    const capture = ['capture', '--pg', cluster.url, '--out', root, '--config', config, '--once']
    const FOLDERS = { users: 'public/users', orders: 'sales/orders', events: 'public/events' } as const
    const versions = async () =>
      Object.fromEntries(
        await Promise.all(
          Object.keys(FOLDERS).map(async (t) => [
            t,
            (await readCommitLog(new LocalStorage(lake), t)).current?.version ?? 0,
          ]),
        ),
      )
    const mirrorAndCompare = async (round: string) => {
      const run = await cli('run', '--source', root, '--target', lake, '--config', config)
      expect(run.err, round).toBe('')
      expect(run.code, round).toBe(0)
      for (const [table, sql] of Object.entries(MANY_SELECT)) {
        const csv = join(dir, `${round}-${table}.csv`)
        const exported = await cli(
          'export',
          '--target',
          lake,
          '--config',
          config,
          '--table',
          table,
          '--out',
          csv,
        )
        expect(exported.code, `${round} ${table}`).toBe(0)
        const [, ...rows] = parseCsv(readFileSync(csv, 'utf8'))
        const source = await db.query<(string | null)[]>({
          text: sql,
          rowMode: 'array',
          types: { getTypeParser: () => (v: string) => v },
        })
        expect(sortRows(rows), `${round} ${table}`).toEqual(sortRows(source.rows))
      }
      return run
    }

    // The full load: every table from one snapshot, each into its own folder; one slot, one publication.
    const loaded = await cli(...capture)
    expect(loaded.err).not.toContain('lakesync capture:')
    expect(loaded.code).toBe(0)
    expect(loaded.out).toBe(
      [
        `public.users: loaded 6 rows in 1 file(s); captured 0 I, 0 U, 0 D in 0 change file(s) to ${root}/public/users`,
        `sales.orders: loaded 4 rows in 1 file(s); captured 0 I, 0 U, 0 D in 0 change file(s) to ${root}/sales/orders`,
        `public.events: loaded 4 rows in 1 file(s); captured 0 I, 0 U, 0 D in 0 change file(s) to ${root}/public/events`,
        '',
      ].join('\n'),
    )
    for (const folder of Object.values(FOLDERS))
      expect(folderFiles(root, folder)).toEqual(['LOAD00000001.csv'])
    expect(readFileSync(join(root, 'public/events/LOAD00000001.csv'), 'utf8')).toContain('2,null,false,\n')
    expect(await slots()).toContain('lakesync_tables')
    const published = await db.query<{ t: string }>(
      "SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = 'lakesync_tables' ORDER BY 1",
    )
    expect(published.rows.map((r) => r.t)).toEqual(['public.events', 'public.users', 'sales.orders'])
    await mirrorAndCompare('load')
    expect(await versions()).toEqual({ users: 1, orders: 1, events: 1 })

    // One transaction over all three tables (a key change, a composite-key delete, json and boolean updates), and
    // one more on two of them: one batch, one change file per table under one name, rows in commit order.
    await db.query(`BEGIN;
      INSERT INTO public.users VALUES (10, 'new, "quoted"', 'Austin', '2021-10-01');
      UPDATE public.users SET user_id = 11 WHERE user_id = 1;
      UPDATE sales.orders SET line_no = 3, amount = -0.01 WHERE order_id = 7 AND line_no = 1;
      DELETE FROM sales.orders WHERE order_id = 8 AND line_no = 1;
      UPDATE public.events SET doc = '{"k": "v\\nw"}', active = NOT active WHERE id = 1;
      DELETE FROM public.events WHERE id = 2;
      COMMIT`)
    await db.query(`BEGIN;
      INSERT INTO public.events VALUES (5, '[true, false]', true, 'after');
      UPDATE public.users SET city = NULL WHERE user_id = 10;
      COMMIT`)
    const streamed = await cli(...capture)
    expect(streamed.code).toBe(0)
    expect(streamed.out).toContain('public.users: captured 1 I, 2 U, 1 D in 1 change file(s)')
    expect(streamed.out).toContain('sales.orders: captured 0 I, 1 U, 2 D in 1 change file(s)')
    expect(streamed.out).toContain('public.events: captured 1 I, 1 U, 1 D in 1 change file(s)')
    const names = Object.values(FOLDERS).map((f) => changeFiles(join(root, f)))
    expect(names.map((n) => n.length)).toEqual([1, 1, 1])
    expect(new Set(names.flat()).size).toBe(1) // one batch: one name in every folder
    const usersFile = readFileSync(join(root, 'public/users', names[0]![0]!), 'utf8')
    expect(usersFile).toBe(
      'I,10,"new, ""quoted""",Austin,2021-10-01\nD,1,,,\nU,11,Lisa Ray,Columbus,2021-04-01\nU,10,"new, ""quoted""",,2021-10-01\n',
    )
    expect(readFileSync(join(root, 'sales/orders', names[1]![0]!), 'utf8')).toBe(
      'D,7,1,,,\nU,7,3,-0.01,2021-10-17 08:00:00+00,"a, ""quoted"""\nD,8,1,,,\n',
    )
    await mirrorAndCompare('changes')
    expect(await versions()).toEqual({ users: 2, orders: 2, events: 2 })

    // A change to one table: a change file in its folder only, and a run commits that table only.
    const before = Object.values(FOLDERS).map((f) => folderFiles(root, f))
    await db.query("UPDATE sales.orders SET note = 'only orders' WHERE order_id = 9")
    const one = await cli(...capture)
    expect(one.code).toBe(0)
    expect(one.out).toContain('sales.orders: captured 0 I, 1 U, 0 D in 1 change file(s)')
    expect(one.out).toContain('public.users: captured 0 I, 0 U, 0 D in 0 change file(s)')
    const after = Object.values(FOLDERS).map((f) => folderFiles(root, f))
    expect(after[0]).toEqual(before[0])
    expect(after[2]).toEqual(before[2])
    expect(after[1]!.length).toBe(before[1]!.length + 1)
    const run = await mirrorAndCompare('one table')
    expect(run.out).toMatch(/^orders: {3}v3 as_of/m)
    expect(run.out).not.toMatch(/^(users|events): {3}v/m)
    expect(await versions()).toEqual({ users: 2, orders: 3, events: 2 })

    // The slot is shared: a capture of fewer tables through it would skip the others' changes for good.
    const fewer = await cli(...capture, '--tables', 'public.users')
    expect(fewer.code).toBe(2)
    expect(fewer.err).toContain(
      'publication lakesync_tables publishes (public.events, public.users, sales.orders)',
    )
    const unknown = await cli(...capture, '--tables', 'public.nope')
    expect(unknown.code).toBe(2)
    expect(unknown.err).toContain('"public.nope" is not a table of the config')
    await dropSlot('lakesync_tables')
  })

  it('a crash between two files of one batch writes neither table twice; a crash at the last LOAD file leaves no slot', async () => {
    await db.query(`
      CREATE TABLE cdc.left_t (user_id int PRIMARY KEY, name varchar(255), city text, last_login date);
      CREATE TABLE cdc.right_t (user_id int PRIMARY KEY, name varchar(255), city text, last_login date);
      INSERT INTO cdc.left_t VALUES ${SEED_ROWS}; INSERT INTO cdc.right_t VALUES ${SEED_ROWS}`)
    const root = tempDir()
    const tables = ['left_t', 'right_t'].map((name) => ({
      table: { schema: 'cdc', name },
      spec: { ...USERS_SPEC, name },
      out: new PrefixedStorage(new LocalStorage(root), `cdc/${name}`),
    }))
    const run = async (extra: Partial<TablesCaptureOptions> = {}) => {
      const src = new PostgresSource({ url: cluster.url, tables, slot: 's_two', publication: 'p_two' })
      try {
        return await runCaptureTables({
          source: src,
          tables,
          format: DEFAULT_DMS_FORMAT,
          once: true,
          ...extra,
        })
      } finally {
        await src.close()
      }
    }
    const crashAt = (step: CaptureFault, n: number) => {
      let seen = 0
      return (s: CaptureFault) => {
        if (s === step && ++seen === n) throw new Error(`crash at ${step} #${n}`)
      }
    }
    // The last LOAD file (the right table's) is written, then the capture dies: the slot was not made durable.
    await expect(run({ faults: crashAt('after-load-file', 2) })).rejects.toThrow(
      'crash at after-load-file #2',
    )
    expect(await slots()).not.toContain('s_two')
    expect((await run()).loaded).toBe(true)
    expect(await slots()).toContain('s_two')

    await db.query(`BEGIN;
      INSERT INTO cdc.left_t VALUES (60, 'x', 'Austin', NULL); INSERT INTO cdc.right_t VALUES (61, 'y', NULL, NULL);
      COMMIT`)
    // The left table's file is written, the right one's not, nothing acknowledged.
    await expect(run({ faults: crashAt('after-change-file', 1) })).rejects.toThrow(
      'crash at after-change-file #1',
    )
    expect(changeFiles(join(root, 'cdc/left_t'))).toHaveLength(1)
    expect(changeFiles(join(root, 'cdc/right_t'))).toHaveLength(0)
    await db.query('DELETE FROM cdc.right_t WHERE user_id = 0')
    const restart = await run()
    expect(restart.tables.map((t) => [t.replayed.length, t.counts])).toEqual([
      [1, { I: 0, U: 0, D: 0 }],
      [0, { I: 1, U: 0, D: 1 }],
    ])
    expect(changeFiles(join(root, 'cdc/left_t'))).toHaveLength(1)
    const right = changeFiles(join(root, 'cdc/right_t'))
    expect(right.map((f) => readFileSync(join(root, 'cdc/right_t', f), 'utf8'))).toEqual([
      'I,61,y,,\nD,0,,,\n',
    ])
    expect(right[0]! > changeFiles(join(root, 'cdc/left_t'))[0]!).toBe(true)

    // Both files written, the acknowledgement lost: the restart writes nothing again.
    await db.query(
      "UPDATE cdc.left_t SET city = 'Boston' WHERE user_id = 60; UPDATE cdc.right_t SET city = 'Reno'",
    )
    await expect(run({ faults: crashAt('after-change-file', 2) })).rejects.toThrow(
      'crash at after-change-file #2',
    )
    const again = await run()
    expect(again.tables.map((t) => [t.replayed.length, t.changeFiles.length])).toEqual([
      [1, 0],
      [1, 0],
    ])
    for (const name of ['left_t', 'right_t']) await expectPublishedEqualsSource(name, join(root, 'cdc', name))
    await dropSlot('s_two')
  })
})
