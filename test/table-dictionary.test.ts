/**
 * Dictionary columns (etl/table/dictionary.ts). The reader's `dictionary` option codes repetitive string columns
 * while it reads them; its result must be exactly what coding them afterwards gives (dictionaryEncodeColumns): the
 * same column types, the same codes in order of first sight and the same entries, and the same errors. And the
 * normal form a merged dictionary column is put in.
 */
import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseDmsCsv } from '../etl/dms/csv.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { csvLayout } from '../etl/dms/layout.js'
import { stringColumnFrom } from '../etl/table/columns.js'
import { dictionaryEncodeColumns, MAX_DICTIONARY, normalForm } from '../etl/table/dictionary.js'
import { keyColumns, USERS_SPEC } from '../etl/table/spec.js'
import type { ColumnData, DictColumn, DmsFormat, Table } from '../etl/types.js'
import { enc } from './helpers/bytes.js'
import { document, formats, type Outcome, outcome, rowsArb } from './helpers/dms-csv-documents.js'

const hex = (b: Uint8Array, s: number, e: number) => Buffer.from(b.subarray(s, e)).toString('hex')

/** A column exactly, capacity left out: a dictionary column's codes and entries, a string column's values. */
function exact(c: ColumnData, n: number): unknown {
  switch (c.type) {
    case 'dict': {
      const { bytes, offsets } = c.entries
      return {
        type: 'dict',
        codes: [...c.codes.subarray(0, n)],
        entries: Array.from({ length: c.size }, (_, i) => hex(bytes, offsets[i]!, offsets[i + 1]!)),
      }
    }
    case 'string':
      return {
        type: 'string',
        values: Array.from({ length: n }, (_, r) =>
          c.valid[r] === 1 ? hex(c.bytes, c.offsets[r]!, c.offsets[r + 1]!) : null,
        ),
      }
    case 'int32':
      return {
        type: 'int32',
        values: Array.from({ length: n }, (_, r) => (c.valid[r] === 1 ? c.values[r] : null)),
      }
    default:
      return { type: c.type, values: [...c.values.subarray(0, n)] }
  }
}

const exactTable = (t: Table) => t.columns.map((c) => exact(c, t.length))

/** Coded while read, and coded afterwards. */
function both(bytes: Uint8Array, kind: 'load' | 'change', format: DmsFormat): [Outcome, Outcome] {
  const layout = csvLayout(USERS_SPEC, format, kind)
  const read = (dictionary: boolean) =>
    parseDmsCsv(bytes, 'f.csv', USERS_SPEC, layout, format, { dictionary })
  return [
    outcome(() => read(true).rows, exactTable),
    outcome(() => dictionaryEncodeColumns(read(false).rows, keyColumns(USERS_SPEC)), exactTable),
  ]
}

describe('dictionary coding while reading equals coding afterwards', () => {
  it('on random valid DMS CSV (escaped quotes, NULLs, D rows, non-ASCII, headers)', () => {
    fc.assert(
      fc.property(fc.constantFrom('load' as const, 'change' as const), rowsArb, formats, (kind, rows, f) => {
        const { bytes, format } = document(kind, rows, f)
        const [coded, after] = both(bytes, kind, format)
        expect('ok' in coded).toBe(true)
        expect(coded).toEqual(after)
      }),
      { numRuns: 300 },
    )
  })

  it('on random damaged CSV: the same error', () => {
    const token = fc.constantFrom(
      ...['"', '""', ',', '\n', '\r', 'X', '2021-02-30'].map(enc),
      Uint8Array.of(0xff),
    )
    fc.assert(
      fc.property(
        fc.constantFrom('load' as const, 'change' as const),
        rowsArb,
        formats,
        fc.nat(),
        token,
        (kind, rows, f, at, t) => {
          const { bytes, format } = document(kind, rows, f)
          const p = bytes.length === 0 ? 0 : at % bytes.length
          const damaged = Buffer.concat([bytes.subarray(0, p), t, bytes.subarray(p)])
          const [coded, after] = both(damaged, kind, format)
          expect(coded).toEqual(after)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('keeps a column as text when it has more distinct values than half its present rows', () => {
    const format = DEFAULT_DMS_FORMAT
    // 40 present names: the limit is 20 distinct values. 20 codes; 21 stays text.
    for (const distinct of [20, 21]) {
      let text = ''
      for (let i = 0; i < 44; i++) text += `${i},${i % 11 === 0 ? '' : `n${i % distinct}`},c,2021-01-01\n`
      const [coded, after] = both(enc(text), 'load', format)
      expect(coded).toEqual(after)
      const types = (coded as { ok: { type: string }[] }).ok.map((c) => c.type)
      expect(types).toEqual(['int32', distinct === 20 ? 'dict' : 'string', 'dict', 'date'])
    }
  })

  it('turns a column into text mid-file once it passes MAX_DICTIONARY distinct values', () => {
    const n = MAX_DICTIONARY * 2 + 50
    const rows: string[] = []
    // Repeated names first (coded), then one new name per row until the dictionary is full, escaped quotes too.
    for (let i = 0; i < n; i++)
      rows.push(`${i},${i < 1000 ? `r${i % 7}` : i % 5 === 0 ? `"q""${i}"` : `u${i}`},c${i % 3},\n`)
    const [coded, after] = both(enc(rows.join('')), 'load', DEFAULT_DMS_FORMAT)
    expect(coded).toEqual(after)
    const types = (coded as { ok: { type: string }[] }).ok.map((c) => c.type)
    expect(types).toEqual(['int32', 'string', 'dict', 'date'])
  })
})

describe('dictionary normal form', () => {
  const dict = (entries: string[], codes: number[]): DictColumn => ({
    type: 'dict',
    codes: Int32Array.from([...codes, 0, 0]), // capacity beyond the rows
    entries: stringColumnFrom(entries),
    size: entries.length,
  })
  const values = (c: ColumnData, n: number) => exact(c, n)

  it('orders entries by first use and drops those no row uses; the values stay', () => {
    // History: "old" was deleted, "b" was read before "a" but a's row sorts first.
    const c = dict(['b', 'old', 'a'], [2, -1, 0, 2, 0])
    const d = normalForm(c, 5)
    expect(values(d, 5)).toEqual({
      type: 'dict',
      codes: [0, -1, 1, 0, 1],
      entries: [hex(enc('a'), 0, 1), hex(enc('b'), 0, 1)],
    })
    expect(normalForm(d, 5)).toBe(d) // already in normal form: returned as is
  })

  it('gives the same table whatever the history, and text again once the values stop repeating', () => {
    const spec = { ...USERS_SPEC, columns: [USERS_SPEC.columns[0]!, USERS_SPEC.columns[2]!] }
    const ids = {
      type: 'int32' as const,
      values: Int32Array.from([1, 2, 3, 4]),
      valid: Uint8Array.of(1, 1, 1, 1),
    }
    const norm = (c: ColumnData) =>
      exactTable(dictionaryEncodeColumns({ spec, length: 4, columns: [ids, c] }, [0]))
    const fromText = norm(stringColumnFrom(['x', 'y', 'x', null]))
    expect(norm(dict(['gone', 'y', 'x'], [2, 1, 2, -1]))).toEqual(fromText)
    expect(norm(dict(['x', 'y'], [0, 1, 0, -1]))).toEqual(fromText)
    // 40 present rows: at most 20 distinct values keep a dictionary.
    const many = Array.from({ length: 40 }, (_, i) => `v${i % 21}`)
    const ids40 = { type: 'int32' as const, values: new Int32Array(40), valid: new Uint8Array(40).fill(1) }
    const t = dictionaryEncodeColumns(
      {
        spec,
        length: 40,
        columns: [
          ids40,
          dict(
            [...new Set(many), 'dead'],
            many.map((v) => Number(v.slice(1))),
          ),
        ],
      },
      [0],
    )
    expect(t.columns[1]!.type).toBe('string')
  })
})
