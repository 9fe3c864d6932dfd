/**
 * Value parsing straight from bytes, with no intermediate strings: the CSV reader calls these once per field,
 * so they are written as plain loops over the byte range [s, e).
 */
import { isRealDate } from './files.js'

const ZERO = 48
const MINUS = 45

/** Parses `-?[0-9]+` within the int32 range; returns undefined when the bytes are anything else. */
export function parseInt32(b: Uint8Array, s: number, e: number): number | undefined {
  let i = s
  const negative = b[i] === MINUS
  if (negative) i++
  if (i >= e) return undefined
  let v = 0
  for (; i < e; i++) {
    const d = b[i]! - ZERO
    if (d < 0 || d > 9) return undefined
    v = v * 10 + d
    if (v > 2147483648) return undefined // stop early: a long run of digits cannot come back into range
  }
  if (negative) return -v
  return v > 2147483647 ? undefined : v
}

/** Days since 1970-01-01 of a proleptic-Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

/** The calendar date of a day number, as `YYYY-MM-DD` (civil_from_days). */
export function formatDate(days: number): string {
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  )
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0)
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`
}

/** A decimal digit's value; a non-digit is so negative that any field it is part of comes out negative. */
function digit(b: Uint8Array, i: number): number {
  const d = b[i]! - ZERO
  return d >= 0 && d <= 9 ? d : -1_000_000
}

// Days of the dates in years MEMO_FROM..MEMO_FROM+199, filled on first sight: a CSV column holds a few thousand
// distinct dates, and a table lookup costs less than the calendar check and the day count per field.
const MEMO_FROM = 1900
const MEMO_UNKNOWN = 0x7fffffff // not computed yet
const MEMO_INVALID = 0x7ffffffe // not a calendar date (Feb 30)
const dateMemo = new Int32Array(200 * 12 * 31).fill(MEMO_UNKNOWN)

/** Parses exactly `YYYY-MM-DD` naming a real calendar date; returns days since epoch or undefined. */
export function parseDate(b: Uint8Array, s: number, e: number): number | undefined {
  if (e - s !== 10 || b[s + 4] !== MINUS || b[s + 7] !== MINUS) return undefined
  const y = digit(b, s) * 1000 + digit(b, s + 1) * 100 + digit(b, s + 2) * 10 + digit(b, s + 3)
  const m = digit(b, s + 5) * 10 + digit(b, s + 6)
  const d = digit(b, s + 8) * 10 + digit(b, s + 9)
  if (y < 0 || m < 0 || d < 0) return undefined
  if (y < MEMO_FROM || y >= MEMO_FROM + 200 || m < 1 || m > 12 || d < 1 || d > 31)
    return isRealDate(y, m, d) ? daysFromCivil(y, m, d) : undefined
  const slot = ((y - MEMO_FROM) * 12 + m - 1) * 31 + d - 1
  let days = dateMemo[slot]!
  if (days === MEMO_UNKNOWN) {
    days = isRealDate(y, m, d) ? daysFromCivil(y, m, d) : MEMO_INVALID
    dateMemo[slot] = days
  }
  return days === MEMO_INVALID ? undefined : days
}

/** Parses a `YYYY-MM-DD` string (CLI flags, config): days since epoch or undefined. */
export function parseDateString(text: string): number | undefined {
  const bytes = new TextEncoder().encode(text)
  return parseDate(bytes, 0, bytes.length)
}

/** Today's UTC date as days since epoch: the default as_of of every run. */
export function todayUtc(nowMs: number = Date.now()): number {
  return Math.floor(nowMs / 86_400_000)
}
