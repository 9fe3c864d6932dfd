/**
 * Every config type, end to end: DMS CSV text and DMS Parquet values with NULLs and extremes are mirrored into
 * Parquet of the right logical types, read back equal by DuckDB and pyarrow, and rendered by `export` as the README
 * says. The same rows from CSV and from DMS Parquet publish identical bytes. Bad values stop the run naming file,
 * line, column, value and type.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseDmsCsv } from '../etl/dms/csv.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { csvLayout } from '../etl/dms/layout.js'
import { tableToCsv } from '../etl/report/csv-export.js'
import { parseTableSpec } from '../etl/table/spec.js'
import { parseDmsCsvParallel } from '../etl/threads/csv-parallel.js'
import { cli } from './helpers/cli.js'
import { tempDir } from './helpers/fixtures.js'
import { queryRows, sqlString } from './helpers/parquet.js'
import { python } from './helpers/spark.js'

const COLUMNS = [
  ['id', 'int64'],
  ['i16', 'int16'],
  ['i32', 'int32'],
  ['f32', 'float32'],
  ['f64', 'float64'],
  ['d_small', 'decimal(9,2)'],
  ['d_mid', 'decimal(18,4)'],
  ['d_wide', 'decimal(38,10)'],
  ['flag', 'boolean'],
  ['txt', 'string'],
  ['doc', 'json'],
  ['blob', 'binary'],
  ['day', 'date'],
  ['tod', 'time'],
  ['ts', 'timestamp'],
  ['tstz', 'timestamptz'],
] as const

/** A config for the every-type table (`every_type`, key `id`). */
function everyTypeConfig(dir: string): string {
  const file = join(dir, 'every_type.json')
  const columns = COLUMNS.map(([name, type]) => ({ name, type }))
  writeFileSync(file, JSON.stringify({ table: { name: 'every_type', columns, primaryKey: 'id' } }))
  return file
}

// The full load: the minimum of every type, NULLs everywhere but the key, the maximum of every type.
const LOAD = [
  '-9223372036854775808,-32768,-2147483648,NaN,-Infinity,-9999999.99,-99999999999999.9999,-9999999999999999999999999999.9999999999,false,"","{""a"": [1, 2]}",\\x00ff80,1900-01-01,00:00:00,1969-12-31 23:59:59.999999,1950-06-01 12:00:00+02',
  '0,,,,,,,,,,,,,,,',
  '9223372036854775807,32767,2147483647,3.4028235e+38,+5.0656000000000000e+05,9999999.99,99999999999999.9999,9999999999999999999999999999.9999999999,true,Zürich 😀,"""x""",\\x,9999-12-31,23:59:59.999999,2262-04-11 23:47:16.854775,2038-01-19 03:14:08.123456000Z',
]
// Changes: an update with the other text forms DMS and its sources write, an insert, a delete.
const CHANGES = [
  'U,0,7,-1,0.1,-0,21000.00,1.5,-0.0000000001,t,null,[],\\xDEADbeef,1969-07-20,12:34:56.5,2021-10-17T19:43:24.349,2021-10-17 19:43:24.349-05:00',
  'I,5,1,2,Infinity,1e-300,0,0,0,F,"a,b",{},\\x,2000-02-29,00:00:01,1970-01-01 00:00:00,1970-01-01 00:00:00',
  'I,6,-2,-3,-1.5,1.7976931348623157e308,-0.01,-12345678901234.5678,12345678901234567890123456.7890123456,1,Ωmega,"{""k"": ""v""}",\\x0102,2038-01-20,07:00:00.000001,2038-01-19 03:14:08,2500-01-01 00:00:00.000001+00:00',
  'D,9223372036854775807,,,,,,,,,,,,,,,',
]

/** The published table as `lakesync export --format csv` renders it. */
const EXPORTED = `id,i16,i32,f32,f64,d_small,d_mid,d_wide,flag,txt,doc,blob,day,tod,ts,tstz
-9223372036854775808,-32768,-2147483648,NaN,-Infinity,-9999999.99,-99999999999999.9999,-9999999999999999999999999999.9999999999,false,"","{""a"": [1, 2]}",\\x00ff80,1900-01-01,00:00:00.000000,1969-12-31 23:59:59.999999,1950-06-01 10:00:00.000000Z
0,7,-1,0.1,0,21000.00,1.5000,-0.0000000001,true,null,[],\\xdeadbeef,1969-07-20,12:34:56.500000,2021-10-17 19:43:24.349000,2021-10-18 00:43:24.349000Z
5,1,2,Infinity,1e-300,0.00,0.0000,0.0000000000,false,"a,b",{},\\x,2000-02-29,00:00:01.000000,1970-01-01 00:00:00.000000,1970-01-01 00:00:00.000000Z
6,-2,-3,-1.5,1.7976931348623157e+308,-0.01,-12345678901234.5678,12345678901234567890123456.7890123456,true,Ωmega,"{""k"": ""v""}",\\x0102,2038-01-20,07:00:00.000001,2038-01-19 03:14:08.000000,2500-01-01 00:00:00.000001Z
`

/** A DMS source folder holding `files` (name -> lines). */
function source(files: Record<string, string[]>): string {
  const dir = tempDir('lakesync-types-src-')
  for (const [name, lines] of Object.entries(files)) writeFileSync(join(dir, name), `${lines.join('\n')}\n`)
  return dir
}

async function mirror(src: string, config: string): Promise<string> {
  const lake = tempDir('lakesync-types-lake-')
  const r = await cli('run', '--source', src, '--target', lake, '--config', config)
  expect(r.err).toBe('')
  expect(r.code).toBe(0)
  return lake
}

const published = (lake: string) => join(lake, 'every_type', 'v=00000000000000000001', 'part-00000.parquet')

describe('every column type', () => {
  const dir = tempDir()
  const config = everyTypeConfig(dir)
  const csvSource = source({ 'LOAD00000001.csv': LOAD, '20211017-194324349.csv': CHANGES })

  it('is mirrored from DMS CSV and exported as the README renders each type', async () => {
    const lake = await mirror(csvSource, config)
    const out = join(dir, 'every_type.csv')
    expect((await cli('export', '--target', lake, '--config', config, '--out', out)).code).toBe(0)
    expect(readFileSync(out, 'utf8')).toBe(EXPORTED)
    // Also from the snapshot path: a second run with nothing new re-reads nothing, and show prints the same cells.
    const show = await cli('show', '--target', lake, '--config', config, '--table', 'every_type')
    expect(show.code).toBe(0)
    expect(show.out).toContain('|-9999999999999999999999999999.9999999999|')
  })

  it('publishes the same bytes from a full load in two parts; a load parsed in pieces on two threads gives the same rows', async () => {
    const lake = await mirror(csvSource, config)
    // Two LOAD parts: the load is the union of both (every storage kind joined, wide decimals and bytes included).
    const parts = source({
      'LOAD00000001.csv': LOAD.slice(0, 2),
      'LOAD00000002.csv': LOAD.slice(2),
      '20211017-194324349.csv': CHANGES,
    })
    expect(readFileSync(published(await mirror(parts, config))).equals(readFileSync(published(lake)))).toBe(
      true,
    )
    // The load parsed in three pieces on both threads, joined: the same rows as one serial parse.
    const spec = parseTableSpec(JSON.parse(readFileSync(config, 'utf8')).table)
    const layout = csvLayout(spec, DEFAULT_DMS_FORMAT, 'load')
    const bytes = new TextEncoder().encode(`${[...LOAD, ...LOAD].join('\n')}\n`) // a parse does not check keys
    const serial = parseDmsCsv(bytes, 'f.csv', spec, layout, DEFAULT_DMS_FORMAT)
    const inPieces = await parseDmsCsvParallel(bytes, 'f.csv', spec, layout, DEFAULT_DMS_FORMAT, {
      pieces: 3,
      minPieceBytes: 1,
    })
    expect(tableToCsv(inPieces.rows)).toBe(tableToCsv(serial.rows))
    expect(inPieces.rows.length).toBe(6)
  })

  it('publishes Parquet that DuckDB reads with the right types and values', async () => {
    const lake = await mirror(csvSource, config)
    const file = sqlString(published(lake))
    const types = await queryRows(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${file}, hive_partitioning = false))`,
    )
    expect(types).toEqual([
      ['id', 'BIGINT'],
      ['i16', 'SMALLINT'],
      ['i32', 'INTEGER'],
      ['f32', 'FLOAT'],
      ['f64', 'DOUBLE'],
      ['d_small', 'DECIMAL(9,2)'],
      ['d_mid', 'DECIMAL(18,4)'],
      ['d_wide', 'DECIMAL(38,10)'],
      ['flag', 'BOOLEAN'],
      ['txt', 'VARCHAR'],
      ['doc', 'JSON'],
      ['blob', 'BLOB'],
      ['day', 'DATE'],
      ['tod', 'TIME'],
      ['ts', 'TIMESTAMP'],
      ['tstz', 'TIMESTAMP WITH TIME ZONE'],
    ])
    const rows = await queryRows(
      `SELECT id::VARCHAR, i16, i32, f32::VARCHAR, f64::VARCHAR, d_small::VARCHAR, d_mid::VARCHAR, d_wide::VARCHAR,
        flag, txt, doc::VARCHAR, hex(blob), day::VARCHAR, tod::VARCHAR, ts::VARCHAR, epoch_us(tstz)::VARCHAR
       FROM read_parquet(${file}, hive_partitioning = false) ORDER BY id`,
    )
    expect(rows).toEqual([
      [
        '-9223372036854775808',
        -32768,
        -2147483648,
        'nan',
        '-inf',
        '-9999999.99',
        '-99999999999999.9999',
        '-9999999999999999999999999999.9999999999',
        false,
        '',
        '{"a": [1, 2]}',
        '00FF80',
        '1900-01-01',
        '00:00:00',
        '1969-12-31 23:59:59.999999',
        String(Date.UTC(1950, 5, 1, 10) * 1000),
      ],
      [
        '0',
        7,
        -1,
        '0.1',
        '-0.0',
        '21000.00',
        '1.5000',
        '-0.0000000001',
        true,
        'null',
        '[]',
        'DEADBEEF',
        '1969-07-20',
        '12:34:56.5',
        '2021-10-17 19:43:24.349',
        String(Date.UTC(2021, 9, 18, 0, 43, 24, 349) * 1000),
      ],
      [
        '5',
        1,
        2,
        'inf',
        '1e-300',
        '0.00',
        '0.0000',
        '0.0000000000',
        false,
        'a,b',
        '{}',
        '',
        '2000-02-29',
        '00:00:01',
        '1970-01-01 00:00:00',
        '0',
      ],
      [
        '6',
        -2,
        -3,
        '-1.5',
        '1.7976931348623157e+308',
        '-0.01',
        '-12345678901234.5678',
        '12345678901234567890123456.7890123456',
        true,
        'Ωmega',
        '{"k": "v"}',
        '0102',
        '2038-01-20',
        '07:00:00.000001',
        '2038-01-19 03:14:08',
        String(BigInt(Date.UTC(2500, 0, 1)) * 1000n + 1n),
      ],
    ])
  })

  it('publishes Parquet that pyarrow reads: logical types, field ids, REQUIRED key, min/max statistics', async () => {
    const lake = await mirror(csvSource, config)
    const script = `
import json, sys, pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
schema = f.schema_arrow
out = {"fields": [[x.name, str(x.type), x.nullable, x.metadata[b"PARQUET:field_id"].decode()] for x in schema],
       "logical": [str(f.schema.column(i).logical_type) for i in range(len(schema))],
       "stats": [f.metadata.row_group(0).column(i).statistics.has_min_max for i in range(len(schema))],
       "min": {c: str(f.metadata.row_group(0).column(i).statistics.min) for i, c in enumerate(schema.names) if c in ("id", "d_wide", "f64", "ts")},
       "rows": [[v.isoformat() if hasattr(v, "isoformat") else repr(v) for v in r.values()] for r in f.read().to_pylist()]}
print(json.dumps(out))
`
    const r = await python(['-c', script, published(lake)])
    expect(r.stderr).toBe('')
    const got = JSON.parse(r.stdout)
    expect(got.fields).toEqual([
      ['id', 'int64', false, '1'],
      ['i16', 'int16', true, '2'],
      ['i32', 'int32', true, '3'],
      ['f32', 'float', true, '4'],
      ['f64', 'double', true, '5'],
      ['d_small', 'decimal128(9, 2)', true, '6'],
      ['d_mid', 'decimal128(18, 4)', true, '7'],
      ['d_wide', 'decimal128(38, 10)', true, '8'],
      ['flag', 'bool', true, '9'],
      ['txt', 'string', true, '10'],
      ['doc', 'string', true, '11'], // pyarrow 18 reads a JSON column as text; its Parquet logical type is JSON
      ['blob', 'binary', true, '12'],
      ['day', 'date32[day]', true, '13'],
      ['tod', 'time64[us]', true, '14'],
      ['ts', 'timestamp[us]', true, '15'],
      ['tstz', 'timestamp[us, tz=UTC]', true, '16'],
    ])
    expect(got.logical[10]).toBe('JSON')
    expect(got.stats).toEqual(COLUMNS.map(() => true))
    expect(got.min).toEqual({
      id: '-9223372036854775808',
      f64: '-inf',
      d_wide: '-9999999999999999999999999999.9999999999',
      ts: '1969-12-31 23:59:59.999999',
    })
    expect(got.rows[0]).toEqual([
      '-9223372036854775808',
      '-32768',
      '-2147483648',
      'nan',
      '-inf',
      "Decimal('-9999999.99')",
      "Decimal('-99999999999999.9999')",
      "Decimal('-9999999999999999999999999999.9999999999')",
      'False',
      "''",
      `'{"a": [1, 2]}'`,
      "b'\\x00\\xff\\x80'",
      '1900-01-01',
      '00:00:00',
      '1969-12-31T23:59:59.999999',
      '1950-06-01T10:00:00+00:00',
    ])
    expect(got.rows[1][1]).toBe('7')
    expect(got.rows[1].slice(2)).not.toContain('None')
  })

  it('publishes the same bytes from DMS Parquet (DataFormat=parquet) as from CSV', async () => {
    const csvLake = await mirror(csvSource, config)
    const parquetSource = tempDir('lakesync-types-parquet-')
    // The rows above, typed as DMS writes them to Parquet (DECIMAL, INT64, BOOLEAN, BINARY, DATE32, TIME, TIMESTAMP).
    const script = `
import sys, datetime as dt, decimal
import pyarrow as pa, pyarrow.parquet as pq
D = decimal.Decimal
UTC = dt.timezone.utc
def fields(op):
    f = [("id", pa.int64()), ("i16", pa.int16()), ("i32", pa.int32()), ("f32", pa.float32()), ("f64", pa.float64()),
         ("d_small", pa.decimal128(9, 2)), ("d_mid", pa.decimal128(18, 4)), ("d_wide", pa.decimal128(38, 10)),
         ("flag", pa.bool_()), ("txt", pa.string()), ("doc", pa.string()), ("blob", pa.binary()), ("day", pa.date32()),
         ("tod", pa.time64("us")), ("ts", pa.timestamp("us")), ("tstz", pa.timestamp("us", tz="UTC"))]
    return ([("Op", pa.string())] if op else []) + f
load = [
  [-2**63, -32768, -2**31, float("nan"), float("-inf"), D("-9999999.99"), D("-99999999999999.9999"), D("-9999999999999999999999999999.9999999999"), False, "", '{"a": [1, 2]}', b"\\x00\\xff\\x80", dt.date(1900,1,1), dt.time(0,0), dt.datetime(1969,12,31,23,59,59,999999), dt.datetime(1950,6,1,10,tzinfo=UTC)],
  [0] + [None] * 15,
  [2**63-1, 32767, 2**31-1, 3.4028234663852886e38, 506560.0, D("9999999.99"), D("99999999999999.9999"), D("9999999999999999999999999999.9999999999"), True, "Zürich 😀", '"x"', b"", dt.date(9999,12,31), dt.time(23,59,59,999999), dt.datetime(2262,4,11,23,47,16,854775), dt.datetime(2038,1,19,3,14,8,123456,tzinfo=UTC)],
]
changes = [
  ["U", 0, 7, -1, 0.1, -0.0, D("21000.00"), D("1.5"), D("-0.0000000001"), True, "null", "[]", bytes.fromhex("deadbeef"), dt.date(1969,7,20), dt.time(12,34,56,500000), dt.datetime(2021,10,17,19,43,24,349000), dt.datetime(2021,10,18,0,43,24,349000,tzinfo=UTC)],
  ["I", 5, 1, 2, float("inf"), 1e-300, D("0"), D("0"), D("0"), False, "a,b", "{}", b"", dt.date(2000,2,29), dt.time(0,0,1), dt.datetime(1970,1,1), dt.datetime(1970,1,1,tzinfo=UTC)],
  ["I", 6, -2, -3, -1.5, 1.7976931348623157e308, D("-0.01"), D("-12345678901234.5678"), D("12345678901234567890123456.7890123456"), True, "Ωmega", '{"k": "v"}', bytes.fromhex("0102"), dt.date(2038,1,20), dt.time(7,0,0,1), dt.datetime(2038,1,19,3,14,8), dt.datetime(2500,1,1,0,0,0,1,tzinfo=UTC)],
  ["D", 2**63-1] + [None] * 15,
]
def write(rows, op, path):
    schema = pa.schema(fields(op))
    cols = list(zip(*rows))
    pq.write_table(pa.table([pa.array(c, type=t) for c, (_, t) in zip(cols, fields(op))], schema=schema), path)
write(load, False, sys.argv[1] + "/LOAD00000001.parquet")
write(changes, True, sys.argv[1] + "/20211017-194324349.parquet")
`
    const r = await python(['-c', script, parquetSource])
    expect(r.stderr).toBe('')
    const parquetLake = await mirror(parquetSource, config)
    expect(readFileSync(published(parquetLake)).equals(readFileSync(published(csvLake)))).toBe(true)
  })

  it.each([
    ['decimal(9,2)', 'd_small', '1.234', 'more than 2 fraction digits'],
    ['decimal(9,2)', 'd_small', '12345678.9', 'more than 9 digits'],
    ['int64', 'id', '9223372036854775808', 'out of the int64 range'],
    ['int16', 'i16', '32768', 'out of the int16 range'],
    ['boolean', 'flag', 'yes', 'not a boolean'],
    ['timestamp', 'ts', '2021-10-17 19:43:24.3490001', 'beyond the microsecond'],
    ['timestamp', 'ts', '2021-10-17 19:43:24+02', 'not a timestamp'],
    ['timestamptz', 'tstz', '2021-02-30 00:00:00', 'not a timestamp'],
    ['binary', 'blob', 'deadbeef', 'not \\x-prefixed hex'],
    ['float64', 'f64', '1,5', 'not a number'],
  ])('stops on a bad %s (%s = %s) naming file, line, column and value', async (type, column, value, why) => {
    const fields = LOAD[2]!.split(',')
    const row = COLUMNS.map(([name], i) =>
      name === column ? value : name === 'id' ? '1' : i === 10 ? '' : (fields[i] ?? ''),
    )
    const src = source({
      'LOAD00000001.csv': [LOAD[1]!, row.map((v) => (v.includes(',') ? `"${v}"` : v)).join(',')],
    })
    const lake = tempDir()
    const r = await cli('run', '--source', src, '--target', lake, '--config', config)
    expect(r.code).toBe(1)
    const col = COLUMNS.findIndex(([name]) => name === column) + 1
    expect(r.err).toContain(`bad ${type} "${value}" for ${column}: `)
    expect(r.err).toContain(why)
    expect(r.err).toContain(`LOAD00000001.csv line 2 column ${col}`)
  })
})

describe('a table without features, with a composite key', () => {
  const ORDERS = {
    name: 'orders',
    columns: [
      { name: 'order_id', type: 'int64' },
      { name: 'line_no', type: 'int16' },
      { name: 'amount', type: 'decimal(12,2)' },
      { name: 'placed', type: 'timestamptz' },
    ],
    primaryKey: ['order_id', 'line_no'],
  }

  function ordersConfig(): string {
    const file = join(tempDir(), 'orders.json')
    writeFileSync(file, JSON.stringify({ table: ORDERS }))
    return file
  }

  it('is mirrored, shown, exported and reported; nothing is published as features', async () => {
    const config = ordersConfig()
    const src = source({
      'LOAD00000001.csv': [
        '2,1,10.00,2021-10-17 10:00:00+00',
        '1,2,5.50,2021-10-17 09:00:00+00',
        '1,1,21000.00,2021-10-16 23:59:59.5+00',
      ],
      '20211017-194324349.csv': [
        'U,1,2,6.75,2021-10-17 11:00:00+00',
        'D,2,1,,',
        'I,2,1,-3.10,2021-10-18 00:00:00+00',
        'I,10,1,0.01,',
      ],
    })
    const lake = await mirror(src, config)
    const out = join(tempDir(), 'orders.csv')
    expect(
      (await cli('export', '--target', lake, '--config', config, '--table', 'orders', '--out', out)).code,
    ).toBe(0)
    expect(readFileSync(out, 'utf8')).toBe(
      `order_id,line_no,amount,placed
1,1,21000.00,2021-10-16 23:59:59.500000Z
1,2,6.75,2021-10-17 11:00:00.000000Z
2,1,-3.10,2021-10-18 00:00:00.000000Z
10,1,0.01,
`,
    )
    const show = await cli('show', '--target', lake, '--config', config)
    expect(show.code).toBe(0)
    expect(show.out).toContain('|1       |2      |6.75    |2021-10-17 11:00:00.000000Z|')
    const features = await cli('show', '--target', lake, '--config', config, '--table', 'orders_features')
    expect(features.code).toBe(2)
    expect(features.err).toContain('table orders has no features')
    const report = join(tempDir(), 'report.html')
    const rep = await cli('report', '--target', lake, '--source', src, '--config', config, '--out', report)
    expect(rep.err).toBe('')
    expect(rep.code).toBe(0)
    expect(readFileSync(report, 'utf8')).toContain('orders')
    const tables = await queryRows(
      `SELECT DISTINCT regexp_extract(file, '${lake}/([^/]+)/', 1) FROM glob(${sqlString(`${lake}/**/*.parquet`)})`,
    )
    expect(tables).toEqual([['orders']])
  })

  it('reads DMS Parquet with millisecond timestamps (ParquetTimestampInMillisecond=true) like the CSV', async () => {
    const config = ordersConfig()
    const csvLake = await mirror(
      source({ 'LOAD00000001.csv': ['1,1,21000.00,2021-10-16 23:59:59.5+00', '1,2,-0.01,'] }),
      config,
    )
    const src = tempDir('lakesync-types-parquet-')
    const script = `
import sys, datetime as dt, decimal, pyarrow as pa, pyarrow.parquet as pq
t = pa.table({"order_id": pa.array([1, 1], pa.int64()), "line_no": pa.array([1, 2], pa.int16()),
              "amount": pa.array([decimal.Decimal("21000.00"), decimal.Decimal("-0.01")], pa.decimal128(12, 2)),
              "placed": pa.array([dt.datetime(2021, 10, 16, 23, 59, 59, 500000, tzinfo=dt.timezone.utc), None], pa.timestamp("ms", tz="UTC"))})
pq.write_table(t, sys.argv[1] + "/LOAD00000001.parquet")
`
    const r = await python(['-c', script, src])
    expect(r.stderr).toBe('')
    const parquetLake = await mirror(src, config)
    const file = (lake: string) => join(lake, 'orders', 'v=00000000000000000001', 'part-00000.parquet')
    expect(readFileSync(file(parquetLake)).equals(readFileSync(file(csvLake)))).toBe(true)
  })

  it('a run on a new day with nothing new commits nothing for a table without features', async () => {
    const config = ordersConfig()
    const src = source({ 'LOAD00000001.csv': ['1,1,1.00,'] })
    const lake = tempDir()
    expect(
      (await cli('run', '--source', src, '--target', lake, '--config', config, '--as-of', '2021-10-17')).code,
    ).toBe(0)
    const next = await cli(
      'run',
      '--source',
      src,
      '--target',
      lake,
      '--config',
      config,
      '--as-of',
      '2021-10-18',
    )
    expect(next.code).toBe(0)
    expect(next.out).toMatch(/^up to date: version 1 /)
  })

  it('refuses a NULL in any key column, naming the column, file and line', async () => {
    const config = ordersConfig()
    const src = source({ 'LOAD00000001.csv': ['1,1,1.00,', '2,,2.00,'] })
    const r = await cli('run', '--source', src, '--target', tempDir(), '--config', config)
    expect(r.code).toBe(1)
    expect(r.err).toContain('NULL key column line_no')
    expect(r.err).toContain('LOAD00000001.csv line 2 column 2')
  })

  it('refuses a NULL in a column declared not nullable, except in a D row', async () => {
    const file = join(tempDir(), 'orders.json')
    const columns = ORDERS.columns.map((c) => (c.name === 'amount' ? { ...c, nullable: false } : c))
    writeFileSync(file, JSON.stringify({ table: { ...ORDERS, columns } }))
    const ok = source({ 'LOAD00000001.csv': ['1,1,1.00,'], '20211017-194324349.csv': ['D,1,1,,'] })
    expect((await cli('run', '--source', ok, '--target', tempDir(), '--config', file)).code).toBe(0)
    const bad = source({ 'LOAD00000001.csv': ['1,1,1.00,'], '20211017-194324349.csv': ['U,1,1,,'] })
    const r = await cli('run', '--source', bad, '--target', tempDir(), '--config', file)
    expect(r.code).toBe(1)
    expect(r.err).toContain('NULL in amount, which is not nullable')
    expect(r.err).toContain('20211017-194324349.csv line 1 column 4')
  })

  it('refuses a key that repeats in the full load, naming both columns of it', async () => {
    const config = ordersConfig()
    const src = source({ 'LOAD00000001.csv': ['1,1,1.00,', '1,2,2.00,', '1,1,3.00,'] })
    const r = await cli('run', '--source', src, '--target', tempDir(), '--config', config)
    expect(r.code).toBe(1)
    expect(r.err).toContain('duplicate key (order_id, line_no)=(1, 1)')
  })
})
