/**
 * How each column type is written in Parquet (issue 16's table): physical type, logical and converted type, and the
 * byte width of fixed-length decimals. The one place the writer, the encoder and the statistics ask.
 */
import { isWideDecimal } from '../table/column-types.js'
import type { ColumnSpec } from '../types.js'
import { bool, i8, i32, struct, type ThriftValue } from './thrift.js'

// Parquet physical types (parquet.thrift Type)
export const T_BOOLEAN = 0
export const T_INT32 = 1
export const T_INT64 = 2
export const T_FLOAT = 4
export const T_DOUBLE = 5
export const T_BYTE_ARRAY = 6
export const T_FIXED_LEN_BYTE_ARRAY = 7

// ConvertedType
const CT_UTF8 = 0
const CT_DECIMAL = 5
const CT_DATE = 6
const CT_TIMESTAMP_MICROS = 10
const CT_INT_16 = 16
const CT_INT_64 = 18
const CT_JSON = 19

export interface ParquetColumnType {
  physical: number
  typeLength?: number // FIXED_LEN_BYTE_ARRAY only
  converted?: number
  scale?: number
  precision?: number
  logical?: ThriftValue // the LogicalType union
}

/** Bytes of the smallest two's complement integer that holds every decimal of `precision` digits. */
export function decimalBytes(precision: number): number {
  const max = 10n ** BigInt(precision) - 1n
  let n = 1
  while (2n ** BigInt(8 * n - 1) <= max) n++
  return n
}

const MICROS = struct([[2, struct([])]]) // TimeUnit union: MICROS

/** The LogicalType union's TIME (7) or TIMESTAMP (8) in microseconds, adjusted to UTC or not. */
function micros(member: 7 | 8, utc: boolean): ThriftValue {
  return struct([
    [
      member,
      struct([
        [1, bool(utc)],
        [2, MICROS],
      ]),
    ],
  ])
}

export function parquetType(c: ColumnSpec): ParquetColumnType {
  switch (c.type) {
    case 'int16':
      return {
        physical: T_INT32,
        converted: CT_INT_16,
        logical: struct([
          [
            10,
            struct([
              [1, i8(16)],
              [2, bool(true)],
            ]),
          ],
        ]),
      }
    case 'int32':
      return { physical: T_INT32 }
    case 'int64':
      return {
        physical: T_INT64,
        converted: CT_INT_64,
        logical: struct([
          [
            10,
            struct([
              [1, i8(64)],
              [2, bool(true)],
            ]),
          ],
        ]),
      }
    case 'float32':
      return { physical: T_FLOAT }
    case 'float64':
    case 'double':
      return { physical: T_DOUBLE }
    case 'decimal': {
      const p = c.precision!
      const s = c.scale!
      const logical = struct([
        [
          5,
          struct([
            [1, i32(s)],
            [2, i32(p)],
          ]),
        ],
      ])
      const base = { converted: CT_DECIMAL, scale: s, precision: p, logical }
      if (p <= 9) return { physical: T_INT32, ...base }
      if (!isWideDecimal(c)) return { physical: T_INT64, ...base }
      return { physical: T_FIXED_LEN_BYTE_ARRAY, typeLength: decimalBytes(p), ...base }
    }
    case 'boolean':
      return { physical: T_BOOLEAN }
    case 'string':
      return { physical: T_BYTE_ARRAY, converted: CT_UTF8, logical: struct([[1, struct([])]]) }
    case 'json':
      return { physical: T_BYTE_ARRAY, converted: CT_JSON, logical: struct([[12, struct([])]]) }
    case 'binary':
      return { physical: T_BYTE_ARRAY }
    case 'date':
      return { physical: T_INT32, converted: CT_DATE, logical: struct([[6, struct([])]]) }
    case 'time':
      return { physical: T_INT64, logical: micros(7, false) }
    case 'timestamp':
      // No converted type: TIMESTAMP_MICROS means adjusted to UTC, which a timestamp without zone is not.
      return { physical: T_INT64, logical: micros(8, false) }
    case 'timestamptz':
      return { physical: T_INT64, converted: CT_TIMESTAMP_MICROS, logical: micros(8, true) }
  }
}
