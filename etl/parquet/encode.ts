/**
 * Column chunk encodings for the Parquet writer (etl/parquet/writer.ts): PLAIN values straight from the engine's typed
 * arrays, and dictionaries for strings, ints, dates and doubles that repeat (their indices: etl/parquet/rle.ts). Pure
 * functions from columns to page bytes.
 */
import { BytesDictionary, dictionaryLimit } from '../table/dictionary.js'
import type { ColumnData, DictColumn, StringColumn } from '../types.js'
import { NULL_DATE } from '../types.js'
import { dictionaryIndices } from './rle.js'
import { bytesStats } from './stats.js'

// Parquet encodings (parquet.thrift)
export const E_PLAIN = 0
export const E_RLE = 3
export const E_RLE_DICTIONARY = 8

/** PLAIN BYTE_ARRAY: 4-byte little-endian length, then the UTF-8 bytes, for each present row in [start, end). */
function plainStrings(c: StringColumn, start: number, end: number): Uint8Array {
  const { bytes, offsets, valid } = c
  let present = 0
  for (let i = start; i < end; i++) present += valid[i]!
  const out = new Uint8Array(present * 4 + offsets[end]! - offsets[start]!)
  let o = 0
  for (let i = start; i < end; i++) {
    if (valid[i] !== 1) continue
    const s = offsets[i]!
    const e = offsets[i + 1]!
    const n = e - s
    out[o] = n & 0xff
    out[o + 1] = (n >>> 8) & 0xff
    out[o + 2] = (n >>> 16) & 0xff
    out[o + 3] = n >>> 24
    o += 4
    if (n < 32) for (let k = s; k < e; k++) out[o++] = bytes[k]!
    else {
      out.set(bytes.subarray(s, e), o)
      o += n
    }
  }
  return out
}

export interface EncodedChunk {
  dictionary?: { bytes: Uint8Array; count: number } // PLAIN dictionary page values
  values: Uint8Array // page body after the definition levels
  indices?: Int32Array // dictionary chunks: each present value's code (to cut the chunk into pages)
  present: Uint8Array | null // presence byte per row, or null when no row is NULL
  encoding: number // of the values
  nulls: number
  min?: Uint8Array // statistics for numeric columns
  max?: Uint8Array
}

/** Presence bytes of a string chunk and its NULL count; `present` is null when nothing is NULL. */
function stringPresence(
  c: StringColumn,
  start: number,
  end: number,
): { present: Uint8Array | null; nulls: number } {
  let count = 0
  for (let i = start; i < end; i++) count += c.valid[i]!
  const nulls = end - start - count
  return { present: nulls === 0 ? null : c.valid.subarray(start, end), nulls }
}

/**
 * Strings get a dictionary when they repeat (dictionary columns are written with theirs, encodeDict); otherwise
 * one is built as the values are read, and given up as soon as it passes dictionaryLimit's entries (65,536 or half the rows), so a column of unique names costs only a short attempt before
 * it is written PLAIN.
 */
function encodeStrings(c: StringColumn, start: number, end: number): EncodedChunk {
  const n = end - start
  const { present, nulls } = stringPresence(c, start, end)
  const indices = new Int32Array(n - nulls)
  let count = 0
  const dict = new BytesDictionary(dictionaryLimit(n - nulls))
  const { bytes, offsets, valid } = c
  for (let i = start; i < end; i++) {
    if (valid[i] !== 1) continue
    const code = dict.codeOf(bytes, offsets[i]!, offsets[i + 1]!)
    if (code < 0) {
      const stats = bytesStats(bytes, offsets, (visit) => {
        for (let r = start; r < end; r++) if (valid[r] === 1) visit(r)
      })
      return { values: plainStrings(c, start, end), present, encoding: E_PLAIN, nulls, ...stats }
    }
    indices[count++] = code
  }
  return dictionaryChunk(dict.values, dict.size, indices, count, present, nulls)
}

function encodeDict(c: DictColumn, start: number, end: number): EncodedChunk {
  const { codes } = c
  let count = 0
  for (let i = start; i < end; i++) if (codes[i]! >= 0) count++
  const nulls = end - start - count
  let present: Uint8Array | null = null
  const indices = new Int32Array(count)
  if (nulls > 0) {
    present = new Uint8Array(end - start)
    for (let i = start, o = 0; i < end; i++)
      if (codes[i]! >= 0) {
        present[i - start] = 1
        indices[o++] = codes[i]!
      }
  } else indices.set(codes.subarray(start, end))
  return dictionaryChunk(c.entries, c.size, indices, count, present, nulls)
}

function dictionaryChunk(
  values: StringColumn,
  size: number,
  indices: Int32Array,
  count: number,
  present: Uint8Array | null,
  nulls: number,
): EncodedChunk {
  // Statistics over the entries this chunk uses (a merged dictionary may hold entries of other row groups).
  const used = new Uint8Array(size)
  for (let i = 0; i < count; i++) used[indices[i]!] = 1
  const stats = bytesStats(values.bytes, values.offsets, (visit) => {
    for (let e = 0; e < size; e++) if (used[e] === 1) visit(e)
  })
  return {
    dictionary: { bytes: plainStrings(values, 0, size), count: size },
    values: dictionaryIndices(indices, count, size),
    indices: indices.subarray(0, count),
    present,
    encoding: E_RLE_DICTIONARY,
    nulls,
    ...stats,
  }
}

/** NULL count and min/max of the present values. */
interface IntStats {
  nulls: number
  min: number
  max: number
}

// The int and date loops below are functions of their own, one per column kind: V8 optimizes each for the one
// kind it sees. Sharing one function, the loop of the kind met second deoptimized the code compiled for the first
// (`--trace-deopt` on a 1M run: encodeInts 5 times, int32Dictionary 4).

function dateStats(src: Int32Array, start: number, end: number): IntStats {
  let nulls = 0
  let min = 0x7fffffff
  let max = -0x80000000
  for (let i = start; i < end; i++) {
    const x = src[i]!
    if (x === NULL_DATE) nulls++
    else {
      if (x < min) min = x
      if (x > max) max = x
    }
  }
  return { nulls, min, max }
}

function intStats(src: Int32Array, valid: Uint8Array, start: number, end: number): IntStats {
  let nulls = 0
  let min = 0x7fffffff
  let max = -0x80000000
  for (let i = start; i < end; i++) {
    if (valid[i] !== 1) {
      nulls++
      continue
    }
    const x = src[i]!
    if (x < min) min = x
    if (x > max) max = x
  }
  return { nulls, min, max }
}

/** The `count` present dates of [start, end), packed, and a presence byte per row. */
function compactDates(src: Int32Array, start: number, end: number, count: number) {
  const out = new Int32Array(count)
  const present = new Uint8Array(end - start)
  for (let i = start, o = 0; i < end; i++)
    if (src[i] !== NULL_DATE) {
      present[i - start] = 1
      out[o++] = src[i]!
    }
  return { out, present }
}

/** The `count` present ints of [start, end), packed, and a presence byte per row. */
function compactInts(src: Int32Array, valid: Uint8Array, start: number, end: number, count: number) {
  const out = new Int32Array(count)
  const present = new Uint8Array(end - start)
  for (let i = start, o = 0; i < end; i++)
    if (valid[i] === 1) {
      present[i - start] = 1
      out[o++] = src[i]!
    }
  return { out, present }
}

/** INT32 and DATE: the non-NULL values as little-endian int32, with min/max statistics. */
function encodeInts(
  col: Extract<ColumnData, { type: 'int32' | 'date' }>,
  start: number,
  end: number,
  unique: boolean,
): EncodedChunk {
  const n = end - start
  const src = col.values
  // Statistics first, without writing: most columns have no NULL, and then the values are the column's own (a
  // view, not a copy) and no presence bytes are needed.
  const { nulls, min, max } =
    col.type === 'date' ? dateStats(src, start, end) : intStats(src, col.valid, start, end)
  const count = n - nulls
  let out = src.subarray(start, end)
  let present: Uint8Array | null = null
  if (nulls > 0)
    ({ out, present } =
      col.type === 'date'
        ? compactDates(src, start, end, count)
        : compactInts(src, col.valid, start, end, count))
  const stat = (x: number) => new Uint8Array(Int32Array.of(x).buffer)
  // Distinct values (the key) fit a dictionary only when there are at most 16 of them (dictionaryLimit): beyond,
  // the attempt is skipped rather than made and given up (a 4 MB index array per 1M keys, 65,536 hash inserts).
  const dict = unique && count > 16 ? null : int32Dictionary(out, count, min, max)
  return {
    ...(dict
      ? {
          dictionary: { bytes: new Uint8Array(dict.entries.buffer, 0, dict.size * 4), count: dict.size },
          values: dictionaryIndices(dict.indices, count, dict.size),
          indices: dict.indices.subarray(0, count),
          encoding: E_RLE_DICTIONARY,
        }
      : { values: new Uint8Array(out.buffer, out.byteOffset, count * 4), encoding: E_PLAIN }),
    present,
    nulls: n - count,
    ...(count > 0 ? { min: stat(min), max: stat(max) } : {}),
  }
}

interface NumberDictionary<T extends Int32Array | Float64Array> {
  entries: T // PLAIN values of the dictionary page (first `size`)
  size: number
  indices: Int32Array // code per value
}

/**
 * A dictionary for int32 values when they repeat (dates, the features' rank and users_by_city), else null: given up past dictionaryLimit entries (ids). Dictionary pages and RLE runs make those
 * columns a few bits per row, so Snappy has a fraction of the bytes to compress. Values within a range narrower
 * than half the rows (dates, ranks, counts) find their code in a table indexed by value - min; others by typed
 * open addressing; both give the same codes (docs/performance.md item 16).
 */
function int32Dictionary(
  values: Int32Array,
  count: number,
  min: number,
  max: number,
): NumberDictionary<Int32Array> | null {
  const limit = dictionaryLimit(count)
  return count > 0 && max - min < count >>> 1
    ? directDictionary(values, count, min, max, limit)
    : hashedDictionary(values, count, limit)
}

function directDictionary(
  values: Int32Array,
  count: number,
  min: number,
  max: number,
  limit: number,
): NumberDictionary<Int32Array> | null {
  const entries = new Int32Array(limit)
  const indices = new Int32Array(count)
  const codeOf = new Int32Array(max - min + 1).fill(-1)
  let size = 0
  for (let i = 0; i < count; i++) {
    const v = values[i]!
    let c = codeOf[v - min]!
    if (c < 0) {
      if (size === limit) return null
      c = size++
      codeOf[v - min] = c
      entries[c] = v
    }
    indices[i] = c
  }
  return { entries, size, indices }
}

function hashedDictionary(
  values: Int32Array,
  count: number,
  limit: number,
): NumberDictionary<Int32Array> | null {
  const entries = new Int32Array(limit)
  const indices = new Int32Array(count)
  let cap = 64
  while (cap < limit * 2) cap *= 2
  const keys = new Int32Array(cap)
  const codes = new Int32Array(cap).fill(-1)
  const mask = cap - 1
  let size = 0
  let prev = 0
  let prevCode = -1
  for (let i = 0; i < count; i++) {
    const v = values[i]!
    if (v === prev && prevCode >= 0) {
      indices[i] = prevCode
      continue
    }
    let slot = Math.imul(v, 0x9e3779b1) >>> 0
    for (slot &= mask; ; slot = (slot + 1) & mask) {
      const c = codes[slot]!
      if (c < 0) {
        if (size === limit) return null
        keys[slot] = v
        codes[slot] = size
        entries[size] = v
        prevCode = size++
        break
      }
      if (keys[slot] === v) {
        prevCode = c
        break
      }
    }
    prev = v
    indices[i] = prevCode
  }
  return { entries, size, indices }
}

/** A dictionary for doubles that repeat (the features' rate: one value per city), else null. */
function float64Dictionary(values: Float64Array, count: number): NumberDictionary<Float64Array> | null {
  const limit = dictionaryLimit(count)
  const codes = new Map<number, number>()
  const entries = new Float64Array(limit)
  const indices = new Int32Array(count)
  let prev = Number.NaN
  let prevCode = -1
  for (let i = 0; i < count; i++) {
    const v = values[i]!
    if (v === prev) {
      indices[i] = prevCode
      continue
    }
    // A Map cannot tell -0 from 0 (SameValueZero) and NaN never equals prev: leave such columns PLAIN.
    if (Number.isNaN(v) || Object.is(v, -0)) return null
    let c = codes.get(v)
    if (c === undefined) {
      if (codes.size === limit) return null
      c = codes.size
      codes.set(v, c)
      entries[c] = v
    }
    prev = v
    prevCode = c
    indices[i] = c
  }
  return { entries, size: codes.size, indices }
}

/** A column chunk's encoding; `unique`: its values are distinct (the table's key), which rules a dictionary out. */
export function encodeChunk(col: ColumnData, start: number, end: number, unique = false): EncodedChunk {
  switch (col.type) {
    case 'string':
      return encodeStrings(col, start, end)
    case 'dict':
      return encodeDict(col, start, end)
    case 'double': {
      const v = col.values.subarray(start, end)
      let min = Number.POSITIVE_INFINITY
      let max = Number.NEGATIVE_INFINITY
      for (let i = 0; i < v.length; i++) {
        if (v[i]! < min) min = v[i]!
        if (v[i]! > max) max = v[i]!
      }
      const stat = (x: number) => new Uint8Array(Float64Array.of(x).buffer)
      const dict = float64Dictionary(v, v.length)
      return {
        ...(dict
          ? {
              dictionary: { bytes: new Uint8Array(dict.entries.buffer, 0, dict.size * 8), count: dict.size },
              values: dictionaryIndices(dict.indices, v.length, dict.size),
              indices: dict.indices.subarray(0, v.length),
              encoding: E_RLE_DICTIONARY,
            }
          : { values: new Uint8Array(v.buffer, v.byteOffset, v.byteLength), encoding: E_PLAIN }),
        present: null,
        nulls: 0,
        ...(v.length > 0 ? { min: stat(min), max: stat(max) } : {}),
      }
    }
    case 'date':
    case 'int32':
      return encodeInts(col, start, end, unique)
    default:
      throw new Error(`encodeChunk: ${col.type} columns are encoded by etl/parquet/encode-typed.ts`)
  }
}
