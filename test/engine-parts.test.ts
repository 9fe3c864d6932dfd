/** Small pure parts of the engine: dates, UTF-8 order, the radix sort, the key index. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { newKeyIndex } from '../etl/key-index.js'
import { compareUtf8, stableSortByInt32 } from '../etl/sort.js'
import { daysFromCivil, formatDate, parseDateString } from '../etl/values.js'

describe('dates', () => {
  it('round-trips day numbers through YYYY-MM-DD', () => {
    fc.assert(
      fc.property(fc.integer({ min: daysFromCivil(0, 1, 1), max: daysFromCivil(9999, 12, 31) }), (d) => {
        expect(parseDateString(formatDate(d))).toBe(d)
      }),
    )
    expect(formatDate(0)).toBe('1970-01-01')
    expect(parseDateString('2021-10-17')).toBe(18917)
  })
})

describe('compareUtf8', () => {
  it('orders like the UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('stableSortByInt32', () => {
  it('sorts stably by value, for narrow and wide value ranges', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer())), (vals) => {
        const values = Int32Array.from(vals)
        const order = Int32Array.from(vals.map((_, i) => i))
        const got = Array.from(stableSortByInt32(order, values))
        const want = vals.map((_, i) => i).sort((a, b) => vals[a]! - vals[b]! || a - b)
        expect(got).toEqual(want)
      }),
    )
  })
})

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
