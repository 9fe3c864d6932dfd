/**
 * The capture against a real PostgreSQL (a throwaway cluster from scripts/pg-cluster.ts), into local folders, and the
 * engine over what it wrote: the published table must equal the source table. Covers the snapshot/slot handover
 * under concurrent writes, crashes during the load and between a file and its acknowledgement, REPLICA IDENTITY FULL,
 * TRUNCATE, setup errors and a clean stop on SIGTERM.
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CaptureOptions, runCapture } from '../etl/capture/capture.js'
import { CaptureStreamError } from '../etl/capture/changes.js'
import { PostgresSource } from '../etl/capture/postgres.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { ConfigError } from '../etl/errors.js'
import { tableToCsv } from '../etl/report/csv-export.js'
import { LocalStorage } from '../etl/storage/local.js'
import { USERS_SPEC } from '../etl/table/spec.js'
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
