/**
 * Min/max statistics of byte-array values (strings, json, binary) for the Parquet writer: unsigned byte order, the
 * order TypeDefinedOrder gives these types, cut to a bound when long.
 */

/** Longest min/max statistic kept whole; longer ones are cut to a bound (as parquet-mr and Arrow do). */
const STAT_BYTES = 64

function compareBytes(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  for (; s1 < e1 && s2 < e2; s1++, s2++) if (b[s1] !== b[s2]) return b[s1]! - b[s2]!
  return e1 - s1 - (e2 - s2)
}

/**
 * Byte-wise min/max statistics of the values [offsets[i], offsets[i + 1]) for the rows `rows` yields: the minimum cut
 * to STAT_BYTES (a prefix is no larger), the maximum cut and its last byte raised (omitted when it cannot be).
 */
export function bytesStats(
  bytes: Uint8Array,
  offsets: Int32Array,
  each: (visit: (i: number) => void) => void,
): { min?: Uint8Array; max?: Uint8Array } {
  let lo = -1
  let hi = -1
  each((i) => {
    const s = offsets[i]!
    const e = offsets[i + 1]!
    if (lo < 0 || compareBytes(bytes, s, e, offsets[lo]!, offsets[lo + 1]!) < 0) lo = i
    if (hi < 0 || compareBytes(bytes, s, e, offsets[hi]!, offsets[hi + 1]!) > 0) hi = i
  })
  if (lo < 0) return {}
  const min = bytes.slice(offsets[lo]!, Math.min(offsets[lo + 1]!, offsets[lo]! + STAT_BYTES))
  let max: Uint8Array | undefined = bytes.slice(offsets[hi]!, offsets[hi + 1]!)
  if (max.length > STAT_BYTES) {
    max = max.slice(0, STAT_BYTES)
    let k = max.length - 1
    while (k >= 0 && max[k] === 0xff) k--
    if (k < 0) max = undefined
    else {
      max[k]!++
      max = max.slice(0, k + 1)
    }
  }
  return max ? { min, max } : { min }
}
