/**
 * The merge: applies parsed DMS change files, in order, to a keyed table.
 *
 * Semantics: for each key only the last change counts. I or U sets the row to the change's values (I on a
 * present key replaces it, U on a missing key inserts it); D removes the key (D on a missing key does nothing).
 * Counts are taken per file, each relative to the table just before that row.
 *
 * The working table is columnar and append-only (string columns are bytes back to back, so a row cannot be
 * rewritten in place): an I or U appends the new row and retires the key's old one, a D clears a liveness byte.
 * Appended rows go to a tail of their own: the base (a previous version, often views on its snapshot's bytes, or
 * the full load) is never written or grown, so no column is copied to grow it (docs/performance.md). At the end
 * the live rows are gathered in key order from both; the base rows already are, so only the tail is sorted.
 */

import { at, InputError } from './errors.js'
import { ensureCapacity, newColumn } from './table/columns.js'
import { concatTables } from './table/concat.js'
import { BytesDictionary, dictionaryEncodeColumns, normalForm } from './table/dictionary.js'
import { type Key, type KeyIndex, newKeyIndex, sortedKeyIndex } from './table/key-index.js'
import { type KeyShape, keyAt, keyComparator2, keyShape, keyText } from './table/keys.js'
import { appendRow, takeFrom2 } from './table/rows.js'
import { stableSortByInt32 } from './table/sort.js'
import type { ColumnData, DictColumn, KeptValues, OpCounts, ParsedFile, Table, TableSpec } from './types.js'
import { OP_DELETE, OP_INSERT } from './types.js'

/**
 * A table being merged into. Rows are numbered base first, then tail: row `base.length + i` is tail row i.
 */
export interface MergeState {
  base: Table // the rows the merge started from; never written
  tail: Table // rows appended by I and U changes; the base's column types, arrays with capacity beyond `length`
  alive: Uint8Array // per row: 1 = the row is in the table
  index: KeyIndex // key -> row (the row may be dead)
  key: number // index of the first key column
  shape: KeyShape // the key's columns; a single int32 key is a number
  lookups: BytesDictionary[] // per dictionary column, its entries as a hash table (made on first use)
}

/** An empty tail for `base`: a dictionary column's tail shares its dictionary (through `lookups`). */
function emptyTail(base: Table): Table {
  const columns = base.columns.map((c, i): ColumnData => {
    if (c.type === 'dict') return { type: 'dict', codes: new Int32Array(0), entries: c.entries, size: c.size }
    return newColumn(base.spec.columns[i]!, 0)
  })
  return { spec: base.spec, length: 0, columns }
}

function startState(base: Table, index: KeyIndex, shape: KeyShape): MergeState {
  const key = shape.columns[0]!
  return { base, tail: emptyTail(base), alive: aliveRows(base.length), index, key, shape, lookups: [] }
}

export function zeroCounts(): OpCounts {
  return { inserts: 0, replaces: 0, updates: 0, upsertsOfMissing: 0, deletes: 0, deletesOfMissing: 0 }
}

/** The counts of several files added up (a version's). */
export function sumCounts(all: OpCounts[]): OpCounts {
  const t = zeroCounts()
  for (const c of all) for (const k of Object.keys(t) as (keyof OpCounts)[]) t[k] += c[k]
  return t
}

function keyOf(shape: KeyShape, columns: ColumnData[], row: number): Key {
  return keyAt(shape, columns, row)! // the readers refuse a NULL key
}

/** The typed index of a single int32 key when rows 0..n-1 ascend, else null. */
function sortedIndex(shape: KeyShape, table: Table, n: number): KeyIndex | null {
  return shape.int32 || shape.int64 ? sortedKeyIndex(table.columns[shape.columns[0]!]!, n) : null
}

function emptyIndex(shape: KeyShape, table: Table, expected: number): KeyIndex {
  return newKeyIndex(shape.int32 || shape.int64 ? table.columns[shape.columns[0]!]! : null, expected)
}

function aliveRows(n: number): Uint8Array {
  const alive = new Uint8Array(Math.max(n, 1024))
  alive.fill(1, 0, n)
  return alive
}

/** Starts a merge from an existing table (the previous version). Takes ownership of its arrays. */
export function startMerge(base: Table): MergeState {
  const shape = keyShape(base.spec)
  let index = sortedIndex(shape, base, base.length) // a version is stored in key order
  if (index === null) {
    index = emptyIndex(shape, base, base.length)
    for (let r = 0; r < base.length; r++) index.set(keyOf(shape, base.columns, r), r)
  }
  return startState(base, index, shape)
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
  )
  const shape = keyShape(spec)
  // Strictly ascending keys (DMS unloads a table in key order) hold no duplicate: no hash index to build.
  const sorted = sortedIndex(shape, table, total)
  if (sorted) return startState(table, sorted, shape)
  const index = emptyIndex(shape, table, total)
  let base = 0
  for (const part of parts) {
    for (let r = 0; r < part.rows.length; r++) {
      const k = keyOf(shape, table.columns, base + r)
      const first = index.get(k)
      if (first >= 0) {
        const where = locate(parts, first)
        const loc = { file: part.file, line: part.lines[r]!, column: shape.columns[0]! + 1 }
        throw new InputError(
          'duplicate_key',
          `dms csv: duplicate key ${keyText(spec, shape, table.columns, base + r)} in the full load${at(loc)} (first seen${at(where)}; expected each key once across all LOAD files)`,
          loc,
        )
      }
      index.set(k, base + r)
    }
    base += part.rows.length
  }
  return startState(table, index, shape)
}

function locate(parts: ParsedFile[], row: number): { file: string; line: number } {
  for (const p of parts) {
    if (row < p.rows.length) return { file: p.file, line: p.lines[row]! }
    row -= p.rows.length
  }
  throw new Error('row outside the full load') // unreachable: rows come from these parts
}

/** Applies row `r` of a change file to the state and counts what it did, relative to the table just before it. */
export function applyChange(state: MergeState, changes: ParsedFile, r: number, counts: OpCounts): void {
  const src = changes.rows.columns
  const k = keyOf(state.shape, src, r)
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
  const kept = changes.kept
  if (kept !== undefined && !present) refuseKeptOfMissing(changes, r, kept)
  const { base, tail } = state
  const to = tail.length
  const id = base.length + to
  if (id >= state.alive.length) {
    const grown = new Uint8Array(Math.max(state.alive.length * 2, 1024))
    grown.set(state.alive)
    state.alive = grown
  }
  ensureCapacity(tail.columns, to + 1)
  appendRow(src, r, tail.columns, to, (c) => {
    state.lookups[c] ??= BytesDictionary.of(base.columns[c] as DictColumn)
    return state.lookups[c]
  })
  if (kept !== undefined) keepValues(state, kept, r, row, to)
  state.alive[id] = 1
  index.set(k, id)
  state.tail = { ...tail, length: to + 1 }
}

/** CsvNoSupValue in a U row of a key the table does not hold: there is no value to keep. */
function refuseKeptOfMissing(changes: ParsedFile, r: number, kept: KeptValues): void {
  const c = kept.rows.findIndex((rows) => rows !== null && rows[r] === 1)
  if (c < 0) return
  const loc = { file: changes.file, line: changes.lines[r]!, column: kept.field[c]! }
  throw new InputError(
    'nosup_value',
    `dms csv: CsvNoSupValue in column ${changes.rows.spec.columns[c]!.name} of a U row whose key is not in the table${at(loc)} (expected a value: there is no previous value to keep)`,
    loc,
  )
}

/** Tail row `to` takes the previous row's value in each column row `r` kept (CsvNoSupValue). */
function keepValues(state: MergeState, kept: KeptValues, r: number, row: number, to: number): void {
  const { base, tail } = state
  const old = row < base.length ? base.columns : tail.columns
  const from = row < base.length ? row : row - base.length
  kept.rows.forEach((rows, c) => {
    if (rows === null || rows[r] !== 1) return
    // The tail's row `to` is its last, so a string column's bytes are rewritten in place.
    appendRow([old[c]!], from, [tail.columns[c]!], to, () => {
      state.lookups[c] ??= BytesDictionary.of(base.columns[c] as DictColumn)
      return state.lookups[c]
    })
  })
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

/** Compares the keys of two rows of the merge (base or tail). */
function keyComparator(state: MergeState): (a: number, b: number) => number {
  const b = state.base.columns[state.key]!
  const t = state.tail.columns[state.key]!
  const n = state.base.length
  if (state.shape.int64 && b.type === 'int64' && t.type === 'int64') {
    const bv = b.values
    const tv = t.values
    return (x, y) => {
      const a = x < n ? bv[x]! : tv[x - n]!
      const c = y < n ? bv[y]! : tv[y - n]!
      return a < c ? -1 : a > c ? 1 : 0
    }
  }
  if (!state.shape.int32)
    return keyComparator2(state.base.spec, state.shape, state.base.columns, n, state.tail.columns)
  const bv = (b as { values: Int32Array }).values
  const tv = (t as { values: Int32Array }).values
  return (x, y) => (x < n ? bv[x]! : tv[x - n]!) - (y < n ? bv[y]! : tv[y - n]!)
}

/**
 * The live rows, ordered by key ascending, with their string columns in normal form (etl/table/dictionary.ts
 * normalForm: what the writer, the features step and the snapshot take). The base rows are usually in key order
 * already (a previous version, a DMS full load): only the tail is sorted, then the two are merged.
 */
export function finishMerge(state: MergeState): Table {
  const { base, tail, alive } = state
  const total = base.length + tail.length
  const compare = keyComparator(state)
  let live = 0
  for (let r = 0; r < total; r++) live += alive[r]!
  const order = new Int32Array(live)
  for (let r = 0, o = 0; r < total; r++) if (alive[r] === 1) order[o++] = r
  // The longest sorted prefix of live rows: the base's int32 keys in a plain loop first, cheaper than the comparator
  // that must tell base from tail rows.
  let p = 1
  const baseKey = base.columns[state.key]!
  if (state.shape.int32 && baseKey.type === 'int32') {
    const v = baseKey.values
    const n = base.length
    while (p < live && order[p]! < n && v[order[p - 1]!]! < v[order[p]!]!) p++
  }
  while (p < live && compare(order[p - 1]!, order[p]!) < 0) p++
  if (p >= live) {
    if (live === base.length && tail.length === 0) return dictionaryEncodeColumns(base, state.shape.columns)
    return takeLiveRows(state, order)
  }
  // Keys of live rows are unique, so any sort of the rest is a stable one.
  const rest = sortRows(state, order.slice(p), compare)
  // Each of the few sorted rest rows finds its place in the long prefix by binary search, and the prefix is copied
  // in runs between them: a step-by-step merge would compare every key of the prefix.
  const merged = new Int32Array(live)
  let i = 0
  let o = 0
  for (const r of rest) {
    let lo = i
    let hi = p
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compare(order[mid]!, r) < 0) lo = mid + 1
      else hi = mid
    }
    merged.set(order.subarray(i, lo), o)
    o += lo - i
    i = lo
    merged[o++] = r
  }
  merged.set(order.subarray(i, p), o)
  return takeLiveRows(state, merged)
}

/** `rows` ordered by key: int32 keys by a radix sort of their values, string keys by comparison. */
function sortRows(
  state: MergeState,
  rows: Int32Array,
  compare: (a: number, b: number) => number,
): Int32Array {
  const b = state.base.columns[state.key]!
  const t = state.tail.columns[state.key]!
  if (!state.shape.int32) return Int32Array.from(Array.from(rows).sort(compare))
  const n = state.base.length
  const bv = (b as { values: Int32Array }).values
  const tv = (t as { values: Int32Array }).values
  const keys = Int32Array.from(rows, (r) => (r < n ? bv[r]! : tv[r - n]!))
  const positions = stableSortByInt32(
    Int32Array.from(rows, (_, i) => i),
    keys,
  )
  return Int32Array.from(positions, (i) => rows[i]!)
}

/** The rows `order` (base and tail rows) in normal form; dictionary columns are gathered and recoded in one pass. */
function takeLiveRows(state: MergeState, order: Int32Array): Table {
  const { base, tail } = state
  const columns = base.columns.map((c, i) => {
    const t = tail.columns[i]!
    if (c.type === 'dict' && t.type === 'dict') {
      // One dictionary for both: the lookup's (the base's entries and the ones changes added), else the base's.
      const dict = state.lookups[i]
      const entries = dict === undefined ? c : { ...c, entries: dict.values, size: dict.size }
      return normalForm(entries, order.length, order, { codes: t.codes, from: base.length })
    }
    const taken = takeFrom2(c, base.length, t, order)
    return state.shape.columns.includes(i) ? taken : normalForm(taken, order.length)
  })
  return { spec: base.spec, length: order.length, columns }
}
