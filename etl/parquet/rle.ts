/**
 * The RLE / bit-packed hybrid encoding of Parquet (definition levels and dictionary indices), written from typed
 * arrays: RLE runs for repeated values, groups of 8 bit-packed otherwise.
 */
import { Buffer } from 'node:buffer'
import { ThriftWriter } from './thrift.js'

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
    // A byte from 8 presence bytes (each 0 or 1, as validity bytes are: types.ts) at a time: one store per 8 rows
    // instead of a read-modify-write per row.
    const whole = n >>> 3
    for (let g = 0, i = 0; g < whole; g++, i += 8)
      packed[g] =
        present[i]! |
        (present[i + 1]! << 1) |
        (present[i + 2]! << 2) |
        (present[i + 3]! << 3) |
        (present[i + 4]! << 4) |
        (present[i + 5]! << 5) |
        (present[i + 6]! << 6) |
        (present[i + 7]! << 7)
    for (let i = whole * 8; i < n; i++) if (present[i] === 1) packed[i >> 3]! |= 1 << (i & 7)
    w.raw(packed)
  }
  const body = w.result()
  const out = Buffer.allocUnsafe(4 + body.length)
  out.writeUInt32LE(body.length, 0)
  out.set(body, 4)
  return out
}

/** Appends `count` values of `width` bits (≤ 24), packed low bit first, to `out` at byte `o`; returns the end. */
function bitPack(
  values: Int32Array,
  from: number,
  count: number,
  width: number,
  out: Uint8Array,
  o: number,
): number {
  let acc = 0 // pending bits, low first; fewer than 8 pending plus 24 new fit in 32 bits
  let bits = 0
  for (let i = from; i < from + count; i++) {
    acc |= values[i]! << bits
    bits += width
    while (bits >= 8) {
      out[o++] = acc & 0xff
      acc >>>= 8
      bits -= 8
    }
  }
  if (bits > 0) out[o++] = acc & 0xff
  return o
}

function putVarint(out: Uint8Array, o: number, n: number): number {
  while (n >= 0x80) {
    out[o++] = (n & 0x7f) | 0x80
    n >>>= 7
  }
  out[o++] = n
  return o
}

/** True when values[i..i+8) exist and are all equal: a run worth an RLE run of its own. */
function runStarts(values: Int32Array, i: number, count: number): boolean {
  if (i + 8 > count) return false
  const v = values[i]!
  for (let k = 1; k < 8; k++) if (values[i + k] !== v) return false
  return true
}

/**
 * Dictionary indices in the RLE/bit-packed hybrid, preceded by the bit width byte: runs of 8 or more equal
 * indices are RLE runs (the features' city, state and per-city values are a handful of runs per city), the rest
 * bit-packed in groups of 8. Bits go through an accumulator flushed a byte at a time.
 */
export function dictionaryIndices(indices: Int32Array, count: number, dictSize: number): Uint8Array {
  const width = Math.max(1, Math.ceil(Math.log2(Math.max(dictSize, 2))))
  if (width > 24) return wideIndices(indices, count, width)
  const valueBytes = Math.ceil(width / 8)
  // Worst case: everything bit-packed (plus padding) and a header per 8 values.
  const out = new Uint8Array(1 + Math.ceil(count / 8) * (width + 5) + 16)
  out[0] = width
  let o = 1
  for (let i = 0; i < count; ) {
    if (runStarts(indices, i, count)) {
      const v = indices[i]!
      let j = i + 8
      while (j < count && indices[j] === v) j++
      o = putVarint(out, o, (j - i) * 2)
      for (let b = 0; b < valueBytes; b++) out[o++] = (v >>> (8 * b)) & 0xff
      i = j
      continue
    }
    // Groups of 8 until a run starts at a group boundary; the last group is padded with zeros.
    let k = i + 8
    while (k < count && !runStarts(indices, k, count)) k += 8
    const groups = (Math.min(k, count) - i + 7) >>> 3
    o = putVarint(out, o, groups * 2 + 1)
    const n = Math.min(groups * 8, count - i)
    const end = bitPack(indices, i, n, width, out, o)
    o += groups * width // the padding values are zero bits, already in place
    if (end > o) o = end
    i += n
  }
  return out.subarray(0, o)
}

/** Indices wider than 24 bits (16M+ dictionary entries): one bit-packed run, bit by bit. */
function wideIndices(indices: Int32Array, count: number, width: number): Uint8Array {
  const groups = Math.ceil(count / 8)
  const w = new ThriftWriter()
  w.byte(width)
  w.varint(groups * 2 + 1)
  const packed = new Uint8Array(groups * width)
  let bit = 0
  for (let i = 0; i < count; i++) {
    let v = indices[i]!
    for (let k = 0; k < width; k++, bit++, v >>>= 1) if (v & 1) packed[bit >> 3]! |= 1 << (bit & 7)
  }
  return concatBytes(w.result(), packed)
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
