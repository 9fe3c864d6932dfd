/**
 * Text renderings of a table: the CSV export format and the aligned `show` table.
 * CSV: a header row, LF line ends with a trailing newline, NULL as an empty unquoted field, the empty string as `""`,
 * quoting only when a field holds the delimiter, a quote, CR or LF.
 */

import { formatDate } from '../dms/values.js'
import { dictAt, stringAt } from '../table/columns.js'
import type { ColumnData, Table } from '../types.js'
import { NULL_DATE } from '../types.js'

/** Shortest round-trip digits, keeping a decimal point for integral values (`1.0`, `0.0`). */
export function formatDouble(x: number): string {
  const s = String(x)
  return Number.isInteger(x) && !s.includes('e') ? `${s}.0` : s
}

/** The text of one value, or null for NULL. */
export function formatValue(c: ColumnData, row: number): string | null {
  switch (c.type) {
    case 'string':
      return stringAt(c, row)
    case 'dict':
      return dictAt(c, row)
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
      line += csvField(formatValue(cols[c]!, r))
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
  for (let r = 0; r < n; r++) rows.push(table.columns.map((c) => formatValue(c, r) ?? 'null'))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const rule = `+${widths.map((w) => '-'.repeat(w)).join('+')}+`
  const line = (cells: string[]) => `|${cells.map((v, i) => v.padEnd(widths[i]!)).join('|')}|`
  const out = [rule, line(header), rule, ...rows.map(line), rule]
  if (table.length > n) out.push(`only showing top ${n} of ${table.length} rows`)
  return `${out.join('\n')}\n`
}
