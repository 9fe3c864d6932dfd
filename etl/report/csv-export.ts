/**
 * Text renderings of a table: the CSV export format and the aligned `show` table.
 * CSV: a header row, LF line ends with a trailing newline, NULL as an empty unquoted field, the empty string as `""`,
 * quoting only when a field holds the delimiter, a quote, CR or LF.
 */

import { Buffer } from 'node:buffer'
import { formatDate } from '../dms/values.js'
import { dictAt, stringAt } from '../table/columns.js'
import { formatDecimal, readBigEndian } from '../table/decimal.js'
import type { ColumnData, ColumnSpec, Table } from '../types.js'
import { NULL_DATE } from '../types.js'

/** Shortest round-trip digits, keeping a decimal point for integral values (`1.0`, `0.0`). */
export function formatDouble(x: number): string {
  const s = String(x)
  return Number.isInteger(x) && !s.includes('e') ? `${s}.0` : s
}

/** The shortest decimal that reads back to the same float32 (`0.1`, not `0.10000000149011612`). */
export function formatFloat32(x: number): string {
  if (!Number.isFinite(x)) return String(x)
  for (let p = 1; p < 9; p++) {
    const y = Number(x.toPrecision(p))
    if (Math.fround(y) === x) return String(y)
  }
  return String(x)
}

const MICROS_PER_DAY = 86_400_000_000n

/** `HH:MM:SS.ffffff` of microseconds since midnight. */
function formatTimeOfDay(micros: bigint): string {
  const s = Number(micros / 1_000_000n)
  const f = Number(micros % 1_000_000n)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.${String(f).padStart(6, '0')}`
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` of microseconds since 1970-01-01. */
export function formatTimestamp(micros: bigint): string {
  let days = micros / MICROS_PER_DAY
  let rest = micros % MICROS_PER_DAY
  if (rest < 0n) {
    rest += MICROS_PER_DAY
    days -= 1n
  }
  return `${formatDate(Number(days))} ${formatTimeOfDay(rest)}`
}

/** The text of one value of a column of type `spec`, or null for NULL (the rendering rules: README, Types). */
export function formatValue(spec: ColumnSpec, c: ColumnData, row: number): string | null {
  switch (c.type) {
    case 'int64': {
      if (c.valid[row] !== 1) return null
      const v = c.values[row]!
      switch (spec.type) {
        case 'decimal':
          return formatDecimal(v, spec.scale!)
        case 'time':
          return formatTimeOfDay(v)
        case 'timestamp':
          return formatTimestamp(v)
        case 'timestamptz':
          return `${formatTimestamp(v)}Z`
        default:
          return String(v)
      }
    }
    case 'float64':
      if (c.valid[row] !== 1) return null
      return spec.type === 'float32' ? formatFloat32(c.values[row]!) : String(c.values[row]!)
    case 'bool':
      return c.valid[row] === 1 ? (c.values[row] === 1 ? 'true' : 'false') : null
    case 'string':
    case 'dict': {
      if (spec.type !== 'binary' && spec.type !== 'decimal')
        return c.type === 'dict' ? dictAt(c, row) : stringAt(c, row)
      // Bytes, not text: binary as \x + hex, wide decimals as their unscaled value.
      const s = c.type === 'dict' ? c.entries : c
      const r = c.type === 'dict' ? c.codes[row]! : s.valid[row] === 1 ? row : -1
      if (r < 0) return null
      const bytes = s.bytes.subarray(s.offsets[r]!, s.offsets[r + 1]!)
      if (spec.type === 'decimal') return formatDecimal(readBigEndian(bytes, 0, bytes.length), spec.scale!)
      return `\\x${Buffer.from(bytes).toString('hex')}`
    }
    case 'int32':
      return c.valid[row] === 1 ? String(c.values[row]) : null
    case 'date': {
      const d = c.values[row]!
      return d === NULL_DATE ? null : formatDate(d)
    }
    case 'double':
      return formatDouble(c.values[row]!)
  }
}

const NEEDS_QUOTES = /[",\r\n]/

function csvField(v: string | null): string {
  if (v === null) return ''
  if (v === '') return '""'
  return NEEDS_QUOTES.test(v) ? `"${v.replaceAll('"', '""')}"` : v
}

/** The CSV text of rows [start, end), header included when start is 0. Callers chunk large tables. */
export function csvChunk(table: Table, start: number, end: number): string {
  const parts: string[] = []
  if (start === 0) parts.push(`${table.spec.columns.map((c) => csvField(c.name)).join(',')}\n`)
  const cols = table.columns
  for (let r = start; r < end; r++) {
    let line = ''
    for (let c = 0; c < cols.length; c++) {
      if (c > 0) line += ','
      line += csvField(formatValue(table.spec.columns[c]!, cols[c]!, r))
    }
    parts.push(`${line}\n`)
  }
  return parts.join('')
}

/** The whole table as CSV text. */
export function tableToCsv(table: Table): string {
  return csvChunk(table, 0, table.length)
}

/** The first `limit` rows as an aligned table in the style of the seed README (NULL shown as `null`). */
export function showTable(table: Table, limit: number): string {
  const n = Math.min(limit, table.length)
  const header = table.spec.columns.map((c) => c.name)
  const rows: string[][] = []
  for (let r = 0; r < n; r++)
    rows.push(table.columns.map((c, ci) => formatValue(table.spec.columns[ci]!, c, r) ?? 'null'))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const rule = `+${widths.map((w) => '-'.repeat(w)).join('+')}+`
  const line = (cells: string[]) => `|${cells.map((v, i) => v.padEnd(widths[i]!)).join('|')}|`
  const out = [rule, line(header), rule, ...rows.map(line), rule]
  if (table.length > n) out.push(`only showing top ${n} of ${table.length} rows`)
  return `${out.join('\n')}\n`
}
