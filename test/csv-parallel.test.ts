/**
 * The parallel CSV parse (etl/threads/csv-parallel.ts) against the serial parser: the same ParsedFile, and the same error
 * (class, code, message, file, line, column) wherever the bad row falls, with pieces parsed by worker threads or,
 * with LAKESYNC_WORKERS=0, in the calling thread. Pieces are cut small (minPieceBytes: 1) so the tests stay fast.
 */
import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { parseDmsCsv } from '../etl/dms/csv.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { csvLayout } from '../etl/dms/layout.js'
import { type ErrorCode, LakesyncError } from '../etl/errors.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import { parseDmsCsvParallel, rowCuts } from '../etl/threads/csv-parallel.js'
import { liveWorkers } from '../etl/threads/worker-pool.js'
import { resetPoolForTest } from '../etl/threads/worker-pool-testing.js'
import type { DmsFormat } from '../etl/types.js'
import { enc } from './helpers/bytes.js'
import {
  document,
  formats,
  type Outcome,
  outcome,
  outcomeAsync,
  plain,
  rowsArb,
} from './helpers/dms-csv-documents.js'

function serial(bytes: Uint8Array, kind: 'load' | 'change', format: DmsFormat): Outcome {
  const layout = csvLayout(USERS_SPEC, format, kind)
  return outcome(() => parseDmsCsv(bytes, 'f.csv', USERS_SPEC, layout, format), plain)
}

function parallel(bytes: Uint8Array, kind: 'load' | 'change', format: DmsFormat, pieces: number) {
  const layout = csvLayout(USERS_SPEC, format, kind)
  return outcomeAsync(
    () => parseDmsCsvParallel(bytes, 'f.csv', USERS_SPEC, layout, format, { pieces, minPieceBytes: 1 }),
    plain,
  )
}

afterEach(async () => {
  delete process.env.LAKESYNC_WORKERS
  await resetPoolForTest()
})
afterAll(async () => {
  await resetPoolForTest()
})

describe('rowCuts', () => {
  it('cuts only after line feeds outside quoted fields', () => {
    const b = enc('1,"a\nb",c,\n2,"x""\n""y",z,\n3,q,r,\n')
    for (let k = 2; k <= 8; k++) {
      const cuts = rowCuts(b, k)
      expect(cuts[0]).toBe(0)
      expect(cuts.at(-1)).toBe(b.length)
      for (const c of cuts.slice(1, -1)) expect([11, 26]).toContain(c)
    }
  })

  it('keeps an unterminated quoted field and everything after it in one piece', () => {
    expect(rowCuts(enc('1,a,b,\n1,a,b,\n1,a,b,\n2,"open\n3,a,b,\n4,a,b,\n'), 4)).toEqual([0, 14, 43])
  })
})

describe('parallel parse equals serial parse', () => {
  it('on random valid DMS CSV (quoted fields with line breaks and doubled quotes, CRLF, NULLs, non-ASCII)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('load' as const, 'change' as const),
        rowsArb,
        formats,
        fc.integer({ min: 2, max: 7 }),
        async (kind, rows, f, pieces) => {
          const { bytes, format } = document(kind, rows, f)
          const want = serial(bytes, kind, format)
          expect('ok' in want).toBe(true)
          expect(await parallel(bytes, kind, format, pieces)).toEqual(want)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('on random damaged CSV: the same rows or the same first error', async () => {
    const token = fc.constantFrom(
      ...[
        '1',
        '-7',
        'a',
        'é',
        '"',
        '""',
        ',',
        '\n',
        '\r\n',
        '\r',
        'I',
        'U',
        'D',
        'X',
        '2021-01-01',
        '2021-02-30',
      ].map(enc),
      Uint8Array.of(0xff),
      Uint8Array.of(0xc3),
    )
    const damage = fc.array(token, { minLength: 1, maxLength: 4 })
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('load' as const, 'change' as const),
        rowsArb,
        formats,
        fc.array(fc.tuple(fc.nat(), damage), { maxLength: 3 }),
        fc.integer({ min: 2, max: 7 }),
        async (kind, rows, f, damages, pieces) => {
          const { bytes, format } = document(kind, rows, f)
          let b = Buffer.from(bytes)
          for (const [at, tokens] of damages) {
            const p = b.length === 0 ? 0 : at % b.length
            b = Buffer.concat([b.subarray(0, p), ...tokens, b.subarray(p)])
          }
          expect(await parallel(b, kind, format, pieces)).toEqual(serial(b, kind, format))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('joins in place (rows of 32 bytes and more) and by growing the columns (shorter rows)', async () => {
    const format = DEFAULT_DMS_FORMAT
    const long = Array.from(
      { length: 3000 },
      (_, i) => `${i},"A fairly long name, ${i}",Nashville,2021-01-01\n`,
    )
    const short = Array.from({ length: 3000 }, (_, i) => `${i},${i % 2 ? '' : 'é'},,\n`)
    for (const rows of [long, short]) {
      const bytes = enc(rows.join(''))
      for (const pieces of [2, 3, 5])
        expect(await parallel(bytes, 'load', format, pieces)).toEqual(serial(bytes, 'load', format))
    }
  })

  it('with LAKESYNC_WORKERS=0: pieces are parsed in the calling thread, same result, no worker started', async () => {
    process.env.LAKESYNC_WORKERS = '0'
    await resetPoolForTest()
    const { bytes, format } = document(
      'change',
      Array.from({ length: 50 }, (_, i) => ({
        r: { id: i, name: `n"${i}\n`, city: i % 3 ? 'Zürich' : null, date: '2021-01-01', quote: i % 2 === 0 },
        op: 'IUD'[i % 3]!,
        eol: i % 2 ? '\n' : '\r\n',
      })),
      { addColumnName: true, timestamp: false, bom: true, finalNewline: true },
    )
    expect(await parallel(bytes, 'change', format, 5)).toEqual(serial(bytes, 'change', format))
    expect(liveWorkers()).toBe(0)
  })
})

describe('errors in a later piece', () => {
  const good = (i: number) => `U,${i},"Name ""${i}""\nsecond line",Austin,2021-01-01\r\n`
  const header = 'Op,user_id,name,city,last_login\n'
  /** 200 good rows (two physical lines each), the bad text at line 401, then (`after`) 20 more good rows. */
  const fileWith = (bad: string | Uint8Array, after = true) =>
    Buffer.concat([
      enc(Array.from({ length: 200 }, (_, i) => good(i)).join('')),
      typeof bad === 'string' ? enc(bad) : bad,
      enc(after ? Array.from({ length: 20 }, (_, i) => good(1000 + i)).join('') : ''),
    ])
  const withWorkers = async <T>(workers: boolean, fn: () => Promise<T>): Promise<T> => {
    if (!workers) process.env.LAKESYNC_WORKERS = '0'
    await resetPoolForTest()
    return fn()
  }

  const timestamp: Partial<DmsFormat> = { timestampColumnName: 'ts', orderChangesBy: 'timestamp' }
  const cases: [ErrorCode, string | Uint8Array, Partial<DmsFormat>, boolean?][] = [
    ['unknown_op', 'X,1,A,B,2021-01-01\n', {}],
    ['field_count', 'U,1,A,B,2021-01-01,extra\n', {}],
    ['field_count', 'U,1,A\n', {}],
    ['bad_int', 'U,12x,A,B,2021-01-01\n', {}],
    ['bad_date', 'U,1,A,B,2021-02-30\n', {}],
    ['null_key', 'U,,A,B,2021-01-01\n', {}],
    ['unterminated_quote', 'U,1,"A\nB,C,2021-01-01\n', {}, false],
    ['bad_quote', 'U,1,"A"x,B,2021-01-01\n', {}],
    ['bad_quote', 'U,1,A"x,B,2021-01-01\n', {}],
    ['blank_line', '\n', {}],
    ['blank_line', '\r\n', {}, false],
    ['invalid_utf8', Buffer.concat([enc('U,1,"A'), Uint8Array.of(0xff), enc('",B,2021-01-01\n')]), {}],
    ['bad_line_end', 'U,1,A,B,2021-01-01\rU,2,A,B,2021-01-01\n', {}],
    ['bad_sequence', 'U,,1,A,B,2021-01-01\n', timestamp],
  ]
  for (const [code, bad, fmt, after] of cases)
    for (const workers of [true, false])
      it(`${code}: ${JSON.stringify(typeof bad === 'string' ? bad : Buffer.from(bad).toString('latin1'))}${workers ? '' : ' (LAKESYNC_WORKERS=0)'}`, async () => {
        const format = { ...DEFAULT_DMS_FORMAT, ...fmt }
        let bytes: Uint8Array = fileWith(bad, after ?? true)
        if (fmt === timestamp) {
          // every good row gets its timestamp column after Op
          const s = Buffer.from(bytes)
            .toString('latin1')
            .replace(/^U,(\d+),/gm, (_, id) => `U,2021-10-17 ${id},${id},`)
          bytes = Buffer.from(s, 'latin1')
        }
        const want = serial(bytes, 'change', format)
        expect(want).toMatchObject({ error: { code, location: { file: 'f.csv', line: 401 } } })
        const cuts = rowCuts(bytes, 4)
        expect(cuts.length).toBe(5)
        expect(cuts[3]).toBeLessThan(bytes.length * 0.9) // row 200 of 220 is in the last piece
        expect(await withWorkers(workers, () => parallel(bytes, 'change', format, 4))).toEqual(want)
      })

  it('bad_header: in the first piece, as in the serial parse', async () => {
    const format = { ...DEFAULT_DMS_FORMAT, addColumnName: true }
    const bytes = enc(
      `Op,id,name,city,last_login\n${Array.from({ length: 100 }, (_, i) => good(i)).join('')}`,
    )
    const want = serial(bytes, 'change', format)
    expect('error' in want && want.error.code).toBe('bad_header')
    expect(await parallel(bytes, 'change', format, 4)).toEqual(want)
  })

  for (const workers of [true, false])
    it(`the earlier piece's error wins, whichever piece fails first in time${workers ? '' : ' (LAKESYNC_WORKERS=0)'}`, async () => {
      // Without workers, pieces 1.. are parsed before piece 0 (in the order they are handed out), so the later
      // piece fails first in time; with a worker, piece 3 may finish while piece 0 still parses.
      const rows = Array.from({ length: 400 }, (_, i) => good(i))
      rows[350] = 'U,1,A,B,2021-13-01\n'
      rows[10] = 'U,1,A,B,bad\n'
      const bytes = enc(header + rows.join(''))
      const format = { ...DEFAULT_DMS_FORMAT, addColumnName: true }
      const want = serial(bytes, 'change', format)
      expect(want).toMatchObject({ error: { code: 'bad_date', location: { line: 22, column: 5 } } })
      expect(await withWorkers(workers, () => parallel(bytes, 'change', format, 4))).toEqual(want)
      // Both bad rows in pieces handed out: the earlier piece's.
      rows[10] = good(10)
      rows[150] = 'U,1,A,B,bad\n'
      const both = enc(header + rows.join(''))
      const want2 = serial(both, 'change', format)
      expect(want2).toMatchObject({ error: { code: 'bad_date', location: { line: 302, column: 5 } } })
      expect(await parallel(both, 'change', format, 4)).toEqual(want2)
    })

  it('errors from workers are the engine error classes', async () => {
    const bytes = fileWith('U,1,A,B,2021-02-30\n')
    const format = DEFAULT_DMS_FORMAT
    const layout = csvLayout(USERS_SPEC, format, 'change')
    const e = await parseDmsCsvParallel(bytes, 'dir/f.csv', USERS_SPEC, layout, format, {
      pieces: 4,
      minPieceBytes: 1,
    }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(LakesyncError)
    expect((e as Error).name).toBe('InputError')
    expect((e as LakesyncError).location).toEqual({ file: 'dir/f.csv', line: 401, column: 5 })
    expect((e as Error).message).toMatch(/ in dir\/f\.csv line 401 column 5$/)
  })
})

describe('dictionary columns from the parallel parse', () => {
  const format = DEFAULT_DMS_FORMAT
  const layout = csvLayout(USERS_SPEC, format, 'load')
  const parse = (text: string) =>
    parseDmsCsvParallel(enc(text), 'f.csv', USERS_SPEC, layout, format, { pieces: 3, minPieceBytes: 1 })

  it('join repeated values as codes, and fall back to strings where one piece could not encode', async () => {
    let text = ''
    // Cities repeat everywhere; names repeat in the first two thirds and are unique in the last.
    for (let i = 0; i < 600; i++)
      text += `${i},${i < 400 ? `n${i % 3}` : `unique${i}`},c${i % 4},2021-01-01\n`
    const p = await parse(text)
    expect(p.rows.columns[2]!.type).toBe('dict')
    expect(p.rows.columns[1]!.type).toBe('string')
    expect(plain(p)).toEqual(plain(parseDmsCsv(enc(text), 'f.csv', USERS_SPEC, layout, format)))
  })
})
