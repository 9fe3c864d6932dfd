/** Writes rows as DMS CSV text (RFC 4180, NULL as an empty unquoted field) for generated test data and expectations. */
import { enc } from './bytes.js'

export type Cell = string | number | null

/**
 * A field as DMS writes it: NULL empty and unquoted; the empty string, and text holding `"`, `,`, CR or LF, quoted
 * (with `always`, any text), quotes doubled.
 */
export function csvCell(v: Cell, always = false): string {
  if (v === null) return ''
  const s = String(v)
  return always || s === '' || /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/** Rows as CSV text, each ended by a line feed. */
export function csvText(rows: readonly (readonly Cell[])[]): string {
  return rows.map((r) => `${r.map((c) => csvCell(c)).join(',')}\n`).join('')
}

export function dmsCsv(rows: readonly (readonly Cell[])[]): Uint8Array {
  return enc(csvText(rows))
}
