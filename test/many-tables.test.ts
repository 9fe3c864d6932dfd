/**
 * A whole DMS task: a source root of `<schema>/<table>/` folders and a `tables` config. One run mirrors every
 * table; a table that fails is named and the others commit (exit 5); `--tables` narrows a run; and every exit code
 * of the contract comes from the command that returns it.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { commitPath } from '../etl/commit/layout.js'
import { cli } from './helpers/cli.js'
import { tempDir } from './helpers/fixtures.js'
import { committed, config, ORDERS, PREFS, put, root, run, USERS } from './helpers/three-tables.js'

describe('a source root of many tables', () => {
  it('mirrors every table in one run; a change to one table commits only that table', async () => {
    const src = root()
    const lake = tempDir()
    const cfg = config([USERS, ORDERS, PREFS])
    const first = await run(src, lake, cfg)
    expect(first.err).toBe('')
    expect(first.code).toBe(0)
    for (const t of ['users', 'orders', 'prefs']) expect(committed(lake, t, 1)).toBe(true)
    expect(existsSync(join(lake, 'users_features'))).toBe(true)
    expect(existsSync(join(lake, 'orders_features'))).toBe(false)
    const out = join(tempDir(), 'orders.csv')
    expect(
      (await cli('export', '--target', lake, '--config', cfg, '--table', 'orders', '--out', out)).code,
    ).toBe(0)
    expect(readFileSync(out, 'utf8')).toBe(
      'order_id,line_no,amount,placed\n1,1,10.00,2021-10-17 10:00:00.000000Z\n1,2,5.50,\n',
    )

    put(src, 'sales/orders/20211017-200000000.csv', ['D,1,2,,', 'I,2,1,-1.00,2021-10-18 00:00:00+00'])
    const second = await run(src, lake, cfg)
    expect(second.code).toBe(0)
    expect(committed(lake, 'orders', 2)).toBe(true)
    expect(committed(lake, 'users', 2)).toBe(false)
    expect(committed(lake, 'prefs', 2)).toBe(false)
    expect(second.out).toContain('users: up to date')
  })

  it('names a failing table, commits the others, exits 5; once the file is fixed the table catches up', async () => {
    const src = root()
    const lake = tempDir()
    const cfg = config([USERS, ORDERS, PREFS])
    put(src, 'public/prefs/20211017-200000000.csv', ['U,2,{},maybe'])
    const r = await run(src, lake, cfg)
    expect(r.code).toBe(5)
    expect(r.err).toContain('lakesync run: table prefs: dms csv: bad boolean "maybe" for active')
    expect(committed(lake, 'users', 1)).toBe(true)
    expect(committed(lake, 'orders', 1)).toBe(true)
    expect(committed(lake, 'prefs', 1)).toBe(false)

    put(src, 'public/prefs/20211017-200000000.csv', ['U,2,{},true'])
    const fixed = await run(src, lake, cfg)
    expect(fixed.code).toBe(0)
    expect(committed(lake, 'prefs', 1)).toBe(true)
    const show = await cli('show', '--target', lake, '--config', cfg, '--table', 'prefs')
    expect(show.out).toContain('|2 |{}               |true  |')
  })

  it("exits with the failures' own code when every table failed alike", async () => {
    const src = root()
    put(src, 'public/users/20211018-000000000.csv', ['X,1,a,b,2021-10-17'])
    put(src, 'public/prefs/20211017-200000000.csv', ['U,2,{},maybe'])
    put(src, 'sales/orders/20211017-200000000.csv', ['U,1,1,1.001,'])
    const r = await run(src, tempDir(), config([USERS, ORDERS, PREFS]))
    expect(r.code).toBe(1)
    for (const t of ['users', 'orders', 'prefs']) expect(r.err).toContain(`table ${t}: `)
  })

  it('runs only the tables --tables names', async () => {
    const src = root()
    const lake = tempDir()
    const r = await run(src, lake, config([USERS, ORDERS, PREFS]), '--tables', 'orders,prefs')
    expect(r.code).toBe(0)
    expect(committed(lake, 'users', 1)).toBe(false)
    expect(committed(lake, 'orders', 1)).toBe(true)
    const bad = await run(src, lake, config([USERS]), '--tables', 'nope')
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('nope not configured')
  })

  it('refuses one name in two schemas unless publishAs tells them apart', async () => {
    const src = root()
    cpSync(join(src, 'public', 'prefs'), join(src, 'crm', 'prefs'), { recursive: true })
    const clash = await run(src, tempDir(), config([PREFS, { ...PREFS, schema: 'crm' }]))
    expect(clash.code).toBe(2)
    expect(clash.err).toContain('public.prefs and crm.prefs both publish as prefs')
    const lake = tempDir()
    const ok = await run(src, lake, config([PREFS, { ...PREFS, schema: 'crm', publishAs: 'crm_prefs' }]))
    expect(ok.code).toBe(0)
    expect(committed(lake, 'prefs', 1)).toBe(true)
    expect(committed(lake, 'crm_prefs', 1)).toBe(true)
  })

  it('refuses "table" and "tables" together', async () => {
    const cfg = join(tempDir(), 'both.json')
    writeFileSync(cfg, JSON.stringify({ table: ORDERS, tables: [ORDERS] }))
    const r = await run(root(), tempDir(), cfg)
    expect(r.code).toBe(2)
    expect(r.err).toContain('has both "table" and "tables"')
  })

  it('report writes an index of every table and a page per table', async () => {
    const src = root()
    const lake = tempDir()
    const cfg = config([USERS, ORDERS, PREFS])
    put(src, 'public/prefs/20211017-200000000.csv', ['U,2,{},maybe'])
    expect((await run(src, lake, cfg)).code).toBe(5)
    const out = join(tempDir(), 'report.html')
    const r = await cli('report', '--target', lake, '--source', src, '--config', cfg, '--out', out)
    expect(r.code).toBe(0)
    expect(r.out).toContain('3 tables')
    const index = readFileSync(out, 'utf8')
    for (const t of ['users', 'orders', 'prefs']) {
      expect(index).toContain(`href="report-${t}.html"`)
      expect(existsSync(join(out, '..', `report-${t}.html`))).toBe(true)
    }
    expect(index).toContain('bad_value: dms csv: bad boolean')
  })

  it('status shows every table', async () => {
    const src = root()
    const lake = tempDir()
    const cfg = config([USERS, ORDERS, PREFS])
    await run(src, lake, cfg, '--tables', 'users')
    const s = await cli('status', '--source', src, '--target', lake, '--config', cfg)
    expect(s.code).toBe(0)
    expect(s.out).toContain('table users in')
    expect(s.out).toContain('table orders in')
    expect(s.out).toContain('table prefs in')
    expect(s.out.match(/pending files: 1: LOAD00000001.csv/g)?.length).toBe(2)
  })
})

describe('exit codes', () => {
  const cfg = () => config([ORDERS])
  it('0: done; 2: bad usage', async () => {
    expect((await run(root(), tempDir(), cfg())).code).toBe(0)
    expect((await cli('run', '--target', tempDir())).code).toBe(2)
  })

  it('1: a bad file in a one-table run', async () => {
    const src = tempDir()
    put(src, 'LOAD00000001.csv', ['1,1,1.001,'])
    const single = join(tempDir(), 'orders.json')
    const { schema: _s, ...table } = ORDERS
    writeFileSync(single, JSON.stringify({ table }))
    const r = await run(src, tempDir(), single)
    expect(r.code).toBe(1)
    expect(r.err).toContain('bad decimal(12,2) "1.001"')
  })

  it('3: another run holds the table (live claim), named with its expiry', async () => {
    const src = root()
    const lake = tempDir()
    const claim = {
      state: 'pending',
      version: 1,
      table: 'orders',
      runId: 'other-run',
      claimedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    }
    mkdirSync(join(lake, '_lakesync', 'orders', 'commits'), { recursive: true })
    writeFileSync(join(lake, commitPath('orders', 1)), JSON.stringify(claim))
    const r = await run(src, lake, cfg())
    expect(r.code).toBe(3)
    expect(r.err).toContain(
      `table orders is held by run other-run (claimed ${claim.claimedAt}, until ${claim.expiresAt})`,
    )
  })

  it('4: storage unavailable', async () => {
    const prev = {
      endpoint: process.env.AWS_ENDPOINT_URL_S3,
      key: process.env.AWS_ACCESS_KEY_ID,
      secret: process.env.AWS_SECRET_ACCESS_KEY,
      region: process.env.AWS_REGION,
    }
    process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:9' // discard port: nothing listens
    process.env.AWS_ACCESS_KEY_ID = 'test'
    process.env.AWS_SECRET_ACCESS_KEY = 'test'
    process.env.AWS_REGION = 'us-east-1'
    try {
      const r = await cli('status', '--source', 's3://staging/x', '--target', 's3://final/lake')
      expect(r.code).toBe(4)
      expect(r.err).toContain('storage or catalog unavailable (retry)')
    } finally {
      for (const [k, v] of [
        ['AWS_ENDPOINT_URL_S3', prev.endpoint],
        ['AWS_ACCESS_KEY_ID', prev.key],
        ['AWS_SECRET_ACCESS_KEY', prev.secret],
        ['AWS_REGION', prev.region],
      ] as const)
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
    }
  })

  it('70: a bug stops the command with its stack; the table commits on the next run', async () => {
    const src = root()
    const lake = tempDir()
    const cfg = config([ORDERS])
    process.env.LAKESYNC_FAULT_AT = 'after-claim' // a plain Error mid-run: what a bug looks like
    try {
      const r = await run(src, lake, cfg)
      expect(r.code).toBe(70)
      expect(r.err).toContain(
        'lakesync run: table orders: internal error (a bug in lakesync; please report it): Error: injected fault at after-claim',
      )
      // The failed run gave its claim up at once, so the next run need not wait for it to expire.
      expect(JSON.parse(readFileSync(join(lake, commitPath('orders', 1)), 'utf8')).state).toBe('abandoned')
    } finally {
      delete process.env.LAKESYNC_FAULT_AT
    }
    expect((await run(src, lake, cfg)).code).toBe(0)
    expect(JSON.parse(readFileSync(join(lake, commitPath('orders', 2)), 'utf8')).state).toBe('committed')
  })

  it('a many-tables run whose tables all failed alike exits with that class; mixed classes exit 5', async () => {
    const { combinedExitCode } = await import('../cli/exit-codes.js')
    expect(combinedExitCode([1, 1], 0)).toBe(1)
    expect(combinedExitCode([1, 4], 0)).toBe(5)
    expect(combinedExitCode([4], 2)).toBe(5)
  })
})
