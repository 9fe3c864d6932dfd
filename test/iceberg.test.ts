/**
 * Every published table is an Iceberg v2 table, read by readers lakesync does not contain (DuckDB's iceberg
 * extension, pyiceberg): the current snapshot equals `lakesync export`, time travel to each kept version returns that
 * version, the schema carries the field ids and the key, each snapshot names its lakesync version, the manifests'
 * bounds let a key filter skip files, and vacuum expires what it deletes.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cli } from './helpers/cli.js'
import { SEED, SEED_FILES, tempDir } from './helpers/fixtures.js'
import {
  exportRows,
  ICEBERG_READERS,
  type IcebergRead,
  readIceberg,
  readIcebergSpark,
  sortRows,
} from './helpers/iceberg-readers.js'
import { useMoto } from './helpers/moto.js'
import { newBucket, putObject } from './helpers/s3-source.js'
import { python } from './helpers/spark.js'

const ACCOUNTS = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int64' },
    { name: 'region', type: 'int16' },
    { name: 'balance', type: 'decimal(20,4)' },
    { name: 'opened', type: 'timestamptz' },
    { name: 'active', type: 'boolean' },
    { name: 'profile', type: 'json' },
    { name: 'avatar', type: 'binary' },
    { name: 'born', type: 'date' },
    { name: 'score', type: 'float64' },
    { name: 'nick', type: 'string' },
  ],
  primaryKey: ['id', 'region'],
}

/** Runs `lakesync run` and returns `lakesync export` of each table afterwards. */
async function runAndExport(
  src: string,
  lake: string,
  config: string | null,
  tables: string[],
): Promise<Map<string, string>> {
  const cfg = config ? ['--config', config] : []
  const r = await cli('run', '--source', src, '--target', lake, '--as-of', '2021-10-17', ...cfg)
  expect(r.err).toBe('')
  expect(r.code).toBe(0)
  const out = new Map<string, string>()
  for (const t of tables) {
    const file = join(tempDir(), `${t}.csv`)
    expect((await cli('export', '--target', lake, '--table', t, '--out', file, ...cfg)).code).toBe(0)
    out.set(t, readFileSync(file, 'utf8'))
  }
  return out
}

/** A read equal to the export text (columns, and rows in one order). */
function expectEqualToExport(read: IcebergRead, exported: string, snapshot?: number): void {
  const { reader } = read
  const want = exportRows(exported, read.schema.fields)
  expect({ reader, snapshot, columns: read.columns }).toEqual({ reader, snapshot, columns: want.columns })
  expect({ reader, snapshot, rows: sortRows(read.rows) }).toEqual({ reader, snapshot, rows: want.rows })
}

/**
 * DuckDB and pyiceberg at once, at `snapshot` (default: current), equal to the export text; Spark's read of the same
 * is gathered in `spark` (one Spark session per test: `expectSparkEqual`).
 */
async function expectReadersEqual(
  table: string,
  exported: string,
  snapshot?: number,
  spark?: SparkChecks,
): Promise<void> {
  for (const reader of ICEBERG_READERS)
    expectEqualToExport(
      await readIceberg(reader, table, snapshot === undefined ? undefined : String(snapshot)),
      exported,
      snapshot,
    )
  spark?.push({ table, exported, ...(snapshot === undefined ? {} : { snapshot }) })
}

const LONG_TEST_MS = 300_000 // tests that start Spark (a JVM) or write millions of rows

type SparkChecks = { table: string; exported: string; snapshot?: number }[]

/** Spark's reads of every gathered check, in one session, each equal to its export text. */
async function expectSparkEqual(checks: SparkChecks): Promise<void> {
  const reads = await readIcebergSpark(checks)
  for (const [i, c] of checks.entries()) expectEqualToExport(reads[i]!, c.exported, c.snapshot)
}

describe('Iceberg tables', () => {
  it(
    'users and users_features: every version a snapshot, read back by DuckDB, pyiceberg and Spark, time travel included',
    async () => {
      const spark: SparkChecks = []
      const src = tempDir()
      const lake = tempDir()
      const exports: Map<string, string>[] = []
      cpSync(join(SEED, SEED_FILES[0]), join(src, SEED_FILES[0]))
      exports.push(await runAndExport(src, lake, null, ['users', 'features']))
      for (const f of SEED_FILES.slice(1, 3)) {
        cpSync(join(SEED, f), join(src, f))
        exports.push(await runAndExport(src, lake, null, ['users', 'features']))
      }
      const users = join(lake, 'users')
      const features = join(lake, 'users_features')
      expect(readFileSync(join(users, 'metadata', 'version-hint.text'), 'utf8')).toBe('3')
      await expectReadersEqual(users, exports[2]!.get('users')!, undefined, spark)
      await expectReadersEqual(features, exports[2]!.get('features')!, undefined, spark)
      for (const v of [1, 2]) {
        await expectReadersEqual(users, exports[v - 1]!.get('users')!, v, spark)
        await expectReadersEqual(features, exports[v - 1]!.get('features')!, v, spark)
      }
      await expectSparkEqual(spark)
      const meta = await readIceberg('pyiceberg', users)
      expect(meta.schema.fields.map((f) => [f.id, f.name, f.type, f.required])).toEqual([
        [1, 'user_id', 'int', true],
        [2, 'name', 'string', false],
        [3, 'city', 'string', false],
        [4, 'last_login', 'date', false],
      ])
      expect(meta.schema.identifierFieldIds).toEqual([1])
      expect(
        meta.snapshots.map((s) => [s.id, s.parentId, s.operation, s.summary?.['lakesync.version']]),
      ).toEqual([
        ['1', null, 'append', '1'],
        ['2', '1', 'overwrite', '2'],
        ['3', '2', 'overwrite', '3'],
      ])
      expect(meta.snapshots[2]!.summary?.['total-records']).toBe(
        String(exports[2]!.get('users')!.trim().split('\n').length - 1),
      )

      // Vacuum keeps two versions: the first snapshot is expired before its files go; the others still travel.
      expect((await cli('vacuum', '--target', lake, '--keep', '2')).code).toBe(0)
      const after = await readIceberg('pyiceberg', users)
      expect(after.snapshots.map((s) => s.id)).toEqual(['2', '3'])
      await expectReadersEqual(users, exports[1]!.get('users')!, 2)
      await expectReadersEqual(users, exports[2]!.get('users')!)
    },
    LONG_TEST_MS,
  )

  it(
    'a table of many types with a composite key: types, values and time travel',
    async () => {
      const dir = tempDir()
      const config = join(dir, 'accounts.json')
      writeFileSync(config, JSON.stringify({ table: ACCOUNTS }))
      const src = join(dir, 'src')
      mkdirSync(src)
      writeFileSync(
        join(src, 'LOAD00000001.csv'),
        `${[
          '1,1,1234567890123456.7890,1969-12-31 23:59:59.5+00,true,"{""a"": 1}",\\x00ff,1950-01-01,1.5,Zoë',
          '1,2,-0.0001,2038-01-19 03:14:08+00,false,[],\\x,2000-02-29,-2.25e-10,""',
          '9223372036854775807,-32768,,,,,,,,',
        ].join('\n')}\n`,
      )
      const lake = join(dir, 'lake')
      const v1 = await runAndExport(src, lake, config, ['accounts'])
      writeFileSync(
        join(src, '20211017-194324349.csv'),
        'U,1,2,10.0000,2021-10-17 12:00:00+02,true,{},\\xdead,2021-10-17,3,x\nD,9223372036854775807,-32768,,,,,,,,\n',
      )
      const v2 = await runAndExport(src, lake, config, ['accounts'])
      const table = join(lake, 'accounts')
      const spark: SparkChecks = []
      await expectReadersEqual(table, v2.get('accounts')!, undefined, spark)
      await expectReadersEqual(table, v1.get('accounts')!, 1, spark)
      await expectSparkEqual(spark)
      const meta = await readIceberg('pyiceberg', table)
      expect(
        meta.schema.fields.map((f) => `${f.id} ${f.name} ${f.type}${f.required ? ' required' : ''}`),
      ).toEqual([
        '1 id long required',
        '2 region int required',
        '3 balance decimal(20, 4)',
        '4 opened timestamptz',
        '5 active boolean',
        '6 profile string',
        '7 avatar binary',
        '8 born date',
        '9 score double',
        '10 nick string',
      ])
      expect(meta.schema.identifierFieldIds).toEqual([1, 2])
    },
    LONG_TEST_MS,
  )

  it('--table-format hive (or publish.tableFormat) publishes the version folders only', async () => {
    const src = tempDir()
    cpSync(join(SEED, SEED_FILES[0]), join(src, SEED_FILES[0]))
    const lake = tempDir()
    expect((await cli('run', '--source', src, '--target', lake, '--table-format', 'hive')).code).toBe(0)
    expect(existsSync(join(lake, 'users', 'metadata'))).toBe(false)
    const config = join(tempDir(), 'hive.json')
    writeFileSync(config, JSON.stringify({ publish: { tableFormat: 'hive' } }))
    const other = tempDir()
    expect((await cli('run', '--source', src, '--target', other, '--config', config)).code).toBe(0)
    expect(existsSync(join(other, 'users_features', 'metadata'))).toBe(false)
    writeFileSync(config, JSON.stringify({ publish: { tableFormat: 'delta' } }))
    const bad = await cli('run', '--source', src, '--target', tempDir(), '--config', config)
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('publish.tableFormat must be iceberg or hive, got "delta"')
  })

  it('decimal bounds are exact (INT32, INT64 and fixed-length decimals): a filter at the bound keeps the file', async () => {
    const dir = tempDir()
    const config = join(dir, 'prices.json')
    const prices = {
      name: 'prices',
      columns: [
        { name: 'id', type: 'int32' },
        { name: 'small', type: 'decimal(5,2)' },
        { name: 'mid', type: 'decimal(18,4)' },
        { name: 'wide', type: 'decimal(38,10)' },
      ],
      primaryKey: 'id',
    }
    writeFileSync(config, JSON.stringify({ table: prices }))
    const src = join(dir, 'src')
    mkdirSync(src)
    writeFileSync(
      join(src, 'LOAD00000001.csv'),
      `${[
        '1,-999.99,-99999999999999.9999,-1234567890123456789012345678.0123456789',
        '2,0.01,12345678901234.5679,0.0000000001',
        '3,,,',
      ].join('\n')}\n`,
    )
    const lake = join(dir, 'lake')
    await runAndExport(src, lake, config, [])
    const script = `
import sys, json
from decimal import Decimal
from pyiceberg.table import StaticTable
from pyiceberg.expressions import GreaterThanOrEqual, GreaterThan
t = StaticTable.from_metadata(sys.argv[1])
m = t.inspect.files().to_pylist()[0]["readable_metrics"]
top = "12345678901234.5679"
print(json.dumps({
  "bounds": {k: [str(m[k]["lower_bound"]), str(m[k]["upper_bound"]), m[k]["null_value_count"]] for k in ("small", "mid", "wide")},
  "atUpper": len(list(t.scan(row_filter=GreaterThanOrEqual("mid", Decimal(top))).plan_files())),
  "aboveUpper": len(list(t.scan(row_filter=GreaterThan("mid", Decimal(top))).plan_files())),
}))
`
    const r = await python(['-c', script, join(lake, 'prices', 'metadata', 'v1.metadata.json')])
    expect(r.stderr).toBe('')
    const got = JSON.parse(r.stdout)
    expect(got.bounds).toEqual({
      small: ['-999.99', '0.01', 1],
      mid: ['-99999999999999.9999', '12345678901234.5679', 1],
      wide: ['-1234567890123456789012345678.0123456789', '1E-10', 1],
    })
    expect(got.atUpper).toBe(1) // a double would round 12345678901234.5679 down and skip the file here
    expect(got.aboveUpper).toBe(0)
  })

  it(
    'a large table is several data files, each a key range: a key filter plans one file of three',
    async () => {
      const dir = tempDir()
      const src = join(dir, 'src')
      mkdirSync(src)
      const n = 2_200_000 // row groups of 1M rows: files of 1M, 1M and 0.2M rows at a tiny target size
      const lines: string[] = []
      for (let i = 1; i <= n; i++)
        lines.push(`${i},n${i % 997},City${i % 50},2021-0${1 + (i % 9)}-1${i % 10}`)
      writeFileSync(join(src, 'LOAD00000001.csv'), `${lines.join('\n')}\n`)
      const config = join(dir, 'lakesync.json')
      writeFileSync(config, JSON.stringify({ publish: { targetFileMiB: 0.001 } }))
      const lake = join(dir, 'lake')
      const r = await cli(
        'run',
        '--source',
        src,
        '--target',
        lake,
        '--config',
        config,
        '--as-of',
        '2021-10-17',
      )
      expect(r.code, r.err).toBe(0)
      const script = `
import sys, json
sys.path.insert(0, 'test/helpers')
import duckdb, iceberg_read
from pyiceberg.table import StaticTable
from pyiceberg.expressions import And, GreaterThanOrEqual, LessThanOrEqual
t = StaticTable.from_metadata(sys.argv[1] + "/metadata/v1.metadata.json")
files = t.inspect.files().to_pylist()
con = duckdb.connect(config={"allow_unsigned_extensions": "true", "autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
for name in ["avro", "iceberg"]:
    con.execute(f"LOAD '{iceberg_read.duckdb_extension_file(name)}'")
scan = f"iceberg_scan('{sys.argv[1]}')"
print(json.dumps({
  "files": [[f["record_count"], f["readable_metrics"]["user_id"]["lower_bound"], f["readable_metrics"]["user_id"]["upper_bound"]] for f in files],
  "planned": len(list(t.scan(row_filter=And(GreaterThanOrEqual("user_id", 1200000), LessThanOrEqual("user_id", 1300000))).plan_files())),
  "duckdb": con.execute(f"SELECT count(*), sum(user_id) FROM {scan}").fetchone(),
  "range": con.execute(f"SELECT count(*) FROM {scan} WHERE user_id BETWEEN 1200000 AND 1300000").fetchone()[0],
}))
`
      const out = await python(['-c', script, join(lake, 'users')])
      expect(out.code, out.stderr).toBe(0)
      const got = JSON.parse(out.stdout)
      expect(got.files.sort((a: number[], b: number[]) => a[1]! - b[1]!)).toEqual([
        [1 << 20, 1, 1 << 20],
        [1 << 20, (1 << 20) + 1, 2 << 20],
        [n - (2 << 20), (2 << 20) + 1, n],
      ])
      expect(got.planned).toBe(1)
      expect(got.duckdb).toEqual([n, (n * (n + 1)) / 2])
      expect(got.range).toBe(100_001)
    },
    LONG_TEST_MS,
  )

  it('manifests carry per-column bounds: a key filter skips a file outside its range', async () => {
    const src = tempDir()
    const lake = tempDir()
    cpSync(join(SEED, SEED_FILES[0]), join(src, SEED_FILES[0]))
    await runAndExport(src, lake, null, [])
    const script = `
import sys, json
from pyiceberg.table import StaticTable
from pyiceberg.expressions import GreaterThan, LessThan
t = StaticTable.from_metadata(sys.argv[1])
files = t.inspect.files().to_pylist()
print(json.dumps({
  "inside": len(list(t.scan(row_filter=LessThan("user_id", 10)).plan_files())),
  "outside": len(list(t.scan(row_filter=GreaterThan("user_id", 100000)).plan_files())),
  "records": files[0]["record_count"],
  "bounds": {k: [str(v["lower_bound"]), str(v["upper_bound"]), v["null_value_count"]] for k, v in files[0]["readable_metrics"].items()},
}))
`
    const r = await python(['-c', script, join(lake, 'users', 'metadata', 'v1.metadata.json')])
    expect(r.stderr).toBe('')
    const got = JSON.parse(r.stdout)
    expect(got.inside).toBe(1)
    expect(got.outside).toBe(0)
    expect(got.bounds.user_id[2]).toBe(0)
    expect(got.bounds.last_login.slice(0, 2)).toEqual(['2017-01-01', '2021-10-17'])
  })
})

describe('Iceberg tables on S3 (moto)', () => {
  const moto = useMoto()
  afterAll(() => moto.reset())

  it(
    'DuckDB, pyiceberg and Spark read s3:// tables equal to lakesync export, current and by time travel',
    async () => {
      const spark: SparkChecks = []
      const bucket = await newBucket(moto, 'ice')
      const src = `s3://${bucket}/dms/public/users`
      const lake = `s3://${bucket}/lake`
      await putObject(
        moto,
        bucket,
        `dms/public/users/${SEED_FILES[0]}`,
        readFileSync(join(SEED, SEED_FILES[0])),
      )
      const first = await runAndExport(src, lake, null, ['users', 'features'])
      await putObject(
        moto,
        bucket,
        `dms/public/users/${SEED_FILES[1]}`,
        readFileSync(join(SEED, SEED_FILES[1])),
      )
      const second = await runAndExport(src, lake, null, ['users', 'features'])
      await expectReadersEqual(`${lake}/users`, second.get('users')!, undefined, spark)
      await expectReadersEqual(`${lake}/users_features`, second.get('features')!, undefined, spark)
      await expectReadersEqual(`${lake}/users`, first.get('users')!, 1, spark)
      await expectReadersEqual(`${lake}/users_features`, first.get('features')!, 1, spark)
      await expectSparkEqual(spark)
      const meta = await readIceberg('pyiceberg', `${lake}/users`)
      expect(meta.metadataLocation).toBe(`${lake}/users/metadata/v2.metadata.json`)
    },
    LONG_TEST_MS,
  )
})
