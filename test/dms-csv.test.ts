/** The DMS CSV reader (etl/dms/csv.ts): DmsFormat settings and RFC 4180 corner cases the golden fixtures miss. */
import { describe, expect, it } from 'vitest'
import { parseDmsCsv } from '../etl/dms/csv.js'
import { DEFAULT_DMS_FORMAT, parseDmsFormat } from '../etl/dms/format.js'
import { csvLayout } from '../etl/dms/layout.js'
import { LakesyncError } from '../etl/errors.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import type { DmsFormat, ParsedFile } from '../etl/types.js'
import { enc } from './helpers/bytes.js'
import { tableRows } from './helpers/tables.js'

function parse(text: string, kind: 'load' | 'change', format: Partial<DmsFormat> = {}): ParsedFile {
  const f = { ...DEFAULT_DMS_FORMAT, ...format }
  return parseDmsCsv(enc(text), 'f.csv', USERS_SPEC, csvLayout(USERS_SPEC, f, kind), f)
}

const rows = (p: ParsedFile) => tableRows(p.rows)

function error(fn: () => unknown): LakesyncError {
  try {
    fn()
  } catch (e) {
    if (e instanceof LakesyncError) return e
    throw e
  }
  throw new Error('expected an error')
}

describe('DmsFormat settings', () => {
  it('reads a header row when addColumnName is set and rejects a header that does not match', () => {
    const p = parse('Op,user_id,name,city,last_login\nI,1,A,B,2021-01-01\n', 'change', {
      addColumnName: true,
    })
    expect(rows(p)).toEqual([['1', 'A', 'B', '2021-01-01']])
    const e = error(() => parse('Op,id,name,city,last_login\n', 'change', { addColumnName: true }))
    expect(e.code).toBe('bad_header')
    expect(e.message).toContain('expected Op,user_id,name,city,last_login')
  })

  it('skips the timestamp column after Op or last, as configured', () => {
    const afterOp = parse('U,2021-10-17 19:43:24.349,1,A,B,2021-01-01\n', 'change', {
      timestampColumnName: 'ts',
    })
    expect(rows(afterOp)).toEqual([['1', 'A', 'B', '2021-01-01']])
    const last = parse('U,1,A,B,2021-01-01,2021-10-17 19:43:24\n', 'change', {
      timestampColumnName: 'ts',
      timestampColumnPosition: 'last',
    })
    expect(rows(last)).toEqual([['1', 'A', 'B', '2021-01-01']])
  })

  it('reads an Op column in LOAD files with includeOpForFullLoad, accepting only I', () => {
    expect(rows(parse('I,1,A,B,2021-01-01\n', 'load', { includeOpForFullLoad: true }))).toEqual([
      ['1', 'A', 'B', '2021-01-01'],
    ])
    const e = error(() => parse('U,1,A,B,2021-01-01\n', 'load', { includeOpForFullLoad: true }))
    expect(e.code).toBe('unknown_op')
    expect(e.message).toContain('expected I in a full-load file')
  })

  it('uses csvDelimiter and csvNullValue (then an empty unquoted field is the empty string)', () => {
    const p = parse('1;NULL;;NULL\n', 'load', { csvDelimiter: ';', csvNullValue: 'NULL' })
    expect(rows(p)).toEqual([['1', null, '', null]])
    expect(() => parseDmsFormat({ csvDelimiter: '"' })).toThrow(/csvDelimiter/)
    expect(() => parseDmsFormat({ csvNullValue: 'a,b' })).toThrow(/csvNullValue/)
  })
})

describe('RFC 4180 corner cases', () => {
  it('keeps CR and LF inside quoted fields and counts physical lines for later errors', () => {
    const e = error(() => parse('1,"a\r\nb\nc",X,2021-01-01\n2,B,C,bad\n', 'load'))
    expect(e.code).toBe('bad_date')
    expect(e.location).toEqual({ file: 'f.csv', line: 4, column: 4 })
  })

  it('rejects a bare CR line end instead of reading the file as one row', () => {
    expect(error(() => parse('1,A,B,2021-01-01\r2,A,B,2021-01-01\r', 'load')).code).toBe('bad_line_end')
  })

  it('rejects a trailing blank line', () => {
    const e = error(() => parse('1,A,B,2021-01-01\n\n', 'load'))
    expect(e.code).toBe('blank_line')
    expect(e.location?.line).toBe(2)
  })

  it('reads a final field after a trailing delimiter at end of file as NULL', () => {
    expect(rows(parse('1,A,B,', 'load'))).toEqual([['1', 'A', 'B', null]])
  })

  it('accepts int32 extremes and leading zeros, rejects everything else', () => {
    expect(rows(parse('-2147483648,A,B,\n007,A,B,\n', 'load')).map((r) => r[0])).toEqual(['-2147483648', '7'])
    for (const bad of ['2147483648', '1e3', '-', '0x10', '1 ', '１']) {
      expect(error(() => parse(`${bad},A,B,\n`, 'load')).code).toBe('bad_int')
    }
  })

  it('accepts only real calendar dates', () => {
    expect(rows(parse('1,A,B,2024-02-29\n2,A,B,0001-01-01\n', 'load')).map((r) => r[3])).toEqual([
      '2024-02-29',
      '0001-01-01',
    ])
    for (const bad of [
      '2023-02-29',
      '2021-04-31',
      '2021-00-10',
      '21-01-01',
      '2021-01-01T00:00',
      '2021/01/01',
    ]) {
      expect(error(() => parse(`1,A,B,${bad}\n`, 'load')).code).toBe('bad_date')
    }
  })
})
