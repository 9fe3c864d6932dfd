/**
 * One table from several of one spec, rows in order: the parts of a full load (etl/apply-changes.ts), and a version
 * written as several data files (etl/parquet/files.ts) read back file by file. Each column is copied once.
 */
import type { ColumnData, DictColumn, StringColumn, Table, TableSpec } from '../types.js'
import { storageOf } from './column-types.js'
import { MAX_STRING_BYTES, newColumn, tooLarge } from './columns.js'
import { appendDictRows, BytesDictionary, expandDict } from './dictionary.js'

/** The rows of `tables` (all of `spec`), in order, as one table; a single table is returned as it is (no copy). */
export function concatTables(spec: TableSpec, tables: Table[]): Table {
  if (tables.length === 1) return tables[0]!
  const total = tables.reduce((n, t) => n + t.length, 0)
  const columns = spec.columns.map((c, ci): ColumnData => {
    const parts = tables.map((t) => t.columns[ci]!)
    if (parts.every((p) => p.type === 'dict')) return joinDicts(parts as DictColumn[], tables, total)
    if (storageOf(c) === 'string')
      return joinStrings(
        parts.map((p, i) => (p.type === 'dict' ? expandDict(p, tables[i]!.length) : (p as StringColumn))),
        tables,
        total,
      )
    const out = newColumn(c, total)
    let o = 0
    parts.forEach((p, i) => {
      if (p.type !== out.type) throw new Error(`concatTables: a ${p.type} part for a ${out.type} column`)
      const n = tables[i]!.length
      const src = p as { values: Int32Array; valid?: Uint8Array }
      ;(out as { values: Int32Array }).values.set(src.values.subarray(0, n), o)
      if (src.valid) (out as { valid: Uint8Array }).valid.set(src.valid.subarray(0, n), o)
      o += n
    })
    return out
  })
  return { spec, length: total, columns }
}

/** Every part dictionary-encoded (the parallel reader): codes re-coded into the first part's dictionary. */
function joinDicts(parts: DictColumn[], tables: Table[], total: number): DictColumn {
  const first = parts[0]!
  const out: DictColumn = { ...first, codes: new Int32Array(total) }
  out.codes.set(first.codes.subarray(0, tables[0]!.length))
  const dict = BytesDictionary.of(first)
  let row = tables[0]!.length
  for (let i = 1; i < parts.length; i++) {
    appendDictRows(out, dict, parts[i]!, row, tables[i]!.length)
    row += tables[i]!.length
  }
  return out
}

function joinStrings(parts: StringColumn[], tables: Table[], total: number): StringColumn {
  const size = parts.reduce((n, p, i) => n + p.offsets[tables[i]!.length]!, 0)
  if (size > MAX_STRING_BYTES) tooLarge() // int32 offsets
  const bytes = new Uint8Array(size)
  const offsets = new Int32Array(total + 1)
  const valid = new Uint8Array(total)
  let row = 0
  let at = 0
  parts.forEach((p, i) => {
    const len = tables[i]!.length
    const used = p.offsets[len]!
    bytes.set(p.bytes.subarray(0, used), at)
    for (let r = 0; r < len; r++) offsets[row + r + 1] = p.offsets[r + 1]! + at
    valid.set(p.valid.subarray(0, len), row)
    row += len
    at += used
  })
  return { type: 'string', bytes, offsets, valid }
}
