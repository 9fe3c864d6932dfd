import { InputError } from '../errors.js'
import { objectName } from '../storage/storage.js'
import { utcTimestamp } from './time-zone.js'

/** One DMS file of a table's source folder, classified by its name. */
export interface DmsFile {
  path: string // path relative to the source root, `/`-separated (date-partition folders included)
  name: string // base name, e.g. LOAD0000000A.csv or 20211017-194324349.csv.gz
  kind: 'load' | 'change'
  gzip: boolean // name ends in .csv.gz (DMS CompressionType=GZIP)
  format: 'csv' | 'parquet' // DMS DataFormat, from the extension
  part: number // LOAD: the hexadecimal part counter; change: 0
  segment?: string // LOAD of a parallel load: its segment (`SEGMENT<n>` prefix or partition folder); else ''
  timestamp: string // change: yyyyMMddHHmmss plus the fraction digits, in UTC; LOAD: ''
  transaction?: boolean // a CDC_TXN file (PreserveTransactions): the changes of every table, in transaction order
}

/** How change-file names tell time: UTC (DMS's default), or local time in a zone (DatePartitionTimezone). */
export interface NameClock {
  timeZone: string | null // format.datePartitionTimezone
  mtimeMs: (path: string) => number | undefined // a file's modification time: decides the hour a DST change repeats
}

/** The source folder's files in the order they must be applied. */
export interface DmsListing {
  loads: DmsFile[] // full-load parts in segment, then counter order
  changes: DmsFile[] // change files in timestamp order
  ignored: string[] // paths that are not .csv/.csv.gz/.parquet (README, _SUCCESS, ...): skipped with a warning
}

// A parallel load without partition folders prefixes its segment: SEGMENT1_LOAD00000001.csv [S3T parallel load].
const LOAD_NAME = /^(SEGMENT[1-9][0-9]*_)?LOAD([0-9A-F]{8})\.(csv|csv\.gz|parquet)$/
const CHANGE_NAME = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(\d{3,})\.(csv|csv\.gz|parquet)$/
const EXTENSION = /\.(csv|csv\.gz|parquet)$/
// PreserveTransactions: `CDC_TXN-20201117153046033.csv`, the file's creation time; always CSV [S3T].
const TRANSACTION_NAME = /^CDC_TXN-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3,})\.(csv|csv\.gz)$/

/** Classifies one path; throws for a name that is a CSV or Parquet file but not a well-formed DMS name. */
export function classifyDmsFile(path: string, root = '', clock?: NameClock): DmsFile | 'ignored' {
  const name = path.slice(path.lastIndexOf('/') + 1)
  if (!EXTENSION.test(name)) return 'ignored'
  const load = LOAD_NAME.exec(name)
  if (load) {
    const ext = load[3]!
    const part = Number.parseInt(load[2]!, 16)
    // A LOAD file in a subfolder is a segment of a parallel load into partition folders [S3T parallel load].
    const folder = path.slice(0, Math.max(0, path.lastIndexOf('/')))
    const prefix = load[1]?.slice(0, -1) ?? ''
    return {
      path,
      name,
      kind: 'load',
      gzip: ext === 'csv.gz',
      format: ext === 'parquet' ? 'parquet' : 'csv',
      part,
      segment: folder && prefix ? `${folder}/${prefix}` : folder || prefix,
      timestamp: '',
    }
  }
  const change = CHANGE_NAME.exec(name)
  if (change && isRealTimestamp(change)) {
    const [, y, mo, d, h, mi, s, frac, ext] = change
    const local = `${y}${mo}${d}${h}${mi}${s}${frac}`
    const zone = clock?.timeZone ?? null
    return {
      path,
      name,
      kind: 'change',
      gzip: ext === 'csv.gz',
      format: ext === 'parquet' ? 'parquet' : 'csv',
      part: 0,
      segment: '',
      timestamp: zone === null ? local : utcTimestamp(local, zone, clock!.mtimeMs(path), named(root, path)),
    }
  }
  const txn = TRANSACTION_NAME.exec(name)
  if (txn && isRealTimestamp(txn)) {
    const [, y, mo, d, h, mi, s, frac, ext] = txn
    return {
      path,
      name,
      kind: 'change',
      gzip: ext === 'csv.gz',
      format: 'csv',
      part: 0,
      segment: '',
      timestamp: `${y}${mo}${d}${h}${mi}${s}${frac}`,
      transaction: true,
    }
  }
  throw new InputError(
    'bad_file_name',
    `dms files: malformed DMS file name ${JSON.stringify(named(root, path))} (expected LOAD<8 hex digits>, SEGMENT<n>_LOAD<8 hex digits> or yyyyMMdd-HHmmssfff with a real date and time, then .csv, .csv.gz or .parquet; or CDC_TXN-yyyyMMddHHmmssfff.csv)`,
    { file: named(root, path) },
  )
}

/**
 * A CDC_TXN file without PreserveTransactions, or a table's own change file with it: DMS writes a table's changes one
 * way or the other, and the order between the two kinds is nowhere documented.
 */
function misplacedChange(f: DmsFile, root: string): InputError {
  const file = named(root, f.path)
  return new InputError(
    'bad_file_name',
    f.transaction
      ? `dms files: ${JSON.stringify(file)} is a DMS transaction file (PreserveTransactions with CdcPath), but format.preserveTransactions is false; set format.preserveTransactions and format.cdcPath as the S3 endpoint has them, with the "tables" form over the DMS root (docs/dms-format.md)`
      : `dms files: ${JSON.stringify(file)} is a change file in a table's folder, but format.preserveTransactions is true, so DMS writes the changes to CDC_TXN files in format.cdcPath; remove it, or turn the setting off if the S3 endpoint has PreserveTransactions false`,
    { file },
  )
}

/** The full name of a listed file for messages (the S3 URL or local path), or the relative path without a root. */
function named(root: string, path: string): string {
  return root ? objectName({ root }, path) : path
}

function isRealTimestamp(m: RegExpExecArray): boolean {
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]))
  if (h! > 23 || mi! > 59 || s! > 59) return false
  return isRealDate(y!, mo!, d!)
}

/** True when year/month/day is a real proleptic-Gregorian calendar date. */
export function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const days = m === 2 ? (leap ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31
  return d <= days
}

/**
 * Compares change-file timestamps by value: the fixed 14 digits, then the fraction as a decimal fraction
 * (so `12` < `1225` < `123`, whatever the digit count).
 */
export function compareTimestamps(a: string, b: string): number {
  const n = Math.max(a.length, b.length)
  const pa = a.padEnd(n, '0')
  const pb = b.padEnd(n, '0')
  return pa < pb ? -1 : pa > pb ? 1 : 0
}

/**
 * Orders segment names naturally: text runs as text, digit runs as numbers (`SEGMENT2` < `SEGMENT10`,
 * `custom_segment2` < `custom_segment10`); the Spark engine's segment_key (glue/lakesync_spark/dms.py) agrees.
 */
export function compareSegments(a: string, b: string): number {
  const ka = a.match(/[0-9]+|[^0-9]+/g) ?? []
  const kb = b.match(/[0-9]+|[^0-9]+/g) ?? []
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const x = ka[i]!
    const y = kb[i]!
    const dx = /^[0-9]/.test(x)
    const dy = /^[0-9]/.test(y)
    if (dx !== dy) return dx ? 1 : -1
    const c = dx ? Number(x) - Number(y) || (x < y ? -1 : x > y ? 1 : 0) : x < y ? -1 : x > y ? 1 : 0
    if (c !== 0) return c
  }
  return ka.length - kb.length
}

/** Full-load order: segment (parallel load), then the hexadecimal counter within it. */
export function compareLoadFiles(a: DmsFile, b: DmsFile): number {
  return compareSegments(a.segment ?? '', b.segment ?? '') || a.part - b.part
}

/** DMS apply order: changes by timestamp value, equal values by full name. */
export function compareChangeFiles(a: DmsFile, b: DmsFile): number {
  return compareTimestamps(a.timestamp, b.timestamp) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}

/**
 * Lists a source folder's DMS files in apply order. Fails on malformed names, on one change-file name in two folders
 * and on `X.csv` beside `X.csv.gz`: each would make the order or the content a guess. LOAD files in subfolders are
 * the segments of a parallel load (one LOAD name per folder).
 */
export function listDmsFiles(
  paths: readonly string[],
  root = '',
  clock?: NameClock,
  transactions = false, // format.preserveTransactions: changes come in CDC_TXN files, never in the table's folder
): DmsListing {
  const loads: DmsFile[] = []
  const changes: DmsFile[] = []
  const ignored: string[] = []
  const byStem = new Map<string, string>()
  for (const path of paths) {
    const f = classifyDmsFile(path, root, clock)
    if (f === 'ignored') {
      ignored.push(path)
      continue
    }
    // Segments of a parallel load reuse LOAD names in their own folders: a LOAD name is unique within its folder.
    const stem = (f.kind === 'load' ? f.path : f.name).replace(EXTENSION, '')
    const seen = byStem.get(stem)
    if (seen !== undefined)
      throw new InputError(
        'duplicate_file',
        `dms files: ${JSON.stringify(named(root, path))} and ${JSON.stringify(named(root, seen))} are the same DMS file twice (same name in two folders, or one name with two extensions such as .csv and .csv.gz); remove one`,
        { file: named(root, path) },
      )
    byStem.set(stem, path)
    if (f.kind === 'change' && (f.transaction === true) !== transactions) throw misplacedChange(f, root)
    ;(f.kind === 'load' ? loads : changes).push(f)
  }
  loads.sort(compareLoadFiles)
  changes.sort(compareChangeFiles)
  ignored.sort()
  return { loads, changes, ignored }
}
