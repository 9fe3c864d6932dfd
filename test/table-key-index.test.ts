/** The typed key indexes (etl/table/key-index.ts): int32 and int64, hashed and sorted with an overlay. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { newKeyIndex, sortedKeyIndex } from '../etl/table/key-index.js'

describe('int32 key index', () => {
  it('finds every key after growing, and misses absent ones', () => {
    const idx = newKeyIndex({ type: 'int32', values: new Int32Array(0), valid: new Uint8Array(0) }, 4)
    for (let k = -5000; k < 5000; k++) idx.set(k * 7, k + 5000)
    for (let k = -5000; k < 5000; k++) expect(idx.get(k * 7)).toBe(k + 5000)
    expect(idx.get(1)).toBe(-1)
    idx.set(7, 42)
    expect(idx.get(7)).toBe(42)
  })
})

describe('sorted int32 key index', () => {
  it('finds base rows by binary search and later rows through its overlay', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -1e6, max: 1e6 }), { maxLength: 200 }),
        fc.array(fc.tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.nat(1000)), { maxLength: 50 }),
        (ks, later) => {
          const keys = Int32Array.from(ks.sort((a, b) => a - b))
          const col = { type: 'int32' as const, values: keys, valid: new Uint8Array(keys.length).fill(1) }
          const index = sortedKeyIndex(col, keys.length)!
          const model = new Map(ks.map((k, r) => [k, r]))
          for (const [k, row] of later) {
            index.set(k, row)
            model.set(k, row)
          }
          for (const k of [...ks, ...later.map((l) => l[0]), 1e6 + 1, -1e6 - 1])
            expect(index.get(k)).toBe(model.get(k) ?? -1)
        },
      ),
    )
  })

  it('refuses keys that do not strictly ascend', () => {
    const col = { type: 'int32' as const, values: Int32Array.of(1, 2, 2), valid: Uint8Array.of(1, 1, 1) }
    expect(sortedKeyIndex(col, 3)).toBeNull()
  })
})

describe('int64 key indexes', () => {
  const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })

  it('the hash index finds every key, the int64 limits and keys equal in their low 32 bits included', () => {
    fc.assert(
      fc.property(fc.uniqueArray(int64, { maxLength: 3000 }), (ks) => {
        const keys = [...ks, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 32n + 5n, 5n, -(2n ** 32n) + 5n]
        const idx = newKeyIndex({ type: 'int64', values: new BigInt64Array(0), valid: new Uint8Array(0) }, 4)
        const model = new Map<bigint, number>()
        keys.forEach((k, r) => {
          idx.set(k, r)
          model.set(k, r)
        })
        for (const k of [...model.keys(), 42n ** 11n]) expect(idx.get(k)).toBe(model.get(k) ?? -1)
      }),
    )
  })

  it('the sorted index finds base rows by binary search and later rows through its overlay', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(int64, { maxLength: 200 }),
        fc.array(fc.tuple(int64, fc.nat(1000)), { maxLength: 50 }),
        (ks, later) => {
          const sorted = [...ks].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
          const col = {
            type: 'int64' as const,
            values: BigInt64Array.from(sorted),
            valid: new Uint8Array(sorted.length).fill(1),
          }
          const index = sortedKeyIndex(col, sorted.length)!
          const model = new Map(sorted.map((k, r) => [k, r]))
          for (const [k, row] of later) {
            index.set(k, row)
            model.set(k, row)
          }
          for (const k of [...sorted, ...later.map((l) => l[0]), 1n])
            expect(index.get(k)).toBe(model.get(k) ?? -1)
        },
      ),
    )
  })
})
