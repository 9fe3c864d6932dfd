/**
 * DMS Parquet values into a column's declared type (etl/table/column-types.ts). hyparquet turns DECIMAL into a
 * double and timestamps into Dates; both lose digits, so the reader strips the DECIMAL annotation (its raw
 * unscaled integer or bytes come through) and takes timestamps as raw integers with their unit.
 */
import type { FileMetaData, SchemaElement } from 'hyparquet'
import { appendString, appendText } from '../table/columns.js'
import { formatDecimal, maxUnscaled, readBigEndian } from '../table/decimal.js'
import type { ColumnData, ColumnSpec, StringColumn } from '../types.js'
import { setInt64, storeDecimal, storeText } from './text-values.js'
import { parseDateString } from './values.js'

/** A timestamp as hyparquet hands it to our parsers: the raw integer and its unit. */
export interface RawTimestamp {
  raw: bigint
  unit: 'millis' | 'micros' | 'nanos'
}

/** What the reader needs to know of a file column beyond its values. */
export interface FileColumn {
  decimalScale: number | null // the file's DECIMAL scale, when the column is one
  timeUnit: 'millis' | 'micros' | 'nanos' | null // TIME columns: the unit of the raw integer
}

/** hyparquet parsers that keep timestamps and JSON raw. */
export const RAW_PARSERS = {
  dateFromDays: (d: number) => d,
  timestampFromMilliseconds: (v: bigint): RawTimestamp => ({ raw: BigInt(v), unit: 'millis' }),
  timestampFromMicroseconds: (v: bigint): RawTimestamp => ({ raw: BigInt(v), unit: 'micros' }),
  timestampFromNanoseconds: (v: bigint): RawTimestamp => ({ raw: BigInt(v), unit: 'nanos' }),
  jsonFromBytes: (b: Uint8Array) => b,
}

/** The metadata with DECIMAL annotations removed (so values arrive unscaled), and what each column was. */
export function rawMetadata(metadata: FileMetaData): {
  metadata: FileMetaData
  columns: Map<string, FileColumn>
} {
  const columns = new Map<string, FileColumn>()
  const schema = metadata.schema.map((e: SchemaElement, i): SchemaElement => {
    if (i === 0) return e
    const decimal = e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL'
    const lt = e.logical_type as { type: string; unit?: string } | undefined
    const timeUnit =
      lt?.type === 'TIME'
        ? ((lt.unit ?? 'MICROS').toLowerCase() as FileColumn['timeUnit'])
        : e.converted_type === 'TIME_MILLIS'
          ? 'millis'
          : e.converted_type === 'TIME_MICROS'
            ? 'micros'
            : null
    columns.set(e.name, { decimalScale: decimal ? (e.scale ?? 0) : null, timeUnit })
    if (!decimal) return e
    const { converted_type: _c, logical_type: _l, ...rest } = e
    return rest as SchemaElement
  })
  return { metadata: { ...metadata, schema }, columns }
}

function micros(raw: bigint, unit: 'millis' | 'micros' | 'nanos'): bigint | null {
  if (unit === 'millis') return raw * 1000n
  if (unit === 'micros') return raw
  return raw % 1000n === 0n ? raw / 1000n : null
}

/** An integer value (number or bigint) as a bigint, or null. */
function integer(v: unknown): bigint | null {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  return null
}

/** The unscaled value of a file DECIMAL at the column's scale, or a reason it is not one. */
function decimalValue(c: ColumnSpec, v: unknown, fileScale: number | null): bigint | string {
  let unscaled: bigint | null
  if (v instanceof Uint8Array) unscaled = readBigEndian(v, 0, v.length)
  else unscaled = integer(v)
  if (unscaled === null) return 'not a decimal'
  const from = fileScale ?? 0
  const to = c.scale!
  if (from < to) unscaled *= 10n ** BigInt(to - from)
  else if (from > to) {
    const f = 10n ** BigInt(from - to)
    if (unscaled % f !== 0n) return `more than ${to} fraction digits`
    unscaled /= f
  }
  if (unscaled > maxUnscaled(c.precision!) || unscaled < -maxUnscaled(c.precision!))
    return `more than ${c.precision} digits`
  return unscaled
}

/**
 * Stores one present DMS Parquet value of column `c` at row `row` of `col` (a string column's next row). Strings
 * are read as DMS CSV text is (etl/dms/text-values.ts). Returns null, or why the value does not fit the type.
 */
export function storeParquetValue(
  c: ColumnSpec,
  col: ColumnData,
  row: number,
  v: unknown,
  file: FileColumn | undefined,
): string | null {
  const asText = typeof v === 'string' && c.type !== 'string' && c.type !== 'json'
  if (asText) {
    if (c.type === 'date') {
      const d = parseDateString(v as string)
      if (d === undefined) return 'not a date YYYY-MM-DD'
      ;(col as Extract<ColumnData, { type: 'date' }>).values[row] = d
      return null
    }
    return storeText(c, col, row, v as string)
  }
  switch (c.type) {
    case 'int16':
    case 'int32': {
      const x = integer(v)
      const [lo, hi] = c.type === 'int16' ? [-32768n, 32767n] : [-2147483648n, 2147483647n]
      if (x === null || x < lo || x > hi) return `not an ${c.type}`
      const out = col as Extract<ColumnData, { type: 'int32' }>
      out.values[row] = Number(x)
      out.valid[row] = 1
      return null
    }
    case 'int64': {
      const x = integer(v)
      if (x === null || x < -(2n ** 63n) || x >= 2n ** 63n) return 'not an int64'
      return setInt64(col, row, x)
    }
    case 'decimal': {
      if (file?.decimalScale === null && typeof v === 'number' && !Number.isInteger(v))
        return 'a floating-point number (expected a DECIMAL: a double cannot hold a decimal exactly)'
      const x = decimalValue(c, v, file?.decimalScale ?? null)
      if (typeof x === 'string') return `${x} (the value ${formatRaw(v)})`
      return storeDecimal(c, col, row, x)
    }
    case 'float32':
    case 'float64': {
      const x = typeof v === 'bigint' ? Number(v) : v
      if (typeof x !== 'number') return 'not a number'
      const out = col as Extract<ColumnData, { type: 'float64' }>
      out.values[row] = c.type === 'float32' ? Math.fround(x) : x
      out.valid[row] = 1
      return null
    }
    case 'boolean': {
      if (typeof v !== 'boolean') return 'not a BOOLEAN'
      const out = col as Extract<ColumnData, { type: 'bool' }>
      out.values[row] = v ? 1 : 0
      out.valid[row] = 1
      return null
    }
    case 'date': {
      if (typeof v !== 'number' || !Number.isInteger(v)) return 'not a DATE'
      ;(col as Extract<ColumnData, { type: 'date' }>).values[row] = v
      return null
    }
    case 'time': {
      const x = integer(v)
      if (x === null || file?.timeUnit === null || file === undefined) return 'not a TIME'
      const m = micros(x, file.timeUnit!)
      return m === null ? 'digits beyond the microsecond' : setInt64(col, row, m)
    }
    case 'timestamp':
    case 'timestamptz': {
      const t = v as RawTimestamp
      if (typeof v !== 'object' || v === null || typeof t.raw !== 'bigint') return 'not a TIMESTAMP'
      const m = micros(t.raw, t.unit)
      return m === null ? 'digits beyond the microsecond' : setInt64(col, row, m)
    }
    case 'binary': {
      if (!(v instanceof Uint8Array)) return 'not a BYTE_ARRAY'
      appendString(col as StringColumn, row, v)
      return null
    }
    case 'string':
    case 'json': {
      if (typeof v === 'string') appendText(col as StringColumn, row, v)
      else if (v instanceof Uint8Array) appendString(col as StringColumn, row, v)
      else return `not a string (${typeof v})`
      return null
    }
    case 'double':
      return 'computed columns are not read from DMS files'
  }
}

function formatRaw(v: unknown): string {
  if (v instanceof Uint8Array) return formatDecimal(readBigEndian(v, 0, v.length), 0)
  return String(v)
}
