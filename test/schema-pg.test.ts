/**
 * `lakesync schema` against a real PostgreSQL (a throwaway cluster): the config it prints names every column with
 * its DMS-mapped type, nullability and the primary key (composite included); a table without a key is reported,
 * not guessed; and the printed config, unchanged, mirrors the tables once they are captured under one DMS root.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PgCluster, startPgCluster } from '../scripts/pg-cluster.js'
import { cli } from './helpers/cli.js'
import { tempDir } from './helpers/fixtures.js'

let cluster: PgCluster
let db: pg.Client

beforeAll(async () => {
  cluster = await startPgCluster()
  db = new pg.Client({ connectionString: cluster.url })
  await db.connect()
  await db.query(`
    CREATE SCHEMA sales;
    CREATE DOMAIN cents AS numeric(12,2);
    CREATE TABLE public.users (user_id int PRIMARY KEY, name varchar(255), city text, last_login date);
    CREATE TABLE sales.orders (order_id bigint, line_no smallint, amount cents NOT NULL, placed timestamptz,
                               note text, PRIMARY KEY (line_no, order_id));
    CREATE TABLE public.prefs (id bigserial PRIMARY KEY, settings jsonb, active boolean NOT NULL, raw bytea,
                               ratio real, score double precision, at time, seen timestamp(3), big numeric);
    CREATE TABLE public.nokey (a int, b text);
    INSERT INTO public.users VALUES (1, 'Ann', 'Austin', '2021-10-01'), (2, NULL, NULL, NULL);
    INSERT INTO sales.orders VALUES (7, 1, 10.50, '2021-10-17 10:00:00+02', 'a'), (7, 2, -1.00, NULL, NULL);
    INSERT INTO public.prefs (settings, active, raw, ratio, score, at, seen, big)
      VALUES ('{"theme": "dark"}', true, '\\x00ff', 0.1, 1e300, '12:00:01.5', '2021-10-17 10:00:00.123', 1.5);
  `)
})

afterAll(async () => {
  await db?.end().catch(() => {})
  await cluster?.stop()
})

describe('lakesync schema', () => {
  it('prints each table with its types, nullability and key; reports a table without a key', async () => {
    const r = await cli('schema', '--pg', cluster.url, '--tables', 'public.*,sales.orders')
    expect(r.code).toBe(1)
    expect(r.err).toContain('left out public.nokey has no primary key')
    expect(r.err).toContain('public.prefs.big: numeric without precision')
    const { tables } = JSON.parse(r.out)
    expect(tables).toEqual([
      {
        schema: 'public',
        name: 'prefs',
        columns: [
          { name: 'id', type: 'int64' },
          { name: 'settings', type: 'json' },
          { name: 'active', type: 'boolean', nullable: false },
          { name: 'raw', type: 'binary' },
          { name: 'ratio', type: 'float32' },
          { name: 'score', type: 'float64' },
          { name: 'at', type: 'time' },
          { name: 'seen', type: 'timestamp' },
          { name: 'big', type: 'string' },
        ],
        primaryKey: ['id'],
      },
      {
        schema: 'public',
        name: 'users',
        columns: [
          { name: 'user_id', type: 'int32' },
          { name: 'name', type: 'string' },
          { name: 'city', type: 'string' },
          { name: 'last_login', type: 'date' },
        ],
        primaryKey: ['user_id'],
      },
      {
        schema: 'sales',
        name: 'orders',
        columns: [
          { name: 'order_id', type: 'int64' },
          { name: 'line_no', type: 'int16' },
          { name: 'amount', type: 'decimal(12,2)', nullable: false },
          { name: 'placed', type: 'timestamptz' },
          { name: 'note', type: 'string' },
        ],
        primaryKey: ['line_no', 'order_id'],
      },
    ])
  })

  it('its output, fed unchanged to lakesync run, mirrors the tables captured under one root', async () => {
    const r = await cli('schema', '--pg', cluster.url, '--tables', 'public.users,public.prefs,sales.orders')
    expect(r.code).toBe(0)
    const dir = tempDir()
    const config = join(dir, 'lakesync.json')
    writeFileSync(config, r.out)
    const root = join(dir, 'staging')
    for (const t of JSON.parse(r.out).tables as { schema: string; name: string }[]) {
      // capture replicates one table per config: its own, cut from the printed one
      const { schema, ...table } = (JSON.parse(r.out).tables as { schema: string; name: string }[]).find(
        (x) => x.name === t.name,
      )!
      const one = join(dir, `${t.name}.json`)
      writeFileSync(one, JSON.stringify({ table }))
      const c = await cli(
        'capture',
        '--pg',
        cluster.url,
        '--table',
        `${schema}.${t.name}`,
        '--out',
        join(root, schema, t.name),
        '--config',
        one,
        '--once',
      )
      expect(c.err).not.toContain('error')
      expect(c.code).toBe(0)
    }
    const lake = join(dir, 'lake')
    const run = await cli('run', '--source', root, '--target', lake, '--config', config)
    expect(run.err).toBe('')
    expect(run.code).toBe(0)
    const exported = async (table: string) => {
      const out = join(dir, `${table}.csv`)
      expect(
        (await cli('export', '--target', lake, '--config', config, '--table', table, '--out', out)).code,
      ).toBe(0)
      return readFileSync(out, 'utf8')
    }
    expect(await exported('users')).toBe('user_id,name,city,last_login\n1,Ann,Austin,2021-10-01\n2,,,\n')
    expect(await exported('orders')).toBe(
      'order_id,line_no,amount,placed,note\n7,1,10.50,2021-10-17 08:00:00.000000Z,a\n7,2,-1.00,,\n',
    )
    expect(await exported('prefs')).toBe(
      'id,settings,active,raw,ratio,score,at,seen,big\n1,"{""theme"": ""dark""}",true,\\x00ff,0.1,1e+300,12:00:01.500000,2021-10-17 10:00:00.123000,1.5\n',
    )
  })
})
