/** DMS values (etl/dms/values.ts): day numbers and YYYY-MM-DD text, and the date parser's memo of days. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { daysFromCivil, formatDate, parseDate, parseDateString } from '../etl/dms/values.js'

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

describe('parseDate', () => {
  it('gives every calendar day of 1890-2110 its day number, memoised or not, and rejects the days that do not exist', () => {
    const b = new Uint8Array(10)
    const put = (s: string) => {
      for (let i = 0; i < 10; i++) b[i] = s.charCodeAt(i)
    }
    const pad = (v: number, w: number) => String(v).padStart(w, '0')
    const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
    const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    for (let pass = 0; pass < 2; pass++)
      for (let y = 1890; y <= 2110; y++)
        for (let m = 0; m <= 13; m++)
          for (let d = 0; d <= 32; d++) {
            put(`${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`)
            const real = m >= 1 && m <= 12 && d >= 1 && d <= (m === 2 && leap(y) ? 29 : monthDays[m - 1]!)
            expect(parseDate(b, 0, 10)).toBe(real ? daysFromCivil(y, m, d) : undefined)
          }
    put('1970-01-01')
    expect(parseDate(b, 0, 10)).toBe(0)
    put('0000-02-29') // year 0 is a leap year (proleptic Gregorian), outside the memo
    expect(parseDate(b, 0, 10)).toBe(daysFromCivil(0, 2, 29))
  })

  it('rejects a non-digit in any position, the last of the year included (the soak found 202> read as 1020)', () => {
    for (const i of [0, 1, 2, 3, 5, 6, 8, 9])
      for (const c of ['>', 'E', '/', ':', ' ', 'a']) {
        const text = `${'2021-06-07'.slice(0, i)}${c}${'2021-06-07'.slice(i + 1)}`
        expect(parseDateString(text), text).toBeUndefined()
      }
  })
})
