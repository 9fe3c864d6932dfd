/**
 * The pipeline (etl/pipeline.ts) against a model, for random change streams: the engine's users table, per-file
 * counts and features equal a plain Map-based model of the rules in issue 2 (written to be obviously right, not fast).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatDate, parseDateString } from '../etl/dms/values.js'
import { runPipeline } from '../etl/pipeline.js'
import { compareUtf8 } from '../etl/table/sort.js'
import type { OpCounts, Table } from '../etl/types.js'
import { dmsCsv } from './helpers/dms-writer.js'
import { currentTables, seedRunOptions } from './helpers/fixtures.js'
import { MemoryStorage } from './helpers/memory-storage.js'
import { tableRows } from './helpers/tables.js'

type Row = [number, string | null, string | null, string | null] // user_id, name, city, last_login
type Change = ['I' | 'U' | 'D', ...Row]

const AS_OF = '2021-10-17'
const CITY_TO_STATE = new Map([
  ['Austin', 'Texas'],
  ['Nashville', 'Tennessee'],
  ['Zürich', 'ZH'],
])
const ALIASES = new Map([['Nashville-Davidson', 'Nashville']])

const key = fc.integer({ min: -5, max: 25 })
const name = fc.oneof(
  fc.constant(null),
  fc.constant(''),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('a,b', 'say "hi"', 'x\ny'),
)
const city = fc.oneof(
  fc.constant(null),
  fc.constantFrom('Austin', 'Nashville', 'Nashville-Davidson', 'Zürich', 'Ａcity', '😀', 'Unknown', ''),
)
const date = fc.oneof(
  fc.constant(null),
  fc.integer({ min: parseDateString('2021-06-01')!, max: parseDateString('2021-10-30')! }).map(formatDate),
)
const row = fc.tuple(key, name, city, date)
const change = fc.tuple(fc.constantFrom('I' as const, 'U' as const, 'D' as const), key, name, city, date)
const load = fc.uniqueArray(row, { selector: (r) => r[0], maxLength: 20 })
const files = fc.array(fc.array(change, { maxLength: 12 }), { minLength: 1, maxLength: 5 })

/** The model: a Map from key to row, changes applied one by one. */
function model(loaded: Row[], changeFiles: Change[][]) {
  const table = new Map<number, Row>(loaded.map((r) => [r[0], r]))
  const counts: OpCounts[] = []
  for (const file of changeFiles) {
    const c: OpCounts = {
      inserts: 0,
      replaces: 0,
      updates: 0,
      upsertsOfMissing: 0,
      deletes: 0,
      deletesOfMissing: 0,
    }
    for (const [op, ...r] of file) {
      const present = table.has(r[0])
      if (op === 'D') {
        if (present) c.deletes++
        else c.deletesOfMissing++
        table.delete(r[0])
      } else {
        if (op === 'I') present ? c.replaces++ : c.inserts++
        else present ? c.updates++ : c.upsertsOfMissing++
        table.set(r[0], r)
      }
    }
    counts.push(c)
  }
  const users = [...table.values()].sort((a, b) => a[0] - b[0])
  return { users, counts }
}

/** Features straight from the definitions: group, sort, count. */
function modelFeatures(users: Row[]): string[][] {
  const asOf = parseDateString(AS_OF)!
  const canon = (c: string | null) => (c === null ? null : (ALIASES.get(c) ?? c))
  const out: { row: Row; city: string | null; rank: number; rate: number; n: number }[] = []
  const groups = new Map<string | null, Row[]>()
  for (const u of users) groups.set(canon(u[2]), [...(groups.get(canon(u[2])) ?? []), u])
  for (const [c, members] of groups) {
    const distinct = [...new Set(members.map((m) => m[3]).filter((d) => d !== null))].sort().reverse()
    const k = members.filter((m) => m[3] !== null && asOf - parseDateString(m[3])! <= 90).length
    for (const m of members) {
      const rank = m[3] === null ? distinct.length + 1 : distinct.indexOf(m[3]) + 1
      out.push({ row: m, city: c, rank, rate: k / members.length, n: members.length })
    }
  }
  out.sort(
    (a, b) =>
      (a.city === b.city ? 0 : a.city === null ? 1 : b.city === null ? -1 : compareUtf8(a.city, b.city)) ||
      b.rank - a.rank ||
      a.row[0] - b.row[0],
  )
  const fmt = (x: number) => (Number.isInteger(x) ? `${x}.0` : String(x))
  return out.map((f) => [
    String(f.row[0]),
    f.row[1] ?? 'NULL',
    f.city ?? 'NULL',
    f.row[3] ?? 'NULL',
    (f.city === null ? undefined : CITY_TO_STATE.get(f.city)) ?? 'NULL',
    String(f.rank),
    fmt(f.rate),
    String(f.n),
  ])
}

const rowsOf = (t: Table): string[][] => tableRows(t).map((r) => r.map((v) => v ?? 'NULL'))

async function engine(loaded: Row[], changeFiles: Change[][], splitAt: number) {
  const source = new MemoryStorage('memory://source')
  const target = new MemoryStorage('memory://target')
  const run = () =>
    runPipeline(
      seedRunOptions(source, target, CITY_TO_STATE, {
        asOf: parseDateString(AS_OF)!,
        cityAliases: ALIASES,
      }),
    )
  await source.write('LOAD00000001.csv', dmsCsv(loaded))
  // Runs after the first `splitAt` files and again at the end: incremental runs must equal one run.
  const counts: OpCounts[] = []
  for (let i = 0; i < changeFiles.length; i++) {
    await source.write(`20211017-1200${String(i).padStart(2, '0')}000.csv`, dmsCsv(changeFiles[i]!))
    if (i + 1 === splitAt) {
      const r = await run()
      counts.push(...r.record!.files.flatMap((f) => (f.counts ? [f.counts] : [])))
    }
  }
  if (splitAt < changeFiles.length || counts.length === 0) {
    const r = await run()
    counts.push(...r.record!.files.flatMap((f) => (f.counts ? [f.counts] : [])))
  }
  const { users, features } = await currentTables(target)
  return { users: rowsOf(users), features: rowsOf(features), counts }
}

describe('merge semantics (property)', () => {
  it('equals the Map model for random loads and change streams, in one run or several', async () => {
    await fc.assert(
      fc.asyncProperty(load, files, fc.nat(), async (loaded, changeFiles, split) => {
        const splitAt = 1 + (split % changeFiles.length)
        const expected = model(loaded, changeFiles)
        const got = await engine(loaded, changeFiles, splitAt)
        expect(got.users).toEqual(
          expected.users.map((r) => [String(r[0]), r[1] ?? 'NULL', r[2] ?? 'NULL', r[3] ?? 'NULL']),
        )
        expect(got.counts).toEqual(expected.counts)
        expect(got.features).toEqual(modelFeatures(expected.users))
      }),
      { numRuns: 300, seed: 20211017 },
    )
  })
})
