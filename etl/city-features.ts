/**
 * The users-specific part: per-city features of the merged users table.
 *
 * - city: aliases applied first (`Nashville-Davidson` -> `Nashville`; aliases are data from the config)
 * - state: exact, case-sensitive lookup in the city -> state map; NULL when unknown
 * - last_login_rank_by_city: dense rank by last_login descending, NULL dates last (sharing the rank after the
 *   oldest real date); NULL cities form one group
 * - login_rate_last_3_months_by_city: k/n, k = users with as_of - last_login <= 90 days (future dates count)
 * - users_by_city: n
 * Row order: city ascending by UTF-8 bytes (NULL last), rank descending, user_id ascending.
 */
import { BytesDictionary } from './bytes-dictionary.js'
import { fromDictionary, stringAt, stringColumnFrom, takeColumn } from './column-builder.js'
import { compareUtf8, stableSortByInt32 } from './sort.js'
import { columnIndex } from './table-spec.js'
import type { FeatureSummary, StringValues, Table, TableSpec } from './types.js'
import { NULL_DATE } from './types.js'

export const USERS_FEATURES_SPEC: TableSpec = {
  name: 'users_features',
  columns: [
    { name: 'user_id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'last_login', type: 'date' },
    { name: 'state', type: 'string' },
    { name: 'last_login_rank_by_city', type: 'int32' },
    { name: 'login_rate_last_3_months_by_city', type: 'double' },
    { name: 'users_by_city', type: 'int32' },
  ],
  primaryKey: 'user_id',
}

export interface CityFeatureOptions {
  asOf: number // the reference date, days since epoch
  cityToState: ReadonlyMap<string, string> // exact city name -> state
  cityAliases: ReadonlyMap<string, string> // city name as written -> canonical name, applied first
  windowDays?: number // login-rate window; default 90 (exactly 90 days counts)
}

export interface CityFeatures {
  table: Table // USERS_FEATURES_SPEC rows in feature order
  summary: FeatureSummary
}

/** Computes the features table from the users table (any row order; ties in the output are by user_id). */
export function cityFeatures(users: Table, opts: CityFeatureOptions): CityFeatures {
  const { asOf, cityToState, cityAliases, windowDays = 90 } = opts
  const n = users.length
  const idCol = users.columns[columnIndex(users.spec, 'user_id')]!
  const cityCol = users.columns[columnIndex(users.spec, 'city')]!
  const dateCol = users.columns[columnIndex(users.spec, 'last_login')]!
  if (idCol.type !== 'int32' || cityCol.type !== 'string' || dateCol.type !== 'date')
    throw new Error('cityFeatures needs user_id int32, city string, last_login date') // guarded by the users spec
  const dates = dateCol.values

  // Dictionary-encode the city from its bytes: grouping, ordering and the state lookup then work on small ints and
  // touch each distinct string once. Aliases fold a spelling into its target's group.
  const seen = new BytesDictionary()
  const codes = new Int32Array(n)
  const { bytes, offsets, valid } = cityCol
  for (let r = 0; r < n; r++)
    codes[r] = valid[r] === 1 ? seen.codeOf(bytes, offsets[r]!, offsets[r + 1]!) : -1
  const groupOf = new Map<string, number>()
  const dict: string[] = [] // canonical city per group
  const groupOfCode = new Int32Array(seen.size)
  for (let c = 0; c < seen.size; c++) {
    const raw = stringAt(seen.values, c)!
    const canonical = cityAliases.get(raw) ?? raw
    let g = groupOf.get(canonical)
    if (g === undefined) {
      g = dict.length
      dict.push(canonical)
      groupOf.set(canonical, g)
    }
    groupOfCode[c] = g
  }
  const sortedDict = dict.map((_, i) => i).sort((a, b) => compareUtf8(dict[a]!, dict[b]!))
  const rankOfCode = new Int32Array(dict.length + 1)
  sortedDict.forEach((code, pos) => {
    rankOfCode[code] = pos
  })
  const nullCityRank = dict.length
  const cityRank = new Int32Array(n)
  for (let r = 0; r < n; r++)
    cityRank[r] = codes[r]! < 0 ? nullCityRank : rankOfCode[groupOfCode[codes[r]!]!]!

  // Order: user_id asc (stable base), then last_login asc with NULL first (= rank desc), then city asc.
  let order: Int32Array = new Int32Array(n)
  for (let r = 0; r < n; r++) order[r] = r
  order = stableSortByInt32(order, idCol.values)
  order = stableSortByInt32(order, dates) // NULL_DATE is the smallest int32: NULL dates come first
  order = stableSortByInt32(order, cityRank)

  const rank = new Int32Array(n)
  const rate = new Float64Array(n)
  const usersByCity = new Int32Array(n)
  const stateOfRank: (string | null)[] = sortedDict.map((code) => cityToState.get(dict[code]!) ?? null)
  stateOfRank.push(null)
  const citiesWithoutState: (string | null)[] = []
  let rowsWithoutState = 0
  let groups = 0
  for (let gs = 0; gs < n; ) {
    const g = cityRank[order[gs]!]!
    let ge = gs + 1
    while (ge < n && cityRank[order[ge]!] === g) ge++
    // Walk from the newest date down: the rank grows when the date changes; NULLs (first in the group) come last.
    let k = 0
    let current = 0
    let prev = 0
    for (let i = ge - 1; i >= gs; i--) {
      const d = dates[order[i]!]!
      if (i === ge - 1 || d !== prev) current++
      prev = d
      rank[i] = current
      if (d !== NULL_DATE && asOf - d <= windowDays) k++
    }
    const count = ge - gs
    const r = k / count
    rate.fill(r, gs, ge)
    usersByCity.fill(count, gs, ge)
    if (stateOfRank[g] === null) {
      rowsWithoutState += count
      citiesWithoutState.push(g === nullCityRank ? null : dict[sortedDict[g]!]!)
    }
    groups++
    gs = ge
  }

  // city and state by group rank: dictionary columns (the writer writes them as dictionary pages as they are).
  const groupCodes = new Int32Array(n)
  const stateCodes = new Int32Array(n)
  const stateNames: StringValues = []
  const stateCodeOfRank = stateOfRank.map((st) => {
    if (st === null) return -1
    let i = stateNames.indexOf(st)
    if (i < 0) i = stateNames.push(st) - 1
    return i
  })
  for (let i = 0; i < n; i++) {
    const g = cityRank[order[i]!]!
    groupCodes[i] = g === nullCityRank ? -1 : g
    stateCodes[i] = stateCodeOfRank[g]!
  }
  const cityNames = stringColumnFrom(sortedDict.map((code) => dict[code]!))
  const ones = new Uint8Array(n).fill(1)
  const nameCol = users.columns[columnIndex(users.spec, 'name')]!
  const table: Table = {
    spec: USERS_FEATURES_SPEC,
    length: n,
    columns: [
      takeColumn(idCol, order, n),
      takeColumn(nameCol, order, n),
      fromDictionary(cityNames, dict.length, groupCodes),
      takeColumn(dateCol, order, n),
      fromDictionary(stringColumnFrom(stateNames), stateNames.length, stateCodes),
      { type: 'int32', values: rank, valid: ones },
      { type: 'double', values: rate },
      { type: 'int32', values: usersByCity, valid: ones },
    ],
  }
  return { table, summary: { rows: n, cities: groups, rowsWithoutState, citiesWithoutState } }
}
