/** Writes rows as DMS CSV text (RFC 4180, NULL as an empty unquoted field) for generated test data. */
export type Cell = string | number | null

export function csvCell(v: Cell): string {
  if (v === null) return ''
  const s = String(v)
  if (s === '') return '""'
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function dmsCsv(rows: Cell[][]): Uint8Array {
  return new TextEncoder().encode(rows.map((r) => `${r.map(csvCell).join(',')}\n`).join(''))
}
