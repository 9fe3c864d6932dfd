import type { ColumnData, ColumnSpec, StringValues, Table } from './types.js'
import { NULL_DATE } from './types.js'

/** A growable column: the same shape as ColumnData, its typed arrays longer than the row count (capacity). */
export type ColumnBuilder = ColumnData

export function newColumn(col: ColumnSpec, capacity: number): ColumnBuilder {
  switch (col.type) {
    case 'int32':
      return { type: 'int32', values: new Int32Array(capacity), valid: new Uint8Array(capacity) }
    case 'date':
      return { type: 'date', values: new Int32Array(capacity).fill(NULL_DATE) }
    case 'double':
      return { type: 'double', values: new Float64Array(capacity) }
    case 'string':
      return { type: 'string', values: [] }
  }
}

/** Makes room for at least `needed` rows in every typed column, doubling so appends stay amortised O(1). */
export function ensureCapacity(columns: ColumnBuilder[], needed: number): void {
  for (const c of columns) {
    if (c.type === 'string' || c.values.length >= needed) continue
    const cap = Math.max(needed, c.values.length * 2, 1024)
    if (c.type === 'double') {
      const values = new Float64Array(cap)
      values.set(c.values)
      c.values = values
      continue
    }
    const values = new Int32Array(cap)
    values.set(c.values)
    if (c.type === 'date') values.fill(NULL_DATE, c.values.length)
    else {
      const valid = new Uint8Array(cap)
      valid.set(c.valid)
      c.valid = valid
    }
    c.values = values
  }
}

/** Copies row `from` of `src` into row `to` of `dst` (same spec); `dst` must have the capacity. */
export function copyRow(src: ColumnData[], from: number, dst: ColumnData[], to: number): void {
  for (let c = 0; c < src.length; c++) {
    const s = src[c]!
    const d = dst[c]!
    if (s.type === 'string') (d.values as StringValues)[to] = s.values[from] ?? null
    else {
      ;(d.values as Int32Array | Float64Array)[to] = s.values[from]!
      if (s.type === 'int32') (d as { valid: Uint8Array }).valid[to] = s.valid[from]!
    }
  }
}

/** Gathers one column's rows listed in `order`, in that order. */
export function takeColumn(c: ColumnData, order: ArrayLike<number>, length = order.length): ColumnData {
  switch (c.type) {
    case 'string': {
      const out: StringValues = new Array(length)
      const src = c.values
      for (let i = 0; i < length; i++) out[i] = src[order[i]!] ?? null
      return { type: 'string', values: out }
    }
    case 'double': {
      const values = new Float64Array(length)
      for (let i = 0; i < length; i++) values[i] = c.values[order[i]!]!
      return { type: 'double', values }
    }
    case 'date': {
      const values = new Int32Array(length)
      for (let i = 0; i < length; i++) values[i] = c.values[order[i]!]!
      return { type: 'date', values }
    }
    case 'int32': {
      const values = new Int32Array(length)
      const valid = new Uint8Array(length)
      for (let i = 0; i < length; i++) {
        values[i] = c.values[order[i]!]!
        valid[i] = c.valid[order[i]!]!
      }
      return { type: 'int32', values, valid }
    }
  }
}

/** A new table holding the rows of `src` listed in `order`, in that order (a gather). */
export function takeRows(src: Table, order: ArrayLike<number>, length = order.length): Table {
  return { spec: src.spec, length, columns: src.columns.map((c) => takeColumn(c, order, length)) }
}
