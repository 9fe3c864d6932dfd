/**
 * Column chunk encodings for the Parquet writer (parquet-writer.ts): PLAIN values straight from the engine's typed
 * arrays, dictionaries for strings that repeat, and definition levels. Pure functions from columns to page bytes.
 */
import { Buffer } from 'node:buffer'
import { BytesDictionary, dictionaryLimit } from './bytes-dictionary.js'
import { ThriftWriter } from './thrift-compact.js'
import type { ColumnData, DictColumn, StringColumn } from './types.js'
import { NULL_DATE } from './types.js'

// Parquet encodings (parquet.thrift)
export const E_PLAIN = 0
export const E_RLE = 3
export const E_RLE_DICTIONARY = 8

/**
 * Definition levels (RLE/bit-packed hybrid, bit width 1) from a presence byte per row, or null when every row is
 * present: then one RLE run, else one bit-packed run. Prefixed by its length (data page v1).
 */
export function definitionLevels(present: Uint8Array | null, n: number): Buffer {
  const w = new ThriftWriter()
  if (present === null) {
    w.varint(n * 2) // RLE run: header = count << 1, then the value in one byte
    w.byte(1)
  } else {
    const groups = Math.ceil(n / 8)
    w.varint(groups * 2 + 1) // bit-packed run of `groups` groups of 8 values
    const packed = new Uint8Array(groups)
    for (let i = 0; i < n; i++) if (present[i] === 1) packed[i >> 3]! |= 1 << (i & 7)
    w.raw(packed)
  }
  const body = w.result()
  const out = Buffer.allocUnsafe(4 + body.length)
  out.writeUInt32LE(body.length, 0)
  out.set(body, 4)
  return out
}

/**
 * Dictionary indices as one bit-packed run, preceded by the bit width byte. Bits go through a 32-bit accumulator
 * flushed a byte at a time (a loop per bit was ~6x slower at 1M rows).
 */
function dictionaryIndices(indices: Int32Array, count: number, dictSize: number): Uint8Array {
  const width = Math.max(1, Math.ceil(Math.log2(Math.max(dictSize, 2))))
  const groups = Math.ceil(count / 8)
  const w = new ThriftWriter()
  w.byte(width)
  w.varint(groups * 2 + 1)
  const packed = new Uint8Array(groups * width)
  if (width > 24) {
    // Fewer than 8 pending bits plus the value must fit 32 bits; wider values (16M+ entries) go bit by bit.
    let bit = 0
    for (let i = 0; i < count; i++) {
      let v = indices[i]!
      for (let k = 0; k < width; k++, bit++, v >>>= 1) if (v & 1) packed[bit >> 3]! |= 1 << (bit & 7)
    }
    return concatBytes(w.result(), packed)
  }
  let acc = 0 // pending bits, low first
  let bits = 0
  let o = 0
  for (let i = 0; i < count; i++) {
    acc |= indices[i]! << bits
    bits += width
    while (bits >= 8) {
      packed[o++] = acc & 0xff
      acc >>>= 8
      bits -= 8
    }
  }
  if (bits > 0) packed[o] = acc & 0xff
  return concatBytes(w.result(), packed)
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

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
 * Strings get a dictionary when they repeat (city, state, common names). A column that carries one (the features'
 * city and state) is written with it as is; otherwise one is built as the values are read, and given up as soon as
 * it passes dictionaryLimit's entries (65,536 or half the rows), so a column of unique names costs only a short attempt before
 * it is written PLAIN.
 */
function encodeStrings(c: StringColumn, start: number, end: number): EncodedChunk {
  const n = end - start
  const { present, nulls } = stringPresence(c, start, end)
  const indices = new Int32Array(n - nulls)
  let count = 0
  if (c.dictionary) {
    const codes = c.dictionary.codes
    for (let i = start; i < end; i++) if (codes[i]! >= 0) indices[count++] = codes[i]!
    return dictionaryChunk(c.dictionary.values, c.dictionary.size, indices, count, present, nulls)
  }
  const dict = new BytesDictionary(dictionaryLimit(n - nulls))
  const { bytes, offsets, valid } = c
  for (let i = start; i < end; i++) {
    if (valid[i] !== 1) continue
    const code = dict.codeOf(bytes, offsets[i]!, offsets[i + 1]!)
    if (code < 0) return { values: plainStrings(c, start, end), present, encoding: E_PLAIN, nulls }
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
  return {
    dictionary: { bytes: plainStrings(values, 0, size), count: size },
    values: dictionaryIndices(indices, count, size),
    present,
    encoding: E_RLE_DICTIONARY,
    nulls,
  }
}

/** INT32 and DATE: the non-NULL values as little-endian int32, with min/max statistics. */
function encodeInts(
  col: Extract<ColumnData, { type: 'int32' | 'date' }>,
  start: number,
  end: number,
): EncodedChunk {
  const n = end - start
  const src = col.values
  const out = new Int32Array(n)
  const present = new Uint8Array(n)
  let count = 0
  let min = 0x7fffffff
  let max = -0x80000000
  // Two loops rather than a per-row type test: this runs once per value of every int and date column.
  if (col.type === 'date') {
    for (let i = start; i < end; i++) {
      const x = src[i]!
      if (x === NULL_DATE) continue
      present[i - start] = 1
      out[count++] = x
      if (x < min) min = x
      if (x > max) max = x
    }
  } else {
    const valid = col.valid
    for (let i = start; i < end; i++) {
      if (valid[i] !== 1) continue
      const x = src[i]!
      present[i - start] = 1
      out[count++] = x
      if (x < min) min = x
      if (x > max) max = x
    }
  }
  const stat = (x: number) => new Uint8Array(Int32Array.of(x).buffer)
  return {
    values: new Uint8Array(out.buffer, 0, count * 4),
    present: count === n ? null : present,
    encoding: E_PLAIN,
    nulls: n - count,
    ...(count > 0 ? { min: stat(min), max: stat(max) } : {}),
  }
}

export function encodeChunk(col: ColumnData, start: number, end: number): EncodedChunk {
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
      return {
        values: new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
        present: null,
        encoding: E_PLAIN,
        nulls: 0,
        ...(v.length > 0 ? { min: stat(min), max: stat(max) } : {}),
      }
    }
    case 'date':
    case 'int32':
      return encodeInts(col, start, end)
  }
}
