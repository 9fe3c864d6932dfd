/**
 * Stable sorts of row numbers by an int32 value per row. LSD radix sort with 16-bit digits: two linear passes
 * instead of n log n comparator calls (docs/performance.md item 3).
 * When the values span fewer than 65536 distinct numbers (dates, city codes) one pass suffices.
 */

/** Returns `order` permuted so that values[order[i]] ascends; equal values keep their relative order. */
export function stableSortByInt32(order: Int32Array, values: Int32Array): Int32Array {
  const n = order.length
  if (n < 2) return order
  let min = 0x7fffffff
  let max = -0x80000000
  let sorted = true
  let prev = -0x80000000
  for (let i = 0; i < n; i++) {
    const v = values[order[i]!]!
    if (v < min) min = v
    if (v > max) max = v
    if (v < prev) sorted = false
    prev = v
  }
  if (sorted) return order
  const tmp = new Int32Array(n)
  const counts = new Int32Array(65537)
  if (max - min < 65536) {
    for (let i = 0; i < n; i++) counts[values[order[i]!]! - min + 1]!++
    for (let d = 1; d <= 65536; d++) counts[d]! += counts[d - 1]!
    for (let i = 0; i < n; i++) {
      const r = order[i]!
      tmp[counts[values[r]! - min]!++] = r
    }
    return tmp
  }
  // Low 16 bits, then high 16 bits of the value offset to unsigned (min maps to 0): two stable passes.
  for (let i = 0; i < n; i++) counts[((values[order[i]!]! - min) & 0xffff) + 1]!++
  for (let d = 1; d <= 65536; d++) counts[d]! += counts[d - 1]!
  for (let i = 0; i < n; i++) {
    const r = order[i]!
    tmp[counts[(values[r]! - min) & 0xffff]!++] = r
  }
  counts.fill(0)
  for (let i = 0; i < n; i++) counts[((values[tmp[i]!]! - min) >>> 16) + 1]!++
  for (let d = 1; d <= 65536; d++) counts[d]! += counts[d - 1]!
  for (let i = 0; i < n; i++) {
    const r = tmp[i]!
    order[counts[(values[r]! - min) >>> 16]!++] = r
  }
  return order
}

/** Compares strings by their UTF-8 bytes (what Parquet, DuckDB and Athena use), not by UTF-16 code units. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // UTF-16 order equals code point (and so UTF-8 byte) order except that surrogates (D800-DFFF, used for
    // code points above FFFF) sort below E000-FFFF in UTF-16; by code point they sort above every BMP character.
    const xs = x >= 0xd800 && x <= 0xdfff
    const ys = y >= 0xd800 && y <= 0xdfff
    if (xs !== ys) return xs ? 1 : -1
    return x < y ? -1 : 1
  }
  return a.length - b.length
}

/**
 * Stable LSD radix sort of (key, row) pairs by non-negative int32 keys at most `maxKey`, 11-bit digits (2,048
 * buckets stay in cache). Keys and rows move together, so each pass reads sequentially; passes over digits where
 * every key agrees are skipped. The inputs may be reused as scratch; the sorted pair is returned.
 */
export function radixSortPairs(
  keys: Int32Array,
  rows: Int32Array,
  maxKey: number,
): { keys: Int32Array; rows: Int32Array } {
  const n = keys.length
  const BITS = 11
  const RADIX = 1 << BITS
  const MASK = RADIX - 1
  let k = keys
  let r = rows
  let k2: Int32Array = new Int32Array(n)
  let r2: Int32Array = new Int32Array(n)
  const counts = new Int32Array(RADIX)
  for (let shift = 0; shift < 31 && maxKey >>> shift > 0; shift += BITS) {
    counts.fill(0)
    for (let i = 0; i < n; i++) counts[(k[i]! >>> shift) & MASK]!++
    if (counts[(k[0]! >>> shift) & MASK] === n) continue // one bucket: the pass would not move anything
    let sum = 0
    for (let d = 0; d < RADIX; d++) {
      const c = counts[d]!
      counts[d] = sum
      sum += c
    }
    for (let i = 0; i < n; i++) {
      const key = k[i]!
      const at = counts[(key >>> shift) & MASK]!++
      k2[at] = key
      r2[at] = r[i]!
    }
    ;[k, k2] = [k2, k]
    ;[r, r2] = [r2, r]
  }
  return { keys: k, rows: r }
}
