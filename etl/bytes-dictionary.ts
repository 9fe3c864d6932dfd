/**
 * A hash table from UTF-8 byte strings to dense codes 0, 1, 2, ... in order of first sight, compared in place: no JS
 * string per lookup. The features step groups cities with it and the Parquet writer builds dictionary pages with it.
 */
import { appendString, ensureCapacity, newStringColumn } from './column-builder.js'
import type { StringColumn } from './types.js'

export class BytesDictionary {
  /** The distinct values in code order. */
  readonly values: StringColumn = newStringColumn(64, 1024)
  size = 0
  private slots: Int32Array = new Int32Array(256).fill(-1) // code, or -1 for an empty slot
  private hashes: Int32Array = new Int32Array(64)

  /** @param limit most distinct values; codeOf returns -1 for a new value beyond it */
  constructor(private readonly limit = 0x7fffffff) {}

  /** The code of bytes [s, e) of `b`, added when new; -1 when new and the dictionary is full. */
  codeOf(b: Uint8Array, s: number, e: number): number {
    let h = 0x811c9dc5 ^ (e - s)
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193)
    const { slots, hashes } = this
    const { bytes, offsets } = this.values
    const mask = slots.length - 1
    for (let slot = (h ^ (h >>> 15)) & mask; ; slot = (slot + 1) & mask) {
      const code = slots[slot]!
      if (code < 0) break
      if (hashes[code] !== h) continue
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
    if (code >= this.hashes.length) {
      const grown = new Int32Array(this.hashes.length * 2)
      grown.set(this.hashes)
      this.hashes = grown
    }
    this.hashes[code] = h
    if (this.size * 2 > this.slots.length) this.rehash()
    else this.place(code)
    return code
  }

  private place(code: number): void {
    const h = this.hashes[code]!
    const mask = this.slots.length - 1
    let slot = (h ^ (h >>> 15)) & mask
    while (this.slots[slot]! >= 0) slot = (slot + 1) & mask
    this.slots[slot] = code
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1)
    for (let c = 0; c < this.size; c++) this.place(c)
  }
}
