/**
 * Moving rows by an order. The features step scatters the users into feature order: shuffled, so each value is
 * written to its place (inversePermutation, scatterColumn) rather than read from it, because random reads stall on
 * memory where random writes do not (docs/performance.md item 4). The merge gathers its live rows, mostly ascending,
 * from its base and its tail (takeFrom2), copying runs of consecutive rows at once.
 */

import type { ColumnData, StringColumn } from '../types.js'
import { appendString, MAX_STRING_BYTES, newStringColumn, tooLarge } from './columns.js'
import type { BytesDictionary } from './dictionary.js'

/** The placement of a permutation of 0..length-1 (the caller guarantees it is one): its inverse, in one pass. */
export function inversePermutation(order: Int32Array, length: number): Int32Array {
  const place = new Int32Array(length)
  for (let i = 0; i < length; i++) place[order[i]!] = i
  return place
}

/** Length of the run of consecutive rows order[i], order[i] + 1, ... starting at position i. */
function runLength(order: ArrayLike<number>, i: number, length: number): number {
  let j = i + 1
  while (j < length && order[j] === order[j - 1]! + 1) j++
  return j - i
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
// keeps the loads polymorphic inside the loops.
function scatter64(src: Float64Array, place: Int32Array, length: number): Float64Array {
  const out = new Float64Array(length)
  for (let r = 0; r < place.length; r++) if (place[r]! >= 0) out[place[r]!] = src[r]!
  return out
}

function scatter32(src: Int32Array, place: Int32Array, length: number): Int32Array {
  const out = new Int32Array(length)
  for (let r = 0; r < place.length; r++) if (place[r]! >= 0) out[place[r]!] = src[r]!
  return out
}

function scatter8(src: Uint8Array, place: Int32Array, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let r = 0; r < place.length; r++) if (place[r]! >= 0) out[place[r]!] = src[r]!
  return out
}

function scatterBig(src: BigInt64Array, place: Int32Array, length: number): BigInt64Array {
  const out = new BigInt64Array(length)
  for (let r = 0; r < place.length; r++) if (place[r]! >= 0) out[place[r]!] = src[r]!
  return out
}

/** The rows of one column moved to their places: `place[r]` is row r's position (inversePermutation). */
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
    case 'int64':
      return {
        type: 'int64',
        values: scatterBig(c.values, place, length),
        valid: scatter8(c.valid, place, length),
      }
    case 'float64':
      return {
        type: 'float64',
        values: scatter64(c.values, place, length),
        valid: scatter8(c.valid, place, length),
      }
    case 'bool':
      return {
        type: 'bool',
        values: scatter8(c.values, place, length),
        valid: scatter8(c.valid, place, length),
      }
  }
}

/** The rows `order` of typed array `a` (rows below n) and `b` (rows from n on) as one. */
function gather2<T extends Int32Array | Float64Array | BigInt64Array | Uint8Array>(
  a: T,
  n: number,
  b: T,
  order: Int32Array,
): T {
  const out = new (a.constructor as new (len: number) => T)(order.length)
  for (let i = 0; i < order.length; i++) {
    const r = order[i]!
    out[i] = r < n ? a[r]! : b[r - n]!
  }
  return out
}

/**
 * The rows `order` of two columns seen as one: rows below `n` are rows of `a`, rows from `n` on rows of `b` (the
 * merge's base and its appended tail, kept apart so the base is never copied to grow). Orders are mostly
 * ascending there: a gather.
 */
export function takeFrom2(a: ColumnData, n: number, b: ColumnData, order: Int32Array): ColumnData {
  const length = order.length
  if (a.type === 'string' && b.type === 'string') return gatherStrings2(a, n, b, order)
  if ((a.type === 'int32' && b.type === 'int32') || (a.type === 'date' && b.type === 'date')) {
    const values = new Int32Array(length)
    const av = a.values
    const bv = b.values
    for (let i = 0; i < length; i++) {
      const r = order[i]!
      values[i] = r < n ? av[r]! : bv[r - n]!
    }
    if (a.type === 'date') return { type: 'date', values }
    const valid = new Uint8Array(length)
    const aa = (a as { valid: Uint8Array }).valid
    const ba = (b as { valid: Uint8Array }).valid
    for (let i = 0; i < length; i++) {
      const r = order[i]!
      valid[i] = r < n ? aa[r]! : ba[r - n]!
    }
    return { type: 'int32', values, valid }
  }
  if (a.type === 'double' && b.type === 'double') {
    const values = new Float64Array(length)
    for (let i = 0; i < length; i++) {
      const r = order[i]!
      values[i] = r < n ? a.values[r]! : b.values[r - n]!
    }
    return { type: 'double', values }
  }
  if (a.type === 'int64' && b.type === 'int64')
    return {
      type: 'int64',
      values: gather2(a.values, n, b.values, order),
      valid: gather2(a.valid, n, b.valid, order),
    }
  if (a.type === 'float64' && b.type === 'float64')
    return {
      type: 'float64',
      values: gather2(a.values, n, b.values, order),
      valid: gather2(a.valid, n, b.valid, order),
    }
  if (a.type === 'bool' && b.type === 'bool')
    return {
      type: 'bool',
      values: gather2(a.values, n, b.values, order),
      valid: gather2(a.valid, n, b.valid, order),
    }
  throw new Error(`takeFrom2: a ${a.type} column and a ${b.type} column`) // the merge's tail mirrors its base
}

/**
 * gatherStrings over two columns, in runs: the merge's live rows are long runs of consecutive rows (a change every
 * ~100 rows), each copied with one set() instead of byte by byte.
 */
function gatherStrings2(a: StringColumn, n: number, b: StringColumn, order: Int32Array): StringColumn {
  const length = order.length
  let size = 0
  for (let i = 0; i < length; i++) {
    const r = order[i]!
    const c = r < n ? a : b
    const k = r < n ? r : r - n
    size += c.offsets[k + 1]! - c.offsets[k]!
  }
  if (size > MAX_STRING_BYTES) tooLarge()
  const out = newStringColumn(length, size)
  const ob = out.bytes
  const oo = out.offsets
  const ov = out.valid
  let o = 0
  for (let i = 0; i < length; ) {
    const r0 = order[i]!
    const c = r0 < n ? a : b
    const k0 = r0 < n ? r0 : r0 - n
    // A run stays on one side of n (consecutive base rows, or consecutive tail rows).
    let run = runLength(order, i, length)
    if (r0 < n && r0 + run > n) run = n - r0
    const { bytes, offsets, valid } = c
    const s = offsets[k0]!
    const e = offsets[k0 + run]!
    if (e - s < 64) for (let x = s; x < e; x++) ob[o + x - s] = bytes[x]!
    else ob.set(bytes.subarray(s, e), o)
    const shift = o - s
    for (let x = 0; x < run; x++) {
      oo[i + x + 1] = offsets[k0 + x + 1]! + shift
      ov[i + x] = valid[k0 + x]!
    }
    o += e - s
    i += run
  }
  return out
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
    if (s.type === 'dict' || (s.type === 'string' && d.type === 'dict')) {
      // Text as bytes [start, end) of `bytes`, or NULL: a large change file comes back from the parallel reader
      // with dictionary columns too.
      let bytes: Uint8Array | null = null
      let start = 0
      let end = 0
      if (s.type === 'dict') {
        const code = s.codes[from]!
        if (code >= 0) {
          bytes = s.entries.bytes
          start = s.entries.offsets[code]!
          end = s.entries.offsets[code + 1]!
        }
      } else if (s.valid[from] === 1) {
        bytes = s.bytes
        start = s.offsets[from]!
        end = s.offsets[from + 1]!
      }
      if (d.type === 'dict') {
        if (bytes === null) d.codes[to] = -1
        else {
          const dict = lookup(c)
          d.codes[to] = dict.codeOf(bytes, start, end)
          d.entries = dict.values
          d.size = dict.size
        }
      } else appendString(d as StringColumn, to, bytes, start, end)
      continue
    }
    if (s.type === 'string') {
      const present = s.valid[from] === 1
      appendString(d as StringColumn, to, present ? s.bytes : null, s.offsets[from]!, s.offsets[from + 1]!)
    } else if (s.type === 'int64') {
      ;(d as { values: BigInt64Array }).values[to] = s.values[from]!
      ;(d as { valid: Uint8Array }).valid[to] = s.valid[from]!
    } else {
      ;(d as { values: Int32Array | Float64Array | Uint8Array }).values[to] = s.values[from]!
      if (s.type !== 'date' && s.type !== 'double') (d as { valid: Uint8Array }).valid[to] = s.valid[from]!
    }
  }
}
