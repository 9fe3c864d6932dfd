/**
 * `npm run soak -- [--seed N] [--budget SECONDS] [--crash N] [--race N] [--mutations N] [--only crash|race|bad]`: the
 * commit protocol under abuse, against the local CLI (not part of `npm test`; docs/reliability.md records the figures).
 *
 * - crash: each round may drop a change file and move as_of a day, then runs the built CLI, a fifth of the time
 *   SIGKILLed at a random commit step (LAKESYNC_FAULT_AT=<step>:kill) with a 1 s lease; the next round's run takes
 *   over (`--wait`). Every round: no file applied twice or out of order, every committed file unchanged; every 25th
 *   round and at the end a clean run, then the published tables equal the Python reference model's.
 * - race: each round drops up to two files and starts 2 to 4 CLI runs at once (`--wait`): all exit 0, same checks.
 * - bad input: each mutation (scripts/soak-checks.ts mutate) of a generated change file is dropped and run through
 *   the CLI in process (cli/app.ts main, the code the binary runs): a rejection (exit 1) must commit nothing and leave
 *   no claim, and the reference model must reject it too; an acceptance must match the reference model.
 *
 * Each campaign stops at its count or when the time budget (shared, split a third each; all of it with --only) runs
 * out. Exit 1 on any problem, with each named.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { mulberry32 } from '../bench/generate.js'
import { main } from '../cli/app.js'
import { readCommitLog } from '../etl/commit/log.js'
import type { FaultStep } from '../etl/pipeline.js'
import { LocalStorage } from '../etl/storage/local.js'
import {
  checkLog,
  checkReference,
  type Fingerprints,
  leftovers,
  mutate,
  type Problems,
  problems,
  REPO,
  referenceRejects,
  Stream,
} from './soak-checks.js'

const STEPS: FaultStep[] = [
  'after-read',
  'after-claim',
  'after-write-users',
  'after-write',
  'after-write-snapshot',
  'after-commit',
  'after-iceberg-manifests',
  'after-iceberg-metadata',
  'after-iceberg',
  'after-catalog',
]
const CLI = join(REPO, 'dist', 'cli', 'main.js')

const { values: flags } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    budget: { type: 'string', default: '1800' },
    crash: { type: 'string', default: '1000' },
    race: { type: 'string', default: '200' },
    mutations: { type: 'string', default: '10000' },
    only: { type: 'string' },
  },
})
const seed = Number(flags.seed)
const started = Date.now()
const budgetMs = Number(flags.budget) * 1000

function day(asOf: number): string {
  return new Date(Date.UTC(2021, 9, 17) + asOf * 86_400_000).toISOString().slice(0, 10)
}

/** The built CLI as a child process: its exit code, or the signal that ended it. */
function lakesync(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; signal: string | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } })
    let err = ''
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString()
    })
    child.stdout.resume()
    child.on('close', (code, signal) => resolve({ code, signal, err }))
  })
}

function workspace(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `lakesync-soak-${name}-`))
  const source = join(dir, 'source')
  const lake = join(dir, 'lake')
  mkdirSync(source)
  return { dir, source, lake }
}

function drop(source: string, file: { name: string; text: string }, dropped: string[]): void {
  writeFileSync(join(source, file.name), file.text)
  dropped.push(file.name)
}

async function crashCampaign(rounds: number, deadline: number, p: Problems) {
  const random = mulberry32(seed)
  const stream = new Stream(random)
  const { dir, source, lake } = workspace('crash')
  const dropped: string[] = []
  const seen: Fingerprints = new Map()
  drop(source, stream.load(), dropped)
  let asOf = 0
  let done = 0
  let kills = 0
  let commits = 0
  const run = (env: NodeJS.ProcessEnv = {}) =>
    lakesync(
      ['run', '--source', source, '--target', lake, '--as-of', day(asOf), '--lease-seconds', '1', '--wait'],
      env,
    )
  for (; done < rounds && Date.now() < deadline; done++) {
    if (random() < 0.4) drop(source, stream.change(), dropped)
    if (random() < 0.1) asOf++
    const kill = random() < 0.2 ? STEPS[Math.floor(random() * STEPS.length)] : undefined
    const r = await run(kill ? { LAKESYNC_FAULT_AT: `${kill}:kill` } : {})
    if (r.signal === 'SIGKILL') kills++
    else if (r.code !== 0) p.add(`crash round ${done}: exit ${r.code}: ${r.err.trim()}`)
    ;({ commits } = await checkLog(lake, dropped, seen, false, p, `crash round ${done}`))
    if (done % 25 === 24) {
      const clean = await run()
      if (clean.code !== 0) p.add(`crash checkpoint ${done}: exit ${clean.code}: ${clean.err.trim()}`)
      await checkLog(lake, dropped, seen, true, p, `crash checkpoint ${done}`)
      await checkReference(lake, source, day(asOf), p, `crash checkpoint ${done}`)
    }
  }
  const last = await run()
  if (last.code !== 0) p.add(`crash end: exit ${last.code}: ${last.err.trim()}`)
  ;({ commits } = await checkLog(lake, dropped, seen, true, p, 'crash end'))
  await checkReference(lake, source, day(asOf), p, 'crash end')
  const left = leftovers(join(lake, '_lakesync'))
  if (left.length > 0) p.add(`crash end: ${left.length} temporary file(s) of dead runs left: ${left[0]}`)
  rmSync(dir, { recursive: true, force: true })
  return { rounds: done, kills, commits, files: dropped.length, checkpoints: Math.floor(done / 25) + 1 }
}

async function raceCampaign(rounds: number, deadline: number, p: Problems) {
  const random = mulberry32(seed + 1)
  const stream = new Stream(random)
  const { dir, source, lake } = workspace('race')
  const dropped: string[] = []
  const seen: Fingerprints = new Map()
  drop(source, stream.load(), dropped)
  let asOf = 0
  let done = 0
  let writers = 0
  let commits = 0
  for (; done < rounds && Date.now() < deadline; done++) {
    for (let n = Math.floor(random() * 3); n > 0; n--) drop(source, stream.change(), dropped)
    if (random() < 0.1) asOf++
    const w = 2 + Math.floor(random() * 3)
    writers += w
    const results = await Promise.all(
      Array.from({ length: w }, () =>
        lakesync([
          'run',
          '--source',
          source,
          '--target',
          lake,
          '--as-of',
          day(asOf),
          '--lease-seconds',
          '2',
          '--wait',
        ]),
      ),
    )
    for (const r of results)
      if (r.code !== 0) p.add(`race round ${done}: exit ${r.code ?? r.signal}: ${r.err.trim()}`)
    ;({ commits } = await checkLog(lake, dropped, seen, true, p, `race round ${done}`))
    if (done % 10 === 9) await checkReference(lake, source, day(asOf), p, `race round ${done}`)
  }
  await checkReference(lake, source, day(asOf), p, 'race end')
  rmSync(dir, { recursive: true, force: true })
  return { rounds: done, writers, commits, files: dropped.length }
}

const sink = () =>
  new Writable({
    write(_c, _e, cb) {
      cb()
    },
  })

async function badInputCampaign(mutations: number, deadline: number, p: Problems) {
  const random = mulberry32(seed + 2)
  const stream = new Stream(random)
  const { dir, source, lake } = workspace('bad')
  const dropped: string[] = []
  const seen: Fingerprints = new Map()
  drop(source, stream.load(), dropped)
  const io = { out: sink(), err: sink(), errIsTty: false }
  const run = () => main(['run', '--source', source, '--target', lake, '--as-of', day(0)], io)
  if ((await run()) !== 0) p.add('bad input: the first load failed')
  const target = new LocalStorage(lake)
  let done = 0
  let rejected = 0
  let accepted = 0
  for (; done < mutations && Date.now() < deadline; done++) {
    const file = stream.change()
    const before = (await readCommitLog(target, 'users')).entries.length
    writeFileSync(join(source, file.name), mutate(file.text, random))
    const code = await run()
    const log = await readCommitLog(target, 'users')
    const where = `mutation ${done} (${file.name})`
    if (code === 1) {
      rejected++
      if (log.entries.length !== before) p.add(`${where}: rejected, yet the log changed`)
      // The reference model must reject it too (checked on a sample: it takes a process per file).
      if (done % 20 === 0 && !referenceRejects(source, day(0)).rejects)
        p.add(`${where}: lakesync rejected it, the reference model accepts it`)
      unlinkSync(join(source, file.name))
    } else if (code === 0) {
      accepted++
      dropped.push(file.name)
      await checkLog(lake, dropped, seen, true, p, where)
      await checkReference(lake, source, day(0), p, where)
    } else p.add(`${where}: exit ${code}`)
  }
  rmSync(dir, { recursive: true, force: true })
  return { mutations: done, rejected, accepted }
}

const p = problems()
const only = flags.only
const share = only ? budgetMs : budgetMs / 3
const crash =
  !only || only === 'crash' ? await crashCampaign(Number(flags.crash), started + share, p) : undefined
const race =
  !only || only === 'race' ? await raceCampaign(Number(flags.race), Date.now() + share, p) : undefined
const bad =
  !only || only === 'bad' ? await badInputCampaign(Number(flags.mutations), started + budgetMs, p) : undefined
const summary = {
  seed,
  seconds: Math.round((Date.now() - started) / 1000),
  crash,
  race,
  badInput: bad,
  problems: p.list.length,
}
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
for (const m of p.list.slice(0, 50)) process.stderr.write(`soak: problem: ${m}\n`)
process.exitCode = p.list.length > 0 ? 1 : 0
