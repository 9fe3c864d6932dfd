/** Our Snappy compressor, checked by hyparquet's independent decompressor on random and repetitive inputs. */
import fc from 'fast-check'
import { snappyUncompress } from 'hyparquet/src/snappy.js'
import { describe, expect, it } from 'vitest'
import { snappyCompress } from '../etl/parquet/snappy.js'
import { enc } from './helpers/bytes.js'

function roundTrip(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length)
  snappyUncompress(snappyCompress(input), out)
  return out
}

describe('snappyCompress', () => {
  it('round-trips random bytes and repetitive text of any length, across 64 KiB blocks', () => {
    const repetitive = fc
      .tuple(fc.string({ maxLength: 40 }), fc.integer({ min: 0, max: 9000 }))
      .map(([s, k]) => enc(s.repeat(k)))
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200_000 }), repetitive), (input) => {
        expect(roundTrip(input)).toEqual(input)
      }),
      { numRuns: 200 },
    )
  })

  it('compresses repetitive data and stays within the worst case on random data', () => {
    const text = enc('Austin,Boston,Chicago,'.repeat(50_000))
    expect(snappyCompress(text).length).toBeLessThan(text.length / 10)
    const noise = new Uint8Array(300_000).map(() => Math.floor(Math.random() * 256))
    expect(snappyCompress(noise).length).toBeLessThanOrEqual(32 + noise.length + noise.length / 6)
    expect(roundTrip(new Uint8Array(0))).toEqual(new Uint8Array(0))
  })
})
