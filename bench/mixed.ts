/**
 * The mixed-type cases (issue 16): bench/events.ts's 20-column `events` table, mirrored without features.
 *
 * - bulk: the full load (LOAD files only) -> version 1.
 * - steady: version 1 is committed; one change file of 10k I/U/D rows arrives -> version 2. lakesync starts from a
 *   fresh copy of its committed target, DuckDB (bench/mirror-peer.ts) from its own Parquet copy of version 1.
 *
 * Both engines' outputs must be identical (schema, values and row order) and their aggregates equal before a time
 * is reported.
 */
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { type CaseResult, commitTimings, compareParquet, measureOnce } from './case.js'
import { type EventsParams, eventsDataDir, generateEvents, writeEventsConfig } from './events.js'
import { linkFolder } from './steady.js'

/** Where a bulk case left its outputs: the steady state starts from them. */
export interface MixedState {
  lakesync: string // lakesync's target holding version 1
  duckdb: string // DuckDB's target holding events/part-00000.parquet
}

function size(n: number): string {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n)
}

/** A mixed case's name in the bench's tables. */
export function mixedLabel(kind: 'bulk' | 'steady', p: EventsParams): string {
  return kind === 'bulk'
    ? `mixed bulk: ${size(p.rows)} events (20 cols), full load`
    : `mixed steady: ${size(p.rows)} events + 1 file of ${size(p.changes)} changes`
}

interface Prepared {
  config: string
  loadOnly: string
  withChanges: string
  work: string
}

function prepare(root: string, p: EventsParams): Prepared {
  const source = generateEvents(root, p, (m) => console.error(m))
  const dir = eventsDataDir(root, p)
  const names = readdirSync(source)
  return {
    config: writeEventsConfig(dir),
    loadOnly: linkFolder(
      join(dir, 'load-only'),
      source,
      names.filter((n) => n.startsWith('LOAD')),
    ),
    withChanges: linkFolder(join(dir, 'with-changes'), source, names),
    work: dir,
  }
}

/** Aggregates over every column kind, as text: equal for both engines' outputs, printed as the case's checksum. */
const AGGREGATES = [
  'count(*) AS rows',
  'count(DISTINCT event_id) AS keys',
  'sum(event_id) AS sum_event_id',
  'sum(epoch_us(occurred_at)) AS sum_occurred_us',
  'count(received_at) AS received',
  'sum(amount) AS sum_amount',
  'sum(fee) AS sum_fee',
  'sum(hash(fx_rate)) AS hash_fx_rate',
  'max(fx_rate) AS max_fx_rate',
  'sum(hash(score)) AS hash_score', // not sum(score): a parallel float sum depends on the order of the row groups
  'count_if(isnan(score)) AS nan_scores',
  'count_if(is_test) AS tests',
  'count_if(is_mobile) AS mobile',
  'sum(hash(event_type, country, currency, session_id, page_url, referrer, note)) AS hash_text',
  'sum(hash(payload::VARCHAR)) AS hash_payload',
  "sum(event_date - DATE '2021-01-01') AS sum_days",
  'sum(user_id) AS sum_user_id',
  'sum(quantity) AS sum_quantity',
]

async function aggregates(file: string): Promise<Record<string, string>> {
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    const sql = `SELECT ${AGGREGATES.map((a) => a.replace(/ AS (\w+)$/, '::VARCHAR AS $1')).join(', ')} FROM read_parquet('${file.replaceAll("'", "''")}')`
    return (await c.runAndReadAll(sql)).getRowObjectsJson()[0] as Record<string, string>
  } finally {
    c.closeSync()
    db.closeSync()
  }
}

/** Compares the two outputs row by row and by aggregates; exits 1 when they differ. */
async function check(name: string, lakesyncFile: string, duckdbFile: string): Promise<void> {
  const diff = await compareParquet(lakesyncFile, duckdbFile)
  if (diff !== null) {
    console.error(`\n${name}: lakesync and DuckDB disagree on events: ${diff}`)
    process.exit(1)
  }
  const a = await aggregates(lakesyncFile)
  const b = await aggregates(duckdbFile)
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    console.error(
      `\n${name}: aggregates differ:\n  lakesync ${JSON.stringify(a)}\n  duckdb   ${JSON.stringify(b)}`,
    )
    process.exit(1)
  }
  console.error(
    `  ${name}: outputs identical (events: schema, values and row order); aggregates ${JSON.stringify(a)}`,
  )
}

function result(name: string, p: EventsParams): CaseResult {
  return {
    label: name,
    table: 'events',
    params: { users: p.rows, changes: p.changes, files: 1, seed: p.seed },
    lakesync: [],
    duckdb: [],
    timings: [],
    lakesyncOutput: '',
  }
}

/** Bulk: the full load into an empty target (version 1), R alternating runs. */
export async function runMixedBulk(
  root: string,
  p: EventsParams,
  runs: number,
): Promise<{ result: CaseResult; state: MixedState }> {
  const g = prepare(root, p)
  const name = mixedLabel('bulk', p)
  const r = result(name, p)
  const state = { lakesync: join(g.work, 'out', 'lakesync'), duckdb: join(g.work, 'out', 'duckdb') }
  for (let i = 0; i < runs; i++) {
    const l = measureOnce('lakesync', g.loadOnly, state.lakesync, { config: g.config })
    r.lakesync.push(l)
    r.timings.push(commitTimings(state.lakesync, 'events'))
    r.lakesyncOutput = l.output
    const d = measureOnce('duckdb', g.loadOnly, state.duckdb, { config: g.config })
    r.duckdb.push(d)
    console.error(
      `  ${name} run ${i + 1}/${runs}: lakesync ${Math.round(l.wallMs)} ms ${Math.round(l.maxRssMB)} MB, duckdb ${Math.round(d.wallMs)} ms ${Math.round(d.maxRssMB)} MB (${d.output.trim()})`,
    )
  }
  await check(
    name,
    join(state.lakesync, 'events', 'v=00000000000000000001', 'part-00000.parquet'),
    join(state.duckdb, 'events', 'part-00000.parquet'),
  )
  return { result: r, state }
}

/**
 * Steady state: version 1 committed (the bulk case's outputs when it ran in this invocation, else made here, untimed,
 * by the code under test), then one change file -> version 2, R alternating runs.
 */
export async function runMixedSteady(
  root: string,
  p: EventsParams,
  runs: number,
  from?: MixedState,
): Promise<CaseResult> {
  const g = prepare(root, p)
  const name = mixedLabel('steady', p)
  let state = from
  if (state === undefined) {
    state = {
      lakesync: join(g.work, 'steady', 'state-lakesync'),
      duckdb: join(g.work, 'steady', 'state-duckdb'),
    }
    measureOnce('lakesync', g.loadOnly, state.lakesync, { config: g.config })
    if (!existsSync(join(state.duckdb, 'events')))
      measureOnce('duckdb', g.loadOnly, state.duckdb, { config: g.config })
  }
  const baseParquet = join(state.duckdb, 'events', 'part-00000.parquet')
  const lakesyncTarget = join(g.work, 'steady', 'out-lakesync')
  const duckdbTarget = join(g.work, 'steady', 'out-duckdb')
  const r = result(name, p)
  for (let i = 0; i < runs; i++) {
    rmSync(lakesyncTarget, { recursive: true, force: true })
    cpSync(state.lakesync, lakesyncTarget, { recursive: true })
    const l = measureOnce('lakesync', g.withChanges, lakesyncTarget, { keepTarget: true, config: g.config })
    r.lakesync.push(l)
    r.timings.push(commitTimings(lakesyncTarget, 'events'))
    r.lakesyncOutput = l.output
    const d = measureOnce('duckdb', g.withChanges, duckdbTarget, {
      config: g.config,
      env: { BENCH_BASE_PARQUET: baseParquet },
    })
    r.duckdb.push(d)
    console.error(
      `  ${name} run ${i + 1}/${runs}: lakesync ${Math.round(l.wallMs)} ms ${Math.round(l.maxRssMB)} MB, duckdb ${Math.round(d.wallMs)} ms ${Math.round(d.maxRssMB)} MB (${d.output.trim()})`,
    )
  }
  await check(
    name,
    join(lakesyncTarget, 'events', 'v=00000000000000000002', 'part-00000.parquet'),
    join(duckdbTarget, 'events', 'part-00000.parquet'),
  )
  return r
}
