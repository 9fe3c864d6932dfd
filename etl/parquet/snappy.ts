/**
 * Snappy compression (the Parquet default codec), written for speed in V8: the output is preallocated at Snappy's
 * worst-case size and written by index, and the input is compressed in independent 64 KiB blocks as the reference
 * implementation does, so every back-reference fits a 2-byte offset and the hash table stays small.
 * Hand-written because hyparquet-writer's port of snappyjs was too slow for the job (docs/decisions.md).
 */

const BLOCK = 1 << 16
const HASH_BITS = 14
const INPUT_MARGIN = 15

const table = new Int32Array(1 << HASH_BITS)

function load32(a: Uint8Array, i: number): number {
  return a[i]! | (a[i + 1]! << 8) | (a[i + 2]! << 16) | (a[i + 3]! << 24)
}

function hash(x: number): number {
  return Math.imul(x, 0x1e35a7bd) >>> (32 - HASH_BITS)
}

function emitLiteral(src: Uint8Array, from: number, to: number, out: Uint8Array, op: number): number {
  const n = to - from - 1
  if (n < 60) out[op++] = n << 2
  else if (n < 0x100) {
    out[op++] = 60 << 2
    out[op++] = n
  } else if (n < 0x10000) {
    out[op++] = 61 << 2
    out[op++] = n & 0xff
    out[op++] = n >>> 8
  } else {
    out[op++] = 62 << 2
    out[op++] = n & 0xff
    out[op++] = (n >>> 8) & 0xff
    out[op++] = n >>> 16
  }
  if (to - from < 16) for (let i = from; i < to; i++) out[op++] = src[i]!
  else {
    out.set(src.subarray(from, to), op)
    op += to - from
  }
  return op
}

function emitCopyUpTo64(out: Uint8Array, op: number, offset: number, len: number): number {
  if (len < 12 && offset < 2048) {
    out[op++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5)
    out[op++] = offset & 0xff
  } else {
    out[op++] = 2 | ((len - 1) << 2)
    out[op++] = offset & 0xff
    out[op++] = offset >>> 8
  }
  return op
}

function emitCopy(out: Uint8Array, op: number, offset: number, len: number): number {
  while (len >= 68) {
    op = emitCopyUpTo64(out, op, offset, 64)
    len -= 64
  }
  if (len > 64) {
    op = emitCopyUpTo64(out, op, offset, 60)
    len -= 60
  }
  return emitCopyUpTo64(out, op, offset, len)
}

function compressBlock(src: Uint8Array, start: number, end: number, out: Uint8Array, op: number): number {
  let nextEmit = start
  if (end - start >= INPUT_MARGIN) {
    const ipLimit = end - INPUT_MARGIN
    table.fill(start)
    let ip = start + 1
    let nextHash = hash(load32(src, ip))
    outer: for (;;) {
      let skip = 32
      let nextIp = ip
      let candidate: number
      // Look for a 4-byte match, stepping faster the longer nothing matches (incompressible data stays cheap).
      do {
        ip = nextIp
        const h = nextHash
        nextIp = ip + (skip++ >>> 5)
        if (nextIp > ipLimit) break outer
        nextHash = hash(load32(src, nextIp))
        candidate = table[h]!
        table[h] = ip
      } while (load32(src, ip) !== load32(src, candidate))
      op = emitLiteral(src, nextEmit, ip, out, op)
      // Emit copies for as long as the next position matches too.
      do {
        const base = ip
        let matched = 4
        while (ip + matched < end && src[ip + matched] === src[candidate + matched]) matched++
        ip += matched
        op = emitCopy(out, op, base - candidate, matched)
        nextEmit = ip
        if (ip >= ipLimit) break outer
        table[hash(load32(src, ip - 1))] = ip - 1
        const h = hash(load32(src, ip))
        candidate = table[h]!
        table[h] = ip
      } while (load32(src, ip) === load32(src, candidate))
      nextHash = hash(load32(src, ++ip))
    }
  }
  if (nextEmit < end) op = emitLiteral(src, nextEmit, end, out, op)
  return op
}

/** Snappy-compresses `input` (raw format: varint length, then elements). */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const n = input.length
  const out = new Uint8Array(32 + n + Math.floor(n / 6))
  let op = 0
  let v = n
  while (v >= 0x80) {
    out[op++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  out[op++] = v
  for (let start = 0; start < n; start += BLOCK)
    op = compressBlock(input, start, Math.min(start + BLOCK, n), out, op)
  return out.subarray(0, op)
}
