/**
 * Seeded generator of an AWS DMS source folder for the benchmark: one full load (LOAD00000001.csv, keys in order, as
 * DMS writes them) and change files (yyyyMMdd-HHmmssfff.csv) of I/U/D rows. Deterministic for given parameters, and
 * cached under bench-data/<hash of the parameters>/source, so repeated runs reuse the files.
 *
 * What the data exercises: quoting (names with commas and quotes, ~1%), the empty string vs NULL, NULL names, cities
 * and dates (~1% each), non-ASCII text, cities missing from the state map, the Nashville-Davidson alias, a Zipf-like
 * city skew, U rows moving users between cities, re-inserts of deleted keys, several changes to one key, upserts of
 * missing keys, deletes of missing keys and login dates after as_of.
 */
import { createHash } from 'node:crypto'
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'

export interface GenParams {
  users: number // rows of the full load (keys 0..users-1)
  changes: number // change rows, over all change files
  files: number // change files
  seed: number // PRNG seed
}

/** Bump when the generated data changes, so old caches are not reused. */
const GENERATOR_VERSION = 2

export const AS_OF = '2021-10-17'
const FIRST_DAY = Date.UTC(2018, 0, 1) / 86_400_000 // 2018-01-01
const AS_OF_DAY = Date.UTC(2021, 9, 17) / 86_400_000 // 2021-10-17

/** mulberry32: a small, fast, seedable 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// biome-ignore format: a word list
const FIRST = [
  'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth',
  'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen',
  'Christopher', 'Lisa', 'Daniel', 'Nancy', 'Matthew', 'Betty', 'Anthony', 'Margaret', 'Mark', 'Sandra',
  'Donald', 'Ashley', 'Steven', 'Kimberly', 'Paul', 'Emily', 'Andrew', 'Donna', 'Joshua', 'Michelle',
  'Monica', 'Ross', 'Rachel', 'Chandler', 'Phoebe', 'Joey', 'Herman', 'Terrell', 'Mindy', 'Bob',
]
// biome-ignore format: a word list
const LAST = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson',
  'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores',
  'Geller', 'Green', 'Bing', 'Buffay', 'Tribbiani', 'Zimmerman', 'Reeves', 'George', 'Ding', 'Ray',
]
/** Non-ASCII names, so the UTF-8 decoding path runs (~0.5% of names). */
const ACCENTED = ['José Núñez', 'Zoë Brontë', 'Renée Faÿ', 'Ørjan Søren', 'Łukasz Żółw', '李 小龙']
/** Cities that are not in the state map (and so get a NULL state), some non-ASCII to test byte ordering. */
const UNKNOWN_CITIES = ['Atlantis', 'Springfield Gardens', 'Zürich', 'São Paulo', 'oklahoma city', 'Évry']

/** Cities of the bundled map (first column of data/city_to_state.csv), plus the alias spelling. */
function mapCities(cityFile: string): string[] {
  const lines = readFileSync(cityFile, 'utf8').split('\n').slice(1)
  const out: string[] = []
  for (const line of lines) {
    if (line === '') continue
    const m = /^"((?:[^"]|"")*)",/.exec(line)
    out.push(m ? m[1]!.replaceAll('""', '"') : line.slice(0, line.indexOf(',')))
  }
  return out
}

/** A CSV field: quoted when it must be (or when it is the empty string, which unquoted would mean NULL). */
export function field(v: string | null): string {
  if (v === null) return ''
  if (v === '' || /[",\r\n]/.test(v)) return `"${v.replaceAll('"', '""')}"`
  return v
}

function isoDate(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10)
}

class Sampler {
  private readonly rnd: () => number
  private readonly cities: string[]
  private readonly cdf: Float64Array
  private readonly dates: string[] = []

  constructor(seed: number, cityFile: string) {
    this.rnd = mulberry32(seed)
    const known = mapCities(cityFile)
    // Shuffle the map's cities so the popular ones are not simply the first rows of the file.
    for (let i = known.length - 1; i > 0; i--) {
      const j = Math.floor(this.rnd() * (i + 1))
      ;[known[i], known[j]] = [known[j]!, known[i]!]
    }
    this.cities = [...known, 'Nashville-Davidson', ...UNKNOWN_CITIES]
    const n = this.cities.length
    const weights = new Float64Array(n)
    for (let i = 0; i < n; i++) weights[i] = 1 / (i + 1) ** 0.8 // Zipf-like skew over the shuffled cities
    weights[known.length] = weights[3]! // Nashville-Davidson as common as the 4th city: the alias matters
    for (let i = known.length + 1; i < n; i++) weights[i] = weights[50]! // unknown cities: a few hundred each
    this.cdf = new Float64Array(n)
    let sum = 0
    for (let i = 0; i < n; i++) {
      sum += weights[i]!
      this.cdf[i] = sum
    }
    for (let i = 0; i < n; i++) this.cdf[i]! /= sum
    for (let d = FIRST_DAY; d <= AS_OF_DAY + 10; d++) this.dates.push(isoDate(d))
  }

  next(): number {
    return this.rnd()
  }

  int(n: number): number {
    return Math.floor(this.rnd() * n)
  }

  city(): string | null {
    if (this.rnd() < 0.01) return null
    const u = this.rnd()
    let lo = 0
    let hi = this.cdf.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return this.cities[lo]!
  }

  name(): string | null {
    const u = this.rnd()
    const first = FIRST[this.int(FIRST.length)]!
    const last = LAST[this.int(LAST.length)]!
    if (u < 0.002) return null
    if (u < 0.0025) return '' // the empty string, written quoted: not NULL
    if (u < 0.0125) return `${last}, ${first}` // a comma: quoted
    if (u < 0.015) return `${first} "${FIRST[this.int(FIRST.length)]!}" ${last}` // quotes: quoted and doubled
    if (u < 0.02) return ACCENTED[this.int(ACCENTED.length)]!
    return `${first} ${last}`
  }

  /** A login date: NULL ~1%, else uniform over 2018-01-01..as_of (recent: skewed to the last 200 days). */
  date(recent: boolean): string | null {
    if (this.rnd() < 0.01) return null
    if (recent) {
      // A few days after as_of too: future dates count as recent logins.
      const back = this.int(200) - 3
      return this.dates[AS_OF_DAY - FIRST_DAY - back]!
    }
    return this.dates[this.int(AS_OF_DAY - FIRST_DAY + 1)]!
  }
}

/** The cache folder of a parameter set. */
export function dataDir(root: string, p: GenParams): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ v: GENERATOR_VERSION, ...p }))
    .digest('hex')
    .slice(0, 12)
  return join(root, 'bench-data', `u${p.users}-c${p.changes}-f${p.files}-${hash}`)
}

/** A buffered writer of text lines to a file (one syscall per ~1 MB). */
export class LineWriter {
  private readonly fd: number
  private parts: string[] = []
  private size = 0
  constructor(path: string) {
    this.fd = openSync(path, 'w')
  }
  line(s: string): void {
    this.parts.push(s)
    this.size += s.length + 1
    if (this.size > 1 << 20) this.flush()
  }
  private flush(): void {
    if (this.parts.length === 0) return
    writeSync(this.fd, `${this.parts.join('\n')}\n`)
    this.parts = []
    this.size = 0
  }
  close(): void {
    this.flush()
    closeSync(this.fd)
  }
}

/** Change-file name of the i-th file: yyyyMMdd-HHmmssfff, ~7 minutes apart from 2021-10-17 19:43:24.349. */
export function changeFileName(i: number): string {
  const t = new Date(Date.UTC(2021, 9, 17, 19, 43, 24, 349) + i * 437_123)
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${t.getUTCFullYear()}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}-${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}${p(t.getUTCMilliseconds(), 3)}.csv`
}

/** Writes the source folder for `p` unless the cache already holds it. Returns the source folder. */
export function generate(root: string, p: GenParams, log: (m: string) => void = () => {}): string {
  const dir = dataDir(root, p)
  const source = join(dir, 'source')
  const done = join(dir, 'generated.json')
  if (existsSync(done)) return source
  const started = performance.now()
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(source, { recursive: true })
  const s = new Sampler(p.seed, join(root, 'data', 'city_to_state.csv'))

  const load = new LineWriter(join(source, 'LOAD00000001.csv'))
  for (let id = 0; id < p.users; id++)
    load.line(`${id},${field(s.name())},${field(s.city())},${field(s.date(false))}`)
  load.close()

  // Key liveness, so U and D mostly hit present keys; new keys continue after the load's.
  const maxKeys = p.users + p.changes + 1
  const alive = new Uint8Array(maxKeys)
  alive.fill(1, 0, p.users)
  let nextId = p.users
  const recent: number[] = [] // keys changed lately: ~5% of the changes hit one of them again
  const existing = (): number => {
    if (nextId === 0) return 0
    for (let tries = 0; tries < 20; tries++) {
      const k = s.int(nextId)
      if (alive[k] === 1) return k
    }
    return s.int(nextId) // mostly deleted keys: an upsert or delete of a missing key
  }
  const ops = { I: 0, U: 0, D: 0 }
  const perFile = Math.ceil(p.changes / Math.max(p.files, 1))
  let written = 0
  for (let f = 0; f < p.files; f++) {
    const w = new LineWriter(join(source, changeFileName(f)))
    const rows = Math.min(perFile, p.changes - written)
    for (let r = 0; r < rows; r++) {
      const u = s.next()
      let key: number
      let op: 'I' | 'U' | 'D'
      if (u < 0.05 && recent.length > 0) {
        key = recent[s.int(recent.length)]!
        op = alive[key] === 1 ? (s.next() < 0.7 ? 'U' : 'D') : 'I' // a re-insert when it was deleted
      } else if (u < 0.055) {
        key = nextId++ // a key never seen: an upsert of a missing key
        op = 'U'
      } else if (u < 0.06) {
        key = nextId // not present (yet): a delete of a missing key
        op = 'D'
      } else if (u < 0.062) {
        key = existing() // I on a present key: replaces the row
        op = 'I'
      } else if (u < 0.525) {
        key = existing()
        op = 'U'
      } else if (u < 0.81) {
        key = nextId++
        op = 'I'
      } else {
        key = existing()
        op = 'D'
      }
      if (recent.length < 1000) recent.push(key)
      else recent[s.int(1000)] = key
      alive[key] = op === 'D' ? 0 : 1
      ops[op]++
      // D rows carry a before-image in DMS; lakesync ignores its non-key values, so any valid values do.
      // U rows draw a fresh city, so most of them move the user to another city group.
      w.line(`${op},${key},${field(s.name())},${field(s.city())},${field(s.date(op !== 'D'))}`)
    }
    written += rows
    w.close()
  }
  writeFileSync(
    done,
    `${JSON.stringify({ params: p, generatorVersion: GENERATOR_VERSION, ops, seconds: Math.round((performance.now() - started) / 100) / 10 }, null, 2)}\n`,
  )
  log(
    `generated ${source} in ${((performance.now() - started) / 1000).toFixed(1)} s (${p.users} users; changes: ${ops.I} I, ${ops.U} U, ${ops.D} D)`,
  )
  return source
}
