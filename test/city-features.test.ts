/**
 * Property: the features table equals a plain model of the rules (sort with a comparator, count per city), for
 * row orders the engine does not produce itself (users not sorted by id) and for date ranges wide enough that the
 * packed (city, date) sort key would overflow, which takes the two-pass path.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cityFeatures } from '../etl/city-features.js'
import { parseDateString } from '../etl/dms/values.js'
import { formatValue } from '../etl/report/csv-export.js'
import { stringColumnFrom } from '../etl/table/columns.js'
import { compareUtf8, radixSortPairs } from '../etl/table/sort.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import type { Table } from '../etl/types.js'
import { NULL_DATE } from '../etl/types.js'

type User = { id: number; name: string | null; city: string | null; date: number | null }

const AS_OF = parseDateString('2021-10-17')!
const ALIASES = new Map([['Nashville-Davidson', 'Nashville']])
const STATES = new Map([
  ['Nashville', 'Tennessee'],
  ['c1', 'S1'],
  ['c7', 'S1'],
  ['Zürich', 'ZH'],
])

function table(users: User[]): Table {
  const n = users.length
  return {
    spec: USERS_SPEC,
    length: n,
    columns: [
      { type: 'int32', values: Int32Array.from(users, (u) => u.id), valid: new Uint8Array(n).fill(1) },
      stringColumnFrom(users.map((u) => u.name)),
      stringColumnFrom(users.map((u) => u.city)),
      { type: 'date', values: Int32Array.from(users, (u) => u.date ?? NULL_DATE) },
    ],
  }
}

/** The rules of issue 2, written plainly. */
function model(users: User[]): (string | null)[][] {
  const canon = (c: string | null) => (c === null ? null : (ALIASES.get(c) ?? c))
  const groups = new Map<string | null, User[]>()
  for (const u of users) {
    const c = canon(u.city)
    groups.set(c, [...(groups.get(c) ?? []), u])
  }
  const cities = [...groups.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : compareUtf8(a, b)))
  const rows: (string | null)[][] = []
  for (const c of cities) {
    const g = groups.get(c)!
    const distinct = [...new Set(g.map((u) => u.date))].sort((a, b) =>
      a === null ? 1 : b === null ? -1 : b - a,
    )
    const k = g.filter((u) => u.date !== null && AS_OF - u.date <= 90).length
    const ranked = g.map((u) => ({ u, rank: distinct.indexOf(u.date) + 1 }))
    ranked.sort((a, b) => b.rank - a.rank || a.u.id - b.u.id)
    for (const { u, rank } of ranked)
      rows.push([
        String(u.id),
        u.name,
        c,
        u.date === null ? null : String(u.date),
        c === null ? null : (STATES.get(c) ?? null),
        String(rank),
        String(k / g.length),
        String(g.length),
      ])
  }
  return rows
}

function engine(users: User[]): (string | null)[][] {
  const { table: t } = cityFeatures(table(users), { asOf: AS_OF, cityToState: STATES, cityAliases: ALIASES })
  const out: (string | null)[][] = []
  for (let r = 0; r < t.length; r++)
    out.push(
      t.columns.map((c, i) => {
        if (i === 3) return c.type === 'date' && c.values[r] !== NULL_DATE ? String(c.values[r]) : null
        if (i === 6) return c.type === 'double' ? String(c.values[r]) : null
        return formatValue(t.spec.columns[i]!, c, r)
      }),
    )
  return out
}

const narrowDate = fc.integer({ min: AS_OF - 200, max: AS_OF + 5 })
const wideDate = fc.integer({ min: parseDateString('0001-01-01')!, max: parseDateString('9999-12-31')! })
const cityPool = (size: number) =>
  fc.oneof(
    fc.constant(null),
    fc.constantFrom('Nashville', 'Nashville-Davidson', 'Zürich', 'Ａcity', '😀', ''),
    fc.integer({ min: 0, max: size }).map((i) => `c${i}`),
  )
const uniqueNames = fc.option(fc.string({ maxLength: 5 }), { nil: null })
// Few distinct names: the column gets a dictionary and the features carry names as codes.
const repeatedNames = fc.option(fc.constantFrom('Ann', 'Bo', 'Zoë', ''), { nil: null })
const users = (date: fc.Arbitrary<number>, cities: number, name = uniqueNames) =>
  fc.uniqueArray(
    fc.record({
      id: fc.integer({ min: -1000, max: 100_000 }),
      name,
      city: cityPool(cities),
      date: fc.option(date, { nil: null, freq: 8 }),
    }),
    { selector: (u) => u.id, maxLength: 60 },
  )

describe('city features (property)', () => {
  it('equal the model for narrow dates, users in any order', () => {
    fc.assert(
      fc.property(users(narrowDate, 12), (us) => {
        expect(engine(us)).toEqual(model(us))
      }),
      { numRuns: 300 },
    )
  })

  it('equal the model when names repeat (dictionary codes instead of bytes)', () => {
    fc.assert(
      fc.property(users(narrowDate, 12, repeatedNames), (us) => {
        expect(engine(us)).toEqual(model(us))
      }),
      { numRuns: 200 },
    )
  })

  it('equal the model when the packed (city, date) key would overflow int32', () => {
    // 800 possible cities x ~3.65M days > 2^31: the two-pass sort.
    const many = fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 700, maxLength: 800 })
    fc.assert(
      fc.property(users(wideDate, 10), many, (us, extra) => {
        const all = [
          ...us,
          ...extra.map((i) => ({ id: 200_000 + i, name: 'x', city: `m${i}`, date: AS_OF - (i % 3) })),
          { id: 300_000, name: null, city: 'far', date: parseDateString('0001-01-01')! },
          { id: 300_001, name: null, city: 'far', date: parseDateString('9999-12-31')! },
        ]
        expect(engine(all)).toEqual(model(all))
      }),
      { numRuns: 10 },
    )
  })
})

/** A users table with an int64 id and a timestamptz last login (µs), its features asked for by a features section. */
type TsUser = { id: bigint; name: string | null; city: string | null; at: bigint | null }
const DAY_US = 86_400_000_000n
const TS_SPEC = {
  name: 'logins',
  columns: [
    { name: 'account', type: 'int64' as const },
    { name: 'who', type: 'string' as const },
    { name: 'town', type: 'string' as const },
    { name: 'seen', type: 'timestamptz' as const },
  ],
  primaryKey: ['account'],
  features: { id: 'account', name: 'who', city: 'town', lastLogin: 'seen' },
}

/** The rules with a timestamp: ranks by the full value, the 90-day window on its UTC date. */
function timestampModel(users: TsUser[]): (string | null)[][] {
  const groups = new Map<string | null, TsUser[]>()
  for (const u of users) groups.set(u.city, [...(groups.get(u.city) ?? []), u])
  const cities = [...groups.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : compareUtf8(a, b)))
  const floorDay = (us: bigint) => (us >= 0n ? us / DAY_US : -((-us + DAY_US - 1n) / DAY_US))
  const rows: (string | null)[][] = []
  for (const c of cities) {
    const g = groups.get(c)!
    const distinct = [...new Set(g.map((u) => u.at))].sort((a, b) =>
      a === null ? 1 : b === null ? -1 : a > b ? -1 : a < b ? 1 : 0,
    )
    const k = g.filter((u) => u.at !== null && BigInt(AS_OF) - floorDay(u.at) <= 90n).length
    const ranked = g.map((u) => ({ u, rank: distinct.indexOf(u.at) + 1 }))
    ranked.sort((a, b) => b.rank - a.rank || (a.u.id < b.u.id ? -1 : 1))
    for (const { u, rank } of ranked)
      rows.push([
        String(u.id),
        u.name,
        c,
        u.at === null ? null : String(u.at),
        String(rank),
        String(k / g.length),
        String(g.length),
      ])
  }
  return rows
}

function timestampEngine(users: TsUser[]): (string | null)[][] {
  const n = users.length
  const t: Table = {
    spec: TS_SPEC,
    length: n,
    columns: [
      { type: 'int64', values: BigInt64Array.from(users, (u) => u.id), valid: new Uint8Array(n).fill(1) },
      stringColumnFrom(users.map((u) => u.name)),
      stringColumnFrom(users.map((u) => u.city)),
      {
        type: 'int64',
        values: BigInt64Array.from(users, (u) => u.at ?? 0n),
        valid: Uint8Array.from(users, (u) => (u.at === null ? 0 : 1)),
      },
    ],
  }
  const { table: f } = cityFeatures(t, { asOf: AS_OF, cityToState: STATES, cityAliases: new Map() })
  expect(f.spec.columns.slice(0, 4).map((c) => `${c.name} ${c.type}`)).toEqual([
    'account int64',
    'who string',
    'town string',
    'seen timestamptz',
  ])
  const out: (string | null)[][] = []
  for (let r = 0; r < f.length; r++) {
    const seen = f.columns[3]!
    out.push([
      formatValue(f.spec.columns[0]!, f.columns[0]!, r),
      formatValue(f.spec.columns[1]!, f.columns[1]!, r),
      formatValue(f.spec.columns[2]!, f.columns[2]!, r),
      seen.type === 'int64' && seen.valid[r] === 1 ? String(seen.values[r]) : null,
      formatValue(f.spec.columns[5]!, f.columns[5]!, r),
      f.columns[6]!.type === 'double' ? String(f.columns[6]!.values[r]) : null,
      formatValue(f.spec.columns[7]!, f.columns[7]!, r),
    ])
  }
  return out
}

describe('city features on a timestamp last login and an int64 id', () => {
  it('rank by the full timestamp and count the window on its UTC date, equal to the model', () => {
    const asOfUs = BigInt(AS_OF) * DAY_US
    // Around the window's edge (90 days before as_of), several logins a day, some the same instant.
    const at = fc
      .bigInt({ min: asOfUs - 95n * DAY_US, max: asOfUs + DAY_US })
      .map((v) => (v / 3_600_000_000n) * 3_600_000_000n)
    const ts = fc.uniqueArray(
      fc.record({
        id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        name: uniqueNames,
        city: fc.option(fc.constantFrom('c1', 'c7', 'Zürich', 'x'), { nil: null }),
        at: fc.option(at, { nil: null, freq: 8 }),
      }),
      { selector: (u) => u.id, maxLength: 60 },
    )
    fc.assert(
      fc.property(ts, (us) => {
        const got = timestampEngine(us)
        const want = timestampModel(us)
        expect(got).toEqual(want)
      }),
      { numRuns: 200 },
    )
  })
})

describe('radixSortPairs', () => {
  it('sorts (key, row) pairs stably by key', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { maxLength: 300 }),
        fc.boolean(),
        (ks, narrow) => {
          const keys = Int32Array.from(ks, (k) => (narrow ? k % 5 : k))
          const rows = Int32Array.from(ks, (_, i) => i)
          const expected = [...rows].sort((a, b) => keys[a]! - keys[b]! || a - b)
          const max = keys.reduce((m, k) => Math.max(m, k), 0)
          const sorted = radixSortPairs(keys.slice(), rows, max)
          expect([...sorted.rows]).toEqual(expected)
          expect([...sorted.keys]).toEqual(expected.map((r) => keys[r]!))
        },
      ),
    )
  })
})
