/**
 * `PreserveTransactions` with `CdcPath` [S3T "Capturing data changes (CDC) including transaction order on the S3
 * target"; API-S3 PreserveTransactions, CdcPath]: DMS writes the full load of each table to its own folder and the
 * changes of every table to `CDC_TXN-<timestamp>.csv` files in `<BucketFolder>/<CdcPath>/`, rows
 * `operation,table_name,database_schema_name,field_value,...` (no header, I/U/D), always CSV. Each configured table
 * reads its rows of every transaction file, in transaction order, and records every file in its own commit log.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { GlueClient } from '@aws-sdk/client-glue'
import { afterAll, describe, expect, it } from 'vitest'
import { versionDir } from '../etl/commit/layout.js'
import { readCommitLog } from '../etl/commit/log.js'
import { listDmsFiles } from '../etl/dms/files.js'
import { parseDmsFormat } from '../etl/dms/format.js'
import { pickTransactionRows } from '../etl/dms/transactions.js'
import { LakesyncError } from '../etl/errors.js'
import { openStorage } from '../etl/storage/open.js'
import { loadLambdaConfig, resolveTableConfigs } from '../lambdas/config.js'
import { runTable, setGlueClient } from '../lambdas/run-table.js'
import { enc } from './helpers/bytes.js'
import { cli } from './helpers/cli.js'
import { tempDir } from './helpers/fixtures.js'
import { useMoto } from './helpers/moto.js'
import { toParquet } from './helpers/parquet.js'
import { newBucket, uploadFolder } from './helpers/s3-source.js'
import { committed, config, ORDERS, PREFS, put, run } from './helpers/three-tables.js'

const FORMAT = { preserveTransactions: true, cdcPath: 'cdc' }
const ACCOUNTS = {
  schema: 'public',
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'owner', type: 'string' },
  ],
  primaryKey: 'id',
}
const TABLES = [ORDERS, PREFS, ACCOUNTS]
const TXN1 = 'CDC_TXN-20211017200000000.csv'
const TXN2 = 'CDC_TXN-20211017200100000.csv'
const TXN3 = 'CDC_TXN-20211017200200000.csv'

/** A DMS root (BucketFolder): each table's full load in its folder, nothing in the CdcPath folder yet. */
function dmsRoot(): string {
  const dir = tempDir('lakesync-txn-')
  put(dir, 'sales/orders/LOAD00000001.csv', ['1,1,10.00,2021-10-17 10:00:00+00', '1,2,5.50,'])
  put(dir, 'public/prefs/LOAD00000001.csv', ['1,"{""theme"": ""dark""}",true', '2,[],false'])
  put(dir, 'public/accounts/LOAD00000001.csv', ['1,ann'])
  return dir
}

/**
 * Two transaction files as the docs show them: the three tables' changes interleaved in transaction order, and rows
 * of `public.audit`, a table the config does not list.
 */
function putTwoTransactionFiles(dir: string): void {
  put(dir, `cdc/${TXN1}`, [
    'I,orders,sales,2,1,-1.00,2021-10-18 00:00:00+00',
    'U,prefs,public,2,{},true',
    'D,orders,sales,1,2,5.50,',
    'I,audit,public,1,login',
    'U,orders,sales,2,1,3.00,2021-10-18 00:00:00+00',
    'I,accounts,public,2,"bob, jr."',
  ])
  put(dir, `cdc/${TXN2}`, [
    'D,prefs,public,1,"{""theme"": ""dark""}",true',
    'U,orders,sales,2,1,4.00,2021-10-18 00:00:00+00',
    'U,accounts,public,1,anne',
  ])
}

async function exported(lake: string, cfg: string, table: string): Promise<string> {
  const out = join(tempDir(), `${table}.csv`)
  const r = await cli('export', '--target', lake, '--config', cfg, '--table', table, '--out', out)
  expect(r.err).toBe('')
  return readFileSync(out, 'utf8')
}

/** Every file a table's log records as read, by a committed version or a passed record: `version file rows`. */
async function applied(lake: string, table: string): Promise<string[]> {
  const log = await readCommitLog(openStorage(lake), table)
  return log.entries.flatMap(({ record: r }) =>
    r.state === 'committed' || r.state === 'passed'
      ? r.files.map((f) => `${r.version} ${f.path} ${f.rows}`)
      : [],
  )
}

/** The states of a table's log records, oldest first. */
async function states(lake: string, table: string): Promise<string[]> {
  return (await readCommitLog(openStorage(lake), table)).entries.map(
    (e) => `${e.record.version} ${e.record.state}`,
  )
}

/** `lakesync <verb>` on the prefs table of a root and its lake (unskip reads only the log: no --source). */
function onPrefs(
  verb: 'status' | 'skip' | 'unskip',
  src: string,
  lake: string,
  cfg: string,
  ...rest: string[]
) {
  const source = verb === 'unskip' ? [] : ['--source', src]
  return cli(verb, ...source, '--target', lake, '--config', cfg, '--table', 'prefs', ...rest)
}

const FINAL = {
  orders:
    'order_id,line_no,amount,placed\n1,1,10.00,2021-10-17 10:00:00.000000Z\n2,1,4.00,2021-10-18 00:00:00.000000Z\n',
  prefs: 'id,settings,active\n2,{},true\n',
  accounts: 'id,owner\n1,anne\n2,"bob, jr."\n',
}

describe('PreserveTransactions / CdcPath: every table reads its rows of the CDC_TXN files', () => {
  it('applies the full loads, then each transaction file to the tables it names, in transaction order', async () => {
    const src = dmsRoot()
    putTwoTransactionFiles(src)
    const lake = tempDir()
    const cfg = config(TABLES, { format: FORMAT })
    const r = await run(src, lake, cfg)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    for (const t of ['orders', 'prefs', 'accounts'] as const)
      expect(await exported(lake, cfg, t)).toBe(FINAL[t])
    // Each table's log names the transaction files from its folder, with the rows that were its own.
    expect(await applied(lake, 'orders')).toEqual([
      '1 LOAD00000001.csv 2',
      `1 ../../cdc/${TXN1} 3`,
      `1 ../../cdc/${TXN2} 1`,
    ])
    expect(await applied(lake, 'prefs')).toEqual([
      '1 LOAD00000001.csv 2',
      `1 ../../cdc/${TXN1} 1`,
      `1 ../../cdc/${TXN2} 1`,
    ])
    expect(await applied(lake, 'accounts')).toEqual([
      '1 LOAD00000001.csv 1',
      `1 ../../cdc/${TXN1} 1`,
      `1 ../../cdc/${TXN2} 1`,
    ])
  })

  it('reads gzip-compressed transaction files (CompressionType=GZIP: CDC_TXN-<timestamp>.csv.gz)', async () => {
    const src = dmsRoot()
    putTwoTransactionFiles(src)
    for (const name of [TXN1, TXN2]) {
      const file = join(src, 'cdc', name)
      writeFileSync(`${file}.gz`, gzipSync(readFileSync(file)))
      rmSync(file)
    }
    const lake = tempDir()
    const cfg = config(TABLES, { format: FORMAT })
    const r = await run(src, lake, cfg)
    expect(r.err).toBe('')
    for (const t of ['orders', 'prefs', 'accounts'] as const)
      expect(await exported(lake, cfg, t)).toBe(FINAL[t])
    expect(await applied(lake, 'orders')).toEqual([
      '1 LOAD00000001.csv 2',
      `1 ../../cdc/${TXN1}.gz 3`,
      `1 ../../cdc/${TXN2}.gz 1`,
    ])
  })

  it('applies each transaction file exactly once per table: reruns, re-uploads and a new drop', async () => {
    const src = dmsRoot()
    putTwoTransactionFiles(src)
    const lake = tempDir()
    const cfg = config(TABLES, { format: FORMAT })
    expect((await run(src, lake, cfg)).code).toBe(0)
    const again = await run(src, lake, cfg)
    expect(again.code).toBe(0)
    for (const t of ['orders', 'prefs', 'accounts']) expect(again.out).toContain(`${t}: up to date`)
    // The same bytes uploaded again (a new mtime): the same file, nothing to apply.
    utimesSync(join(src, 'cdc', TXN1), new Date(), new Date(Date.now() + 5000))
    expect((await run(src, lake, cfg)).out).toContain('orders: up to date')
    // A new file naming only orders: orders applies it in a new version; prefs and accounts record it in a passed
    // record (no new version: their tables did not change), so each plan moves past it all the same.
    put(src, `cdc/${TXN3}`, ['I,orders,sales,3,1,1.00,'])
    const third = await run(src, lake, cfg)
    expect(third.code).toBe(0)
    expect(third.out).toContain('prefs: up to date: version 1')
    expect(third.out).toContain('(1 transaction file(s) without rows of prefs recorded, no new version)')
    expect(await applied(lake, 'orders')).toContain(`2 ../../cdc/${TXN3} 1`)
    expect(await applied(lake, 'prefs')).toContain(`2 ../../cdc/${TXN3} 0`)
    expect(await applied(lake, 'accounts')).toContain(`2 ../../cdc/${TXN3} 0`)
    expect(await states(lake, 'orders')).toEqual(['1 committed', '2 committed'])
    expect(await states(lake, 'prefs')).toEqual(['1 committed', '2 passed'])
    expect(existsSync(join(lake, versionDir('prefs', 2)))).toBe(false)
    expect(await exported(lake, cfg, 'orders')).toBe(`${FINAL.orders}3,1,1.00,\n`)
    expect(await exported(lake, cfg, 'prefs')).toBe(FINAL.prefs)
    const fourth = await run(src, lake, cfg)
    for (const t of ['orders', 'prefs', 'accounts']) {
      expect(fourth.out).toContain(`${t}: up to date`)
      const paths = (await applied(lake, t)).map((a) => a.split(' ')[1])
      expect(paths).toEqual([...new Set(paths)])
      expect(paths).toHaveLength(4)
      expect(committed(lake, t, 3)).toBe(false)
    }
    // A file recorded for prefs without its rows is read already: it cannot be set aside any more.
    const skip = await onPrefs('skip', src, lake, cfg, `../../cdc/${TXN3}`, '--reason', 'late')
    expect(skip.code).toBe(1)
    expect(skip.err).toContain('was read already (it holds no rows of prefs)')
    // status sees nothing pending for a table whose last files were passed.
    const status = await onPrefs('status', src, lake, cfg, '--json')
    expect(JSON.parse(status.out).tables[0]).toMatchObject({ version: 1, pending: [], error: null })
  })

  it("joins LOAD parts that arrive after transaction files holding none of the table's rows to its full load", async () => {
    const src = dmsRoot()
    const lake = tempDir()
    const cfg = config(TABLES, { format: FORMAT })
    // DMS writes orders' changes while accounts' full load is still arriving.
    put(src, `cdc/${TXN1}`, ['U,orders,sales,1,1,12.00,'])
    expect((await run(src, lake, cfg)).code).toBe(0)
    put(src, 'public/accounts/LOAD00000002.csv', ['2,bob'])
    const r = await run(src, lake, cfg)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(await exported(lake, cfg, 'accounts')).toBe('id,owner\n1,ann\n2,bob\n')
    expect(await applied(lake, 'accounts')).toEqual([
      '1 LOAD00000001.csv 1',
      `1 ../../cdc/${TXN1} 0`,
      '2 LOAD00000001.csv 1',
      '2 LOAD00000002.csv 1',
      `2 ../../cdc/${TXN1} 0`,
    ])
    // Once a transaction file changed the table, a new LOAD part is a reload, as for a table's own change files.
    put(src, `cdc/${TXN2}`, ['U,accounts,public,2,bobby'])
    expect((await run(src, lake, cfg)).code).toBe(0)
    put(src, 'public/accounts/LOAD00000003.csv', ['3,cy'])
    const late = await run(src, lake, cfg)
    expect(late.code).toBe(5)
    expect(late.err).toContain('table accounts: dms files: new full-load file')
  })

  it("stops a table at a bad value naming the transaction file's own line and column; the others commit", async () => {
    const src = dmsRoot()
    const lake = tempDir()
    // Line 1-2: an accounts row whose quoted owner holds a line break; line 4: prefs's bad boolean, field 6.
    put(src, `cdc/${TXN1}`, [
      'I,accounts,public,3,"carol',
      'smith"',
      'U,orders,sales,1,1,11.00,2021-10-17 10:00:00+00',
      'U,prefs,public,2,{},maybe',
    ])
    const r = await run(src, lake, config(TABLES, { format: FORMAT }), '--json')
    expect(r.code).toBe(5)
    const tables = JSON.parse(r.out).tables as { table: string; status: string; error: unknown }[]
    expect(tables.map((t) => [t.table, t.status])).toEqual([
      ['orders', 'committed'],
      ['prefs', 'failed'],
      ['accounts', 'committed'],
    ])
    expect(tables[1]!.error).toMatchObject({ file: join(src, 'cdc', TXN1), line: 4, column: 6 })
    expect(r.err).toContain(
      `table prefs: dms csv: bad boolean "maybe" for active: not a boolean (expected true, false, t, f, 1 or 0) in ${join(src, 'cdc', TXN1)} line 4 column 6`,
    )
    expect(await exported(lake, config(TABLES, { format: FORMAT }), 'accounts')).toBe(
      'id,owner\n1,ann\n3,"carol\nsmith"\n',
    )
  })

  it('shows the bad file in status, and lakesync skip sets it aside for that table only, as status names it', async () => {
    const src = dmsRoot()
    const lake = tempDir()
    const cfg = config(TABLES, { format: FORMAT })
    put(src, `cdc/${TXN1}`, ['U,prefs,public,2,{},maybe', 'U,accounts,public,1,anne'])
    put(src, `cdc/${TXN2}`, ['U,prefs,public,1,{},false'])
    expect((await run(src, lake, cfg)).code).toBe(5)
    const status = await onPrefs('status', src, lake, cfg, '--json')
    const prefs = JSON.parse(status.out).tables[0]
    expect(prefs.pending).toEqual(['LOAD00000001.csv', `../../cdc/${TXN1}`, `../../cdc/${TXN2}`])
    expect(prefs.error).toMatchObject({ code: 'bad_value' })
    expect(prefs.error.message).toContain(`${join(src, 'cdc', TXN1)} line 1 column 6`)
    const skip = await onPrefs('skip', src, lake, cfg, `../../cdc/${TXN1}`, '--reason', 'bad boolean')
    expect(skip.err).toBe('')
    expect(skip.code).toBe(0)
    expect((await run(src, lake, cfg)).code).toBe(0)
    expect(await exported(lake, cfg, 'prefs')).toBe('id,settings,active\n1,{},false\n2,[],false\n')
    expect(await exported(lake, cfg, 'accounts')).toBe('id,owner\n1,anne\n')
    expect(await applied(lake, 'prefs')).toEqual(['2 LOAD00000001.csv 2', `2 ../../cdc/${TXN2} 1`])
  })

  it('refuses to take a skip back once the table read a later transaction file, even one without its rows', async () => {
    const src = dmsRoot()
    const lake = tempDir()
    const cfg = config(TABLES, { format: FORMAT })
    put(src, `cdc/${TXN1}`, ['U,prefs,public,2,{},maybe'])
    expect((await run(src, lake, cfg)).code).toBe(5)
    const tool = (verb: 'skip' | 'unskip') =>
      onPrefs(verb, src, lake, cfg, `../../cdc/${TXN1}`, '--reason', 'x')
    expect((await tool('skip')).code).toBe(0)
    expect((await run(src, lake, cfg)).code).toBe(0)
    put(src, `cdc/${TXN2}`, ['U,accounts,public,1,anne']) // nothing of prefs: a passed record
    expect((await run(src, lake, cfg)).code).toBe(0)
    expect((await states(lake, 'prefs')).at(-1)).toMatch(/ passed$/)
    const back = await tool('unskip')
    expect(back.code).not.toBe(0)
    expect(back.err).toContain(`read ../../cdc/${TXN2}, which comes after ../../cdc/${TXN1}`)
  })

  it('stops every table at a row that cannot be split into fields, even a row of a table not configured', async () => {
    const src = dmsRoot()
    put(src, `cdc/${TXN1}`, [
      'I,orders,sales,2,1,1.00,',
      'I,audit,public,1,say "hi"',
      'I,orders,sales,3,1,1.00,',
    ])
    const r = await run(src, tempDir(), config(TABLES, { format: FORMAT }))
    expect(r.code).toBe(1)
    for (const t of ['orders', 'prefs', 'accounts'])
      expect(r.err).toContain(
        `table ${t}: dms csv: bare " inside an unquoted field (quote the whole field and double the quote) in ${join(src, 'cdc', TXN1)} line 2 column 5`,
      )
  })

  it('reads a DataFormat=parquet full load with the transaction files, which are CSV whatever DataFormat says', async () => {
    const src = tempDir('lakesync-txn-parquet-')
    mkdirSync(join(src, 'public', 'accounts'), { recursive: true })
    await toParquet(
      "SELECT 1::INTEGER AS id, 'ann' AS owner UNION ALL SELECT 2::INTEGER, 'bob'",
      join(src, 'public', 'accounts', 'LOAD00000001.parquet'),
      'snappy',
    )
    put(src, `cdc/${TXN1}`, [
      'D,accounts,public,1,ann',
      'U,accounts,public,2,bobby',
      'I,accounts,public,3,cy',
    ])
    const lake = tempDir()
    const cfg = config([ACCOUNTS], { format: FORMAT })
    const r = await run(src, lake, cfg)
    expect(r.code).toBe(0)
    expect(await exported(lake, cfg, 'accounts')).toBe('id,owner\n2,bobby\n3,cy\n')
  })

  it('runs over an S3 DMS root as over a folder', async () => {
    const moto = useMoto()
    const src = dmsRoot()
    putTwoTransactionFiles(src)
    const bucket = await newBucket(moto, 'txn')
    await uploadFolder(moto, src, bucket, 'dms')
    const cfg = config(TABLES, { format: FORMAT })
    const lake = `s3://${bucket}/lake`
    const r = await run(`s3://${bucket}/dms`, lake, cfg)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    for (const t of ['orders', 'prefs', 'accounts'] as const)
      expect(await exported(lake, cfg, t)).toBe(FINAL[t])
    expect((await run(`s3://${bucket}/dms`, lake, cfg)).out).toContain('accounts: up to date')
  })
})

describe('PreserveTransactions / CdcPath in the merge Lambda', () => {
  afterAll(() => setGlueClient(undefined))

  it('runs such a table itself even past the Glue thresholds: the Spark job does not read CDC_TXN files', async () => {
    const moto = useMoto()
    const src = dmsRoot()
    putTwoTransactionFiles(src)
    const staging = await newBucket(moto, 'txn-staging')
    const final = await newBucket(moto, 'txn-final')
    await uploadFolder(moto, src, staging, 'dms')
    const { schema: _schema, ...orders } = ORDERS
    const lambda = loadLambdaConfig({
      STAGING_BUCKET: staging,
      FINAL_BUCKET: final,
      FINAL_PREFIX: 'lake',
      GLUE_JOB_NAME: 'lakesync-job',
      LAMBDA_MAX_ROWS: '1',
      LAMBDA_MAX_PENDING_BYTES: '1',
      LAKESYNC_TABLES: JSON.stringify({
        orders: { stagingPrefix: 'dms/sales/orders/', config: { format: FORMAT, table: orders } },
      }),
    })
    const sent: string[] = []
    setGlueClient({
      send: async (cmd: { constructor: { name: string } }) => {
        sent.push(cmd.constructor.name)
        return {}
      },
    } as unknown as GlueClient)
    const result = await runTable(lambda, {
      route: lambda.tables[0]!,
      runConfig: await resolveTableConfigs(lambda).get('orders')!,
      asOf: 18917,
      engineVersion: 'test',
      onWarning: () => {},
    })
    expect(sent).toEqual([])
    expect(result.committed).toBe(true)
    expect(result.record!.files.map((f) => `${f.path} ${f.rows}`)).toEqual([
      'LOAD00000001.csv 2',
      `../../cdc/${TXN1} 3`,
      `../../cdc/${TXN2} 1`,
    ])
    const cfg = config([ORDERS], { format: FORMAT })
    expect(await exported(`s3://${final}/lake`, cfg, 'orders')).toBe(FINAL.orders)
  })
})

describe('PreserveTransactions / CdcPath: the rows of one table', () => {
  it('cuts out the rows naming the table, exactly by name and schema, with their original lines', () => {
    const file = enc(
      [
        'I,Names_03cdcad11a,rdsTempsdb,13,Daniel',
        'U,Names_03cdcad11a,rdsTempsdb,23,Kathy',
        'D,Names_03cdcad11a,rdsTempsdb,13,Cathy',
        'I,Names_6d152ce62d,rdsTempsdb,15,Jane',
        'I,Names_6d152ce62d,rdsTempsdb,24,Chris',
        'I,Names_03cdcad11a,rdsTempsdb,16,Mike',
        'I,names_03cdcad11a,rdsTempsdb,17,Other',
        'I,"Names_03cdcad11a",rdsTempsdb,18,"Quoted ""name"""',
        '',
      ].join('\n'),
    )
    const picked = pickTransactionRows(
      file,
      'CDC_TXN-20201117153046033.csv',
      { schema: 'rdsTempsdb', name: 'Names_03cdcad11a' },
      parseDmsFormat({ ...FORMAT }),
    )
    expect(new TextDecoder().decode(picked.bytes)).toBe(
      'I,Names_03cdcad11a,rdsTempsdb,13,Daniel\nU,Names_03cdcad11a,rdsTempsdb,23,Kathy\nD,Names_03cdcad11a,rdsTempsdb,13,Cathy\nI,Names_03cdcad11a,rdsTempsdb,16,Mike\nI,"Names_03cdcad11a",rdsTempsdb,18,"Quoted ""name"""\n',
    )
    expect([...picked.lines]).toEqual([1, 2, 3, 6, 8])
    expect(picked.rows).toBe(8)
  })
})

describe('PreserveTransactions / CdcPath: settings', () => {
  it('accepts the pair DMS requires, and refuses either alone', () => {
    expect(parseDmsFormat(FORMAT)).toMatchObject(FORMAT)
    expect(() => parseDmsFormat({ preserveTransactions: true })).toThrow(/needs format.cdcPath/)
    expect(() => parseDmsFormat({ cdcPath: 'cdc' })).toThrow(
      /read only with format.preserveTransactions true/,
    )
    expect(parseDmsFormat({ preserveTransactions: false, cdcPath: null })).toEqual(parseDmsFormat({}))
  })

  it('refuses a cdcPath outside the root and the settings DMS refuses with it or whose row layout the docs do not show', () => {
    for (const cdcPath of ['/cdc', 'cdc/', '../cdc', 'a//b', ''])
      expect(() => parseDmsFormat({ ...FORMAT, cdcPath })).toThrow(/format.cdcPath must be a folder/)
    expect(parseDmsFormat({ ...FORMAT, cdcPath: 'changes/txn' }).cdcPath).toBe('changes/txn')
    expect(() => parseDmsFormat({ ...FORMAT, addColumnName: true })).toThrow(/addColumnName cannot be used/)
    expect(() => parseDmsFormat({ ...FORMAT, datePartitionTimezone: 'Europe/Paris' })).toThrow(
      /datePartitionTimezone cannot be used/,
    )
    expect(() => parseDmsFormat({ ...FORMAT, timestampColumnName: 'ts' })).toThrow(
      /not read with format.preserveTransactions/,
    )
    expect(() => parseDmsFormat({ ...FORMAT, cdcInsertsOnly: true })).toThrow(
      /not read with format.preserveTransactions/,
    )
    expect(
      parseDmsFormat({ ...FORMAT, cdcInsertsOnly: true, includeOpForFullLoad: true }).cdcInsertsOnly,
    ).toBe(true)
  })

  it('needs the DMS root as the source: the single-table form is a configuration error', async () => {
    const src = dmsRoot()
    const { schema: _, ...orders } = ORDERS
    const file = join(tempDir(), 'single.json')
    writeFileSync(file, JSON.stringify({ format: FORMAT, table: orders }))
    const r = await cli(
      'run',
      '--source',
      join(src, 'sales', 'orders'),
      '--target',
      tempDir(),
      '--config',
      file,
    )
    expect(r.code).toBe(2)
    expect(r.err).toContain('the source must be the DMS root (BucketFolder) with the "tables" form')
  })

  it("names a CDC_TXN file without the setting, and a table's own change file with it", async () => {
    let error: unknown
    try {
      listDmsFiles(['LOAD00000001.csv', `../../cdc/${TXN1}`])
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(LakesyncError)
    expect((error as LakesyncError).code).toBe('bad_file_name')
    expect((error as LakesyncError).message).toContain('but format.preserveTransactions is false')
    const src = dmsRoot()
    put(src, 'sales/orders/20211017-200000000.csv', ['U,1,1,2.00,'])
    const r = await run(src, tempDir(), config(TABLES, { format: FORMAT }))
    expect(r.code).toBe(5)
    expect(r.err).toContain('table orders: dms files: ')
    expect(r.err).toContain("is a change file in a table's folder, but format.preserveTransactions is true")
  })
})
