/** Orders of the table's rows (etl/table/sort.ts): UTF-8 byte order of text and the stable radix sort of int32. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareUtf8, stableSortByInt32 } from '../etl/table/sort.js'

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
