/**
 * Primary keys of any type and width: the value the merge's index is keyed by, the order rows are published in, and
 * the key as a user reads it in errors. A single int32 key stays a number (the typed index and radix sort), a
 * single int64-stored key a bigint (a typed index too); every other key (int64, text, decimals, timestamps, composite) is one string that is equal exactly when the keys are.
 */
import { Buffer } from 'node:buffer'
import type { ColumnData, ColumnSpec, StringColumn, TableSpec } from '../types.js'
import { isWideDecimal, storageOf } from './column-types.js'
import { compareStringsAt } from './columns.js'
import { keyColumns } from './spec.js'

/** How a table's key is read: its columns (in key order) and whether it is one of the typed fast paths. */
export interface KeyShape {
  columns: number[] // column indexes, in key order
  int32: boolean // one int32-stored column: keys are numbers
  int64: boolean // one int64-stored column (int64, timestamps, time, decimals p ≤ 18): keys are bigints
}

export function keyShape(spec: TableSpec): KeyShape {
  const columns = keyColumns(spec)
  const only = columns.length === 1 ? spec.columns[columns[0]!]! : null
  const kind = only === null ? null : storageOf(only)
  return { columns, int32: kind === 'int32', int64: kind === 'int64' }
}

/** Bytes [s, e) of a string-stored value, as a string with one char per byte (exact for any bytes). */
function bytesKey(c: StringColumn, row: number): string {
  const b = c.bytes
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString(
    'latin1',
    c.offsets[row]!,
    c.offsets[row + 1]!,
  )
}

/** One key column's value at `row` as a string (equal exactly when the values are), or null when it is NULL. */
function partKey(c: ColumnData, row: number): string | null {
  switch (c.type) {
    case 'int32':
    case 'int64':
    case 'float64':
    case 'bool':
      return c.valid[row] === 1 ? String(c.values[row]) : null
    case 'date':
      return c.values[row] === -0x80000000 ? null : String(c.values[row])
    case 'double':
      return String(c.values[row])
    case 'string':
      return c.valid[row] === 1 ? bytesKey(c, row) : null
    case 'dict': {
      const code = c.codes[row]!
      return code < 0 ? null : bytesKey(c.entries, code)
    }
  }
}

/**
 * The key of row `row` of `columns`: a number for the int32 fast path, else a string; null when a key column is
 * NULL (the readers refuse such rows before they reach the merge).
 */
export function keyAt(shape: KeyShape, columns: ColumnData[], row: number): number | bigint | string | null {
  if (shape.int32) {
    const c = columns[shape.columns[0]!]!
    return c.type === 'int32' && c.valid[row] === 1 ? c.values[row]! : null
  }
  if (shape.int64) {
    const c = columns[shape.columns[0]!]!
    return c.type === 'int64' && c.valid[row] === 1 ? c.values[row]! : null
  }
  if (shape.columns.length === 1) return partKey(columns[shape.columns[0]!]!, row)
  let out = ''
  for (const ci of shape.columns) {
    const p = partKey(columns[ci]!, row)
    if (p === null) return null
    out += `${p.length}:${p}` // length-prefixed: ("a:b", "c") and ("a", "b:c") stay apart
  }
  return out
}

/** The name of the first key column that is NULL at `row`, or null when none is. */
export function nullKeyColumn(
  spec: TableSpec,
  shape: KeyShape,
  columns: ColumnData[],
  row: number,
): string | null {
  for (const ci of shape.columns) if (partKey(columns[ci]!, row) === null) return spec.columns[ci]!.name
  return null
}

/** Compares present values of one column at two rows, in the value order of its type. */
function compareValues(spec: ColumnSpec, a: ColumnData, x: number, b: ColumnData, y: number): number {
  if (a.type === 'string' && b.type === 'string') {
    if (isWideDecimal(spec)) {
      // Two's complement, big-endian: the sign byte compares as signed, the rest as unsigned bytes.
      const d = ((a.bytes[a.offsets[x]!]! ^ 0x80) - (b.bytes[b.offsets[y]!]! ^ 0x80)) | 0
      if (d !== 0) return d
    }
    return compareStringsAt(a, x, b, y)
  }
  if (a.type === 'dict' || b.type === 'dict') {
    const sa = a.type === 'dict' ? a.entries : (a as StringColumn)
    const sb = b.type === 'dict' ? b.entries : (b as StringColumn)
    const xa = a.type === 'dict' ? a.codes[x]! : x
    const yb = b.type === 'dict' ? b.codes[y]! : y
    return compareStringsAt(sa, xa, sb, yb)
  }
  const va = (a as { values: ArrayLike<number | bigint> }).values[x]!
  const vb = (b as { values: ArrayLike<number | bigint> }).values[y]!
  return va < vb ? -1 : va > vb ? 1 : 0
}

/**
 * Compares the keys of rows of two tables seen as one (rows below `n` from `a`, the rest from `b`): column by
 * column in key order.
 */
export function keyComparator2(
  spec: TableSpec,
  shape: KeyShape,
  a: ColumnData[],
  n: number,
  b: ColumnData[],
): (x: number, y: number) => number {
  const cols = shape.columns
  return (x, y) => {
    const ta = x < n ? a : b
    const tb = y < n ? a : b
    const rx = x < n ? x : x - n
    const ry = y < n ? y : y - n
    for (const ci of cols) {
      const d = compareValues(spec.columns[ci]!, ta[ci]!, rx, tb[ci]!, ry)
      if (d !== 0) return d
    }
    return 0
  }
}

/** The key of a row as a user reads it: `user_id=7` or `(order_id, line_no)=(7, 2)`. */
export function keyText(spec: TableSpec, shape: KeyShape, columns: ColumnData[], row: number): string {
  const parts = shape.columns.map((ci) => {
    const p = partKey(columns[ci]!, row)
    const c = columns[ci]!
    return p !== null && (c.type === 'string' || c.type === 'dict')
      ? Buffer.from(p, 'latin1').toString('utf8')
      : p
  })
  return shape.columns.length === 1
    ? `${spec.primaryKey[0]}=${parts[0]}`
    : `(${spec.primaryKey.join(', ')})=(${parts.join(', ')})`
}
