/**
 * Building, copying and reading columns. Builders are the same shape as ColumnData with typed arrays longer than
 * the row count (capacity). String columns are append-only: row r's bytes end where row r + 1's begin, so a string
 * can only be written at the end of a column.
 */
import { Buffer } from 'node:buffer'
import { StateError } from '../errors.js'
import type { ColumnData, ColumnSpec, DictColumn, StringColumn, StringValues } from '../types.js'
import { NULL_DATE } from '../types.js'
import { emptyColumnData } from './column-types.js'

/** A growable column: the same shape as ColumnData, its typed arrays longer than the row count (capacity). */
export type ColumnBuilder = ColumnData

/** Offsets are int32: one string column of a table holds at most 2 GiB of text. */
export const MAX_STRING_BYTES = 0x7fffffff

/** The error for a string column past MAX_STRING_BYTES. */
export function tooLarge(): never {
  throw new StateError('too_large', 'a string column passed 2 GiB of text; route this table to Spark (Glue)')
}
const encoder = new TextEncoder()

export function newStringColumn(capacity: number, byteCapacity = capacity * 8): StringColumn {
  return {
    type: 'string',
    bytes: new Uint8Array(Math.max(byteCapacity, 64)),
    offsets: new Int32Array(capacity + 1),
    valid: new Uint8Array(capacity),
  }
}

export function newColumn(col: ColumnSpec, capacity: number): ColumnBuilder {
  const c = emptyColumnData(col, capacity)
  return c.type === 'string' ? newStringColumn(capacity) : c
}

/** A typed array of the same kind, `cap` long, holding `src`'s values. */
function grownArray<T extends Int32Array | Float64Array | BigInt64Array | Uint8Array>(
  src: T,
  cap: number,
): T {
  const out = new (src.constructor as new (n: number) => T)(cap)
  out.set(src as never)
  return out
}

/** Makes room for at least `needed` rows in every column, doubling so appends stay amortised O(1). */
export function ensureCapacity(columns: ColumnBuilder[], needed: number): void {
  for (const c of columns) {
    if (c.type === 'string') {
      if (c.valid.length >= needed) continue
      const cap = Math.max(needed, c.valid.length * 2, 1024)
      const offsets = new Int32Array(cap + 1)
      offsets.set(c.offsets)
      const valid = new Uint8Array(cap)
      valid.set(c.valid)
      c.offsets = offsets
      c.valid = valid
      continue
    }
    if (c.type === 'dict') {
      if (c.codes.length >= needed) continue
      const codes = new Int32Array(Math.max(needed, c.codes.length * 2, 1024))
      codes.set(c.codes)
      c.codes = codes
      continue
    }
    if (c.values.length >= needed) continue
    const cap = Math.max(needed, c.values.length * 2, 1024)
    if (c.type === 'double') {
      c.values = grownArray(c.values, cap)
      continue
    }
    if (c.type === 'date') {
      const values = grownArray(c.values, cap)
      values.fill(NULL_DATE, c.values.length)
      c.values = values
      continue
    }
    c.valid = grownArray(c.valid, cap)
    if (c.type === 'int32') c.values = grownArray(c.values, cap)
    else if (c.type === 'int64') c.values = grownArray(c.values, cap)
    else if (c.type === 'float64') c.values = grownArray(c.values, cap)
    else c.values = grownArray(c.values, cap)
  }
}

/** Makes room for `more` bytes after byte `used` of a string column. */
export function ensureBytes(c: StringColumn, used: number, more: number): void {
  const needed = used + more
  if (needed <= c.bytes.length) return
  if (needed > MAX_STRING_BYTES)
    throw new StateError(
      'too_large',
      'a string column passed 2 GiB of text; route this table to Spark (Glue)',
    )
  const grown = new Uint8Array(Math.min(MAX_STRING_BYTES, Math.max(needed, c.bytes.length * 2)))
  grown.set(c.bytes.subarray(0, used))
  c.bytes = grown
}

/** Appends bytes [s, e) of `src` as row `row` (the column's next row; capacity must be there), or NULL if src is null. */
export function appendString(
  c: StringColumn,
  row: number,
  src: Uint8Array | null,
  s = 0,
  e = src?.length ?? 0,
): void {
  const at = c.offsets[row]!
  if (src === null) {
    c.offsets[row + 1] = at
    c.valid[row] = 0
    return
  }
  const len = e - s
  ensureBytes(c, at, len)
  if (len < 32) {
    // A loop beats set(subarray) for short strings (names, cities): no view object per value.
    const b = c.bytes
    for (let i = 0; i < len; i++) b[at + i] = src[s + i]!
  } else c.bytes.set(src.subarray(s, e), at)
  c.offsets[row + 1] = at + len
  c.valid[row] = 1
}

/** Row `row` of a string column as a JS string, or null. For the slow paths: errors, exports, the report. */
export function stringAt(c: StringColumn, row: number): string | null {
  if (c.valid[row] !== 1) return null
  return Buffer.from(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength).toString(
    'utf8',
    c.offsets[row]!,
    c.offsets[row + 1]!,
  )
}

/** Whether row `row` of a column is NULL, whatever its storage. */
export function isNullAt(c: ColumnData, row: number): boolean {
  switch (c.type) {
    case 'dict':
      return c.codes[row]! < 0
    case 'date':
      return c.values[row] === NULL_DATE
    case 'double':
      return false
    default:
      return c.valid[row] !== 1
  }
}

/** Row `row` of a dictionary column as a JS string, or null. */
export function dictAt(c: DictColumn, row: number): string | null {
  const code = c.codes[row]!
  return code < 0 ? null : stringAt(c.entries, code)
}

/** A string column from JS strings (other libraries' output, tests). */
export function stringColumnFrom(values: StringValues): StringColumn {
  let size = 0
  for (const v of values) if (v !== null && v !== undefined) size += v.length * 3
  const c = newStringColumn(values.length, size)
  let o = 0
  values.forEach((v, i) => {
    if (v !== null && v !== undefined) {
      o += encoder.encodeInto(v, c.bytes.subarray(o)).written
      c.valid[i] = 1
    }
    c.offsets[i + 1] = o
  })
  return c
}

/** The values of a string column as JS strings (tests, small tables). */
export function stringValues(c: StringColumn, length: number): StringValues {
  const out: StringValues = new Array(length)
  for (let i = 0; i < length; i++) out[i] = stringAt(c, i)
  return out
}

/** Compares row a of string column `ca` with row b of `cb` by their UTF-8 bytes (both present). */
export function compareStringsAt(ca: StringColumn, a: number, cb: StringColumn, b: number): number {
  let i = ca.offsets[a]!
  let j = cb.offsets[b]!
  const ie = ca.offsets[a + 1]!
  const je = cb.offsets[b + 1]!
  for (; i < ie && j < je; i++, j++) if (ca.bytes[i] !== cb.bytes[j]) return ca.bytes[i]! - cb.bytes[j]!
  return ie - i - (je - j)
}

/** Appends a JS string (or NULL) as row `row`, the column's next row. */
export function appendText(c: StringColumn, row: number, text: string | null): void {
  if (text === null) {
    appendString(c, row, null)
    return
  }
  const at = c.offsets[row]!
  ensureBytes(c, at, text.length * 3)
  const written = encoder.encodeInto(text, c.bytes.subarray(at)).written
  c.offsets[row + 1] = at + written
  c.valid[row] = 1
}
