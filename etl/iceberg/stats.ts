/**
 * A data file's manifest entry from its Parquet footer: record count, per-column value and NULL counts, and lower and
 * upper bounds in Iceberg's single-value serialization (spec, "Binary single-value serialization"), so engines prune
 * files. Read from the footer rather than the table in memory, so a publish that repairs a crash (or follows a Spark
 * run) finds the same numbers. Decimal bounds are left out: hyparquet gives its statistics as doubles.
 */
import { parquetMetadata } from 'hyparquet'
import type { TableSpec } from '../types.js'
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
