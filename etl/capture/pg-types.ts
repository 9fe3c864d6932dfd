/**
 * PostgreSQL column types in a capture (pure): which source types fit which config type, and how a value's text
 * becomes the text DMS writes for it.
 *
 * The full load and the stream both read a value as its type's output function writes it (the load selects the
 * columns with no cast, the stream is pgoutput's text tuple), in a session that pins every setting the output depends
 * on (postgres.ts SESSION_SETTINGS: DateStyle ISO, TimeZone UTC, extra_float_digits 1 for shortest round-trip floats,
 * bytea_output hex, IntervalStyle postgres). One function per column then rewrites that text where DMS writes
 * something else, so the load and the stream write the same text for the same value:
 *
 * - boolean: the output is `t`/`f`; DMS writes PostgreSQL BOOLEAN as CHAR(5) `true`/`false` (docs/dms-format.md).
 * - money: the output is locale text (`-$1,234.56` with lc_monetary C); DMS maps MONEY to NUMERIC(38,4), so the
 *   capture writes the plain number (`-1234.56`). The amount is an integer count of the currency's smallest unit
 *   with the session's frac_digits after the point; every digit of the text is one of its digits, and a `-` or `(`
 *   marks a negative amount. postgres.ts checks this reading against PostgreSQL's own money::numeric at open.
 * - everything else as PostgreSQL prints it: integers, numeric (exactly the column's scale), floats (`NaN`,
 *   `Infinity`, `-Infinity`, shortest round-trip digits), dates and timestamps (ISO, timestamptz as UTC with `+00`),
 *   bytea (`\x` + hex), json (the text as stored), jsonb (normalised), uuid, interval, arrays, inet, char(n) (padded).
 */
import type { ColumnSpec } from '../types.js'
import { CaptureStreamError } from './changes.js'

/** A source column's type: `format_type` of its (domain-resolved) base type, e.g. `numeric(38,10)`, `money`. */
export interface SourceColumnType {
  name: string // format_type output
  oid: number // the column's declared type (atttypid): pgoutput's Relation message carries it
}

const NUMERIC = /^numeric(?:\((\d+),(\d+)\))?$/
const INTEGER_DIGITS: Record<string, number> = { smallint: 5, integer: 10, bigint: 19 }

/** Whether values of PostgreSQL type `pg` (format_type text) always fit config type `c`; `moneyDigits` as below. */
export function fitsColumn(c: ColumnSpec, pg: string, moneyDigits: number): boolean {
  switch (c.type) {
    case 'int16':
      return pg === 'smallint'
    case 'int32':
      return pg === 'smallint' || pg === 'integer'
    case 'int64':
      return pg === 'smallint' || pg === 'integer' || pg === 'bigint'
    case 'float32':
      return pg === 'real'
    case 'float64':
      return pg === 'real' || pg === 'double precision'
    case 'decimal': {
      const p = c.precision!
      const s = c.scale!
      if (Object.hasOwn(INTEGER_DIGITS, pg)) return p - s >= INTEGER_DIGITS[pg]!
      if (pg === 'money') return s >= moneyDigits && p - s >= 19 - moneyDigits
      const m = NUMERIC.exec(pg)
      if (!m) return false
      // An unconstrained numeric may hold anything: the pipeline checks each value against decimal(p,s).
      if (m[1] === undefined) return true
      const [sp, ss] = [Number(m[1]), Number(m[2])]
      return ss <= s && sp - ss <= p - s
    }
    case 'boolean':
      return pg === 'boolean'
    case 'json':
      return pg === 'json' || pg === 'jsonb'
    case 'binary':
      return pg === 'bytea'
    case 'date':
      return pg === 'date'
    case 'time':
      return /^time(\(\d\))? without time zone$/.test(pg)
    case 'timestamp':
      return /^timestamp(\(\d\))? without time zone$/.test(pg)
    case 'timestamptz':
      return /^timestamp(\(\d\))? with time zone$/.test(pg)
    case 'string':
      return true // every type has a text form
    case 'double':
      return false
  }
}

/** What the config type of a PostgreSQL type would be, for messages (`decimal(38,4)` for money, as DMS maps it). */
export function suggestedType(pg: string): string {
  if (pg === 'smallint') return 'int16'
  if (pg === 'integer') return 'int32'
  if (pg === 'bigint') return 'int64'
  if (pg === 'real') return 'float32'
  if (pg === 'double precision') return 'float64'
  if (pg === 'money') return 'decimal(38,4)'
  const m = NUMERIC.exec(pg)
  if (m)
    return m[1] === undefined
      ? 'decimal(38,10) (or string: an unconstrained numeric)'
      : `decimal(${m[1]},${m[2]})`
  if (pg === 'boolean') return 'boolean'
  if (pg === 'json' || pg === 'jsonb') return 'json'
  if (pg === 'bytea') return 'binary'
  if (pg === 'date') return 'date'
  if (/^time(\(\d\))? without time zone$/.test(pg)) return 'time'
  if (/^timestamp(\(\d\))? without time zone$/.test(pg)) return 'timestamp'
  if (/^timestamp(\(\d\))? with time zone$/.test(pg)) return 'timestamptz'
  return 'string'
}

/**
 * A money value's text (its output in some lc_monetary) as a plain decimal with `digits` fraction digits, or null
 * when the text holds no digit.
 */
export function moneyText(text: string, digits: number): string | null {
  const all = text.replace(/[^0-9]/g, '').replace(/^0+/, '')
  if (!/[0-9]/.test(text)) return null
  const units = all.padStart(digits + 1, '0')
  const whole = units.slice(0, units.length - digits)
  const value = digits > 0 ? `${whole}.${units.slice(units.length - digits)}` : whole
  return all !== '' && /[-(]/.test(text) ? `-${value}` : value
}

/** The rewrite from PostgreSQL's text of a value of type `pg` to the text DMS writes (see the header); null: none. */
export function dmsTextOf(pg: string, moneyDigits: number): ((text: string) => string) | null {
  if (pg === 'boolean') return (text) => (text === 't' ? 'true' : text === 'f' ? 'false' : text)
  if (pg === 'money')
    return (text) => {
      const v = moneyText(text, moneyDigits)
      if (v === null)
        throw new CaptureStreamError(`capture: money value ${JSON.stringify(text)} holds no digits`)
      return v
    }
  return null
}
