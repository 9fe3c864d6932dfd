/**
 * The resumable DMS CSV reader (DmsCsvReader, etl/dms/csv.ts): handed a file piece by piece, each up to a line feed
 * that may lie inside a quoted field, it must give exactly the result, dictionary codes and errors of one parse of
 * the whole file.
 */
import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DmsCsvReader, parseDmsCsv } from '../etl/dms/csv.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { csvLayout } from '../etl/dms/layout.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import type { DmsFormat, ParsedFile } from '../etl/types.js'
import { enc } from './helpers/bytes.js'
import { document, formats, outcome, parsedWithCodes, plain, rowsArb } from './helpers/dms-csv-documents.js'

const LF = 10

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
          const whole = outcome(
            () => parseDmsCsv(bytes, 'f.csv', USERS_SPEC, layout, format, { dictionary }),
            parsedWithCodes,
          )
          const ends = lineEnds(bytes, pick)
          expect(outcome(() => inPieces(bytes, ends, kind, format, dictionary), parsedWithCodes)).toEqual(
            whole,
          )
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
