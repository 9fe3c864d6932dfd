/**
 * A hash table from UTF-8 byte strings to dense codes 0, 1, 2, ... in order of first sight, compared in place: no JS
 * string per lookup. The features step groups cities with it and the Parquet writer builds dictionary pages with it.
 */

import type { ColumnData, DictColumn, StringColumn, Table } from '../types.js'
import { appendString, ensureCapacity, newStringColumn } from './columns.js'

/** Most distinct values a string dictionary may hold before a column is written PLAIN instead. */
export const MAX_DICTIONARY = 1 << 16

/** The dictionary limit for `present` non-NULL values: it must pay, so at most half of them and MAX_DICTIONARY. */
export function dictionaryLimit(present: number): number {
  return Math.min(MAX_DICTIONARY, Math.max(16, present >>> 1))
}

export class BytesDictionary {
  /** The distinct values in code order. */
  readonly values: StringColumn = newStringColumn(64, 1024)
  size = 0
  /**
   * Open addressing, two int32 per slot: the code (-1: empty) and the value's hash side by side, so that a probe
   * reads one cache line where a separate hash array takes a second miss (docs/performance.md item 17).
   */
  private slots: Int32Array = new Int32Array(2 * 256).fill(-1)

  /** @param limit most distinct values; codeOf returns -1 for a new value beyond it */
  constructor(private readonly limit = 0x7fffffff) {}

  /** A dictionary holding a dictionary column's entries under their codes, to add to (the merge's new rows). */
  static of(c: DictColumn): BytesDictionary {
    const d = new BytesDictionary()
    const { bytes, offsets } = c.entries
    for (let code = 0; code < c.size; code++)
      if (d.codeOf(bytes, offsets[code]!, offsets[code + 1]!) !== code)
        throw new Error('BytesDictionary.of: the entries are not distinct') // guarded by snapshot decoding
    return d
  }

  /** The code of bytes [s, e) of `b`, added when new; -1 when new and the dictionary is full. */
  codeOf(b: Uint8Array, s: number, e: number): number {
    // Four bytes per multiply (murmur-style; the shift carries high bits down for the next word): a multiply per
    // byte (FNV-1a) was a hot spot of parsing.
    let h = 0x811c9dc5 ^ (e - s)
    let i = s
    for (; i + 4 <= e; i += 4) {
      h = Math.imul(h ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)), 0x5bd1e995)
      h ^= h >>> 15
    }
    for (; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193)
    const { slots } = this
    const { bytes, offsets } = this.values
    const mask = (slots.length >>> 1) - 1
    for (let slot = (h ^ (h >>> 15)) & mask; ; slot = (slot + 1) & mask) {
      const code = slots[2 * slot]!
      if (code < 0) break
      if (slots[2 * slot + 1] !== h) continue
      const cs = offsets[code]!
      if (offsets[code + 1]! - cs !== e - s) continue
      let same = true
      for (let i = 0; i < e - s; i++)
        if (bytes[cs + i] !== b[s + i]) {
          same = false
          break
        }
      if (same) return code
    }
    if (this.size >= this.limit) return -1
    return this.add(b, s, e, h)
  }

  private add(b: Uint8Array, s: number, e: number, h: number): number {
    const code = this.size++
    ensureCapacity([this.values], this.size)
    appendString(this.values, code, b, s, e)
    if (this.size > this.slots.length >>> 2) this.rehash() // keep the table at most half full
    this.place(this.slots, code, h)
    return code
  }

  private place(slots: Int32Array, code: number, h: number): void {
    const mask = (slots.length >>> 1) - 1
    let slot = (h ^ (h >>> 15)) & mask
    while (slots[2 * slot]! >= 0) slot = (slot + 1) & mask
    slots[2 * slot] = code
    slots[2 * slot + 1] = h
  }

  private rehash(): void {
    const old = this.slots
    const slots = new Int32Array(old.length * 2).fill(-1)
    for (let k = 0; k < old.length; k += 2) if (old[k]! >= 0) this.place(slots, old[k]!, old[k + 1]!)
    this.slots = slots
  }
}

/** The column as a dictionary column when its values repeat enough (dictionaryLimit), else null. */
export function toDictColumn(c: StringColumn, length: number): DictColumn | null {
  const { bytes, offsets, valid } = c
  let present = 0
  for (let i = 0; i < length; i++) present += valid[i]!
  const dict = new BytesDictionary(dictionaryLimit(present))
  const codes = new Int32Array(length)
  for (let i = 0; i < length; i++) {
    if (valid[i] !== 1) {
      codes[i] = -1
      continue
    }
    const code = dict.codeOf(bytes, offsets[i]!, offsets[i + 1]!)
    if (code < 0) return null
    codes[i] = code
  }
  return { type: 'dict', codes, entries: dict.values, size: dict.size }
}

/** More codes of a dictionary column kept apart (the merge's appended rows): row `from + i` is `codes[i]`. */
export interface TailCodes {
  codes: Int32Array
  from: number
}

/**
 * The rows `rows[0..length)` of `c` (all of them, in order, when `rows` is null) with a canonical dictionary:
 * entries in order of first use, none unused. A merged column's dictionary keeps its history (entries of deleted or
 * updated rows, the order values were first read in, which a snapshot carries from version to version); the
 * canonical one depends on the rows alone, so the published Parquet and the snapshot are the same bytes whichever
 * way the previous version was loaded. Also how many rows are present (not NULL). Gathering and recoding in one
 * pass saves the merge a pass over each dictionary column and a copy of its codes.
 */
function normalDictionary(
  c: DictColumn,
  length: number,
  rows: ArrayLike<number> | null = null,
  tail: TailCodes | null = null,
): { column: DictColumn; present: number } {
  const remap = new Int32Array(c.size).fill(-1)
  const order: number[] = [] // old code of each new code
  const src = c.codes
  const from = tail === null ? 0x7fffffff : tail.from
  const tailCodes = tail === null ? src : tail.codes
  const codes = new Int32Array(length)
  let inOrder = rows === null
  let present = 0
  for (let i = 0; i < length; i++) {
    const r = rows === null ? i : rows[i]!
    const code = r < from ? src[r]! : tailCodes[r - from]!
    if (code < 0) {
      codes[i] = -1
      continue
    }
    present++
    let m = remap[code]!
    if (m < 0) {
      m = remap[code] = order.length
      if (m !== code) inOrder = false
      order.push(code)
    }
    codes[i] = m
  }
  if (inOrder && order.length === c.size) return { column: c, present }
  const { bytes, offsets } = c.entries
  let total = 0
  for (const code of order) total += offsets[code + 1]! - offsets[code]!
  const entries = newStringColumn(order.length, total)
  order.forEach((code, m) => {
    appendString(entries, m, bytes, offsets[code]!, offsets[code + 1]!)
  })
  return { column: { type: 'dict', codes, entries, size: order.length }, present }
}

/**
 * A string column in normal form: a dictionary column exactly when its distinct values number at most
 * dictionaryLimit of its present rows, with a canonical dictionary (normalDictionary); else plain text. `rows`
 * picks and orders the rows of a dictionary column (null: all, in order), rows from `tail.from` on being read from
 * `tail.codes`; a string column is taken as it is.
 */
export function normalForm(
  c: ColumnData,
  length: number,
  rows: ArrayLike<number> | null = null,
  tail: TailCodes | null = null,
): ColumnData {
  if (c.type === 'string') {
    if (rows !== null) throw new Error('normalForm: rows of a string column are gathered first') // callers do
    return toDictColumn(c, length) ?? c
  }
  if (c.type !== 'dict') return c
  const { column, present } = normalDictionary(c, length, rows, tail)
  return column.size > dictionaryLimit(present) ? expandDict(column, length) : column
}

/**
 * A table with its string columns but the key (columns `skip`) in normal form (normalForm). Done once after the
 * merge: the Parquet writer, the features step and the snapshot then work on codes, and the next run's merge keeps
 * them (appending codes for new rows).
 */
export function dictionaryEncodeColumns(table: Table, skip: readonly number[]): Table {
  return {
    ...table,
    columns: table.columns.map((c, i) => (skip.includes(i) ? c : normalForm(c, table.length))),
  }
}

/** A dictionary column's rows as a string column (to join it with one that is not). */
export function expandDict(c: DictColumn, length: number): StringColumn {
  const { bytes, offsets } = c.entries
  let total = 0
  for (let i = 0; i < length; i++)
    if (c.codes[i]! >= 0) total += offsets[c.codes[i]! + 1]! - offsets[c.codes[i]!]!
  const out = newStringColumn(length, total)
  let o = 0
  for (let i = 0; i < length; i++) {
    const code = c.codes[i]!
    if (code >= 0) {
      for (let k = offsets[code]!, e = offsets[code + 1]!; k < e; k++) out.bytes[o++] = bytes[k]!
      out.valid[i] = 1
    }
    out.offsets[i + 1] = o
  }
  return out
}

/** Appends `len` rows of dictionary column `src` at row `at` of `dst` (codes capacity there), re-coded into dst's. */
export function appendDictRows(
  dst: DictColumn,
  dict: BytesDictionary,
  src: DictColumn,
  at: number,
  len: number,
): void {
  const remap = new Int32Array(src.size)
  const { bytes, offsets } = src.entries
  for (let e = 0; e < src.size; e++) remap[e] = dict.codeOf(bytes, offsets[e]!, offsets[e + 1]!)
  const to = dst.codes
  const from = src.codes
  for (let r = 0; r < len; r++) to[at + r] = from[r]! < 0 ? -1 : remap[from[r]!]!
  dst.entries = dict.values
  dst.size = dict.size
}
