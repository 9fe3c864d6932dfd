/**
 * Columns that change during CDC (issue 19): a column declared `"added": true` reads NULL in rows written before it
 * existed, from CSV with and without headers and from DMS Parquet; with headers, columns are matched by name, so a
 * dropped one reads NULL. A column the config does not declare stops the run with what to add. The published
 * Parquet gains the column in the next version and Iceberg records the schema change.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readVersionTable } from '../etl/commit/load-version.js'
import { readCommitLog } from '../etl/commit/log.js'
import { parseDmsFormat } from '../etl/dms/format.js'
import { newestMetadata } from '../etl/iceberg/publish.js'
import { runPipeline } from '../etl/pipeline.js'
import { tableToCsv } from '../etl/report/csv-export.js'
import { LocalStorage } from '../etl/storage/local.js'
import type { Storage } from '../etl/storage/storage.js'
import { parseTableSpec } from '../etl/table/spec.js'
import type { TableSpec } from '../etl/types.js'
import { enc } from './helpers/bytes.js'
import { rejection, seedOptions, tempDir } from './helpers/fixtures.js'
import { readIceberg, readIcebergAll } from './helpers/iceberg-readers.js'
import { MemoryStorage } from './helpers/memory-storage.js'
import { toParquet } from './helpers/parquet.js'

const COLUMNS = [
  { name: 'user_id', type: 'int32' },
  { name: 'name', type: 'string' },
  { name: 'city', type: 'string' },
  { name: 'last_login', type: 'date' },
]
/** The table before and after `ALTER TABLE users ADD COLUMN phone` at the source. */
const BEFORE: TableSpec = parseTableSpec({ name: 'users', columns: COLUMNS, primaryKey: 'user_id' })
const AFTER: TableSpec = parseTableSpec({
  name: 'users',
  columns: [...COLUMNS, { name: 'phone', type: 'string', added: true }],
  primaryKey: 'user_id',
})

async function write(s: Storage, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await s.write(name, enc(text))
}

const warnings: string[] = []

async function run(source: Storage, target: Storage, spec: TableSpec, format: Record<string, unknown> = {}) {
  const onWarning = (w: string) => warnings.push(w)
  return runPipeline(seedOptions(source, target, { spec, format: parseDmsFormat(format), onWarning }))
}

async function mirrored(target: Storage, spec = AFTER): Promise<string> {
  const log = await readCommitLog(target, spec.name)
  return tableToCsv(await readVersionTable(target, log.current!, spec))
}

const LOAD = '1,Alice,Austin,2021-10-01\n2,Bob,Boston,2021-10-02\n'
const EXPECTED =
  'user_id,name,city,last_login,phone\n1,Al,Austin,2021-10-07,555-0101\n2,Bobby,Boston,2021-10-05,\n3,Cy,Chicago,2021-10-06,555-0100\n'

describe('a column added at the source during CDC', () => {
  it('without headers: older rows read NULL, in the run that declares it and in a run from scratch', async () => {
    const source = new MemoryStorage()
    const target = new MemoryStorage()
    await write(source, {
      'LOAD00000001.csv': LOAD,
      '20211017-000000001.csv': 'U,2,Bobby,Boston,2021-10-05\n',
    })
    await run(source, target, BEFORE)
    // The DDL happened in the middle of the next file: its first row has the old shape.
    await write(source, {
      '20211017-000000002.csv':
        'U,2,Bobby,Boston,2021-10-05\nI,3,Cy,Chicago,2021-10-06,555-0100\nU,1,Al,Austin,2021-10-07,555-0101\n',
    })
    const undeclared = await rejection(run(source, target, BEFORE))
    expect(undeclared.code).toBe('field_count')
    expect(undeclared.message).toContain('20211017-000000002.csv line 2 column 6')
    expect(undeclared.message).toContain(
      'field 6 is a column the config does not declare; if a column was added at the source, add {"name": "<name>", "type": "<its type>", "added": true} after last_login (date)',
    )
    warnings.length = 0
    await run(source, target, AFTER)
    expect(await mirrored(target)).toBe(EXPECTED)
    expect(warnings).toEqual([]) // the previous version's snapshot was read, its missing column as NULL
    const scratch = new MemoryStorage()
    await run(source, scratch, AFTER)
    expect(await mirrored(scratch)).toBe(EXPECTED)
    // Iceberg: a second schema, current from the version that has the column; the first snapshot keeps schema 0.
    const { metadata } = (await newestMetadata(target, 'users'))!
    expect(metadata.schemas.map((s) => [s['schema-id'], s.fields.map((f) => f.name).join(',')])).toEqual([
      [0, 'user_id,name,city,last_login'],
      [1, 'user_id,name,city,last_login,phone'],
    ])
    expect(metadata['current-schema-id']).toBe(1)
    expect(metadata.snapshots.map((s) => s['schema-id'])).toEqual([0, 1])
  })

  it('Iceberg readers (DuckDB, pyiceberg) read the new column now and the old snapshot before it', async () => {
    const lake = tempDir('lakesync-added-iceberg-')
    const source = new MemoryStorage()
    const target = new LocalStorage(lake)
    await write(source, { 'LOAD00000001.csv': LOAD })
    await run(source, target, BEFORE)
    await write(source, { '20211017-000000001.csv': 'I,3,Cy,Chicago,2021-10-06,555-0100\n' })
    await run(source, target, AFTER)
    const now = await readIcebergAll(join(lake, 'users'))
    for (const read of Object.values(now)) {
      expect(read.columns).toEqual(['user_id', 'name', 'city', 'last_login', 'phone'])
      expect(read.rows.map((r) => [r[0], r[4]])).toEqual([
        ['1', null],
        ['2', null],
        ['3', '555-0100'],
      ])
    }
    const before = await readIceberg('pyiceberg', join(lake, 'users'), '1')
    expect(before.rows.map((r) => r[1])).toEqual(['Alice', 'Bob'])
  })

  it('without headers: a missing column that is not declared added needs headers or a reload', async () => {
    const source = new MemoryStorage()
    await write(source, { 'LOAD00000001.csv': LOAD, '20211017-000000001.csv': 'U,2,Bobby,2021-10-05\n' })
    const e = await rejection(run(source, new MemoryStorage(), AFTER))
    expect(e.code).toBe('field_count')
    expect(e.message).toContain('4 fields (expected 6: Op,user_id,name,city,last_login,phone)')
    expect(e.message).toContain('turn on format.addColumnName (DMS AddColumnName=true) or reload the table')
  })

  it('with headers: columns matched by name, so a new column is read and a dropped one reads NULL', async () => {
    const source = new MemoryStorage()
    await write(source, {
      'LOAD00000001.csv': `user_id,name,city,last_login\n${LOAD}`,
      '20211017-000000001.csv': 'Op,user_id,name,city,last_login\nU,2,Bobby,Boston,2021-10-05\n',
      '20211017-000000002.csv':
        'Op,user_id,name,city,last_login,phone\nI,3,Cy,Chicago,2021-10-06,555-0100\nU,1,Al,Austin,2021-10-07,555-0101\n',
    })
    const target = new MemoryStorage()
    await run(source, target, AFTER, { addColumnName: true })
    expect(await mirrored(target)).toBe(EXPECTED)
    // ALTER TABLE users DROP COLUMN city: later files have no city field.
    await write(source, {
      '20211017-000000003.csv': 'Op,user_id,name,last_login,phone\nU,3,Cy,2021-10-08,555-0102\n',
    })
    await run(source, target, AFTER, { addColumnName: true })
    expect(await mirrored(target)).toContain('\n3,Cy,,2021-10-08,555-0102\n')
    await write(source, { '20211017-000000004.csv': 'Op,user_id,name,email\nU,3,Cy,cy@example.com\n' })
    const e = await rejection(run(source, target, AFTER, { addColumnName: true }))
    expect(e.code).toBe('new_column')
    expect(e.message).toContain(
      'column "email" is not in table users\'s config (a column added at the source: add {"name": "email", "type": "<its type>", "added": true} at the end of its columns',
    )
    expect(e.message).toContain('20211017-000000004.csv line 1 column 4')
  })

  it('from DMS Parquet: a file without the column reads NULL, one with an undeclared column stops', async () => {
    const dir = tempDir('lakesync-added-parquet-')
    const row = (op: string, id: number, name: string, date: string, phone?: string) =>
      `SELECT ${op ? `'${op}' AS Op, ` : ''}${id}::INTEGER AS user_id, '${name}' AS name, 'Austin' AS city, DATE '${date}' AS last_login${phone ? `, '${phone}' AS phone` : ''}`
    await toParquet(
      `${row('', 1, 'Alice', '2021-10-01')} UNION ALL ${row('', 2, 'Bob', '2021-10-02')}`,
      join(dir, 'LOAD00000001.parquet'),
      'snappy',
    )
    await toParquet(row('U', 2, 'Bobby', '2021-10-05'), join(dir, '20211017-000000001.parquet'), 'snappy')
    await toParquet(
      row('I', 3, 'Cy', '2021-10-06', '555-0100'),
      join(dir, '20211017-000000002.parquet'),
      'snappy',
    )
    const source = new LocalStorage(dir)
    const target = new MemoryStorage()
    const undeclared = await rejection(run(source, target, BEFORE))
    expect(undeclared.code).toBe('new_column')
    expect(undeclared.message).toContain('add {"name": "phone", "type": "<its type>", "added": true}')
    await run(source, target, AFTER)
    expect(await mirrored(target)).toBe(
      'user_id,name,city,last_login,phone\n1,Alice,Austin,2021-10-01,\n2,Bobby,Austin,2021-10-05,\n3,Cy,Austin,2021-10-06,555-0100\n',
    )
  })

  it('is declared after the other columns, never in the key, and nullable', () => {
    const spec =
      (columns: unknown[], primaryKey = 'user_id') =>
      () =>
        parseTableSpec({ name: 't', columns, primaryKey })
    expect(
      spec([
        { name: 'user_id', type: 'int32' },
        { name: 'a', type: 'string', added: true },
        { name: 'b', type: 'string' },
      ]),
    ).toThrow(/b follows the added column a but is not added/)
    expect(spec([{ name: 'user_id', type: 'int32', added: true }])).toThrow(
      /primaryKey column user_id is declared added/,
    )
    expect(
      spec([
        { name: 'user_id', type: 'int32' },
        { name: 'a', type: 'string', added: true, nullable: false },
      ]),
    ).toThrow(/is added and not nullable/)
  })
})
