/**
 * Column chunk encodings for the types beyond int32, date, double and text (etl/parquet/encode.ts has those):
 * INT64 (int64, time, timestamps, decimals p ≤ 18), FLOAT and DOUBLE with NULLs, BOOLEAN, and FIXED_LEN_BYTE_ARRAY
 * decimals. Dictionary pages where values repeat, min/max statistics in each type's order (floats skip NaN, as the
 * Parquet format's rules for float statistics say).
 */
import { dictionaryLimit } from '../table/dictionary.js'
import type { BoolColumn, Float64Column, Int32Column, Int64Column, StringColumn } from '../types.js'
import { E_PLAIN, E_RLE_DICTIONARY, type EncodedChunk } from './encode.js'
import { dictionaryIndices } from './rle.js'

/** Presence bytes of rows [start, end) (null when none is NULL) and the count of present rows. */
function presence(
  valid: Uint8Array,
  start: number,
  end: number,
): { present: Uint8Array | null; count: number } {
  let count = 0
  for (let i = start; i < end; i++) count += valid[i]!
  return { present: count === end - start ? null : valid.subarray(start, end), count }
}

/** Dictionary codes for `keys` (one per present value) when they repeat enough, else null. */
function codesOf<K>(
  keys: (i: number) => K,
  count: number,
  unique: boolean,
): { indices: Int32Array; first: number[] } | null {
  if (unique && count > 16) return null
  const limit = dictionaryLimit(count)
  const codes = new Map<K, number>()
  const indices = new Int32Array(count)
  const first: number[] = [] // the value index of each entry's first sight
  for (let i = 0; i < count; i++) {
    const k = keys(i)
    let c = codes.get(k)
    if (c === undefined) {
      if (codes.size >= limit) return null
      c = codes.size
      codes.set(k, c)
      first.push(i)
    }
    indices[i] = c
  }
  return { indices, first }
}

/** A chunk of fixed-width little-endian values `plain` (width bytes each, `count` of them). */
function fixedWidthChunk(
  plain: Uint8Array,
  width: number,
  count: number,
  present: Uint8Array | null,
  nulls: number,
  dict: { indices: Int32Array; first: number[] } | null,
  stats: { min: Uint8Array; max: Uint8Array } | null,
): EncodedChunk {
  const base = { present, nulls, ...(stats ?? {}) }
  if (!dict) return { values: plain, encoding: E_PLAIN, ...base }
  const entries = new Uint8Array(dict.first.length * width)
  dict.first.forEach((v, e) => entries.set(plain.subarray(v * width, (v + 1) * width), e * width))
  return {
    dictionary: { bytes: entries, count: dict.first.length },
    values: dictionaryIndices(dict.indices, count, dict.first.length),
    indices: dict.indices,
    encoding: E_RLE_DICTIONARY,
    ...base,
  }
}

/** INT64 values (int64, time, timestamps, decimals 10 ≤ p ≤ 18). */
export function encodeInt64(col: Int64Column, start: number, end: number, unique: boolean): EncodedChunk {
  const { present, count } = presence(col.valid, start, end)
  const out = new BigInt64Array(count)
  let min = 0n
  let max = 0n
  for (let i = start, o = 0; i < end; i++) {
    if (col.valid[i] !== 1) continue
    const v = col.values[i]!
    if (o === 0 || v < min) min = v
    if (o === 0 || v > max) max = v
    out[o++] = v
  }
  const stat = (x: bigint) => new Uint8Array(BigInt64Array.of(x).buffer)
  const plain = new Uint8Array(out.buffer)
  const dict = codesOf((i) => out[i]!, count, unique)
  return fixedWidthChunk(
    plain,
    8,
    count,
    present,
    end - start - count,
    dict,
    count > 0 ? { min: stat(min), max: stat(max) } : null,
  )
}

/** int64-stored decimals with p ≤ 9, written as INT32 (the values fit). */
export function narrowDecimals(col: Int64Column, start: number, end: number): Int32Column {
  const values = new Int32Array(end)
  for (let i = start; i < end; i++) values[i] = Number(col.values[i]!)
  return { type: 'int32', values, valid: col.valid }
}

/** FLOAT (float32) or DOUBLE values with NULLs. */
export function encodeFloats(col: Float64Column, start: number, end: number, single: boolean): EncodedChunk {
  const { present, count } = presence(col.valid, start, end)
  const out = single ? new Float32Array(count) : new Float64Array(count)
  let min = Number.NaN
  let max = Number.NaN
  for (let i = start, o = 0; i < end; i++) {
    if (col.valid[i] !== 1) continue
    const v = col.values[i]!
    out[o++] = v
    if (Number.isNaN(v)) continue
    if (Number.isNaN(min) || v < min) min = v
    if (Number.isNaN(max) || v > max) max = v
  }
  // The format's rules: a zero minimum is written -0 and a zero maximum +0, so readers never skip a zero.
  if (min === 0) min = -0
  if (max === 0) max = 0
  const width = single ? 4 : 8
  const stat = (x: number) => new Uint8Array((single ? Float32Array.of(x) : Float64Array.of(x)).buffer)
  const plain = new Uint8Array(out.buffer)
  // Keyed by bits: -0 and 0, and NaNs of other payloads, stay distinct values.
  const bits = single ? new Int32Array(out.buffer) : new BigInt64Array(out.buffer)
  const dict = codesOf((i) => bits[i]!, count, false)
  const stats = Number.isNaN(min) ? null : { min: stat(min), max: stat(max) }
  return fixedWidthChunk(plain, width, count, present, end - start - count, dict, stats)
}

/** BOOLEAN, PLAIN: one bit per present value, least significant first. */
export function encodeBooleans(col: BoolColumn, start: number, end: number): EncodedChunk {
  const { present, count } = presence(col.valid, start, end)
  const out = new Uint8Array(Math.ceil(count / 8))
  let any = 0
  let all = 1
  for (let i = start, o = 0; i < end; i++) {
    if (col.valid[i] !== 1) continue
    const v = col.values[i]!
    if (v) out[o >> 3]! |= 1 << (o & 7)
    any |= v
    all &= v
    o++
  }
  return {
    values: out,
    present,
    encoding: E_PLAIN,
    nulls: end - start - count,
    ...(count > 0 ? { min: Uint8Array.of(all), max: Uint8Array.of(any) } : {}),
  }
}

/** Signed comparison of two big-endian two's complement byte strings of one width. */
function compareSigned(a: Uint8Array, b: Uint8Array): number {
  const d = (a[0]! ^ 0x80) - (b[0]! ^ 0x80)
  if (d !== 0) return d
  for (let i = 1; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return 0
}

/** FIXED_LEN_BYTE_ARRAY decimals of `width` bytes from 16-byte stored values (the low `width` bytes). */
export function encodeWideDecimals(
  col: StringColumn,
  start: number,
  end: number,
  width: number,
  unique: boolean,
): EncodedChunk {
  const { present, count } = presence(col.valid, start, end)
  const plain = new Uint8Array(count * width)
  let min: Uint8Array | null = null
  let max: Uint8Array | null = null
  for (let i = start, o = 0; i < end; i++) {
    if (col.valid[i] !== 1) continue
    const e = col.offsets[i + 1]!
    plain.set(col.bytes.subarray(e - width, e), o * width)
    const v = plain.subarray(o * width, (o + 1) * width)
    if (min === null || compareSigned(v, min) < 0) min = v
    if (max === null || compareSigned(v, max) > 0) max = v
    o++
  }
  const key = (i: number) => Buffer.from(plain.buffer, plain.byteOffset + i * width, width).toString('latin1')
  const dict = codesOf(key, count, unique)
  const stats = min && max ? { min: min.slice(), max: max.slice() } : null
  return fixedWidthChunk(plain, width, count, present, end - start - count, dict, stats)
}
