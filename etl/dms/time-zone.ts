/**
 * CDC file names in a local time zone (DMS `DatePartitionTimezone`): "the conversion occurs when a date partition
 * folder is created and a CDC filename is generated" [API-S3]. Names are converted back to UTC for ordering, so the
 * hour that repeats when clocks go back cannot reorder changes.
 */
import { InputError } from '../errors.js'

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(zone, f)
  }
  return f
}

/** True for a time-zone name the runtime's IANA database knows, in `Area/Location` form (or `UTC`). */
export function isTimeZone(name: unknown): name is string {
  if (typeof name !== 'string' || !/^(UTC|[A-Za-z][A-Za-z_]*(\/[A-Za-z0-9_+-]+)+)$/.test(name)) return false
  try {
    formatter(name)
    return true
  } catch {
    return false
  }
}

/** The zone's offset from UTC at instant `t` (ms), in ms. */
function offsetAt(zone: string, t: number): number {
  const base = Math.floor(t / 1000) * 1000
  const p: Record<string, number> = {}
  for (const { type, value } of formatter(zone).formatToParts(new Date(base))) p[type] = Number(value)
  const d = new Date(0)
  d.setUTCFullYear(p.year!, p.month! - 1, p.day!)
  d.setUTCHours(p.hour!, p.minute!, p.second!, 0)
  return d.getTime() - base
}

/**
 * The UTC instants (ms) whose wall-clock time in `zone` is `wall` (a wall time read as if it were UTC): none in the
 * hour skipped when clocks go forward, two in the hour repeated when they go back, else one.
 */
export function instantsOf(wall: number, zone: string): number[] {
  const offsets = new Set([-86_400_000, 0, 86_400_000].map((d) => offsetAt(zone, wall + d)))
  const out = [...offsets].map((o) => wall - o).filter((t) => offsetAt(zone, t) === wall - t)
  return [...new Set(out)].sort((a, b) => a - b)
}

/**
 * A change file's name timestamp (yyyyMMddHHmmss + fraction, local time in `zone`) as the same form in UTC. In the
 * repeated hour the file's modification time decides: the latest of the two instants not after it (DMS writes a
 * file after the time its name gives).
 */
export function utcTimestamp(local: string, zone: string, mtimeMs: number | undefined, file: string): string {
  const n = (from: number, to: number) => Number(local.slice(from, to))
  const d = new Date(0)
  d.setUTCFullYear(n(0, 4), n(4, 6) - 1, n(6, 8))
  d.setUTCHours(n(8, 10), n(10, 12), n(12, 14), 0)
  const instants = instantsOf(d.getTime(), zone)
  let t: number | undefined
  if (instants.length === 1) t = instants[0]
  else if (instants.length === 0)
    throw new InputError(
      'bad_file_name',
      `dms files: ${JSON.stringify(file)} names ${wallText(local)}, a time that does not exist in ${zone} (clocks went forward); expected a DMS name in the format.datePartitionTimezone zone`,
      { file },
    )
  else {
    t = mtimeMs === undefined ? undefined : instants.findLast((i) => i <= mtimeMs)
    if (t === undefined)
      throw new InputError(
        'ambiguous_file_time',
        `dms files: ${JSON.stringify(file)} names ${wallText(local)}, which happened twice in ${zone} (clocks went back), and its modification time ${mtimeMs === undefined ? 'is unknown' : new Date(mtimeMs).toISOString()} does not tell which (expected a time after the name's first occurrence, ${new Date(instants[0]!).toISOString()})`,
        { file },
      )
  }
  const u = new Date(t!)
  const two = (x: number) => String(x).padStart(2, '0')
  return `${String(u.getUTCFullYear()).padStart(4, '0')}${two(u.getUTCMonth() + 1)}${two(u.getUTCDate())}${two(u.getUTCHours())}${two(u.getUTCMinutes())}${two(u.getUTCSeconds())}${local.slice(14)}`
}

function wallText(ts: string): string {
  return `${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)} ${ts.slice(8, 10)}:${ts.slice(10, 12)}:${ts.slice(12, 14)}`
}
