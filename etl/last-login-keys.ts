/** The features' last login (a date, timestamp or timestamptz column) as the int32 keys the features step sorts. */
import type { ColumnData } from './types.js'
import { NULL_DATE } from './types.js'

const MICROS_PER_DAY = 86_400_000_000n

/**
 * The last login as the int32 keys the sort and the group walk take. Dates are their day numbers. Timestamps (µs)
 * become the dense ordinal of their value among the distinct ones (order kept, so ranks are by the full value), and
 * the window's start becomes the first ordinal on or after its day: `asOfKey - key <= windowDays` then holds exactly
 * for timestamps whose date part (UTC for timestamptz) is within the window.
 */
export function lastLoginKeys(
  col: ColumnData,
  n: number,
  asOf: number,
  windowDays: number,
): { keys: Int32Array; asOfKey: number; output: (keys: Int32Array) => ColumnData } {
  if (col.type === 'date')
    return { keys: col.values, asOfKey: asOf, output: (keys) => ({ type: 'date', values: keys }) }
  if (col.type !== 'int64') throw new Error(`cityFeatures: last login stored as ${col.type}`) // spec.ts checks
  const distinct = new BigInt64Array(n)
  let m = 0
  for (let r = 0; r < n; r++) if (col.valid[r] === 1) distinct[m++] = col.values[r]!
  const sorted = distinct.subarray(0, m).sort()
  let u = 0
  for (let i = 0; i < m; i++) if (i === 0 || sorted[i] !== sorted[u - 1]) sorted[u++] = sorted[i]!
  const values = sorted.slice(0, u)
  const ordinal = new Map<bigint, number>()
  values.forEach((v, i) => ordinal.set(v, i))
  const keys = new Int32Array(n).fill(NULL_DATE)
  for (let r = 0; r < n; r++) if (col.valid[r] === 1) keys[r] = ordinal.get(col.values[r]!)!
  // The first ordinal whose day is asOf - windowDays or later (u when none is).
  const startMicros = BigInt(asOf - windowDays) * MICROS_PER_DAY
  let lo = 0
  let hi = u
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (values[mid]! < startMicros) lo = mid + 1
    else hi = mid
  }
  return {
    keys,
    asOfKey: lo + windowDays,
    output: (out) => {
      const ts = new BigInt64Array(out.length)
      const valid = new Uint8Array(out.length)
      for (let i = 0; i < out.length; i++)
        if (out[i] !== NULL_DATE) {
          ts[i] = values[out[i]!]!
          valid[i] = 1
        }
      return { type: 'int64', values: ts, valid }
    },
  }
}
