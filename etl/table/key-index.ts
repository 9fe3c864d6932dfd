/**
 * A hash index from key to row number. Int32 keys use open addressing over typed arrays (no per-key objects, no
 * boxing: far less memory than a Map); string keys use a Map. Entries are never removed: a deleted
 * row stays in the index and the caller checks its liveness, which keeps probing simple (no tombstones).
 */
import type { ColumnData } from '../types.js'

export type Key = number | bigint | string

export interface KeyIndex {
  /** Row of `key`, or -1. */
  get(key: Key): number
  /** Sets the row of `key` (insert or overwrite). */
  set(key: Key, row: number): void
}

class Int32KeyIndex implements KeyIndex {
  private keys: Int32Array
  private rows: Int32Array // -1 = empty slot
  private mask: number
  private size = 0

  constructor(expected: number) {
    let cap = 1024
    while (cap < expected * 2) cap *= 2
    this.keys = new Int32Array(cap)
    this.rows = new Int32Array(cap).fill(-1)
    this.mask = cap - 1
  }

  get(key: Key): number {
    const k = key as number
    const { keys, rows, mask } = this
    // Fibonacci hashing spreads sequential ids (the common case) across the table.
    for (let slot = Math.imul(k, 0x9e3779b1) & mask; ; slot = (slot + 1) & mask) {
      const r = rows[slot]!
      if (r < 0) return -1
      if (keys[slot] === k) return r
    }
  }

  set(key: Key, row: number): void {
    const k = key as number
    if ((this.size + 1) * 2 > this.rows.length) this.grow()
    const { keys, rows, mask } = this
    for (let slot = Math.imul(k, 0x9e3779b1) & mask; ; slot = (slot + 1) & mask) {
      const r = rows[slot]!
      if (r < 0) {
        keys[slot] = k
        rows[slot] = row
        this.size++
        return
      }
      if (keys[slot] === k) {
        rows[slot] = row
        return
      }
    }
  }

  private grow(): void {
    const oldKeys = this.keys
    const oldRows = this.rows
    const cap = oldRows.length * 2
    this.keys = new Int32Array(cap)
    this.rows = new Int32Array(cap).fill(-1)
    this.mask = cap - 1
    this.size = 0
    for (let i = 0; i < oldRows.length; i++) if (oldRows[i]! >= 0) this.set(oldKeys[i]!, oldRows[i]!)
  }
}

class StringKeyIndex implements KeyIndex {
  private map = new Map<string, number>()
  get(key: Key): number {
    return this.map.get(key as string) ?? -1
  }
  set(key: Key, row: number): void {
    this.map.set(key as string, row)
  }
}

/**
 * An index over rows 0..n-1 whose int32 keys strictly ascend (a previous version, a full load in key order), plus
 * a hash overlay for the keys set later. Lookups binary-search the sorted rows when the overlay misses, because
 * hashing every sorted key costs as much as the rest of the merge (docs/performance.md item 5).
 */
class SortedInt32Index implements KeyIndex {
  private readonly overlay = new Int32KeyIndex(1024)
  constructor(
    private readonly keys: Int32Array, // only rows below n are read; later rows may change
    private readonly n: number,
  ) {}

  get(key: Key): number {
    const hit = this.overlay.get(key)
    if (hit >= 0) return hit
    const k = key as number
    const keys = this.keys
    let lo = 0
    let hi = this.n - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const v = keys[mid]!
      if (v < k) lo = mid + 1
      else if (v > k) hi = mid - 1
      else return mid
    }
    return -1
  }

  set(key: Key, row: number): void {
    this.overlay.set(key, row)
  }
}

/**
 * Int64 keys (bigint ids, timestamps) by open addressing over a BigInt64Array, hashed on their low 32 bits: no
 * per-key string or object.
 */
class Int64KeyIndex implements KeyIndex {
  private keys: BigInt64Array
  private rows: Int32Array // -1 = empty slot
  private mask: number
  private size = 0

  constructor(expected: number) {
    let cap = 1024
    while (cap < expected * 2) cap *= 2
    this.keys = new BigInt64Array(cap)
    this.rows = new Int32Array(cap).fill(-1)
    this.mask = cap - 1
  }

  private slotOf(k: bigint): number {
    const lo = Number(BigInt.asIntN(32, k))
    const hi = Number(BigInt.asIntN(32, k >> 32n))
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) & this.mask
  }

  get(key: Key): number {
    const k = key as bigint
    const { keys, rows, mask } = this
    for (let slot = this.slotOf(k); ; slot = (slot + 1) & mask) {
      const r = rows[slot]!
      if (r < 0) return -1
      if (keys[slot] === k) return r
    }
  }

  set(key: Key, row: number): void {
    const k = key as bigint
    if ((this.size + 1) * 2 > this.rows.length) this.grow()
    const { keys, rows, mask } = this
    for (let slot = this.slotOf(k); ; slot = (slot + 1) & mask) {
      const r = rows[slot]!
      if (r < 0) {
        keys[slot] = k
        rows[slot] = row
        this.size++
        return
      }
      if (keys[slot] === k) {
        rows[slot] = row
        return
      }
    }
  }

  private grow(): void {
    const oldKeys = this.keys
    const oldRows = this.rows
    const cap = oldRows.length * 2
    this.keys = new BigInt64Array(cap)
    this.rows = new Int32Array(cap).fill(-1)
    this.mask = cap - 1
    this.size = 0
    for (let i = 0; i < oldRows.length; i++) if (oldRows[i]! >= 0) this.set(oldKeys[i]!, oldRows[i]!)
  }
}

/** SortedInt32Index for int64 keys: binary search over the ascending base, a hash overlay for later keys. */
class SortedInt64Index implements KeyIndex {
  private readonly overlay = new Int64KeyIndex(1024)
  constructor(
    private readonly keys: BigInt64Array,
    private readonly n: number,
  ) {}

  get(key: Key): number {
    const hit = this.overlay.get(key)
    if (hit >= 0) return hit
    const k = key as bigint
    const keys = this.keys
    let lo = 0
    let hi = this.n - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const v = keys[mid]!
      if (v < k) lo = mid + 1
      else if (v > k) hi = mid - 1
      else return mid
    }
    return -1
  }

  set(key: Key, row: number): void {
    this.overlay.set(key, row)
  }
}

/** The index of rows 0..n-1 of an int32 or int64 key column when their keys strictly ascend, else null. */
export function sortedKeyIndex(keyColumn: ColumnData, n: number): KeyIndex | null {
  if (keyColumn.type === 'int64') {
    const keys = keyColumn.values
    for (let r = 1; r < n; r++) if (keys[r]! <= keys[r - 1]!) return null
    return new SortedInt64Index(keys, n)
  }
  if (keyColumn.type !== 'int32') return null
  const keys = keyColumn.values
  for (let r = 1; r < n; r++) if (keys[r]! <= keys[r - 1]!) return null
  return new SortedInt32Index(keys, n)
}

/**
 * An empty index, sized for `expected` keys: typed for a single int32 or int64 key column, else keyed by strings
 * (etl/table/keys.ts).
 */
export function newKeyIndex(keyColumn: ColumnData | null, expected: number): KeyIndex {
  if (keyColumn?.type === 'int32') return new Int32KeyIndex(expected)
  if (keyColumn?.type === 'int64') return new Int64KeyIndex(expected)
  return new StringKeyIndex()
}
