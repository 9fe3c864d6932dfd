/**
 * The Spark job (glue/lakesync_spark) reads columns that change during CDC and another CsvRowDelimiter exactly as
 * the TypeScript engine does (docs/dms-format.md, "Columns that change during CDC" and Settings): each case runs the
 * same DMS files through both engines, and both publish the same table (rows, DuckDB types, Parquet schema) and
 * commit records, or stop with the same error code and message and commit nothing.
 *
 * - A column declared `"added": true`: header-less CSV rows written before it read NULL for it; with headers
 *   (AddColumnName) columns are matched by name, so a new one is read and a dropped one reads NULL; a DMS Parquet file
 *   without it reads NULL. A field or column the config does not declare stops the run with what to add.
 * - `format.csvRowDelimiter` of one other ASCII character: rows end there, LF and CR are data.
 *
 * Lineages mix the engines as the Lambda and the Glue job do: the TypeScript engine commits v1 with the config
 * before the column was added, Spark commits v2 with it (and lakesync's publisher gives v2 a new Iceberg schema),
 * the TypeScript engine reads Spark's v2 back for v3. All Spark runs share one Spark session (run_local.py --batch).
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readCommitLog } from '../etl/commit/log.js'
import { newestMetadata } from '../etl/iceberg/publish.js'
import { publishCommitted } from '../etl/publish.js'
import { LocalStorage } from '../etl/storage/local.js'
import { parseTableSpec } from '../etl/table/spec.js'
import { readIceberg, readIcebergAll } from './helpers/iceberg-readers.js'
import { queryRows } from './helpers/parquet.js'
import { comparable, expectSameTables, parquetFile } from './helpers/spark.js'
import { type Case, sparkCases, tsRun, writeFiles } from './helpers/spark-cases.js'

const COLUMNS = [
  { name: 'user_id', type: 'int32' },
  { name: 'name', type: 'string' },
  { name: 'city', type: 'string' },
  { name: 'last_login', type: 'date' },
]
/** The table before and after `ALTER TABLE users ADD COLUMN phone` at the source. */
const BEFORE = { name: 'users', columns: COLUMNS, primaryKey: 'user_id' }
const AFTER = { ...BEFORE, columns: [...COLUMNS, { name: 'phone', type: 'string', added: true }] }

const LOAD = '1,Alice,Austin,2021-10-01\n2,Bob,Boston,2021-10-02\n'
const OLD_SHAPE = { 'LOAD00000001.csv': LOAD, '20211017-000000001.csv': 'U,2,Bobby,Boston,2021-10-05\n' }
// The DDL happened in the middle of this file: its first row has the old shape.
const DDL_INSIDE = {
  '20211017-000000002.csv':
    'U,2,Bobby,Boston,2021-10-05\nI,3,Cy,Chicago,2021-10-06,555-0100\nU,1,Al,Austin,2021-10-07,555-0101\n',
}
const parquetRow = (op: string, id: number, name: string, date: string, phone?: string) =>
  `SELECT ${op ? `'${op}' AS Op, ` : ''}${id}::INTEGER AS user_id, '${name}' AS name, 'Austin' AS city, DATE '${date}' AS last_login${phone ? `, '${phone}' AS phone` : ''}`
const PARQUET = {
  'LOAD00000001.parquet': `${parquetRow('', 1, 'Alice', '2021-10-01')} UNION ALL ${parquetRow('', 2, 'Bob', '2021-10-02')}`,
  '20211017-000000001.parquet': parquetRow('U', 2, 'Bobby', '2021-10-05'),
  '20211017-000000002.parquet': parquetRow('I', 3, 'Cy', '2021-10-06', '555-0100'),
}
const HEADERS = { addColumnName: true }
const UNDECLARED_FIELD =
  'too many fields (expected 5: Op,user_id,name,city,last_login): field 6 is a column the config does not declare; if a column was added at the source, add {"name": "<name>", "type": "<its type>", "added": true} after last_login (date)'

const CASES: Record<string, Case> = {
  // Without headers: rows written before the column existed are shorter.
  'added-csv': { table: AFTER, before: { table: BEFORE, files: OLD_SHAPE }, files: DDL_INSIDE },
  'added-csv-from-scratch': { table: AFTER, files: { ...OLD_SHAPE, ...DDL_INSIDE } },
  'added-csv-undeclared': {
    table: BEFORE,
    before: { table: BEFORE, files: OLD_SHAPE },
    files: DDL_INSIDE,
    error: { code: 'field_count', text: `${UNDECLARED_FIELD} in table users's columns` },
  },
  'added-csv-short-row-not-added': {
    table: AFTER,
    files: { 'LOAD00000001.csv': LOAD, '20211017-000000001.csv': 'U,2,Bobby,2021-10-05\n' },
    error: {
      code: 'field_count',
      text: '4 fields (expected 6: Op,user_id,name,city,last_login,phone); a column dropped or renamed at the source cannot be told apart without headers',
    },
  },
  // With headers: matched by name; the last file was written after `DROP COLUMN city`.
  'added-headers': {
    table: AFTER,
    format: HEADERS,
    files: {
      'LOAD00000001.csv': `user_id,name,city,last_login\n${LOAD}`,
      '20211017-000000001.csv': 'Op,user_id,name,city,last_login\nU,2,Bobby,Boston,2021-10-05\n',
      '20211017-000000002.csv':
        'Op,user_id,name,city,last_login,phone\nI,3,Cy,Chicago,2021-10-06,555-0100\nU,1,Al,Austin,2021-10-07,555-0101\n',
      '20211017-000000003.csv': 'Op,user_id,phone,name,last_login\nU,3,555-0102,Cy,2021-10-08\n',
    },
  },
  'added-headers-undeclared': {
    table: AFTER,
    format: HEADERS,
    files: {
      'LOAD00000001.csv': `user_id,name,city,last_login\n${LOAD}`,
      '20211017-000000001.csv': 'Op,user_id,name,email\nU,2,Bob,bob@example.com\n',
    },
    error: {
      code: 'new_column',
      text: 'column "email" is not in table users\'s config (a column added at the source: add {"name": "email", "type": "<its type>", "added": true} at the end of its columns',
    },
  },
  'added-headers-no-key': {
    table: AFTER,
    format: HEADERS,
    files: { 'LOAD00000001.csv': 'name,city,last_login\nAlice,Austin,2021-10-01\n' },
    error: { code: 'bad_header', text: 'no key column user_id' },
  },
  // DMS Parquet: a file without the column reads NULL for it.
  'added-parquet': { table: AFTER, files: PARQUET },
  'added-parquet-undeclared': {
    table: BEFORE,
    files: PARQUET,
    error: { code: 'new_column', text: 'add {"name": "phone", "type": "<its type>", "added": true}' },
  },
  // Another row delimiter: a LF is data, quoted fields may hold the delimiter, CR is data too.
  'row-delimiter': {
    table: BEFORE,
    format: { csvRowDelimiter: '|' },
    files: {
      'LOAD00000001.csv':
        '1,Alice,Austin,2021-10-01|2,Bob\nSmith,"Bos|ton",2021-10-02|3,"Cy ""C""",Chicago,|',
      '20211017-000000001.csv': 'U,1,Al,Austin,2021-10-03|D,2,,,|I,4,"Dee\r\nDee",Denver\r,2021-10-04',
    },
  },
  'row-delimiter-rfc4180-off': {
    table: BEFORE,
    format: { csvRowDelimiter: '~', rfc4180: false },
    files: { 'LOAD00000001.csv': '1,Al "Bo" Smith,Austin,2021-10-01~2,"Bob",Bos\nton,2021-10-02~' },
  },
  'row-delimiter-added': {
    table: AFTER,
    format: { csvRowDelimiter: '|' },
    files: {
      'LOAD00000001.csv': '1,Alice,Austin,2021-10-01|',
      '20211017-000000001.csv': 'I,3,Cy,Chicago,2021-10-06,555\n0100|U,1,Al,Austin,2021-10-07|',
    },
  },
  'row-delimiter-crlf': {
    table: BEFORE,
    format: { csvRowDelimiter: '\r\n' },
    files: { 'LOAD00000001.csv': LOAD.replaceAll('\n', '\r\n') },
  },
  'row-delimiter-blank-line': {
    table: BEFORE,
    format: { csvRowDelimiter: '|' },
    files: { 'LOAD00000001.csv': '1,Alice,Austin,2021-10-01||2,Bob,Boston,2021-10-02|' },
    error: { code: 'blank_line', text: 'blank line (expected a row of fields) in ' },
  },
}

describe('the Spark engine reads columns that change during CDC and another row delimiter as lakesync does', () => {
  const { dirs, typescriptLineage } = sparkCases(CASES)

  /** The published rows of a case's Spark target, as DuckDB reads them (dates as text). */
  const rows = async (id: string) =>
    queryRows(
      `SELECT * FROM read_parquet(${await parquetFile(dirs.get(id)!.spark, 'users')}, hive_partitioning = false)`,
    )

  it('reads NULL for the added column in rows written before it, and its value after', async () => {
    const want = [
      [1, 'Al', 'Austin', '2021-10-07', '555-0101'],
      [2, 'Bobby', 'Boston', '2021-10-05', null],
      [3, 'Cy', 'Chicago', '2021-10-06', '555-0100'],
    ]
    expect(await rows('added-csv')).toEqual(want)
    expect(await rows('added-csv-from-scratch')).toEqual(want)
    // Headers: the dropped city reads NULL in the last file's row, the columns in another order by name.
    expect(await rows('added-headers')).toEqual([
      ...want.slice(0, 2),
      [3, 'Cy', null, '2021-10-08', '555-0102'],
    ])
    expect(await rows('added-parquet')).toEqual([
      [1, 'Alice', 'Austin', '2021-10-01', null],
      [2, 'Bobby', 'Austin', '2021-10-05', null],
      [3, 'Cy', 'Austin', '2021-10-06', '555-0100'],
    ])
    expect(await rows('row-delimiter')).toEqual([
      [1, 'Al', 'Austin', '2021-10-03'],
      [3, 'Cy "C"', 'Chicago', null],
      [4, 'Dee\r\nDee', 'Denver\r', '2021-10-04'],
    ])
    expect(await rows('row-delimiter-added')).toEqual([
      [1, 'Al', 'Austin', '2021-10-07', null],
      [3, 'Cy', 'Chicago', '2021-10-06', '555\n0100'],
    ])
  })

  it("a Spark version that adds the column gets a new Iceberg schema, and the TypeScript engine reads Spark's version back", async () => {
    const { source, spark, config } = dirs.get('added-csv')!
    const ts = await typescriptLineage('added-csv')
    // What `lakesync run --engine spark` and the merge function do after a Spark run (cli/commands/spark.ts).
    const lake = new LocalStorage(spark)
    await publishCommitted({ target: lake, spec: parseTableSpec(AFTER), tableFormat: 'iceberg' })
    const { metadata } = (await newestMetadata(lake, 'users'))!
    const { metadata: tsMetadata } = (await newestMetadata(new LocalStorage(ts.target), 'users'))!
    expect(metadata.schemas.map((s) => [s['schema-id'], s.fields.map((f) => f.name).join(',')])).toEqual([
      [0, 'user_id,name,city,last_login'],
      [1, 'user_id,name,city,last_login,phone'],
    ])
    expect(metadata.schemas).toEqual(tsMetadata.schemas)
    expect(metadata['current-schema-id']).toBe(1)
    expect(metadata.snapshots.map((s) => s['schema-id'])).toEqual([0, 1])
    for (const read of Object.values(await readIcebergAll(join(spark, 'users')))) {
      expect(read.columns).toEqual(['user_id', 'name', 'city', 'last_login', 'phone'])
      expect(read.rows.map((r) => [r[0], r[4]])).toEqual([
        ['1', '555-0101'],
        ['2', null],
        ['3', '555-0100'],
      ])
    }
    const before = await readIceberg('pyiceberg', join(spark, 'users'), '1')
    expect(before.columns).toEqual(['user_id', 'name', 'city', 'last_login'])
    // v3 by the TypeScript engine on top of Spark's v2, and on the all-TypeScript lineage.
    await writeFiles(source, { '20211017-000000003.csv': 'U,2,Bob,Boston,2021-10-09,555-0103\n' })
    for (const target of [spark, ts.target]) expect((await tsRun(source, target, config)).err).toBe('')
    await expectSameTables(spark, ts.target)
    const log = await readCommitLog(lake, 'users')
    expect(log.committed.map((v) => v.engine.name)).toEqual(['lakesync', 'lakesync-spark', 'lakesync'])
    const all = await readCommitLog(new LocalStorage(ts.target), 'users')
    expect(log.committed.map(comparable)).toEqual(all.committed.map(comparable))
  })
})
