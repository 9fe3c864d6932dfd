/**
 * `npm run bench [-- --tables users,events --users N --changes M --files F --events N --runs R --seed S --large
 * --bulk-only]`: lakesync against a DuckDB peer (bench/duckdb-peer.ts for the reference users table,
 * bench/mirror-peer.ts for the mixed-type events table of bench/mixed.ts) on generated DMS data (bench/generate.ts,
 * bench/events.ts, cached under bench-data/).
 *
 * Per case: R rounds, each running lakesync then DuckDB in a fresh child process (bench/measure.ts), so neither warms
 * the other's heap or page cache beyond what the previous round left. The two engines' outputs must be identical
 * (values and row order, both tables) before any time is reported; otherwise the first differing rows are printed
 * and the exit code is 1.
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type CaseResult, commitTimings, compareParquet, label, measureOnce } from './case.js'
import { AS_OF, dataDir, type GenParams, generate } from './generate.js'
import { type MixedState, mixedLabel, runMixedBulk, runMixedSteady } from './mixed.js'
import { runSteadyCase } from './steady.js'

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..') // dist/bench/ -> the checkout

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

async function runCase(p: GenParams, runs: number): Promise<CaseResult> {
  const source = generate(root, p, (m) => console.error(m))
  const outDir = join(dataDir(root, p), 'out')
  const lakesyncTarget = join(outDir, 'lakesync')
  const duckdbTarget = join(outDir, 'duckdb')
  const result: CaseResult = { params: p, lakesync: [], duckdb: [], timings: [], lakesyncOutput: '' }
  for (let i = 0; i < runs; i++) {
    const l = measureOnce('lakesync', source, lakesyncTarget)
    result.lakesync.push(l)
    result.timings.push(commitTimings(lakesyncTarget))
    result.lakesyncOutput = l.output
    const d = measureOnce('duckdb', source, duckdbTarget)
    result.duckdb.push(d)
    console.error(
      `  ${label(p)} run ${i + 1}/${runs}: lakesync ${Math.round(l.wallMs)} ms ${Math.round(l.maxRssMB)} MB, duckdb ${Math.round(d.wallMs)} ms ${Math.round(d.maxRssMB)} MB`,
    )
  }
  const version = 'v=00000000000000000001'
  for (const [table, lakesyncFile] of [
    ['users', join(lakesyncTarget, 'users', version, 'part-00000.parquet')],
    ['users_features', join(lakesyncTarget, 'users_features', version, 'part-00000.parquet')],
  ] as const) {
    const diff = await compareParquet(lakesyncFile, join(duckdbTarget, table, 'part-00000.parquet'))
    if (diff !== null) {
      console.error(`\n${label(p)}: lakesync and DuckDB disagree on ${table}: ${diff}`)
      process.exit(1)
    }
  }
  console.error(`  ${label(p)}: outputs identical (users and users_features: values and row order)`)
  return result
}

/** The lakesync revision measured: HEAD, plus a note when etl/ or cli/ have uncommitted changes. */
function revision(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim()
    const dirty = git('status', '--porcelain', '--', 'etl', 'cli') !== ''
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes in etl/ or cli/' : ''}`
  } catch {
    return 'unknown (not a git checkout)'
  }
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`,
    ...rows.map(line),
  ].join('\n')
}

/** The issues' targets, each checked against the medians of this run (cases that did not run are skipped). */
function targets(results: CaseResult[], failed: { label: string }[]): string[] {
  const med = (r: CaseResult, k: 'wallMs' | 'maxRssMB', who: 'lakesync' | 'duckdb') =>
    median(r[who].map((m) => m[k]))
  const ratio = (r: CaseResult, k: 'wallMs' | 'maxRssMB') => med(r, k, 'lakesync') / med(r, k, 'duckdb')
  const bulk = (users: number) => results.find((r) => !r.table && !r.label && r.params.users === users)
  const steady = (users: number) =>
    results.find((r) => !r.table && r.label?.startsWith('steady') && r.params.users === users)
  const out: string[] = []
  const check = (name: string, value: number, limit: number, unit = 'x') =>
    out.push(
      `  ${value <= limit ? 'met    ' : 'NOT met'}  ${name}: ${value.toFixed(2)}${unit} (target <= ${limit}${unit})`,
    )
  if (results.some((r) => !r.table)) {
    out.push('targets (issue 5), from the medians above:')
    const b1 = bulk(1_000_000)
    const b10 = bulk(10_000_000)
    const s10 = steady(10_000_000)
    if (b1) check('1. bulk 1M/10k wall', ratio(b1, 'wallMs'), 1)
    if (b10) {
      check('2. bulk 10M/100k wall', ratio(b10, 'wallMs'), 1)
      check('2. bulk 10M/100k peak RSS', ratio(b10, 'maxRssMB'), 1)
    }
    if (s10) {
      check('3. steady 10M + 10k wall', ratio(s10, 'wallMs'), 0.5)
      check('3. steady 10M + 10k peak RSS', med(s10, 'maxRssMB', 'lakesync') / 1024, 3, ' GB')
    }
    if (b1 && b10) {
      const perRow = (r: CaseResult) => med(r, 'wallMs', 'lakesync') / (r.params.users + r.params.changes)
      check('4. per-row cost growth 1M -> 10M', perRow(b10) / perRow(b1), 1.3)
    }
    if (out.length === 1)
      out.push('  (none of the target cases ran: use the default sizes, with --large for 2-4)')
  }
  const mixed = results.filter((r) => r.table === 'events')
  const mixedFailed = failed.filter((f) => f.label.startsWith('mixed '))
  if (mixed.length + mixedFailed.length > 0) {
    out.push('mixed-type targets (issue 16), from the medians above: bulk <= 1.0x DuckDB, steady <= 0.5x:')
    for (const r of mixed) {
      const limit = r.label?.startsWith('mixed steady') ? 0.5 : 1
      check(`${r.label}: wall`, ratio(r, 'wallMs'), limit)
      check(`${r.label}: peak RSS`, ratio(r, 'maxRssMB'), limit)
    }
    for (const f of mixedFailed) out.push(`  NOT met  ${f.label}: failed (above)`)
  }
  return out
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string' },
      changes: { type: 'string' },
      files: { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      tables: { type: 'string' },
      events: { type: 'string' },
      large: { type: 'boolean' },
      'bulk-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    console.log(
      'usage: npm run bench -- [--tables users,events] [--users N] [--changes M] [--files F] [--events N] [--runs R]\n' +
        '                        [--seed S] [--large] [--bulk-only]\n' +
        '  default: both tables, 3 alternating runs per case.\n' +
        '  users: bulk (1000000 users, 10000 changes in 10 files) and steady state (a committed table of --users plus\n' +
        '  one 10k-row file); --large adds both at 10M users (bulk: 100k changes in 100 files).\n' +
        '  events (the 20-column mixed-type table, mirrored without features): bulk (the full load of --events rows,\n' +
        '  default 1000000) and steady state (that version committed plus one file of 10k changes); --large adds both\n' +
        '  at 10M rows.\n' +
        '  --tables picks the tables (users, events or both); --bulk-only skips the steady-state cases',
    )
    return
  }
  const int = (v: string | undefined, d: number, name: string): number => {
    if (v === undefined) return d
    const n = Number(v.replaceAll('_', ''))
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${v}`)
    return n
  }
  const seed = int(values.seed, 42, 'seed')
  const runs = Math.max(1, int(values.runs, 3, 'runs'))
  const tables = (values.tables ?? 'users,events').split(',').map((t) => t.trim())
  for (const t of tables)
    if (t !== 'users' && t !== 'events')
      throw new Error(`--tables takes users, events or both (comma-separated), got ${JSON.stringify(t)}`)
  const cases: GenParams[] = [
    {
      users: int(values.users, 1_000_000, 'users'),
      changes: int(values.changes, 10_000, 'changes'),
      files: int(values.files, 10, 'files'),
      seed,
    },
  ]
  if (values.large) cases.push({ users: 10_000_000, changes: 100_000, files: 100, seed })

  const results: CaseResult[] = []
  // A case whose engine run fails (an error, out of memory) is reported and the others still run; outputs that
  // differ stop the bench at once (compareParquet's callers exit 1).
  const failed: { label: string; error: string }[] = []
  const attempt = async <T>(name: string, f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f()
    } catch (e) {
      const error = (e as Error).message
      console.error(`  ${name}: FAILED: ${error}`)
      failed.push({ label: name, error })
      return undefined
    }
  }
  const keep = (r: CaseResult | undefined) => {
    if (r) results.push(r)
  }
  if (tables.includes('users')) {
    for (const p of cases) keep(await attempt(label(p), () => runCase(p, runs)))
    if (!values['bulk-only']) {
      const sizes = [cases[0]!.users, ...(values.large ? [10_000_000] : [])]
      for (const users of sizes)
        keep(
          await attempt(`steady: ${label({ users, changes: 0, files: 1, seed }).split(' / ')[0]}`, () =>
            runSteadyCase(root, { users, changes: 10_000, files: 1, seed }, runs),
          ),
        )
    }
  }
  if (tables.includes('events')) {
    const sizes = [int(values.events, 1_000_000, 'events'), ...(values.large ? [10_000_000] : [])]
    for (const rows of sizes) {
      const p = { rows, changes: 10_000, seed }
      const bulk = await attempt(mixedLabel('bulk', p), () => runMixedBulk(root, p, runs))
      keep(bulk?.result)
      if (values['bulk-only']) continue
      if (bulk === undefined) {
        const error = 'not run: its version 1 is the bulk case, which failed'
        console.error(`  ${mixedLabel('steady', p)}: ${error}`)
        failed.push({ label: mixedLabel('steady', p), error })
        continue
      }
      const state: MixedState = bulk.state
      keep(await attempt(mixedLabel('steady', p), () => runMixedSteady(root, p, runs, state)))
    }
  }

  const f0 = (x: number) => String(Math.round(x))
  const f2 = (x: number) => x.toFixed(2)
  console.log(
    `\nlakesync ${revision()}, Node ${process.version}, ${availableParallelism()} CPUs; median of ${runs} run(s) each, as_of ${AS_OF}; every run in a fresh process\n`,
  )
  console.log(
    table(
      ['case', 'lakesync ms', 'duckdb ms', 'time ratio', 'lakesync MB', 'duckdb MB', 'RSS ratio'],
      results.map((r) => {
        const lt = median(r.lakesync.map((m) => m.wallMs))
        const dt = median(r.duckdb.map((m) => m.wallMs))
        const lm = median(r.lakesync.map((m) => m.maxRssMB))
        const dm = median(r.duckdb.map((m) => m.maxRssMB))
        return [r.label ?? label(r.params), f0(lt), f0(dt), f2(lt / dt), f0(lm), f0(dm), f2(lm / dm)]
      }),
    ),
  )
  if (failed.length > 0) {
    console.log('\nfailed cases (no measurement):')
    for (const f of failed) console.log(`  ${f.label}: ${f.error}`)
    process.exitCode = 1
  }
  console.log(`\n${targets(results, failed).join('\n')}`)
  const phases = ['read', 'apply', 'features', 'encode', 'write', 'snapshot', 'total']
  console.log("\nlakesync's own timings (commit record timingsMs, median ms)\n")
  console.log(
    table(
      ['case', ...phases],
      results.map((r) => [
        r.label ?? label(r.params),
        ...phases.map((ph) => f0(median(r.timings.map((t) => t[ph] ?? 0)))),
      ]),
    ),
  )
  for (const r of results)
    console.log(`\n${r.label ?? label(r.params)}, lakesync said:\n${r.lakesyncOutput.trimEnd()}`)
}

main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).stack ?? String(e)}`)
  process.exitCode = 1
})
