/**
 * The mixed-type bench table (issue 16): `events`, 20 columns of every kind a real DMS task replicates — an int64
 * key, two timestamptz, three decimals (p <= 9 .. p = 38), a float64, two booleans, seven text columns, a json
 * column, a date, an int64 and an int32, most of them nullable — and its seeded generator of a DMS source folder:
 * the full load split into LOAD files at DMS's default MaxFileSize (1 GB), plus one change file of I/U/D rows for the
 * steady state. Cached under bench-data/events-<rows>-c<changes>-<hash>/ like bench/generate.ts's users data.
 *
 * The text is what DMS writes for PostgreSQL sources (docs/dms-format.md): timestamptz `2021-10-17
 * 19:43:24.349000+00`, numerics with exactly `s` fraction digits, REAL8 as `+5.0656000000000000e+05` (and `NaN`,
 * `Infinity`, `-Infinity`), booleans `true`/`false`, jsonb as its text (quoted, quotes doubled), NULL as an empty
 * unquoted field and the empty string as `""`.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { changeFileName, field, LineWriter, mulberry32 } from './generate.js'

export interface EventsParams {
  rows: number // rows of the full load
  changes: number // rows of the one change file
  seed: number
}

/** Bump when the generated data changes, so old caches are not reused. */
const EVENTS_GENERATOR_VERSION = 1

/** The table as a `lakesync run --config` file holds it: mirrored only (no `features` section). */
export const EVENTS_TABLE = {
  name: 'events',
  columns: [
    { name: 'event_id', type: 'int64' },
    { name: 'occurred_at', type: 'timestamptz' },
    { name: 'received_at', type: 'timestamptz' },
    { name: 'amount', type: 'decimal(12,2)' },
    { name: 'fee', type: 'decimal(18,4)' },
    { name: 'fx_rate', type: 'decimal(38,10)' },
    { name: 'score', type: 'float64' },
    { name: 'is_test', type: 'boolean' },
    { name: 'is_mobile', type: 'boolean' },
    { name: 'event_type', type: 'string' },
    { name: 'country', type: 'string' },
    { name: 'currency', type: 'string' },
    { name: 'session_id', type: 'string' },
    { name: 'page_url', type: 'string' },
    { name: 'referrer', type: 'string' },
    { name: 'payload', type: 'json' },
    { name: 'event_date', type: 'date' },
    { name: 'user_id', type: 'int64' },
    { name: 'quantity', type: 'int32' },
    { name: 'note', type: 'string' },
  ],
  primaryKey: ['event_id'],
}

/** DMS's default MaxFileSize for a full load to S3: 1,048,576 KB. */
const LOAD_FILE_BYTES = 1_048_576 * 1024

const FIRST_KEY = 3_000_000_000 // beyond 2^31: the key needs int64
const T0_MICROS = Date.UTC(2021, 0, 1) * 1000 // the first event, 2021-01-01 00:00:00 UTC
const STEP_MICROS = 2_500_000 // ~2.5 s between events

// biome-ignore format: a word list
const EVENT_TYPES = ['page_view', 'click', 'search', 'add_to_cart', 'login', 'purchase', 'logout', 'share',
  'video_play', 'signup', 'refund', 'error']
// biome-ignore format: a word list
const COUNTRIES = ['US', 'DE', 'GB', 'FR', 'IN', 'BR', 'JP', 'CA', 'AU', 'ES', 'IT', 'NL', 'SE', 'MX', 'PL', 'CH',
  'BE', 'AT', 'NO', 'DK', 'FI', 'IE', 'PT', 'CZ', 'KR', 'SG', 'ZA', 'AR', 'CL', 'NZ']
const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CAD', 'AUD', 'CHF', 'SEK', 'BRL', 'INR']
// biome-ignore format: a word list
const REFERRERS = ['https://www.google.com/', 'https://www.bing.com/', 'https://duckduckgo.com/',
  'https://news.ycombinator.com/', 'https://www.facebook.com/', 'https://t.co/', 'android-app://com.google.android.gm/',
  'https://www.reddit.com/r/deals/']
// biome-ignore format: a word list
const NOTES = ['gift wrap', 'call before delivery', 'leave at the door, please', 'Zürich office', 'façade entrance',
  'back order: 2 weeks', 'customer said "urgent"', '李 小龙', 'n/a']
const TAGS = ['new', 'sale', 'promo', 'bundle', 'clearance', 'b2b', 'ünicode']

const P2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'))

/** The cache folder of a parameter set. */
export function eventsDataDir(root: string, p: EventsParams): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ v: EVENTS_GENERATOR_VERSION, ...p }))
    .digest('hex')
    .slice(0, 12)
  return join(root, 'bench-data', `events-r${p.rows}-c${p.changes}-${hash}`)
}

/** Writes the config file `lakesync run --config` reads for the events table; returns its path. */
export function writeEventsConfig(dir: string): string {
  const file = join(dir, 'events.config.json')
  mkdirSync(dir, { recursive: true })
  writeFileSync(file, `${JSON.stringify({ table: EVENTS_TABLE }, null, 2)}\n`)
  return file
}

class EventSampler {
  private readonly rnd: () => number
  private readonly dayText: string[] = []
  private readonly firstDay = Math.floor(T0_MICROS / 86_400_000_000)

  constructor(seed: number) {
    this.rnd = mulberry32(seed)
  }

  next(): number {
    return this.rnd()
  }

  int(n: number): number {
    return Math.floor(this.rnd() * n)
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!
  }

  /** Skewed pick: early entries are more common. */
  skewed<T>(xs: readonly T[]): T {
    const u = this.rnd()
    return xs[Math.floor(u * u * xs.length)]!
  }

  date(day: number): string {
    const i = day - this.firstDay
    let t = this.dayText[i]
    if (t === undefined) {
      t = new Date(day * 86_400_000).toISOString().slice(0, 10)
      this.dayText[i] = t
    }
    return t
  }

  /** `YYYY-MM-DD HH:MM:SS.ffffff+00`, as DMS writes a PostgreSQL timestamptz. */
  timestamptz(us: number): string {
    const day = Math.floor(us / 86_400_000_000)
    const rest = us - day * 86_400_000_000
    const sec = Math.floor(rest / 1_000_000)
    const frac = rest - sec * 1_000_000
    const h = Math.floor(sec / 3600)
    const m = Math.floor(sec / 60) % 60
    return `${this.date(day)} ${P2[h]}:${P2[m]}:${P2[sec % 60]}.${String(frac).padStart(6, '0')}+00`
  }

  /** A REAL8 as DMS writes it: sign, 17 significant digits, a two-digit exponent. */
  real8(v: number): string {
    const t = Math.abs(v).toExponential(16)
    const e = t.indexOf('e')
    const exp = t.slice(e + 2)
    return `${v < 0 ? '-' : '+'}${t.slice(0, e)}e${t[e + 1]}${exp.length === 1 ? `0${exp}` : exp}`
  }

  digits(n: number): string {
    let s = ''
    while (s.length < n) s += String(this.int(100_000)).padStart(5, '0')
    return s.slice(0, n)
  }

  uuid(): string {
    const h = (bits: number) => (this.int(2 ** bits) >>> 0).toString(16).padStart(bits / 4, '0')
    return `${h(32)}-${h(16)}-4${h(12)}-${(8 + this.int(4)).toString(16)}${h(12)}-${h(24)}${h(24)}`
  }

  /** One CSV row of the table's 20 columns (without an Op field). */
  row(key: number, us: number): string {
    const amountCents = this.int(10_000_000)
    const amount = `${this.next() < 0.02 ? '-' : ''}${Math.floor(amountCents / 100)}.${P2[amountCents % 100]}`
    const feeU = this.next()
    const fee =
      feeU < 0.1
        ? ''
        : feeU < 0.11
          ? `${1 + this.int(999_999)}${this.digits(7)}.${this.digits(4)}` // 13 integer digits
          : `${this.int(1000)}.${this.digits(4)}`
    const fxU = this.next()
    const fx =
      fxU < 0.05
        ? ''
        : fxU < 0.06
          ? `${fxU < 0.055 ? '-' : ''}${1 + this.int(9)}${this.digits(27)}.${this.digits(10)}` // all 38 digits
          : `${this.int(2)}.${this.digits(10)}`
    const scoreU = this.next()
    const score =
      scoreU < 0.01
        ? ''
        : scoreU < 0.0101
          ? 'NaN'
          : scoreU < 0.0102
            ? 'Infinity'
            : scoreU < 0.0103
              ? '-Infinity'
              : this.real8((this.next() < 0.05 ? -1 : 1) * (this.int(1_000_000_000) / 1000))
    const isTest = this.next() < 0.02 ? 'true' : 'false'
    const mobileU = this.next()
    const isMobile = mobileU < 0.05 ? '' : mobileU < 0.45 ? 'true' : 'false'
    const eventType = this.skewed(EVENT_TYPES)
    const country = this.skewed(COUNTRIES)
    const currency = this.skewed(CURRENCIES)
    const session = this.uuid()
    const urlU = this.next()
    const page = `https://shop.example.com/products/${this.int(50_000)}${
      urlU < 0.01 ? `?tags=${this.pick(TAGS)},${this.pick(TAGS)}` : urlU < 0.011 ? '?q="red shoes"' : ''
    }`
    const referrer = this.next() < 0.4 ? null : this.pick(REFERRERS)
    const payload =
      this.next() < 0.05
        ? null
        : `{"item": ${this.int(50_000)}, "price": ${this.int(100_000) / 100}, "tags": ["${this.pick(TAGS)}", "${this.pick(TAGS)}"], "ab": {"variant": "${this.pick(['A', 'B', 'C'])}", "bucket": ${this.int(100)}}}`
    const userId = this.next() < 0.02 ? '' : String(10_000_000_000 + this.int(5_000_000))
    const quantity = this.next() < 0.03 ? '' : String(1 + this.int(10))
    const noteU = this.next()
    const note = noteU < 0.9 ? null : noteU < 0.91 ? '' : this.pick(NOTES)
    const receivedAt = this.next() < 0.03 ? '' : this.timestamptz(us + this.int(5_000_000))
    return [
      key,
      this.timestamptz(us),
      receivedAt,
      amount,
      fee,
      fx,
      score,
      isTest,
      isMobile,
      eventType,
      country,
      currency,
      session,
      field(page),
      field(referrer),
      field(payload),
      this.date(Math.floor(us / 86_400_000_000)),
      userId,
      quantity,
      field(note),
    ].join(',')
  }
}

/**
 * Writes the source folder for `p` unless the cache already holds it: LOAD00000001.csv... (keys in order, a new file
 * at 1 GB), and one change file of `p.changes` I/U/D rows (~47% U of present keys, ~28% I of new keys, ~19% D,
 * ~5% a second change to a recently changed key, re-inserts of deleted keys, upserts and deletes of missing keys).
 */
export function generateEvents(root: string, p: EventsParams, log: (m: string) => void = () => {}): string {
  const dir = eventsDataDir(root, p)
  const source = join(dir, 'source')
  const done = join(dir, 'generated.json')
  if (existsSync(done)) return source
  const started = performance.now()
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(source, { recursive: true })
  const s = new EventSampler(p.seed)

  let fileNo = 1
  let bytes = 0
  const loadName = (n: number) => `LOAD${n.toString(16).toUpperCase().padStart(8, '0')}.csv`
  let load = new LineWriter(join(source, loadName(fileNo)))
  for (let i = 0; i < p.rows; i++) {
    const line = s.row(FIRST_KEY + i, T0_MICROS + i * STEP_MICROS + s.int(STEP_MICROS))
    if (bytes + line.length + 1 > LOAD_FILE_BYTES) {
      load.close()
      load = new LineWriter(join(source, loadName(++fileNo)))
      bytes = 0
    }
    load.line(line)
    bytes += line.length + 1
  }
  load.close()

  // Key liveness (offsets from FIRST_KEY), so U and D mostly hit present keys; new keys continue after the load's.
  const alive = new Uint8Array(p.rows + p.changes + 1)
  alive.fill(1, 0, p.rows)
  let nextId = p.rows
  const recent: number[] = []
  const existing = (): number => {
    if (nextId === 0) return 0
    for (let tries = 0; tries < 20; tries++) {
      const k = s.int(nextId)
      if (alive[k] === 1) return k
    }
    return s.int(nextId)
  }
  const ops = { I: 0, U: 0, D: 0 }
  const w = new LineWriter(join(source, changeFileName(0)))
  for (let r = 0; r < p.changes; r++) {
    const u = s.next()
    let key: number
    let op: 'I' | 'U' | 'D'
    if (u < 0.05 && recent.length > 0) {
      key = recent[s.int(recent.length)]!
      op = alive[key] === 1 ? (s.next() < 0.7 ? 'U' : 'D') : 'I'
    } else if (u < 0.055) {
      key = nextId++
      op = 'U' // an upsert of a missing key
    } else if (u < 0.06) {
      key = nextId
      op = 'D' // a delete of a missing key
    } else if (u < 0.062) {
      key = existing()
      op = 'I' // an insert of a present key: replaces the row
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
    // Every row, D included, carries a full image (DMS writes the before-image of a delete).
    w.line(`${op},${s.row(FIRST_KEY + key, T0_MICROS + (p.rows + r) * STEP_MICROS)}`)
  }
  w.close()
  writeFileSync(
    done,
    `${JSON.stringify({ params: p, generatorVersion: EVENTS_GENERATOR_VERSION, loadFiles: fileNo, ops, seconds: Math.round((performance.now() - started) / 100) / 10 }, null, 2)}\n`,
  )
  log(
    `generated ${source} in ${((performance.now() - started) / 1000).toFixed(1)} s (${p.rows} events in ${fileNo} LOAD file(s); changes: ${ops.I} I, ${ops.U} U, ${ops.D} D)`,
  )
  return source
}
