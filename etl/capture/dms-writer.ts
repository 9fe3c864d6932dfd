/**
 * DMS-format file bytes from rows: the writing side of etl/dms/csv.ts, for the same DmsFormat and the same layout
 * (csvLayout decides the field order, the header and where the Op, timestamp and sequence columns go). Pure: no I/O.
 *
 * RFC 4180 quoting: a field is quoted when it holds the delimiter, a quote, CR or LF, when it is the empty string
 * (`""`, which the reader tells from NULL), and when it equals the format's NULL marker. NULL is the empty unquoted
 * field, or the unquoted csvNullValue when the format sets one. Lines end in LF.
 */
import { csvLayout } from '../dms/layout.js'
import { ConfigError } from '../errors.js'
import type { DmsFormat, TableSpec } from '../types.js'

export type CaptureOp = 'I' | 'U' | 'D'

/** One row of a DMS file: the table's values in spec order as PostgreSQL's text output, NULL as null. */
export interface CaptureRow {
  op: CaptureOp // I for full-load rows
  values: (string | null)[] // one per spec column
  commitTime?: string // `yyyy-MM-dd HH:mm:ss.ffffff` (UTC), for the format's timestamp column
  sequence?: string // digits that order the change, for the format's change-sequence column
}

/** Renders one field for `format`. */
export function csvField(value: string | null, format: DmsFormat): string {
  if (value === null) return format.csvNullValue ?? ''
  const d = format.csvDelimiter
  if (
    value === '' ||
    value === format.csvNullValue ||
    value.includes(d) ||
    value.includes('"') ||
    value.includes('\n') ||
    value.includes('\r')
  )
    return `"${value.replaceAll('"', '""')}"`
  return value
}

/** The first format setting capture does not write (issue 19's settings that drop ops or change the syntax), or null. */
function captureRefuses(f: DmsFormat): string | null {
  if (f.cdcInsertsOnly) return 'cdcInsertsOnly'
  if (f.cdcInsertsAndUpdates) return 'cdcInsertsAndUpdates'
  if (!f.rfc4180) return 'rfc4180'
  if (f.csvRowDelimiter !== '\n') return 'csvRowDelimiter'
  return null // useCsvNoSupValue: PostgreSQL logical replication sends every column, so no NOSUP value is written
}

/** Renders the rows of one kind of file; `withHeader` adds the AddColumnName header row (first chunk of a file). */
export class DmsRowWriter {
  private readonly layout
  private readonly extras: ('op' | 'timestamp' | 'sequence' | number)[]

  constructor(
    readonly spec: TableSpec,
    readonly format: DmsFormat,
    readonly kind: 'load' | 'change',
  ) {
    const unwritten = captureRefuses(format)
    if (unwritten !== null)
      throw new ConfigError(
        'bad_config',
        `capture: format.${unwritten} is not written by lakesync capture (it writes what DMS writes with the defaults: every op with its Op field, RFC 4180, LF rows); remove it from the config used for capture`,
      )
    this.layout = csvLayout(spec, format, kind)
    this.extras = this.layout.header.map((name, i) => {
      const c = this.layout.fieldColumn[i]!
      if (c >= 0) return c
      if (i === 0 && this.layout.hasOp) return 'op'
      return name === format.timestampColumnName ? 'timestamp' : 'sequence'
    })
  }

  /** The header row, or '' when the format writes none. */
  header(): string {
    if (!this.format.addColumnName) return ''
    return `${this.layout.header.map((h) => csvField(h, this.format)).join(this.format.csvDelimiter)}\n`
  }

  /** One row as a line of text, LF included. */
  row(r: CaptureRow): string {
    const d = this.format.csvDelimiter
    let line = ''
    this.extras.forEach((what, i) => {
      if (i > 0) line += d
      if (typeof what === 'number') line += csvField(r.values[what] ?? null, this.format)
      else if (what === 'op') line += r.op
      else if (what === 'timestamp') line += csvField(r.commitTime ?? null, this.format)
      else line += csvField(r.sequence ?? null, this.format)
    })
    return `${line}\n`
  }
}

/** `LOAD00000001.csv`: the full-load part counter, 8 uppercase hex digits, from 1. */
export function loadFileName(part: number): string {
  return `LOAD${part.toString(16).toUpperCase().padStart(8, '0')}.csv`
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

/** `yyyyMMdd-HHmmssfff.csv` of a UTC instant (ms since epoch), as DMS names change files. */
export function changeFileName(ms: number): string {
  const t = new Date(ms)
  return `${t.getUTCFullYear()}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}-${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}${pad(t.getUTCSeconds())}${pad(t.getUTCMilliseconds(), 3)}.csv`
}

/** PostgreSQL timestamps count microseconds from 2000-01-01 00:00:00 UTC. */
export const PG_EPOCH_MS = Date.UTC(2000, 0, 1)

/** A PostgreSQL commit timestamp (µs since 2000-01-01 UTC) as DMS's `yyyy-MM-dd HH:mm:ss.ffffff`. */
export function formatCommitTime(pgMicros: bigint): string {
  const ms = Number(pgMicros / 1000n) + PG_EPOCH_MS
  const t = new Date(ms)
  const micros = ((pgMicros % 1_000_000n) + 1_000_000n) % 1_000_000n
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}.${String(micros).padStart(6, '0')}`
}

/** The ordering value of the n-th change of a transaction: its commit's end LSN (20 digits), then n (10 digits). */
export function changeSequence(endLsn: bigint, n: number): string {
  return `${endLsn.toString().padStart(20, '0')}${String(n).padStart(10, '0')}`
}
