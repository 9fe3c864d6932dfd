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

import { featuresTableName } from './commit/layout.js'
import { lastLoginKeys } from './last-login-keys.js'
import { stringAt, stringColumnFrom } from './table/columns.js'
import { BytesDictionary } from './table/dictionary.js'
import { inversePermutation, scatterColumn } from './table/rows.js'
import { compareUtf8, radixSortPairs, stableSortByInt32 } from './table/sort.js'
import { columnIndex, USERS_SPEC } from './table/spec.js'
import type { ColumnData, FeatureSummary, StringColumn, StringValues, Table, TableSpec } from './types.js'
import { NULL_DATE } from './types.js'

/** The features table of a table with a `features` section: its id, name, city and last login, then the features. */
export function featuresSpecFor(spec: TableSpec): TableSpec {
  const f = spec.features
  if (!f) throw new Error(`table ${spec.name} has no features section`) // callers ask only tables that have one
  return {
    name: featuresTableName(spec.name),
    columns: [
      ...[f.id, f.name, f.city, f.lastLogin].map((name) => ({
        ...spec.columns.find((c) => c.name === name)!,
      })),
      ...FEATURE_COLUMNS,
    ],
    primaryKey: [f.id],
  }
}

const FEATURE_COLUMNS: TableSpec['columns'] = [
  { name: 'state', type: 'string' },
  { name: 'last_login_rank_by_city', type: 'int32' },
  { name: 'login_rate_last_3_months_by_city', type: 'double' },
  { name: 'users_by_city', type: 'int32' },
]

/** The reference users table's features table. */
export const USERS_FEATURES_SPEC: TableSpec = featuresSpecFor(USERS_SPEC)

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

/** Row numbers in user_id order: the identity when the rows already are (the users table is kept that way). */
function idOrder(ids: Int32Array | BigInt64Array, n: number): Int32Array {
  const order = new Int32Array(n)
  for (let r = 0; r < n; r++) order[r] = r
  for (let r = 1; r < n; r++)
    if (ids[r]! < ids[r - 1]!) {
      if (ids instanceof Int32Array) return stableSortByInt32(order, ids)
      return Int32Array.from(
        Array.from(order).sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0)),
      )
    }
  return order
}

/** Computes the features table from the users table (any row order; ties in the output are by user_id). */
export function cityFeatures(users: Table, opts: CityFeatureOptions): CityFeatures {
  const { asOf, cityToState, cityAliases, windowDays = 90 } = opts
  const n = users.length
  const roles = users.spec.features ?? USERS_SPEC.features!
  const idCol = users.columns[columnIndex(users.spec, roles.id)]!
  const cityCol = users.columns[columnIndex(users.spec, roles.city)]!
  const dateCol = users.columns[columnIndex(users.spec, roles.lastLogin)]!
  if (
    (idCol.type !== 'int32' && idCol.type !== 'int64') ||
    (cityCol.type !== 'string' && cityCol.type !== 'dict')
  )
    throw new Error('cityFeatures needs an int32 or int64 id and a string city') // guarded by parseTableSpec
  const lastLogin = lastLoginKeys(dateCol, n, asOf, windowDays)
  const dates = lastLogin.keys

  // Dictionary-encode the city from its bytes: grouping, ordering and the state lookup then work on small ints and
  // touch each distinct string once. Aliases fold a spelling into its target's group.
  // The merged table usually holds the city as a dictionary column already (toDictColumn); else it is done here.
  let codes: Int32Array
  let seen: { values: StringColumn; size: number }
  if (cityCol.type === 'dict') {
    codes = cityCol.codes
    seen = { values: cityCol.entries, size: cityCol.size }
  } else {
    const all = new BytesDictionary()
    codes = new Int32Array(n)
    const { bytes, offsets, valid } = cityCol
    for (let r = 0; r < n; r++)
      codes[r] = valid[r] === 1 ? all.codeOf(bytes, offsets[r]!, offsets[r + 1]!) : -1
    seen = all
  }
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
  // City rank per code (the last entry: NULL); rows look it up as their keys are built, with no array of their own.
  const rankOfCityCode = new Int32Array(seen.size + 1)
  for (let c = 0; c < seen.size; c++) rankOfCityCode[c] = rankOfCode[groupOfCode[c]!]!
  rankOfCityCode[seen.size] = nullCityRank
  const nullCode = seen.size
  const cityRankOf = (r: number) => rankOfCityCode[codes[r]! < 0 ? nullCode : codes[r]!]!

  // Order: city asc, last_login asc with NULL first (= rank desc), user_id asc. Dates become dense keys (NULL = 0)
  // so that (city, date) packs into one int32 sort key; the rows start in user_id order (the users table's order,
  // else sorted first) and a stable radix sort of (key, row) pairs keeps it for ties. The pairs move together, so
  // every pass reads sequentially, where sorting row numbers by values looked up through them reads at random
  // (docs/performance.md).
  const { minDate, maxDate } = dateRange(dates, n)
  const dateSpan = maxDate >= minDate ? maxDate - minDate + 2 : 1 // dense date keys 0 (NULL) .. span - 1
  const groupsWithNull = dict.length + 1
  let order = idOrder(idCol.values, n)
  let sortedKeys: Int32Array
  if (groupsWithNull * dateSpan <= 0x7fffffff) {
    const keys = packedKeys(order, dates, codes, rankOfCityCode, nullCode, dateSpan, minDate)
    const sorted = radixSortPairs(keys, order, groupsWithNull * dateSpan - 1)
    order = sorted.rows
    sortedKeys = sorted.keys
  } else {
    // Dates spread over millennia and many cities: the packed key would overflow int32; sort in two passes.
    order = stableSortByInt32(order, dates) // NULL_DATE is the smallest int32: NULL dates come first
    order = stableSortByInt32(
      order,
      Int32Array.from({ length: n }, (_, r) => cityRankOf(r)),
    )
    sortedKeys = new Int32Array(0)
  }
  const packed = sortedKeys.length === n
  const groupAt = (i: number) => (packed ? Math.floor(sortedKeys[i]! / dateSpan) : cityRankOf(order[i]!))

  const rank = new Int32Array(n)
  const rate = new Float64Array(n)
  const usersByCity = new Int32Array(n)
  const featureDates = new Int32Array(n)
  const groupCodes = new Int32Array(n)
  const stateCodes = new Int32Array(n)
  const stateOfRank: (string | null)[] = sortedDict.map((code) => cityToState.get(dict[code]!) ?? null)
  stateOfRank.push(null)
  // city and state by group rank: dictionary columns (the writer writes them as dictionary pages as they are).
  const stateNames: StringValues = []
  const stateCodeOfRank = Int32Array.from(stateOfRank, (st) => {
    if (st === null) return -1
    let i = stateNames.indexOf(st)
    if (i < 0) i = stateNames.push(st) - 1
    return i
  })
  const out = { rank, rate, usersByCity, featureDates, groupCodes, stateCodes }
  const walk = { n, asOf: lastLogin.asOfKey, windowDays, dateSpan, minDate, nullCityRank, stateCodeOfRank }
  const starts = packed
    ? walkPackedGroups(sortedKeys, walk, out)
    : walkGroups(groupAt, (i) => dates[order[i]!]!, walk, out)
  const citiesWithoutState: (string | null)[] = []
  let rowsWithoutState = 0
  for (let k = 0; k + 1 < starts.length; k++) {
    const g = groupAt(starts[k]!)
    if (stateOfRank[g] !== null) continue
    rowsWithoutState += starts[k + 1]! - starts[k]!
    citiesWithoutState.push(g === nullCityRank ? null : dict[sortedDict[g]!]!)
  }
  const groups = starts.length - 1

  const cityNames = stringColumnFrom(sortedDict.map((code) => dict[code]!))
  const ones = new Uint8Array(n).fill(1)
  const nameCol = users.columns[columnIndex(users.spec, roles.name)]!
  // The order is a permutation: one placement (its inverse) serves every column moved by it (etl/table/rows.ts).
  const place = inversePermutation(order, n)
  const move = (c: ColumnData) => scatterColumn(c, place, n)
  const table: Table = {
    spec: users.spec.features ? featuresSpecFor(users.spec) : USERS_FEATURES_SPEC,
    length: n,
    columns: [
      move(idCol),
      // Names that repeat travel as dictionary codes; unique names are moved as bytes.
      move(nameCol),
      { type: 'dict', codes: groupCodes, entries: cityNames, size: dict.length },
      lastLogin.output(featureDates),
      { type: 'dict', codes: stateCodes, entries: stringColumnFrom(stateNames), size: stateNames.length },
      { type: 'int32', values: rank, valid: ones },
      { type: 'double', values: rate },
      { type: 'int32', values: usersByCity, valid: ones },
    ],
  }
  return { table, summary: { rows: n, cities: groups, rowsWithoutState, citiesWithoutState } }
}

/** The oldest and newest non-NULL date (min > max when there is none). */
function dateRange(dates: Int32Array, n: number): { minDate: number; maxDate: number } {
  let minDate = 0x7fffffff
  let maxDate = -0x7fffffff
  for (let r = 0; r < n; r++) {
    const d = dates[r]!
    if (d === NULL_DATE) continue
    if (d < minDate) minDate = d
    if (d > maxDate) maxDate = d
  }
  return { minDate, maxDate }
}

/** Each row's sort key, in `order`: its city's rank * dateSpan + its dense date (NULL = 0). */
function packedKeys(
  order: Int32Array,
  dates: Int32Array,
  codes: Int32Array,
  rankOfCityCode: Int32Array,
  nullCode: number,
  dateSpan: number,
  minDate: number,
): Int32Array {
  const keys = new Int32Array(order.length)
  for (let i = 0; i < order.length; i++) {
    const r = order[i]!
    const d = dates[r]!
    const c = codes[r]!
    keys[i] = rankOfCityCode[c < 0 ? nullCode : c]! * dateSpan + (d === NULL_DATE ? 0 : d - minDate + 1)
  }
  return keys
}

/** What the group walk needs besides the rows. */
interface Walk {
  n: number
  asOf: number
  windowDays: number
  dateSpan: number
  minDate: number
  nullCityRank: number
  stateCodeOfRank: Int32Array
}

/** The per-row feature columns the walk fills, in feature order. */
interface FeatureColumns {
  rank: Int32Array
  rate: Float64Array
  usersByCity: Int32Array
  featureDates: Int32Array
  groupCodes: Int32Array
  stateCodes: Int32Array
}

/**
 * One city's rows [gs, ge), sorted by date ascending (NULL first), `dateAt` giving each: walked from the newest date
 * down, the rank grows when the date changes (NULLs come last); then the city's count, rate, codes.
 */
function fillGroup(
  g: number,
  gs: number,
  ge: number,
  dateAt: (i: number) => number,
  w: Walk,
  out: FeatureColumns,
): void {
  const { rank, featureDates } = out
  let k = 0
  let current = 0
  let prev = 0
  for (let i = ge - 1; i >= gs; i--) {
    const d = dateAt(i)
    featureDates[i] = d
    if (i === ge - 1 || d !== prev) current++
    prev = d
    rank[i] = current
    if (d !== NULL_DATE && w.asOf - d <= w.windowDays) k++
  }
  const count = ge - gs
  out.rate.fill(k / count, gs, ge)
  out.usersByCity.fill(count, gs, ge)
  out.groupCodes.fill(g === w.nullCityRank ? -1 : g, gs, ge)
  out.stateCodes.fill(w.stateCodeOfRank[g]!, gs, ge)
}

/**
 * The walk over rows sorted by packed key: a city's rows are the keys in [g * dateSpan, (g + 1) * dateSpan), and
 * the date comes back out of the key (no lookup through the order). The start of each city's rows, then n.
 * Each walk is a function of its own, so that V8 optimizes it for its one way of reading dates.
 */
function walkPackedGroups(sortedKeys: Int32Array, w: Walk, out: FeatureColumns): number[] {
  const { n, dateSpan, minDate } = w
  const starts: number[] = []
  for (let gs = 0; gs < n; ) {
    const g = Math.floor(sortedKeys[gs]! / dateSpan)
    const end = (g + 1) * dateSpan
    let ge = gs + 1
    while (ge < n && sortedKeys[ge]! < end) ge++
    const base = g * dateSpan
    fillGroup(
      g,
      gs,
      ge,
      (i) => {
        const dk = sortedKeys[i]! - base
        return dk === 0 ? NULL_DATE : dk - 1 + minDate
      },
      w,
      out,
    )
    starts.push(gs)
    gs = ge
  }
  starts.push(n)
  return starts
}

/** The walk over rows sorted in two passes (dates too far apart for a packed key): groups and dates by lookup. */
function walkGroups(
  groupAt: (i: number) => number,
  dateAt: (i: number) => number,
  w: Walk,
  out: FeatureColumns,
): number[] {
  const starts: number[] = []
  for (let gs = 0; gs < w.n; ) {
    const g = groupAt(gs)
    let ge = gs + 1
    while (ge < w.n && groupAt(ge) === g) ge++
    fillGroup(g, gs, ge, dateAt, w, out)
    starts.push(gs)
    gs = ge
  }
  starts.push(w.n)
  return starts
}
