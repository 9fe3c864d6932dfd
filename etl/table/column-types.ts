/**
 * What each column type is: its config name, how the engine stores it, and which types may be keys. The one place
 * that decides types; the codecs (CSV, DMS Parquet, the Parquet writer, the catalog, rendering) switch on these.
 */
import { ConfigError } from '../errors.js'
import type { ColumnData, ColumnSpec, ColumnType } from '../types.js'

/** The storage kind of a column (ColumnData['type'] before dictionary encoding). */
export type StorageKind = 'int32' | 'int64' | 'float64' | 'bool' | 'date' | 'string' | 'double'

/** Config type names, as a user writes them (`decimal(p,s)` is parsed apart). */
export const CONFIG_TYPES = [
  'int16',
  'int32',
  'int64',
  'float32',
  'float64',
  'decimal(p,s)',
  'boolean',
  'string',
  'json',
  'binary',
  'date',
  'time',
  'timestamp',
  'timestamptz',
] as const

/** Decimals up to this precision fit an int64 unscaled value (Parquet's INT64 DECIMAL limit). */
export const INT64_DECIMAL_DIGITS = 18
/** A wide decimal's unscaled value: 16 bytes, big-endian two's complement (precision 38 needs 127 bits). */
export const WIDE_DECIMAL_BYTES = 16

export function storageOf(c: ColumnSpec): StorageKind {
  switch (c.type) {
    case 'int16':
    case 'int32':
      return 'int32'
    case 'int64':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return 'int64'
    case 'decimal':
      return c.precision! <= INT64_DECIMAL_DIGITS ? 'int64' : 'string'
    case 'float32':
    case 'float64':
      return 'float64'
    case 'boolean':
      return 'bool'
    case 'date':
      return 'date'
    case 'string':
    case 'json':
    case 'binary':
      return 'string'
    case 'double':
      return 'double'
  }
}

/** True when the column's data kind is stored as bytes whose order is the values' order (text, binary). */
export function isText(c: ColumnSpec): boolean {
  return c.type === 'string' || c.type === 'json'
}

/** A decimal held as 16 bytes rather than an int64. */
export function isWideDecimal(c: ColumnSpec): boolean {
  return c.type === 'decimal' && c.precision! > INT64_DECIMAL_DIGITS
}

/** The type as a user writes it: `decimal(12,2)`, `int64`. */
export function typeName(c: ColumnSpec): string {
  return c.type === 'decimal' ? `decimal(${c.precision},${c.scale})` : c.type
}

const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/

/** A column's type from its config name; `where` names the field in errors. */
export function parseColumnType(name: string, value: unknown, where: string): ColumnSpec {
  if (typeof value === 'string') {
    const d = DECIMAL.exec(value)
    if (d) {
      const precision = Number(d[1])
      const scale = Number(d[2])
      if (precision < 1 || precision > 38 || scale > precision)
        throw new ConfigError(
          'bad_config',
          `config: ${where} ${value} is out of range (expected decimal(p,s) with 1 <= p <= 38 and 0 <= s <= p)`,
        )
      return { name, type: 'decimal', precision, scale }
    }
    if ((CONFIG_TYPES as readonly string[]).includes(value) && value !== 'decimal(p,s)')
      return { name, type: value as ColumnType }
  }
  throw new ConfigError(
    'bad_config',
    `config: ${where} must be one of ${CONFIG_TYPES.join(', ')}, got ${JSON.stringify(value)}`,
  )
}

/** Why a column cannot be part of a primary key, or null when it can. */
export function keyProblem(c: ColumnSpec): string | null {
  switch (c.type) {
    case 'float32':
    case 'float64':
    case 'double':
      return 'floats compare inexactly (NaN, -0)'
    case 'binary':
    case 'json':
      return `${c.type} values are not keys`
    default:
      return null
  }
}

/** An empty column of the column's storage kind, with room for `capacity` rows (all NULL). */
export function emptyColumnData(c: ColumnSpec, capacity: number): ColumnData {
  switch (storageOf(c)) {
    case 'int32':
      return { type: 'int32', values: new Int32Array(capacity), valid: new Uint8Array(capacity) }
    case 'int64':
      return { type: 'int64', values: new BigInt64Array(capacity), valid: new Uint8Array(capacity) }
    case 'float64':
      return { type: 'float64', values: new Float64Array(capacity), valid: new Uint8Array(capacity) }
    case 'bool':
      return { type: 'bool', values: new Uint8Array(capacity), valid: new Uint8Array(capacity) }
    case 'date':
      return { type: 'date', values: new Int32Array(capacity).fill(-0x80000000) }
    case 'double':
      return { type: 'double', values: new Float64Array(capacity) }
    case 'string':
      return {
        type: 'string',
        bytes: new Uint8Array(Math.max(capacity * 8, 64)),
        offsets: new Int32Array(capacity + 1),
        valid: new Uint8Array(capacity),
      }
  }
}
