/**
 * The DMS S3-target settings of issue 19 (docs/dms-format.md, Settings), each with files written as the AWS docs
 * describe them: CdcInsertsOnly / CdcInsertsAndUpdates (change rows without Op unless IncludeOpForFullLoad),
 * UseCsvNoSupValue + CsvNoSupValue (a U row's column not in the supplemental log keeps its value), Rfc4180=false
 * (fields verbatim between delimiters) and CsvRowDelimiter.
 */
import { describe, expect, it } from 'vitest'
import { readVersionTable } from '../etl/commit/load-version.js'
import { readCommitLog } from '../etl/commit/log.js'
import { parseDmsFormat } from '../etl/dms/format.js'
import { ConfigError } from '../etl/errors.js'
import { runPipeline } from '../etl/pipeline.js'
import { tableToCsv } from '../etl/report/csv-export.js'
import { parseTableSpec } from '../etl/table/spec.js'
import type { Table, TableSpec } from '../etl/types.js'
import { enc } from './helpers/bytes.js'
import { rejection, seedOptions } from './helpers/fixtures.js'
import { MemoryStorage } from './helpers/memory-storage.js'
import { python } from './helpers/spark.js'
import { tableRows } from './helpers/tables.js'

/** users without features, `last_login` NOT NULL so a kept value that came back NULL would stop the run. */
const SPEC: TableSpec = parseTableSpec({
  name: 'users',
  columns: [
    { name: 'user_id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'last_login', type: 'date', nullable: false },
  ],
  primaryKey: 'user_id',
})

/** A source folder of DMS files, from name and text. */
async function source(files: Record<string, string>): Promise<MemoryStorage> {
  const s = new MemoryStorage()
  for (const [name, text] of Object.entries(files)) await s.write(name, enc(text))
  return s
}

/** Runs the files with a format (config keys) into a new target; returns it. */
async function run(
  src: MemoryStorage,
  format: Record<string, unknown>,
  spec = SPEC,
  target = new MemoryStorage(),
): Promise<MemoryStorage> {
  await runPipeline(seedOptions(src, target, { spec, format: parseDmsFormat(format) }))
  return target
}

/** The current version of the table. */
async function current(target: MemoryStorage, spec = SPEC): Promise<Table> {
  const log = await readCommitLog(target, spec.name)
  return readVersionTable(target, log.current!, spec)
}

/** The current version of the table as CSV. */
const mirrored = async (target: MemoryStorage, spec = SPEC): Promise<string> =>
  tableToCsv(await current(target, spec))

const LOAD = '1,Alice,Austin,2021-10-01\n2,Bob,Boston,2021-10-02\n'
const HEADER = 'user_id,name,city,last_login\n'

describe('CdcInsertsOnly and CdcInsertsAndUpdates', () => {
  it('read change rows without Op (IncludeOpForFullLoad=false) as insert-or-replace by key', async () => {
    // [S3T] "If IncludeOpForFullLoad is set to false, every CDC record is written without a first field".
    const files = {
      'LOAD00000001.csv': LOAD,
      '20211017-000000001.csv': '2,Bobby,Boston,2021-10-05\n3,Cy,Chicago,2021-10-06\n',
    }
    for (const setting of ['cdcInsertsOnly', 'cdcInsertsAndUpdates']) {
      const target = await run(await source(files), { [setting]: true })
      expect(await mirrored(target)).toBe(
        `${HEADER}1,Alice,Austin,2021-10-01\n2,Bobby,Boston,2021-10-05\n3,Cy,Chicago,2021-10-06\n`,
      )
      const log = await readCommitLog(target, 'users')
      expect(log.current!.files.at(-1)!.counts).toMatchObject({ inserts: 1, replaces: 1, updates: 0 })
    }
  })

  it('read the Op field with IncludeOpForFullLoad=true, and refuse an Op the setting excludes', async () => {
    const load = 'I,1,Alice,Austin,2021-10-01\n'
    const onlyInserts = await source({
      'LOAD00000001.csv': load,
      '20211017-000000001.csv': 'I,2,Bob,Boston,2021-10-02\n',
    })
    const t = await run(onlyInserts, { cdcInsertsOnly: true, includeOpForFullLoad: true })
    expect(await mirrored(t)).toBe(`${HEADER}1,Alice,Austin,2021-10-01\n2,Bob,Boston,2021-10-02\n`)
    const upd = await source({
      'LOAD00000001.csv': load,
      '20211017-000000001.csv': 'U,1,Al,Austin,2021-10-03\n',
    })
    const u = await run(upd, { cdcInsertsAndUpdates: true, includeOpForFullLoad: true })
    expect(await mirrored(u)).toBe(`${HEADER}1,Al,Austin,2021-10-03\n`)
    const e = await rejection(run(upd, { cdcInsertsOnly: true, includeOpForFullLoad: true }))
    expect(e.code).toBe('unknown_op')
    expect(e.message).toContain('unknown Op "U" (expected I: format.cdcInsertsOnly)')
    expect(e.message).toContain('20211017-000000001.csv line 1 column 1')
    const del = await source({
      'LOAD00000001.csv': load,
      '20211017-000000001.csv': 'D,1,Al,Austin,2021-10-03\n',
    })
    const d = await rejection(run(del, { cdcInsertsAndUpdates: true, includeOpForFullLoad: true }))
    expect(d.message).toContain('unknown Op "D" (expected I or U: format.cdcInsertsAndUpdates)')
  })

  it('cannot both be true', () => {
    expect(() => parseDmsFormat({ cdcInsertsOnly: true, cdcInsertsAndUpdates: true })).toThrow(ConfigError)
  })
})

describe('UseCsvNoSupValue and CsvNoSupValue', () => {
  const nosup = { useCsvNoSupValue: true, csvNoSupValue: 'NOSUP' }

  it('a U row keeps the previous value of each column holding the NOSUP text', async () => {
    // The case: the name was stored as "NOSUP", and a NOSUP date stopped the run.
    const src = await source({
      'LOAD00000001.csv': LOAD,
      '20211017-000000001.csv': 'U,1,NOSUP,Houston,2021-10-05\nU,2,Bobby,NOSUP,NOSUP\n',
      // The previous value may come from a change applied in this run (Bobby) or the load (Austin's date).
      '20211017-000000002.csv': 'U,2,NOSUP,Dallas,NOSUP\nU,1,NOSUP,NOSUP,NOSUP\nI,3,Cy,Chicago,2021-10-06\n',
    })
    const target = await run(src, nosup)
    expect(await mirrored(target)).toBe(
      `${HEADER}1,Alice,Houston,2021-10-05\n2,Bobby,Dallas,2021-10-02\n3,Cy,Chicago,2021-10-06\n`,
    )
    // Without the setting the same text is a value: the name "NOSUP", then a bad date.
    const e = await rejection(run(src, {}))
    expect(e.message).toContain('bad date "NOSUP"')
  })

  it('keeps the value across runs, and a D row ignores NOSUP in its non-key columns', async () => {
    const first = await source({ 'LOAD00000001.csv': LOAD })
    const target = await run(first, nosup)
    await first.write('20211017-000000001.csv', enc('U,1,NOSUP,Houston,2021-10-05\nD,2,NOSUP,NOSUP,NOSUP\n'))
    await run(first, nosup, SPEC, target)
    expect(await mirrored(target)).toBe(`${HEADER}1,Alice,Houston,2021-10-05\n`)
  })

  it('keeps values of columns the full load stored as dictionary codes (repeated cities)', async () => {
    const rows = Array.from(
      { length: 200 },
      (_, i) => `${i + 1},N${i + 1},${i % 2 ? 'Austin' : 'Boston'},2021-10-01\n`,
    )
    const src = await source({
      'LOAD00000001.csv': rows.join(''),
      '20211017-000000001.csv': 'U,1,One,NOSUP,2021-10-05\nU,2,NOSUP,NOSUP,2021-10-06\nU,2,Two,NOSUP,NOSUP\n',
    })
    const table = tableRows(await current(await run(src, nosup)))
    expect(table.slice(0, 3)).toEqual([
      ['1', 'One', 'Boston', '2021-10-05'],
      ['2', 'Two', 'Austin', '2021-10-06'],
      ['3', 'N3', 'Boston', '2021-10-01'],
    ])
  })

  it('is an error in a key column, in an I row and in a U row of a key the table does not hold', async () => {
    const cases: [string, string][] = [
      ['U,NOSUP,Al,Austin,2021-10-05\n', 'in key column user_id'],
      ['I,5,NOSUP,Austin,2021-10-05\n', 'in an I row, column name'],
      ['U,1,Al,Austin,2021-10-05\nU,9,Al,NOSUP,2021-10-05\n', 'of a U row whose key is not in the table'],
    ]
    const columns = ['column 2', 'column 3', 'column 4']
    for (const [i, [text, what]] of cases.entries()) {
      const e = await rejection(
        run(await source({ 'LOAD00000001.csv': LOAD, '20211017-000000001.csv': text }), nosup),
      )
      expect(e.code).toBe('nosup_value')
      expect(e.message).toContain(what)
      expect(e.message).toContain(`20211017-000000001.csv line ${i === 2 ? 2 : 1} ${columns[i]}`)
    }
  })

  it('must differ from csvNullValue and hold no delimiter', () => {
    expect(() => parseDmsFormat({ ...nosup, csvNullValue: 'NOSUP' })).toThrow(/must differ from/)
    expect(() => parseDmsFormat({ ...nosup, csvNoSupValue: 'a,b' })).toThrow(/must not contain/)
  })
})

describe('Rfc4180 and CsvRowDelimiter', () => {
  it('Rfc4180=false takes each field verbatim between delimiters, quotes included', async () => {
    // [API-S3] "When this value is set to false ... string literals are copied to the target as is."
    const src = await source({
      'LOAD00000001.csv': '1,Al "Bo" Smith,Austin,2021-10-01\n2,"Bob",Boston,2021-10-02\n',
      '20211017-000000001.csv': 'U,1,"",Aus"tin,2021-10-03\n',
    })
    const target = await run(src, { rfc4180: false })
    const rows = tableRows(await current(target))
    expect(rows).toEqual([
      ['1', '""', 'Aus"tin', '2021-10-03'],
      ['2', '"Bob"', 'Boston', '2021-10-02'],
    ])
    // The default reads the same bytes as RFC 4180 and stops at the bare quote.
    expect((await rejection(run(src, {}))).code).toBe('bad_quote')
  })

  it('reads another one-character row delimiter, LF then being data, and refuses one it cannot read', async () => {
    const src = await source({
      'LOAD00000001.csv': '1,Alice,Austin,2021-10-01|2,Bob\nSmith,"Bos|ton",2021-10-02|',
      '20211017-000000001.csv': 'U,1,Al,Austin,2021-10-03|D,2,,,|',
    })
    const target = await run(src, { csvRowDelimiter: '|' })
    expect(await mirrored(target)).toBe(`${HEADER}1,Al,Austin,2021-10-03\n`)
    const load = await run(
      await source({ 'LOAD00000001.csv': '1,Alice,Austin,2021-10-01|2,Bob\nSmith,"Bos|ton",2021-10-02|' }),
      {
        csvRowDelimiter: '|',
      },
    )
    expect(await mirrored(load)).toBe(
      `${HEADER}1,Alice,Austin,2021-10-01\n2,"Bob\nSmith",Bos|ton,2021-10-02\n`,
    )
    const crlf = await run(await source({ 'LOAD00000001.csv': LOAD.replaceAll('\n', '\r\n') }), {
      csvRowDelimiter: '\r\n',
    })
    expect(await mirrored(crlf)).toBe(`${HEADER}${LOAD}`)
    for (const bad of ['ab', '\r', '"', ','])
      expect(() => parseDmsFormat({ csvRowDelimiter: bad })).toThrow(/csvRowDelimiter must be/)
  })
})

describe('the Spark engine (glue/lakesync_spark)', () => {
  it('reads cdcInsertsOnly, rfc4180=false, csvNoSupValue, another row delimiter and added columns, and refuses by name what it does not know', async () => {
    // Context is where a run's format and table meet (glue_entry.py and run_local.py build one from --config).
    const script = [
      'import json, sys',
      "sys.path.insert(0, 'glue')",
      'from lakesync_spark.job import Context',
      'from lakesync_spark.values import parse_table_spec',
      'for fmt, table in json.loads(sys.argv[1]):',
      '    try:',
      '        Context(None, None, 0, {}, {}, spec=table and parse_table_spec(table), fmt=fmt)',
      "        print('accepted')",
      '    except Exception as e:',
      '        print(e)',
    ].join('\n')
    const added = {
      name: 'users',
      columns: [
        { name: 'user_id', type: 'int32' },
        { name: 'phone', type: 'string', added: true },
      ],
      primaryKey: 'user_id',
    }
    const cases = [
      [{ cdcInsertsOnly: true, rfc4180: false }, null],
      [{ useCsvNoSupValue: true, csvNoSupValue: 'NOSUP' }, null],
      [{ csvRowDelimiter: '|' }, null],
      [{ someFutureSetting: true }, null],
      [{}, added],
      [{ csvRowDelimiter: ';', csvDelimiter: ';' }, null],
    ]
    const { stdout, code } = await python(['-c', script, JSON.stringify(cases)])
    expect(code).toBe(0)
    const lines = stdout.trim().split('\n')
    expect(lines[0]).toBe('accepted')
    expect(lines[1]).toBe('accepted') // test/spark-settings-cdc.test.ts: kept values equal to the TypeScript engine's
    expect(lines[2]).toBe('accepted')
    expect(lines[3]).toContain('unknown format setting "someFutureSetting"')
    expect(lines[4]).toBe('accepted')
    // A row delimiter that is also the column delimiter: the TypeScript engine's config error, word for word.
    expect(lines[5]).toContain('config: format.csvRowDelimiter must be ')
    expect(() => parseDmsFormat(cases[5]![0]!)).toThrow(lines[5])
  })
})
