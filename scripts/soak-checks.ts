/**
 * What `npm run soak` (scripts/soak.ts) generates and checks: a seeded stream of DMS change files for the users table,
 * byte-level mutations of them, and the invariants every round must keep: every file applied at most once and in
 * order (exactly once after a clean run), every committed file unchanged, the published tables equal to the Python
 * reference model (scripts/reference_model.py) at each checkpoint, no temporary file of a dead run left behind.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { USERS_FEATURES_SPEC } from '../etl/city-features.js'
import { readVersionTable } from '../etl/commit/load-version.js'
import { lineage, readCommitLog } from '../etl/commit/log.js'
import { tableToCsv } from '../etl/report/csv-export.js'
import { LocalStorage } from '../etl/storage/local.js'
import { USERS_SPEC } from '../etl/table/spec.js'

export const REPO = join(import.meta.dirname, '..')

const CITIES = [
  'Austin',
  'Columbus',
  'Jacksonville',
  'New York',
  'Oklahoma city',
  'Nowhere Town',
  'San Jose',
  '',
]
const NAMES = ['Ann', 'Bo Li', 'Zoë', 'Chris "CJ" Jones', 'Dee, Dee', 'Émile', 'Ola']

/** A seeded stream of DMS files: one LOAD file, then change files with strictly increasing names. */
export class Stream {
  private nextKey = 0
  private readonly keys: number[] = []
  private clock = Date.UTC(2021, 9, 17, 0, 0, 0)
  constructor(private readonly random: () => number) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!
  }

  private csvField(s: string): string {
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
  }

  private row(key: number): string {
    const city = this.pick(CITIES)
    const day = 1 + Math.floor(this.random() * 28)
    const date =
      this.random() < 0.1
        ? ''
        : `2021-${String(1 + Math.floor(this.random() * 10)).padStart(2, '0')}-${String(day).padStart(2, '0')}`
    return `${key},${this.csvField(this.pick(NAMES))},${this.csvField(city)},${date}`
  }

  load(rows = 20): { name: string; text: string } {
    const lines: string[] = []
    for (let i = 0; i < rows; i++) {
      this.keys.push(this.nextKey)
      lines.push(this.row(this.nextKey++))
    }
    return { name: 'LOAD00000001.csv', text: `${lines.join('\n')}\n` }
  }

  /** The next change file: a few inserts, updates (of existing keys, now and then of a missing one) and deletes. */
  change(): { name: string; text: string } {
    this.clock += 1000 + Math.floor(this.random() * 60_000)
    const d = new Date(this.clock)
    const p = (n: number, w = 2) => String(n).padStart(w, '0')
    const name = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${p(d.getUTCMilliseconds(), 3)}.csv`
    const lines: string[] = []
    for (let i = 1 + Math.floor(this.random() * 5); i > 0; i--) {
      const r = this.random()
      if (r < 0.4 || this.keys.length === 0) {
        this.keys.push(this.nextKey)
        lines.push(`I,${this.row(this.nextKey++)}`)
      } else if (r < 0.8)
        lines.push(`U,${this.row(this.random() < 0.1 ? this.nextKey + 1000 : this.pick(this.keys))}`)
      else lines.push(`D,${this.row(this.pick(this.keys))}`)
    }
    return { name, text: `${lines.join('\n')}\n` }
  }
}

/** One random byte-level or field-level change to a change file's text (the bad-input campaign). */
export function mutate(text: string, random: () => number): Uint8Array {
  const bytes = new TextEncoder().encode(text)
  const at = Math.floor(random() * Math.max(1, bytes.length - 1))
  const lines = text.split('\n')
  const line = Math.floor(random() * Math.max(1, lines.length - 1))
  const fields = (lines[line] ?? '').split(',')
  const f = Math.floor(random() * fields.length)
  const withField = (v: string) => {
    fields[f] = v
    lines[line] = fields.join(',')
    return new TextEncoder().encode(lines.join('\n'))
  }
  const kinds = [
    () => Uint8Array.from(bytes.map((b, i) => (i === at ? Math.floor(random() * 256) : b))), // any byte
    () => Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1)]), // a byte dropped
    () => Uint8Array.from([...bytes.subarray(0, at), 0x2c, ...bytes.subarray(at)]), // a comma more
    () => Uint8Array.from([...bytes.subarray(0, at), 0x22, ...bytes.subarray(at)]), // a stray quote
    () => bytes.subarray(0, at), // truncated
    () => withField('X'), // a bad Op, key, date or an odd name
    () => withField('2021-02-30'),
    () => withField(''),
    () => withField('99999999999'),
    () => Uint8Array.from([...bytes.subarray(0, at), 0xff, ...bytes.subarray(at)]), // invalid UTF-8
  ]
  return kinds[Math.floor(random() * kinds.length)]!()
}

export interface Problems {
  list: string[]
  add(message: string): void
}

export function problems(): Problems {
  const list: string[] = []
  return { list, add: (m) => list.push(m) }
}

/** Committed files seen so far, by path: their SHA-256 (a committed version's files never change). */
export type Fingerprints = Map<string, string>

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/**
 * Checks the log of `lake` against the source files: no file applied twice in the lineage, applied files in the
 * order of `dropped` (a prefix of it; all of it when `complete`), every committed file unchanged since first seen.
 */
export async function checkLog(
  lake: string,
  dropped: string[],
  seen: Fingerprints,
  complete: boolean,
  p: Problems,
  where: string,
): Promise<{ commits: number }> {
  const target = new LocalStorage(lake)
  const log = await readCommitLog(target, USERS_SPEC.name)
  const applied = lineage(log).flatMap((r) => r.files.map((f) => f.path))
  if (new Set(applied).size !== applied.length) p.add(`${where}: a file applied twice: ${applied.join(' ')}`)
  const expected = complete ? dropped : dropped.slice(0, applied.length)
  if (applied.join('|') !== expected.join('|'))
    p.add(
      `${where}: applied ${applied.length} file(s) out of order or missing (${applied.at(-1)} vs ${expected.at(-1)})`,
    )
  for (const r of log.committed)
    for (const path of [
      ...r.outputs.users,
      ...(r.outputs.users_features ?? []),
      ...(r.snapshot ? [r.snapshot.path] : []),
    ]) {
      if (!existsSync(join(lake, path))) continue // vacuumed
      const h = sha(readFileSync(join(lake, path)))
      const before = seen.get(path)
      if (before === undefined) seen.set(path, h)
      else if (before !== h) p.add(`${where}: committed file ${path} changed`)
    }
  return { commits: log.committed.length }
}

/** The published tables of `lake` against the reference model run over `source` as of `asOf`. */
export async function checkReference(
  lake: string,
  source: string,
  asOf: string,
  p: Problems,
  where: string,
): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'lakesync-soak-ref-'))
  try {
    const r = spawnSync(
      'python3',
      [join(REPO, 'scripts', 'reference_model.py'), 'run', '--source', source, '--as-of', asOf, '--out', out],
      { encoding: 'utf8' },
    )
    if (r.status !== 0) return p.add(`${where}: the reference model failed: ${r.stdout}${r.stderr}`)
    const target = new LocalStorage(lake)
    const current = (await readCommitLog(target, USERS_SPEC.name)).current
    if (!current) return p.add(`${where}: no committed version`)
    if (current.asOf !== asOf) p.add(`${where}: current version has as_of ${current.asOf}, not ${asOf}`)
    const users = tableToCsv(await readVersionTable(target, current, USERS_SPEC, 'users'))
    const features = tableToCsv(
      await readVersionTable(target, current, USERS_FEATURES_SPEC, 'users_features'),
    )
    if (users !== readFileSync(join(out, 'users.csv'), 'utf8'))
      p.add(`${where}: users differ from the reference model`)
    if (features !== readFileSync(join(out, 'users_features.csv'), 'utf8'))
      p.add(`${where}: users_features differ from the reference model`)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}

/** Whether the reference model rejects `source` (for a mutation lakesync accepted or rejected). */
export function referenceRejects(source: string, asOf: string): { rejects: boolean; code?: string } {
  const out = mkdtempSync(join(tmpdir(), 'lakesync-soak-ref-'))
  try {
    const r = spawnSync(
      'python3',
      [join(REPO, 'scripts', 'reference_model.py'), 'run', '--source', source, '--as-of', asOf, '--out', out],
      { encoding: 'utf8' },
    )
    if (r.status === 0) return { rejects: false }
    return { rejects: true, code: (JSON.parse(r.stdout) as { error: { code: string } }).error.code }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}

/** Temporary files of dead runs still in the lake (after a clean run, none older than a lease may remain). */
export function leftovers(lake: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name))
      else if (e.name.startsWith('.lakesync-tmp-')) out.push(join(dir, e.name))
    }
  }
  if (existsSync(lake)) walk(lake)
  return out
}
