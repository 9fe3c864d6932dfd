/**
 * The numbers of `lakesync report`: pipeline health from the commit log (and, given the source, the pending files
 * and the error the next run would stop on), a timeline of recent commits, and per-city features taken from the
 * published users_features table of the current version. `deriveReport` is pure (log, features table, status in;
 * numbers out); `readReportData` reads those inputs from a target (a folder or S3) and calls it.
 */

import { featuresSpecFor } from '../city-features.js'
import { readVersionTable } from '../commit/load-version.js'
import { type CommitLog, describeSkipRecord, type LogRecord, readCommitLog } from '../commit/log.js'
import { lastAppliedOf, type SkippedStatus, skippedOf, type TableStatus, tableStatus } from '../status.js'
import type { Storage } from '../storage/storage.js'
import { stringAt } from '../table/columns.js'
import { BytesDictionary } from '../table/dictionary.js'
import { columnIndex } from '../table/spec.js'
import type { DmsFormat, OpCounts, Table, TableSpec } from '../types.js'

/** One version of the log, for the commit timeline (oldest first). */
export interface CommitPoint {
  version: number
  state: LogRecord['state']
  at: string // committedAt, claimedAt or abandonedAt
  asOf: string | null // committed versions only
  files: number // source files applied by this version
  changeFiles: number // of which change files
  counts: OpCounts | null // per-op sums over the version's change files (committed only)
  users: number | null // rows of the published users table
  runMs: number | null // timingsMs.total
  fullLoad: boolean
  reload: boolean
  detail: string // abandoned: the reason; pending: who holds the claim
}

/** Per-city numbers, as published in users_features. */
export interface CityRow {
  city: string | null // NULL city forms one group
  state: string | null // NULL when the city has no state mapping
  users: number // rows of the city (= users_by_city)
  rate: number // login_rate_last_3_months_by_city
  active: number // users who logged in within the window: round(rate * users)
}

export type HealthLevel = 'healthy' | 'pending' | 'failing' | 'empty'

export interface ReportHealth {
  level: HealthLevel // one word for the badge
  summary: string // one sentence saying why
  currentVersion: number | null
  asOf: string | null
  committedAt: string | null
  users: number | null // rows of the current users table
  lastApplied: string | null // newest change file of the lineage (or the LOAD part when no change yet)
  lagMs: number | null // now minus the timestamp in the last applied file's name
  lastFailure: { version: number; at: string; reason: string } | null // the newest abandoned record
  withSource: boolean // whether pending files and the next-run error were computed
  pending: string[] | null // files the next run would apply (null without a source)
  error: { code: string; message: string } | null // what the next run would stop on (null without a source)
  versions: { committed: number; abandoned: number; pending: number }
  skipped: SkippedStatus[] // files set aside (lakesync skip), oldest first
}

export interface ReportFeatures {
  version: number
  asOf: string
  rows: number // rows of users_features
  cities: CityRow[] // every city, users descending then name ascending (NULL last)
  activeUsers: number // sum of CityRow.active
  loginRate: number // activeUsers / rows (0 when empty)
  rankHistogram: { rank: number | null; rows: number }[] // last_login_rank_by_city, rank ascending (NULL last)
  citiesWithoutState: { city: string | null; rows: number }[] // rows descending, then name
  rowsWithoutState: number
}

export interface ReportData {
  table: string
  target: string // the target's root as given
  source: string | null
  generatedAt: string // ISO timestamp of `now`
  health: ReportHealth
  commits: CommitPoint[] // the newest `commitLimit` versions of any state, oldest first
  features: ReportFeatures | null // null when there is no committed version
}

export interface ReportInputs {
  table: string
  target: string
  source: string | null
  log: CommitLog
  features: Table | null // users_features of log.current
  status: TableStatus | null // from tableStatus when a source was given
  now: Date
  commitLimit?: number // default 20
}

const NO_COUNTS: OpCounts = {
  inserts: 0,
  replaces: 0,
  updates: 0,
  upsertsOfMissing: 0,
  deletes: 0,
  deletesOfMissing: 0,
}

/** Compares nullable names: by UTF-16 code units, NULL last. */
function compareNames(a: string | null, b: string | null): number {
  if (a === b) return 0
  if (a === null) return 1
  if (b === null) return -1
  return a < b ? -1 : 1
}

function commitPoint(r: LogRecord): CommitPoint {
  if (r.state === 'committed')
    return {
      version: r.version,
      state: r.state,
      at: r.committedAt,
      asOf: r.asOf,
      files: r.files.length,
      changeFiles: r.files.filter((f) => f.kind === 'change').length,
      counts: { ...NO_COUNTS, ...r.counts },
      users: r.rows.users,
      runMs: r.timingsMs.total ?? null,
      fullLoad: r.fullLoad,
      reload: r.reload,
      detail: '',
    }
  const base = { version: r.version, state: r.state, asOf: null, files: 0, changeFiles: 0, counts: null }
  const rest = { users: null, runMs: null, fullLoad: false, reload: false }
  if (r.state === 'pending')
    return { ...base, ...rest, at: r.claimedAt, detail: `claimed by run ${r.runId} until ${r.expiresAt}` }
  if (r.state === 'abandoned') return { ...base, ...rest, at: r.abandonedAt, detail: r.reason }
  return { ...base, ...rest, ...describeSkipRecord(r) }
}

/** Per-city rows, the rank histogram and the cities without a state, from a users_features table. */
export function featureNumbers(features: Table): Omit<ReportFeatures, 'version' | 'asOf'> {
  const spec = features.spec
  const col = (name: string) => features.columns[columnIndex(spec, name)]!
  const city = col('city')
  const state = col('state')
  const rank = col('last_login_rank_by_city')
  const rate = col('login_rate_last_3_months_by_city')
  if (city.type !== 'string' || state.type !== 'string' || rank.type !== 'int32' || rate.type !== 'double')
    throw new Error('users_features needs city, state strings, an int32 rank and a double rate') // by the spec
  // Cities are grouped by their bytes: one JS string per city, not per row.
  const seen = new BytesDictionary()
  const byCode: CityRow[] = []
  let nullCity: CityRow | undefined
  const ranks = new Map<number | null, number>()
  for (let r = 0; r < features.length; r++) {
    const code = city.valid[r] === 1 ? seen.codeOf(city.bytes, city.offsets[r]!, city.offsets[r + 1]!) : -1
    let row = code < 0 ? nullCity : byCode[code]
    if (!row) {
      row = { city: stringAt(city, r), state: stringAt(state, r), users: 0, rate: rate.values[r]!, active: 0 }
      if (code < 0) nullCity = row
      else byCode[code] = row
    }
    row.users++
    const k = rank.valid[r] ? rank.values[r]! : null
    ranks.set(k, (ranks.get(k) ?? 0) + 1)
  }
  const cities = nullCity ? [...byCode, nullCity] : [...byCode]
  for (const c of cities) c.active = Math.round(c.rate * c.users)
  cities.sort((a, b) => b.users - a.users || compareNames(a.city, b.city))
  const activeUsers = cities.reduce((s, c) => s + c.active, 0)
  const rankHistogram = [...ranks]
    .map(([rank, rows]) => ({ rank, rows }))
    .sort((a, b) => (a.rank ?? Number.POSITIVE_INFINITY) - (b.rank ?? Number.POSITIVE_INFINITY))
  const citiesWithoutState = cities
    .filter((c) => c.state === null)
    .map((c) => ({ city: c.city, rows: c.users }))
    .sort((a, b) => b.rows - a.rows || compareNames(a.city, b.city))
  return {
    rows: features.length,
    cities,
    activeUsers,
    loginRate: features.length ? activeUsers / features.length : 0,
    rankHistogram,
    citiesWithoutState,
    rowsWithoutState: citiesWithoutState.reduce((s, c) => s + c.rows, 0),
  }
}

function healthOf(inputs: ReportInputs): ReportHealth {
  const { log, status, now } = inputs
  const current = log.current ?? null
  const { lastApplied, lagMs } = status ?? lastAppliedOf(log, now)
  const abandoned = log.entries.map((e) => e.record).findLast((r) => r.state === 'abandoned')
  const lastFailure = abandoned
    ? { version: abandoned.version, at: abandoned.abandonedAt, reason: abandoned.reason }
    : null
  const states = log.entries.map((e) => e.record.state)
  const count = (s: LogRecord['state']) => states.filter((x) => x === s).length
  const headFailed = log.head?.record.state === 'abandoned'
  const error = status?.error ?? null
  const pending = status ? status.pending : null
  let level: HealthLevel
  let summary: string
  if (!current) {
    level = 'empty'
    summary = 'No committed version yet: run lakesync run first.'
  } else if (error && error.code !== 'run_failed') {
    level = 'failing'
    summary = `The next run would stop: ${error.code}.`
  } else if (headFailed || error) {
    level = 'failing'
    summary = `The newest run failed (version ${lastFailure?.version ?? '?'}).`
  } else if (pending && pending.length > 0) {
    level = 'pending'
    summary = `${pending.length} file(s) wait for the next run.`
  } else {
    level = 'healthy'
    summary = status
      ? 'Up to date: the last run committed and no file is pending.'
      : 'The last run committed (give --source to check for pending files).'
  }
  return {
    level,
    summary,
    currentVersion: current?.version ?? null,
    asOf: current?.asOf ?? null,
    committedAt: current?.committedAt ?? null,
    users: current?.rows.users ?? null,
    lastApplied,
    lagMs,
    lastFailure,
    withSource: status !== null,
    pending,
    error,
    versions: { committed: count('committed'), abandoned: count('abandoned'), pending: count('pending') },
    skipped: skippedOf(log),
  }
}

/** The report's numbers from what was read. Pure. */
export function deriveReport(inputs: ReportInputs): ReportData {
  const { log, features } = inputs
  const limit = inputs.commitLimit ?? 20
  const current = log.current
  return {
    table: inputs.table,
    target: inputs.target,
    source: inputs.source,
    generatedAt: inputs.now.toISOString(),
    health: healthOf(inputs),
    commits: log.entries.slice(-limit).map((e) => commitPoint(e.record)),
    features:
      current && features
        ? { version: current.version, asOf: current.asOf, ...featureNumbers(features) }
        : null,
  }
}

export interface ReadReportOptions {
  source?: { storage: Storage; format: DmsFormat } // to include pending files and the next run's error
  now?: Date
  commitLimit?: number
}

/** Reads the commit log, the current users_features table and (given a source) the table's status. */
export async function readReportData(
  target: Storage,
  spec: TableSpec,
  opts: ReadReportOptions = {},
): Promise<ReportData> {
  const now = opts.now ?? new Date()
  const log = await readCommitLog(target, spec.name)
  // A table without features reports its versions and status only.
  const features =
    log.current?.outputs.users_features && spec.features
      ? await readVersionTable(target, log.current, featuresSpecFor(spec), 'users_features')
      : null
  const status = opts.source
    ? await tableStatus(opts.source.storage, target, spec, opts.source.format, { now })
    : null
  return deriveReport({
    table: spec.name,
    target: target.root,
    source: opts.source?.storage.root ?? null,
    log,
    features,
    status,
    now,
    ...(opts.commitLimit === undefined ? {} : { commitLimit: opts.commitLimit }),
  })
}

/** A duration for people: `42 s`, `17 min`, `5 h`, `1,840 days`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (Math.abs(s) < 120) return `${s} s`
  if (Math.abs(s) < 7200) return `${Math.round(s / 60)} min`
  if (Math.abs(s) < 172_800) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86_400).toLocaleString('en-US')} days`
}
