/**
 * Exact decimals: a decimal(p,s) value is its unscaled integer (value × 10^s) as a bigint, never a double. Held as
 * an int64 for p ≤ 18, else as 16 bytes big-endian two's complement (WIDE_DECIMAL_BYTES).
 */
import { WIDE_DECIMAL_BYTES } from './column-types.js'

const TEN = 10n

/**
 * The unscaled value of decimal text (`-21000.5`, `+3`, `.5`, `1e3` is not accepted) for decimal(p,s), or a reason
 * it is not one: more fraction digits than s, or more digits than p, are refused (never rounded). Trailing fraction
 * zeros beyond s are accepted (`1.500` for s = 2 is 1.50 exactly).
 */
export function parseDecimalText(text: string, precision: number, scale: number): bigint | string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text)
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return 'not a decimal number'
  let frac = m[3] ?? ''
  while (frac.length > scale && frac.endsWith('0')) frac = frac.slice(0, -1)
  if (frac.length > scale) return `more than ${scale} fraction digits`
  const int = m[2]!.replace(/^0+/, '')
  if (int.length > precision - scale)
    return `more than ${precision} digits (precision ${precision}, scale ${scale})`
  const digits = int + frac.padEnd(scale, '0')
  const v = digits === '' ? 0n : BigInt(digits)
  return m[1] === '-' ? -v : v
}

/** The text of an unscaled value with exactly `scale` fraction digits (`21000.00`). */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n
  let digits = (negative ? -unscaled : unscaled).toString()
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0')
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
  }
  return negative ? `-${digits}` : digits
}

/** Largest unscaled magnitude of decimal(p, ·): 10^p - 1. */
export function maxUnscaled(precision: number): bigint {
  return TEN ** BigInt(precision) - 1n
}

/** Writes `v` as WIDE_DECIMAL_BYTES big-endian two's complement bytes at `out[at..]`. */
export function writeWideDecimal(v: bigint, out: Uint8Array, at: number): void {
  let x = BigInt.asUintN(WIDE_DECIMAL_BYTES * 8, v)
  for (let i = WIDE_DECIMAL_BYTES - 1; i >= 0; i--) {
    out[at + i] = Number(x & 0xffn)
    x >>= 8n
  }
}

/** The value of big-endian two's complement bytes [s, e) (any length: Parquet FIXED_LEN_BYTE_ARRAY, wide decimals). */
export function readBigEndian(b: Uint8Array, s: number, e: number): bigint {
  let x = 0n
  for (let i = s; i < e; i++) x = (x << 8n) | BigInt(b[i]!)
  const bits = BigInt((e - s) * 8)
  return e > s && (b[s]! & 0x80) !== 0 ? x - (1n << bits) : x
}

/** The 16 bytes of a wide decimal. */
export function wideDecimalBytes(v: bigint): Uint8Array {
  const out = new Uint8Array(WIDE_DECIMAL_BYTES)
  writeWideDecimal(v, out, 0)
  return out
}
