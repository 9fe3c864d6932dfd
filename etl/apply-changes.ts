/**
 * The merge: applies parsed DMS change files, in order, to a keyed table.
 *
 * Semantics (issue 2): for each key only the last change counts. I or U sets the row to the change's values (I on a
 * present key replaces it, U on a missing key inserts it); D removes the key (D on a missing key does nothing).
 * Counts are taken per file, each relative to the table just before that row.
 *
 * The working table is columnar and append-only (string columns are bytes back to back, so a row cannot be
 * rewritten in place): an I or U appends the new row and retires the key's old one, a D clears a liveness byte.
 * At the end the live rows are gathered in key order; the base rows already are, so only the appended tail is sorted.
 */
import {
  appendDictRows,
  BytesDictionary,
  dictionaryEncodeColumns,
  expandDict,
  normalForm,
} from './bytes-dictionary.js'
import { appendRow, compareStringRows, ensureCapacity, stringAt } from './column-builder.js'
import { at, InputError } from './errors.js'
import { type KeyIndex, newKeyIndex, sortedKeyIndex } from './key-index.js'
import { stableSortByInt32 } from './sort.js'
import { keyIndex } from './table-spec.js'
import { takeRows } from './take-rows.js'
import type { ColumnData, DictColumn, OpCounts, ParsedFile, StringColumn, Table, TableSpec } from './types.js'
import { OP_DELETE, OP_INSERT } from './types.js'

/** A table being merged into. Owns its column arrays (they may be longer than `length`: capacity). */
export interface MergeState {
  table: Table // all rows ever placed, live or not
  alive: Uint8Array // 1 = the row is in the table
  index: KeyIndex // key -> row (the row may be dead)
  key: number // index of the key column
  lookups: BytesDictionary[] // per dictionary column, its entries as a hash table (made on first use)
}

export function zeroCounts(): OpCounts {
  return { inserts: 0, replaces: 0, updates: 0, upsertsOfMissing: 0, deletes: 0, deletesOfMissing: 0 }
}

function keyOf(col: ColumnData, row: number): number | string {
  return col.type === 'string' ? (stringAt(col, row) as string) : (col as { values: Int32Array }).values[row]!
}

function aliveRows(n: number): Uint8Array {
  const alive = new Uint8Array(Math.max(n, 1024))
  alive.fill(1, 0, n)
  return alive
}

/** Starts a merge from an existing table (the previous version). Takes ownership of its arrays. */
export function startMerge(base: Table): MergeState {
  const key = keyIndex(base.spec)
  const keyCol = base.columns[key]!
  let index = sortedKeyIndex(keyCol, base.length) // a version is stored in key order
  if (index === null) {
    index = newKeyIndex(keyCol, base.length)
    for (let r = 0; r < base.length; r++) index.set(keyOf(keyCol, r), r)
  }
  return { table: { ...base }, alive: aliveRows(base.length), index, key, lookups: [] }
}

/**
 * Unions the parts of a full load into a merge state. A key that appears twice, in one part or across parts, is
 * an error naming both places: the rows of a load are a set, and picking one would be a guess.
 */
export function startFromFullLoad(spec: TableSpec, parts: ParsedFile[]): MergeState {
  const total = parts.reduce((n, p) => n + p.rows.length, 0)
  const table = concatTables(
    spec,
    parts.map((p) => p.rows),
    total,
  )
  const key = keyIndex(spec)
  const keyCol = table.columns[key]!
  // Strictly ascending keys (DMS unloads a table in key order) hold no duplicate: no hash index to build.
  const sorted = sortedKeyIndex(keyCol, total)
  if (sorted) return { table, alive: aliveRows(total), index: sorted, key, lookups: [] }
  const index = newKeyIndex(keyCol, total)
  let base = 0
  for (const part of parts) {
    for (let r = 0; r < part.rows.length; r++) {
      const k = keyOf(keyCol, base + r)
      const first = index.get(k)
      if (first >= 0) {
        const where = locate(parts, first)
        const loc = { file: part.file, line: part.lines[r]!, column: key + 1 }
        throw new InputError(
          'duplicate_key',
          `dms csv: duplicate key ${spec.primaryKey}=${k} in the full load${at(loc)} (first seen${at(where)}; expected each key once across all LOAD files)`,
          loc,
        )
      }
      index.set(k, base + r)
    }
    base += part.rows.length
  }
  return { table, alive: aliveRows(total), index, key, lookups: [] }
}

function locate(parts: ParsedFile[], row: number): { file: string; line: number } {
  for (const p of parts) {
    if (row < p.rows.length) return { file: p.file, line: p.lines[row]! }
    row -= p.rows.length
  }
  throw new Error('row outside the full load') // unreachable: rows come from these parts
}

/** Concatenates tables of one spec; a single table is returned as is (no copy). */
function concatTables(spec: TableSpec, tables: Table[], total: number): Table {
  if (tables.length === 1) return tables[0]!
  const columns: ColumnData[] = spec.columns.map((c, ci): ColumnData => {
    const kinds = tables.map((t) => t.columns[ci]!.type)
    if (kinds.every((k) => k === 'dict')) {
      // Every part dictionary-encoded (the parallel reader): codes re-coded into the first part's dictionary.
      const first = tables[0]!.columns[ci] as DictColumn
      const out: DictColumn = { ...first, codes: new Int32Array(total) }
      out.codes.set(first.codes.subarray(0, tables[0]!.length))
      const dict = BytesDictionary.of(first)
      let row = tables[0]!.length
      for (const t of tables.slice(1)) {
        appendDictRows(out, dict, t.columns[ci] as DictColumn, row, t.length)
        row += t.length
      }
      return out
    }
    if (c.type === 'string') {
      const parts = tables.map((t) => {
        const col = t.columns[ci]!
        return col.type === 'dict' ? expandDict(col, t.length) : (col as StringColumn)
      })
      const size = parts.reduce((n, p, i) => n + p.offsets[tables[i]!.length]!, 0)
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
    const values = new Int32Array(total)
    const valid = new Uint8Array(total)
    let o = 0
    for (const t of tables) {
      const src = t.columns[ci]!
      values.set((src as { values: Int32Array }).values.subarray(0, t.length), o)
      if (src.type === 'int32') valid.set(src.valid.subarray(0, t.length), o)
      o += t.length
    }
    return c.type === 'date' ? { type: 'date', values } : { type: 'int32', values, valid }
  })
  return { spec, length: total, columns }
}

/** Applies row `r` of a change file to the state and counts what it did, relative to the table just before it. */
export function applyChange(state: MergeState, changes: ParsedFile, r: number, counts: OpCounts): void {
  const src = changes.rows.columns
  const k = keyOf(src[state.key]!, r)
  const { index, alive } = state
  const row = index.get(k)
  const present = row >= 0 && alive[row] === 1
  const op = changes.ops![r]!
  if (op === OP_DELETE) {
    if (present) {
      alive[row] = 0
      counts.deletes++
    } else counts.deletesOfMissing++
    return
  }
  if (present) {
    if (op === OP_INSERT) counts.replaces++
    else counts.updates++
    alive[row] = 0
  } else if (op === OP_INSERT) counts.inserts++
  else counts.upsertsOfMissing++
  const to = state.table.length
  if (to >= state.alive.length) {
    const grown = new Uint8Array(Math.max(state.alive.length * 2, 1024))
    grown.set(state.alive)
    state.alive = grown
  }
  ensureCapacity(state.table.columns, to + 1)
  appendRow(src, r, state.table.columns, to, (c) => {
    state.lookups[c] ??= BytesDictionary.of(state.table.columns[c] as DictColumn)
    return state.lookups[c]
  })
  state.alive[to] = 1
  index.set(k, to)
  state.table = { ...state.table, length: to + 1 }
}

/** Applies one change file to the state, in row order; returns what its rows did. */
export function applyChangeFile(state: MergeState, changes: ParsedFile): OpCounts {
  if (changes.ops === null) throw new Error(`${changes.file} has no Op column`) // unreachable: change files have one
  const counts = zeroCounts()
  for (let r = 0; r < changes.rows.length; r++) applyChange(state, changes, r, counts)
  return counts
}

/**
 * Applies the rows of several change files in the order of a per-row sequence (DMS's `$AR_H_CHANGE_SEQ` or commit
 * timestamp column): ascending by `compare`, ties broken by file order then row order. Counts go to each row's file.
 */
export function applyInSequence(
  state: MergeState,
  files: ParsedFile[],
  compare: (a: string, b: string) => number,
): OpCounts[] {
  const rows: { f: number; r: number; seq: string }[] = []
  files.forEach((p, f) => {
    for (let r = 0; r < p.rows.length; r++) rows.push({ f, r, seq: p.sequence![r]! })
  })
  // Array.prototype.sort is stable: equal sequences keep file order, then row order.
  rows.sort((a, b) => compare(a.seq, b.seq))
  const counts = files.map(() => zeroCounts())
  for (const { f, r } of rows) applyChange(state, files[f]!, r, counts[f]!)
  return counts
}

/** Compares the keys of two rows of the working table. */
function keyComparator(keyCol: ColumnData): (a: number, b: number) => number {
  if (keyCol.type === 'string') return (a, b) => compareStringRows(keyCol, a, b)
  const v = (keyCol as { values: Int32Array }).values
  return (a, b) => v[a]! - v[b]!
}

/**
 * The live rows, ordered by key ascending, with their string columns in normal form (bytes-dictionary.ts
 * normalForm: what the writer, the features step and the snapshot take). The rows are usually a sorted run (the
 * previous version or the full load) followed by a short appended tail (the changes): only the tail is sorted, then
 * the two are merged.
 */
export function finishMerge(state: MergeState): Table {
  const { table, alive } = state
  const keyCol = table.columns[state.key]!
  const compare = keyComparator(keyCol)
  let live = 0
  for (let r = 0; r < table.length; r++) live += alive[r]!
  const order = new Int32Array(live)
  for (let r = 0, o = 0; r < table.length; r++) if (alive[r] === 1) order[o++] = r
  // The longest sorted prefix of live rows.
  let p = 1
  while (p < live && compare(order[p - 1]!, order[p]!) < 0) p++
  if (p >= live) {
    if (live === table.length) return dictionaryEncodeColumns(table, state.key)
    return takeLiveRows(table, order, state.key)
  }
  // Keys of live rows are unique, so any sort of the tail is a stable one.
  let tail: Int32Array = order.slice(p)
  if (keyCol.type === 'string') tail = Int32Array.from(Array.from(tail).sort(compare))
  else tail = stableSortByInt32(tail, (keyCol as { values: Int32Array }).values)
  const merged = new Int32Array(live)
  let i = 0
  let j = 0
  let o = 0
  while (i < p && j < tail.length) merged[o++] = compare(order[i]!, tail[j]!) < 0 ? order[i++]! : tail[j++]!
  while (i < p) merged[o++] = order[i++]!
  while (j < tail.length) merged[o++] = tail[j++]!
  return takeLiveRows(table, merged, state.key)
}

/** The rows `order` of `table` in normal form; dictionary columns are gathered and recoded in one pass. */
function takeLiveRows(table: Table, order: Int32Array, key: number): Table {
  const plain = table.columns.flatMap((c, i) => (c.type === 'dict' ? [] : [i]))
  const taken = takeRows({ ...table, columns: plain.map((i) => table.columns[i]!) }, order)
  const columns = table.columns.map((c, i) => {
    if (c.type === 'dict') return normalForm(c, order.length, order)
    const t = taken.columns[plain.indexOf(i)]!
    return i === key ? t : normalForm(t, order.length)
  })
  return { spec: table.spec, length: order.length, columns }
}
