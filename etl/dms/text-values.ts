/**
 * The text forms DMS writes for the types beyond int32, date and text (docs/dms-format.md lists them with their
 * sources), parsed into the column's storage (etl/table/column-types.ts storageOf). The CSV reader's hot loop keeps
 * its own byte parsers for int32, date and text; these run once per field of the other types.
 */
import { isWideDecimal, WIDE_DECIMAL_BYTES } from '../table/column-types.js'
import { appendString, ensureBytes } from '../table/columns.js'
import { parseDecimalText, writeWideDecimal } from '../table/decimal.js'
import type { ColumnData, ColumnSpec, StringColumn } from '../types.js'
import { isRealDate } from './files.js'
import { daysFromCivil } from './values.js'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const INTEGER = /^[+-]?\d+$/
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/
const TIMESTAMP =
  /^(-?\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/
const HEX = /^\\x((?:[0-9a-fA-F]{2})*)$/
const MICROS_PER_DAY = 86_400_000_000n

/** What a value must look like, for errors: `expected ...`. */
export function expectedForm(c: ColumnSpec): string {
  switch (c.type) {
    case 'int16':
      return 'an integer within the int16 range'
    case 'int64':
      return 'an integer within the int64 range'
    case 'float32':
    case 'float64':
      return 'a number (1.5, +5.0656000000000000e+05, NaN, Infinity, -Infinity)'
    case 'decimal':
      return `a decimal(${c.precision},${c.scale}) number: at most ${c.precision} digits, ${c.scale} after the point`
    case 'boolean':
      return 'true, false, t, f, 1 or 0'
    case 'time':
      return 'HH:MM:SS with up to 6 fraction digits (more only if zero)'
    case 'timestamp':
      return 'YYYY-MM-DD HH:MM:SS with up to 6 fraction digits (more only if zero), no offset'
    case 'timestamptz':
      return 'YYYY-MM-DD HH:MM:SS with up to 6 fraction digits (more only if zero) and an optional offset (+02, +02:00, Z)'
    case 'binary':
      return '\\x followed by pairs of hex digits'
    default:
      return c.type
  }
}

/** Microseconds of a fraction's digits (up to 9), or null when digits beyond the microsecond are not zero. */
function fractionMicros(digits: string | undefined): bigint | null {
  if (digits === undefined) return 0n
  if (digits.length > 6 && !/^0+$/.test(digits.slice(6))) return null
  return BigInt(digits.slice(0, 6).padEnd(6, '0'))
}

/** Seconds of a UTC offset `+HH[:MM[:SS]]` or `Z`. */
function offsetSeconds(text: string): number | null {
  if (text === 'Z') return 0
  const m = /^([+-])(\d{2}):?(\d{2})?:?(\d{2})?$/.exec(text)
  if (!m) return null
  const h = Number(m[2])
  const min = Number(m[3] ?? 0)
  const s = Number(m[4] ?? 0)
  if (h > 18 || min > 59 || s > 59) return null
  return (m[1] === '-' ? -1 : 1) * (h * 3600 + min * 60 + s)
}

/** Microseconds since 1970-01-01 00:00 UTC of a timestamp's text, or null when it is not one. */
export function parseTimestampMicros(text: string, withZone: boolean): bigint | null {
  const m = TIMESTAMP.exec(text)
  if (!m) return null
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  if (!isRealDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return null
  const frac = fractionMicros(m[7])
  if (frac === null) return null
  let offset = 0
  if (m[8] !== undefined) {
    if (!withZone) return null
    const o = offsetSeconds(m[8])
    if (o === null) return null
    offset = o
  }
  const seconds = BigInt(daysFromCivil(y, mo, d)) * 86_400n + BigInt(h * 3600 + mi * 60 + s - offset)
  return seconds * 1_000_000n + frac
}

/** Microseconds since midnight of a time's text, or null. */
export function parseTimeMicros(text: string): bigint | null {
  const m = TIME.exec(text)
  if (!m) return null
  const h = Number(m[1])
  const mi = Number(m[2])
  const s = Number(m[3])
  if (h > 23 || mi > 59 || s > 59) return null
  const frac = fractionMicros(m[4])
  if (frac === null) return null
  const v = BigInt(h * 3600 + mi * 60 + s) * 1_000_000n + frac
  return v < MICROS_PER_DAY ? v : null
}

/** A float's text as DMS writes it (REAL4/REAL8), or null. */
export function parseFloatText(text: string): number | null {
  if (text === 'NaN' || text === '-NaN' || text === 'nan') return Number.NaN
  if (text === 'Infinity' || text === '+Infinity' || text === 'inf') return Number.POSITIVE_INFINITY
  if (text === '-Infinity' || text === '-inf') return Number.NEGATIVE_INFINITY
  return FLOAT.test(text) ? Number(text) : null
}

/** A boolean's text, or null. */
export function parseBooleanText(text: string): 0 | 1 | null {
  switch (text.toLowerCase()) {
    case 'true':
    case 't':
    case '1':
      return 1
    case 'false':
    case 'f':
    case '0':
      return 0
    default:
      return null
  }
}

/** `\x`-prefixed hex as bytes, or null. */
export function parseHexBytes(text: string): Uint8Array | null {
  const m = HEX.exec(text)
  return m ? Uint8Array.from(Buffer.from(m[1]!, 'hex')) : null
}

/**
 * Parses `text` as column `c`'s type into row `row` of `col` (its storage; a string column's `row` must be its next
 * row). Returns null, or why the text is not a value of the type (for the reader's error).
 */
export function storeText(c: ColumnSpec, col: ColumnData, row: number, text: string): string | null {
  switch (c.type) {
    case 'int16':
    case 'int32': {
      if (!INTEGER.test(text)) return 'not an integer'
      const v = Number(text)
      const [lo, hi] = c.type === 'int16' ? [-32768, 32767] : [-2147483648, 2147483647]
      if (v < lo || v > hi) return `out of the ${c.type} range`
      const out = col as Extract<ColumnData, { type: 'int32' }>
      out.values[row] = v
      out.valid[row] = 1
      return null
    }
    case 'int64': {
      if (!INTEGER.test(text)) return 'not an integer'
      const v = BigInt(text)
      if (v < INT64_MIN || v > INT64_MAX) return 'out of the int64 range'
      return setInt64(col, row, v)
    }
    case 'decimal': {
      const v = parseDecimalText(text, c.precision!, c.scale!)
      if (typeof v === 'string') return v
      return storeDecimal(c, col, row, v)
    }
    case 'float32':
    case 'float64': {
      const v = parseFloatText(text)
      if (v === null) return 'not a number'
      const out = col as Extract<ColumnData, { type: 'float64' }>
      out.values[row] = c.type === 'float32' ? Math.fround(v) : v
      out.valid[row] = 1
      return null
    }
    case 'boolean': {
      const v = parseBooleanText(text)
      if (v === null) return 'not a boolean'
      const out = col as Extract<ColumnData, { type: 'bool' }>
      out.values[row] = v
      out.valid[row] = 1
      return null
    }
    case 'time': {
      const v = parseTimeMicros(text)
      return v === null ? 'not a time of day (or digits beyond the microsecond)' : setInt64(col, row, v)
    }
    case 'timestamp':
    case 'timestamptz': {
      const v = parseTimestampMicros(text, c.type === 'timestamptz')
      return v === null ? 'not a timestamp (or digits beyond the microsecond)' : setInt64(col, row, v)
    }
    case 'binary': {
      const v = parseHexBytes(text)
      if (v === null) return 'not \\x-prefixed hex'
      appendString(col as StringColumn, row, v)
      return null
    }
    default: {
      appendString(col as StringColumn, row, Buffer.from(text, 'utf8'))
      return null
    }
  }
}

/** An int64-stored value (int64, time, timestamps, decimals p ≤ 18) at row `row`. */
export function setInt64(col: ColumnData, row: number, v: bigint): null {
  const out = col as Extract<ColumnData, { type: 'int64' }>
  out.values[row] = v
  out.valid[row] = 1
  return null
}

/** A decimal's unscaled value at row `row`: an int64 for p ≤ 18, else 16 bytes appended (the column's next row). */
export function storeDecimal(c: ColumnSpec, col: ColumnData, row: number, v: bigint): null {
  if (!isWideDecimal(c)) return setInt64(col, row, v)
  const out = col as StringColumn
  ensureBytes(out, out.offsets[row]!, WIDE_DECIMAL_BYTES)
  writeWideDecimal(v, out.bytes, out.offsets[row]!)
  out.offsets[row + 1] = out.offsets[row]! + WIDE_DECIMAL_BYTES
  out.valid[row] = 1
  return null
}

/** True for the types the CSV reader parses here rather than in its own loop (int32, date and text are its own). */
export function parsedAsText(c: ColumnSpec): boolean {
  return !(c.type === 'int32' || c.type === 'date' || c.type === 'string' || c.type === 'json')
}
