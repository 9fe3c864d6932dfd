/**
 * A data file's manifest entry from its Parquet footer: record count, per-column value and NULL counts, and lower and
 * upper bounds in Iceberg's single-value serialization (spec, "Binary single-value serialization"), so engines prune
 * files. Read from the footer rather than the table in memory, so a publish that repairs a crash (or follows a Spark
 * run) finds the same numbers. Decimal bounds come from the footer's raw statistics (hyparquet turns them into
 * doubles, which would round a bound past a value and let a reader skip a file that holds it).
 */
import { parquetMetadata } from 'hyparquet'
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js'
import { parquetType, T_FIXED_LEN_BYTE_ARRAY, T_INT32 } from '../parquet/schema.js'
import type { ColumnSpec, TableSpec } from '../types.js'
import type { DataFileEntry } from './avro.js'
import { icebergType } from './schema.js'

const RAW = {
  stringFromBytes: (b: Uint8Array) => b,
  jsonFromBytes: (b: Uint8Array) => b,
  dateFromDays: (d: number) => d,
  timestampFromMilliseconds: (v: bigint) => BigInt(v) * 1000n,
  timestampFromMicroseconds: (v: bigint) => BigInt(v),
  timestampFromNanoseconds: (v: bigint) => BigInt(v) / 1000n,
}

type Stat = number | bigint | boolean | Uint8Array

function compare(a: Stat, b: Stat): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
    return a.length - b.length
  }
  const x = typeof a === 'boolean' ? Number(a) : a
  const y = typeof b === 'boolean' ? Number(b) : b
  return x < y ? -1 : x > y ? 1 : 0
}

/** The single-value serialization of a statistic of an Iceberg type, or null when it is not serialized here. */
function serialize(type: string, v: Stat): Uint8Array | null {
  const buf = new DataView(new ArrayBuffer(8))
  switch (type) {
    case 'int':
    case 'date':
      buf.setInt32(0, Number(v), true)
      return new Uint8Array(buf.buffer, 0, 4)
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      buf.setBigInt64(0, BigInt(v as bigint | number), true)
      return new Uint8Array(buf.buffer, 0, 8)
    case 'float':
      buf.setFloat32(0, Number(v), true)
      return new Uint8Array(buf.buffer, 0, 4)
    case 'double':
      buf.setFloat64(0, Number(v), true)
      return new Uint8Array(buf.buffer, 0, 8)
    case 'boolean':
      return Uint8Array.of(v ? 1 : 0)
    case 'string':
    case 'binary':
      return v instanceof Uint8Array ? v : null
    default:
      return null // decimal(p, s): see the header
  }
}

/** Each column chunk's raw min and max statistics (plain-encoded bytes), by column name, per row group. */
function rawStatistics(bytes: Uint8Array): Map<string, { min?: Uint8Array; max?: Uint8Array }[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const length = view.getUint32(bytes.length - 8, true)
  const footer = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8 - length, length)
  const meta = deserializeTCompactProtocol({ view: footer, offset: 0 })
  const out = new Map<string, { min?: Uint8Array; max?: Uint8Array }[]>()
  const text = new TextDecoder()
  for (const group of (meta.field_4 ?? []) as { field_1: { field_3?: Record<string, unknown> }[] }[])
    for (const chunk of group.field_1) {
      const m = chunk.field_3 as {
        field_3: Uint8Array[]
        field_12?: { field_5?: Uint8Array; field_6?: Uint8Array }
      }
      const name = m.field_3.map((p) => text.decode(p)).join('.')
      const list = out.get(name) ?? []
      list.push({ min: m.field_12?.field_6, max: m.field_12?.field_5 })
      out.set(name, list)
    }
  return out
}

/** The unscaled value of a plain-encoded decimal statistic of column `c` (INT32, INT64 or big-endian fixed bytes). */
function unscaled(c: ColumnSpec, b: Uint8Array): bigint {
  const physical = parquetType(c).physical
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  if (physical === T_INT32) return BigInt(view.getInt32(0, true))
  if (physical !== T_FIXED_LEN_BYTE_ARRAY) return view.getBigInt64(0, true)
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  return b.length > 0 && b[0]! & 0x80 ? v - (1n << BigInt(8 * b.length)) : v
}

/** Iceberg's decimal serialization: the unscaled value as big-endian two's complement in the fewest bytes. */
function decimalBytes(v: bigint): Uint8Array {
  const out: number[] = []
  for (;;) {
    out.unshift(Number(v & 0xffn))
    const rest = v >> 8n // arithmetic shift: -1 stays -1
    const sign = (out[0]! & 0x80) !== 0
    if ((rest === 0n && !sign) || (rest === -1n && sign)) return Uint8Array.from(out)
    v = rest
  }
}

/** The lower and upper decimal bounds of column `c` over its row groups, or null when a group has none. */
function decimalBounds(
  c: ColumnSpec,
  groups: { min?: Uint8Array; max?: Uint8Array }[] | undefined,
  allNull: boolean[],
): [Uint8Array, Uint8Array] | null {
  let lo: bigint | undefined
  let hi: bigint | undefined
  for (const [i, g] of (groups ?? []).entries()) {
    if (allNull[i]) continue
    if (!g.min || !g.max) return null
    const [a, b] = [unscaled(c, g.min), unscaled(c, g.max)]
    if (lo === undefined || a < lo) lo = a
    if (hi === undefined || b > hi) hi = b
  }
  return lo === undefined || hi === undefined ? null : [decimalBytes(lo), decimalBytes(hi)]
}

/** The manifest entry of the Parquet file `bytes` of table `spec`, stored at `path` (an absolute URI). */
export function dataFileEntry(bytes: Uint8Array, spec: TableSpec, path: string): DataFileEntry {
  const meta = parquetMetadata(bytes, { parsers: RAW })
  const records = Number(meta.num_rows)
  const entry: DataFileEntry = {
    path,
    records,
    size: bytes.length,
    valueCounts: new Map(),
    nullCounts: new Map(),
    nanCounts: new Map(),
    lower: new Map(),
    upper: new Map(),
  }
  let raw: ReturnType<typeof rawStatistics> | undefined // read once, for decimal columns only
  spec.columns.forEach((c, ci) => {
    const id = ci + 1
    const type = icebergType(c)
    entry.valueCounts.set(id, records)
    let nulls = 0
    let lo: Stat | undefined
    let hi: Stat | undefined
    let bounded = true
    for (const g of meta.row_groups) {
      const chunk = g.columns.find((x) => x.meta_data?.path_in_schema.join('.') === c.name)?.meta_data
      const s = chunk?.statistics
      if (!s || s.null_count === undefined) {
        bounded = false
        nulls = Number.NaN
        continue
      }
      nulls += Number(s.null_count)
      const min = (s.min_value ?? undefined) as Stat | undefined
      const max = (s.max_value ?? undefined) as Stat | undefined
      if (Number(g.num_rows) - Number(s.null_count) === 0) continue // all NULL: no bound from this group
      if (min === undefined || max === undefined) {
        bounded = false
        continue
      }
      if (lo === undefined || compare(min, lo) < 0) lo = min
      if (hi === undefined || compare(max, hi) > 0) hi = max
    }
    if (!Number.isNaN(nulls)) entry.nullCounts.set(id, nulls)
    if (c.type === 'decimal') {
      raw ??= rawStatistics(bytes)
      const allNull = meta.row_groups.map((g) => {
        const s = g.columns.find((x) => x.meta_data?.path_in_schema.join('.') === c.name)?.meta_data
          ?.statistics
        return s?.null_count !== undefined && Number(s.null_count) === Number(g.num_rows)
      })
      const bounds = bounded ? decimalBounds(c, raw.get(c.name), allNull) : null
      if (bounds) {
        entry.lower.set(id, bounds[0])
        entry.upper.set(id, bounds[1])
      }
      return
    }
    if (!bounded || lo === undefined || hi === undefined) return
    const l = serialize(type, lo)
    const u = serialize(type, hi)
    if (l && u) {
      entry.lower.set(id, l)
      entry.upper.set(id, u)
    }
  })
  return entry
}
