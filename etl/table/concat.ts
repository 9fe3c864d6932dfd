/**
 * One table from several of the same spec, rows in order: a version written as several data files (etl/parquet/
 * files.ts) read back file by file. Each column is copied once into arrays of the total length.
 */
import type { ColumnData, StringColumn, Table } from '../types.js'
import { MAX_STRING_BYTES, newStringColumn, tooLarge } from './columns.js'

type Typed = Int32Array | Float64Array | BigInt64Array | Uint8Array

/** `parts`' first `lengths[i]` entries, one after another, in an array like the first one's. */
function joined<T extends Typed>(parts: T[], lengths: number[], total: number): T {
  const out = new (parts[0]!.constructor as new (n: number) => T)(total)
  let at = 0
  parts.forEach((p, i) => {
    out.set(p.subarray(0, lengths[i]!) as never, at)
    at += lengths[i]!
  })
  return out
}

function joinedStrings(parts: StringColumn[], lengths: number[], total: number): StringColumn {
  let size = 0
  parts.forEach((p, i) => {
    size += p.offsets[lengths[i]!]!
  })
  if (size > MAX_STRING_BYTES) tooLarge()
  const out = newStringColumn(total, size)
  let row = 0
  let base = 0
  parts.forEach((p, i) => {
    const n = lengths[i]!
    const bytes = p.offsets[n]!
    out.bytes.set(p.bytes.subarray(0, bytes), base)
    out.valid.set(p.valid.subarray(0, n), row)
    for (let r = 1; r <= n; r++) out.offsets[row + r] = p.offsets[r]! + base
    row += n
    base += bytes
  })
  return out
}

function joinedColumn(parts: ColumnData[], lengths: number[], total: number): ColumnData {
  const first = parts[0]!
  const kind = first.type
  if (parts.some((p) => p.type !== kind))
    throw new Error(`concatTables: a ${kind} column beside another kind`)
  switch (first.type) {
    case 'string':
      return joinedStrings(parts as StringColumn[], lengths, total)
    case 'date':
    case 'double':
      return {
        type: first.type,
        values: joined(
          parts.map((p) => (p as { values: Typed }).values),
          lengths,
          total,
        ),
      } as ColumnData
    case 'int32':
    case 'int64':
    case 'float64':
    case 'bool': {
      const typed = parts as { values: Typed; valid: Uint8Array }[]
      return {
        type: first.type,
        values: joined(
          typed.map((p) => p.values),
          lengths,
          total,
        ),
        valid: joined(
          typed.map((p) => p.valid),
          lengths,
          total,
        ),
      } as ColumnData
    }
    case 'dict':
      // Readers of Parquet never build dictionary columns (the merge does): nothing to join here.
      throw new Error('concatTables: dictionary columns are not joined')
  }
}

/** The rows of `tables` (one spec), in order, as one table; a single table is returned as it is. */
export function concatTables(tables: Table[]): Table {
  if (tables.length === 1) return tables[0]!
  if (tables.length === 0) throw new Error('concatTables: no table')
  const spec = tables[0]!.spec
  const lengths = tables.map((t) => t.length)
  const total = lengths.reduce((a, b) => a + b, 0)
  return {
    spec,
    length: total,
    columns: spec.columns.map((_, c) =>
      joinedColumn(
        tables.map((t) => t.columns[c]!),
        lengths,
        total,
      ),
    ),
  }
}
