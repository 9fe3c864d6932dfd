/**
 * Building, copying and reading columns. Builders are the same shape as ColumnData with typed arrays longer than
 * the row count (capacity). String columns are append-only: row r's bytes end where row r + 1's begin, so a string
 * can only be written at the end of a column.
 */
import { Buffer } from 'node:buffer'
import type { BytesDictionary } from './bytes-dictionary.js'
import { StateError } from './errors.js'
import type { ColumnData, ColumnSpec, DictColumn, StringColumn, StringValues, Table } from './types.js'
import { NULL_DATE } from './types.js'

/** A growable column: the same shape as ColumnData, its typed arrays longer than the row count (capacity). */
export type ColumnBuilder = ColumnData

/** Offsets are int32: one string column of a table holds at most 2 GiB of text. */
const MAX_STRING_BYTES = 0x7fffffff
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
  switch (col.type) {
    case 'int32':
      return { type: 'int32', values: new Int32Array(capacity), valid: new Uint8Array(capacity) }
    case 'date':
      return { type: 'date', values: new Int32Array(capacity).fill(NULL_DATE) }
    case 'double':
      return { type: 'double', values: new Float64Array(capacity) }
    case 'string':
      return newStringColumn(capacity)
  }
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
      const values = new Float64Array(cap)
      values.set(c.values)
      c.values = values
      continue
    }
    const values = new Int32Array(cap)
    values.set(c.values)
    if (c.type === 'date') values.fill(NULL_DATE, c.values.length)
    else {
      const valid = new Uint8Array(cap)
      valid.set(c.valid)
      c.valid = valid
    }
    c.values = values
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

/** Compares rows a and b of a string column by their UTF-8 bytes (both present). */
export function compareStringRows(c: StringColumn, a: number, b: number): number {
  const { bytes, offsets } = c
  let i = offsets[a]!
  let j = offsets[b]!
  const ie = offsets[a + 1]!
  const je = offsets[b + 1]!
  for (; i < ie && j < je; i++, j++) if (bytes[i] !== bytes[j]) return bytes[i]! - bytes[j]!
  return ie - i - (je - j)
}

/**
 * Appends row `from` of `src` as row `to` of `dst` (same spec); `to` must be dst's next row and have capacity.
 * A dictionary column of `dst` takes the value's code from `lookup(c)` (its entries, grown as needed).
 */
export function appendRow(
  src: ColumnData[],
  from: number,
  dst: ColumnData[],
  to: number,
  lookup: (column: number) => BytesDictionary,
): void {
  for (let c = 0; c < src.length; c++) {
    const s = src[c]!
    const d = dst[c]!
    if (s.type === 'dict') throw new Error('appendRow: change rows are never dictionary-encoded') // parsed files
    if (d.type === 'dict') {
      const st = s as StringColumn
      if (st.valid[from] !== 1) d.codes[to] = -1
      else {
        const dict = lookup(c)
        d.codes[to] = dict.codeOf(st.bytes, st.offsets[from]!, st.offsets[from + 1]!)
        d.entries = dict.values
        d.size = dict.size
      }
      continue
    }
    if (s.type === 'string') {
      const present = s.valid[from] === 1
      appendString(d as StringColumn, to, present ? s.bytes : null, s.offsets[from]!, s.offsets[from + 1]!)
    } else {
      ;(d as { values: Int32Array | Float64Array }).values[to] = s.values[from]!
      if (s.type === 'int32') (d as { valid: Uint8Array }).valid[to] = s.valid[from]!
    }
  }
}

/**
 * Where each source row goes when `order` is shuffled (the features' sort): source row -> output position, -1 for
 * rows not taken. Null when the order is mostly ascending (the merge's live rows) or lists a row twice; then
 * columns are gathered. Shuffled orders are scattered instead: the source is read in order and each value written
 * to its place, because random reads stall on memory where random writes do not (measured on the bench machine at
 * 10M rows: int32 gathered 523 ms, scattered 92 ms plus 85 ms once for the placement; names 3x faster).
 */
export function placementOf(order: ArrayLike<number>, length: number): Int32Array | null {
  let descents = 0
  let rows = 0
  for (let i = 0; i < length; i++) {
    const r = order[i]!
    if (i > 0 && r < order[i - 1]!) descents++
    if (r >= rows) rows = r + 1
  }
  if (descents <= length >>> 4) return null
  const place = new Int32Array(rows).fill(-1)
  for (let i = 0; i < length; i++) {
    const r = order[i]!
    if (place[r] !== -1) return null
    place[r] = i
  }
  return place
}

/** The placement of a permutation of 0..length-1 (the caller guarantees it is one): its inverse, in one pass. */
export function inversePermutation(order: Int32Array, length: number): Int32Array {
  const place = new Int32Array(length)
  for (let i = 0; i < length; i++) place[order[i]!] = i
  return place
}

function tooLarge(): never {
  throw new StateError('too_large', 'a string column passed 2 GiB of text; route this table to Spark (Glue)')
}

/** Length of the run of consecutive rows order[i], order[i] + 1, ... starting at position i. */
function runLength(order: ArrayLike<number>, i: number, length: number): number {
  let j = i + 1
  while (j < length && order[j] === order[j - 1]! + 1) j++
  return j - i
}

/**
 * Gathers in runs: the merge's live rows are long runs of consecutive rows (a change every ~100 rows), each
 * copied with one set() instead of byte by byte (at 10M rows: ~0.4 s to ~0.2 s per column).
 */
function gatherStrings(c: StringColumn, order: ArrayLike<number>, length: number): StringColumn {
  const { bytes, offsets, valid } = c
  let size = 0
  for (let i = 0; i < length; i++) {
    const r = order[i]!
    size += offsets[r + 1]! - offsets[r]!
  }
  if (size > MAX_STRING_BYTES) tooLarge()
  const out = newStringColumn(length, size)
  const ob = out.bytes
  const oo = out.offsets
  const ov = out.valid
  let o = 0
  for (let i = 0; i < length; ) {
    const r0 = order[i]!
    const run = runLength(order, i, length)
    const s = offsets[r0]!
    const e = offsets[r0 + run]!
    if (e - s < 64) for (let k = s; k < e; k++) ob[o + k - s] = bytes[k]!
    else ob.set(bytes.subarray(s, e), o)
    const shift = o - s
    for (let k = 0; k < run; k++) {
      oo[i + k + 1] = offsets[r0 + k + 1]! + shift
      ov[i + k] = valid[r0 + k]!
    }
    o += e - s
    i += run
  }
  return out
}

function scatterStrings(c: StringColumn, place: Int32Array, length: number): StringColumn {
  const { bytes, offsets, valid } = c
  const rows = place.length
  const out = newStringColumn(length, 0)
  const oo = out.offsets
  const ov = out.valid
  for (let r = 0; r < rows; r++) {
    const i = place[r]!
    if (i < 0) continue
    oo[i + 1] = offsets[r + 1]! - offsets[r]!
    ov[i] = valid[r]!
  }
  let total = 0
  for (let i = 0; i < length; i++) {
    total += oo[i + 1]!
    if (total > MAX_STRING_BYTES) tooLarge()
    oo[i + 1] = total
  }
  const ob = new Uint8Array(total)
  out.bytes = ob
  for (let r = 0; r < rows; r++) {
    const i = place[r]!
    if (i < 0) continue
    let o = oo[i]!
    const e = offsets[r + 1]!
    for (let k = offsets[r]!; k < e; k++) ob[o++] = bytes[k]!
  }
  return out
}

// One function per array type, each with its arrays in locals: a single function switching on the column type
// kept the loads polymorphic inside the loops and took ~3x longer (bench profile, 1M rows).
function take64(src: Float64Array, order: ArrayLike<number>, length: number): Float64Array {
  const out = new Float64Array(length)
  for (let i = 0; i < length; i++) out[i] = src[order[i]!]!
  return out
}

export function take32(src: Int32Array, order: ArrayLike<number>, length: number): Int32Array {
  const out = new Int32Array(length)
  for (let i = 0; i < length; i++) out[i] = src[order[i]!]!
  return out
}

function take8(src: Uint8Array, order: ArrayLike<number>, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = src[order[i]!]!
  return out
}

function scatter64(src: Float64Array, place: Int32Array, length: number): Float64Array {
  const out = new Float64Array(length)
  for (let r = 0; r < place.length; r++) if (place[r]! >= 0) out[place[r]!] = src[r]!
  return out
}

export function scatter32(src: Int32Array, place: Int32Array, length: number): Int32Array {
  const out = new Int32Array(length)
  for (let r = 0; r < place.length; r++) if (place[r]! >= 0) out[place[r]!] = src[r]!
  return out
}

function scatter8(src: Uint8Array, place: Int32Array, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let r = 0; r < place.length; r++) if (place[r]! >= 0) out[place[r]!] = src[r]!
  return out
}

/** The rows of one column moved to their places (see placementOf). */
export function scatterColumn(c: ColumnData, place: Int32Array, length: number): ColumnData {
  switch (c.type) {
    case 'string':
      return scatterStrings(c, place, length)
    case 'dict':
      return { ...c, codes: scatter32(c.codes, place, length) }
    case 'double':
      return { type: 'double', values: scatter64(c.values, place, length) }
    case 'date':
      return { type: 'date', values: scatter32(c.values, place, length) }
    case 'int32':
      return {
        type: 'int32',
        values: scatter32(c.values, place, length),
        valid: scatter8(c.valid, place, length),
      }
  }
}

/** Gathers one column's rows listed in `order`, in that order. */
export function takeColumn(c: ColumnData, order: ArrayLike<number>, length = order.length): ColumnData {
  const place = placementOf(order, length)
  return place ? scatterColumn(c, place, length) : gatherColumn(c, order, length)
}

function gatherColumn(c: ColumnData, order: ArrayLike<number>, length: number): ColumnData {
  switch (c.type) {
    case 'string':
      return gatherStrings(c, order, length)
    case 'dict':
      return { ...c, codes: take32(c.codes, order, length) }
    case 'double':
      return { type: 'double', values: take64(c.values, order, length) }
    case 'date':
      return { type: 'date', values: take32(c.values, order, length) }
    case 'int32':
      return { type: 'int32', values: take32(c.values, order, length), valid: take8(c.valid, order, length) }
  }
}

/** A new table holding the rows of `src` listed in `order`, in that order. */
export function takeRows(src: Table, order: ArrayLike<number>, length = order.length): Table {
  const place = placementOf(order, length)
  return {
    spec: src.spec,
    length,
    columns: src.columns.map((c) =>
      place ? scatterColumn(c, place, length) : gatherColumn(c, order, length),
    ),
  }
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
