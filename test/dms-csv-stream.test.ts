/**
 * A DMS CSV file parsed while it is read (etl/read-dms-file.ts): the reader is handed the file piece by piece, each
 * up to a line feed that may lie inside a quoted field, and must give exactly the result, dictionary codes and
 * errors of one parse of the whole file. The local adapter's piece reads, including a file that grows while it
 * is read, and the fingerprint of what was read.
 */

import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { DmsCsvReader, parseDmsCsv } from '../etl/dms/csv.js'
import type { DmsFile } from '../etl/dms/files.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { csvLayout } from '../etl/dms/layout.js'
import { LakesyncError } from '../etl/errors.js'
import { readDmsFile } from '../etl/read-dms-file.js'
import { LocalStorage } from '../etl/storage/local.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import type { DmsFormat, ParsedFile } from '../etl/types.js'
import { document, enc, formats, plain, rowsArb } from './helpers/dms-csv-documents.js'

const LF = 10
const temps: string[] = []
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true })
})

/** A parse's result (with the dictionaries' entries and codes, not only the values) or its error. */
function outcome(parse: () => ParsedFile): unknown {
  try {
    const p = parse()
    return {
      ok: plain(p),
      dicts: p.rows.columns.map((c) =>
        c.type === 'dict' ? { codes: [...c.codes.subarray(0, p.rows.length)], size: c.size } : c.type,
      ),
    }
  } catch (e) {
    if (!(e instanceof LakesyncError)) throw e
    return { error: { code: e.code, message: e.message, location: e.location } }
  }
}

/** The reader fed up to each of `ends` (line feeds, in order) as more of the file arrives, then to its end. */
function inPieces(
  bytes: Uint8Array,
  ends: number[],
  kind: 'load' | 'change',
  format: DmsFormat,
  dictionary: boolean,
): ParsedFile {
  const reader = new DmsCsvReader('f.csv', USERS_SPEC, csvLayout(USERS_SPEC, format, kind), format, {
    dictionary,
    sizeHint: bytes.length,
  })
  for (const end of ends) {
    // The file so far, in a buffer of its own: nothing past `end` may be read.
    const arrived = bytes.slice(0, end)
    if (end > reader.position) reader.read(arrived, end, false)
  }
  reader.read(bytes, bytes.length, true)
  return reader.finish().parsed
}

/** Every line feed's next byte, a random subset of them. */
function lineEnds(bytes: Uint8Array, pick: number[]): number[] {
  const all: number[] = []
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === LF) all.push(i + 1)
  return [...new Set(pick.map((p) => all[p % Math.max(1, all.length)]!).filter((x) => x !== undefined))].sort(
    (a, b) => a - b,
  )
}

describe('parsing a file piece by piece as it arrives', () => {
  const damage = fc.constantFrom(
    ...['"', '""', ',', '\n', '\r', 'X', '2021-02-30', '"\n'].map(enc),
    Uint8Array.of(0xff),
  )

  it('gives the whole-file parse: values, dictionary codes and errors, on valid and damaged CSV', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('load' as const, 'change' as const),
        rowsArb,
        formats,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.option(fc.tuple(fc.nat(), damage), { nil: undefined }),
        fc.boolean(),
        (kind, rows, f, pick, damaged, dictionary) => {
          let { bytes, format } = document(kind, rows, f)
          if (damaged !== undefined) {
            const p = bytes.length === 0 ? 0 : damaged[0] % bytes.length
            bytes = Buffer.concat([bytes.subarray(0, p), damaged[1], bytes.subarray(p)])
          }
          const layout = csvLayout(USERS_SPEC, format, kind)
          const whole = outcome(() => parseDmsCsv(bytes, 'f.csv', USERS_SPEC, layout, format, { dictionary }))
          const ends = lineEnds(bytes, pick)
          expect(outcome(() => inPieces(bytes, ends, kind, format, dictionary))).toEqual(whole)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('waits for the rest of a row whose quoted field spans the piece end, and reads its lines right', () => {
    const text = '1,"two\nline name",Paris,2021-01-01\n2,b,"Multi\r\nCity",\n3,c,d,2021-01-02\n'
    const bytes = enc(text)
    const ends = lineEnds(bytes, [0, 1, 2, 3, 4])
    expect(ends.length).toBe(5)
    const p = inPieces(bytes, ends, 'load', DEFAULT_DMS_FORMAT, true)
    expect([...p.lines]).toEqual([1, 3, 5])
    expect(plain(p)).toEqual(
      plain(
        parseDmsCsv(
          bytes,
          'f.csv',
          USERS_SPEC,
          csvLayout(USERS_SPEC, DEFAULT_DMS_FORMAT, 'load'),
          DEFAULT_DMS_FORMAT,
        ),
      ),
    )
  })

  it('reports a quoted field that never closes at the end of the file, not at a piece end', () => {
    const bytes = enc('1,a,b,2021-01-01\n2,"open\n3,c,d,\n')
    const ends = lineEnds(bytes, [0, 1, 2])
    expect(() => inPieces(bytes, ends, 'load', DEFAULT_DMS_FORMAT, true)).toThrow(
      expect.objectContaining({
        code: 'unterminated_quote',
        location: { file: 'f.csv', line: 2, column: 2 },
      }),
    )
  })
})

describe('readDmsFile on a local folder, in small pieces', () => {
  const file = (name: string, kind: 'load' | 'change'): DmsFile => ({
    path: name,
    name,
    kind,
    gzip: false,
    format: 'csv',
    part: kind === 'load' ? 1 : 0,
    timestamp: kind === 'load' ? '' : '20211017194324349',
  })

  it('parses and fingerprints the file as one read would, whatever the piece size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lakesync-stream-'))
    temps.push(dir)
    const rows: string[] = []
    for (let i = 0; i < 5000; i++)
      rows.push(
        `${i},${i % 17 === 0 ? `"Name, ""${i % 50}"""` : `n${i % 300}`},"c${i % 40}\nx",2021-01-${String((i % 28) + 1).padStart(2, '0')}\n`,
      )
    const bytes = enc(rows.join(''))
    await writeFile(join(dir, 'LOAD00000001.csv'), bytes)
    const format = DEFAULT_DMS_FORMAT
    const layout = csvLayout(USERS_SPEC, format, 'load')
    const expected = outcome(() =>
      parseDmsCsv(bytes, join(dir, 'LOAD00000001.csv'), USERS_SPEC, layout, format, { dictionary: true }),
    )
    for (const piece of [61, 4096, 1 << 20]) {
      const got = await readDmsFile(
        new LocalStorage(dir, piece),
        file('LOAD00000001.csv', 'load'),
        USERS_SPEC,
        format,
      )
      expect(got.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
      expect(Buffer.from(got.raw).equals(Buffer.from(bytes))).toBe(true)
      expect(outcome(() => got.parsed)).toEqual(expected)
    }
  })

  it('fails on a bad row late in a file read in pieces with the whole-file error (file, line, column)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lakesync-stream-'))
    temps.push(dir)
    const rows: string[] = []
    for (let i = 0; i < 5000; i++) rows.push(`${i},"n${i % 300}\nx",c${i % 40},2021-01-0${(i % 9) + 1}\n`)
    rows[4321] = '4321,n,c,2021-02-30\n' // not a calendar date, ~86% into the file
    const bytes = enc(rows.join(''))
    const path = join(dir, 'LOAD00000001.csv')
    await writeFile(path, bytes)
    const format = DEFAULT_DMS_FORMAT
    const whole = outcome(() =>
      parseDmsCsv(bytes, path, USERS_SPEC, csvLayout(USERS_SPEC, format, 'load'), format, {
        dictionary: true,
      }),
    )
    expect(whole).toMatchObject({
      error: { code: 'bad_date', location: { file: path, line: 8643, column: 4 } },
    })
    for (const piece of [61, 4096]) {
      const read = readDmsFile(
        new LocalStorage(dir, piece),
        file('LOAD00000001.csv', 'load'),
        USERS_SPEC,
        format,
      )
      await expect(read).rejects.toThrow(LakesyncError)
      const error = await read.catch((e: LakesyncError) => ({
        error: { code: e.code, message: e.message, location: e.location },
      }))
      expect(error).toEqual(whole)
    }
  })

  it('reads a file as it was when opened, as readFile does, when it grows meanwhile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lakesync-stream-'))
    temps.push(dir)
    const path = join(dir, 'grows')
    await writeFile(path, 'a'.repeat(100))
    const ends: number[] = []
    const whole = await new LocalStorage(dir, 16).readPieces('grows', (_b, end) => {
      if (ends.length === 0) appendFileSync(path, 'b'.repeat(50)) // done before the next piece is handed over
      ends.push(end)
    })
    expect(Buffer.from(whole).toString()).toBe('a'.repeat(100))
    expect(ends).toEqual([16, 32, 48, 64, 80, 96, 100])
  })
})
