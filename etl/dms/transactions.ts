/**
 * DMS transaction files (PreserveTransactions + CdcPath) [S3T "Capturing data changes (CDC) including transaction
 * order on the S3 target"]: `CDC_TXN-<timestamp>.csv` holds the changes of every table, in transaction order, one
 * row per change, `operation,table_name,database_schema_name,field_value,...` (no header; `I`, `U` or `D`; always
 * CSV). A table reads the rows that name it: they are cut out whole (their bytes and the original line of each of
 * their lines) and parsed by the DMS CSV reader with the table's layout behind the three leading fields, so rows,
 * values and errors are the reader's, at the file's own lines and columns. Rows of other tables are only split into
 * fields: a row that cannot be split (a stray quote) stops the run, since every row after it would be a guess.
 */
import { Buffer } from 'node:buffer'
import { at, InputError, LakesyncError } from '../errors.js'
import type { TransactionTable } from '../storage/transaction-source.js'
import type { DmsFormat, ParsedFile, TableSpec } from '../types.js'
import { parseDmsCsv } from './csv.js'
import type { CsvLayout } from './layout.js'

const QUOTE = 34
const LF = 10
const CR = 13

/** The fields before a table's own in a transaction row. */
const LEADING = ['operation', 'table_name', 'database_schema_name']

/** A transaction row's layout for `spec`: the Op, the table and schema names (read, not stored), then the columns. */
export function transactionLayout(spec: TableSpec): CsvLayout {
  const header = [...LEADING, ...spec.columns.map((c) => c.name)]
  return {
    fieldCount: header.length,
    hasOp: true,
    loadOnly: false,
    fieldColumn: Int32Array.from(header, (_, f) => (f < LEADING.length ? -1 : f - LEADING.length)),
    header,
    sequenceField: -1,
  }
}

/** One table's rows of a transaction file: the rows' bytes back to back, and each of their lines' original line. */
export interface PickedRows {
  bytes: Uint8Array
  lines: Int32Array // lines[k] = the file's line of the picked bytes' line k + 1
  rows: number // rows of the file (every table's)
}

/** An InputError at `line`/`column` of `file`, worded as the DMS CSV reader words it. */
function rowError(
  code: ConstructorParameters<typeof InputError>[0],
  what: string,
  file: string,
  line: number,
  column: number,
) {
  const loc = { file, line, column }
  return new InputError(code, `dms csv: ${what}${at(loc)}`, loc)
}

/**
 * Cuts the rows naming `table` out of a transaction file's bytes (names compared exactly, as DMS writes them; a BOM
 * is tolerated). Splits every row by the CSV rules of `format` (quoting, delimiter, row delimiter), as the reader
 * does, and stops at a row that cannot be split or has fewer than the three leading fields.
 */
export function pickTransactionRows(
  bytes: Uint8Array,
  file: string,
  table: TransactionTable,
  format: DmsFormat,
): PickedRows {
  const b = bytes
  const n = b.length
  const delim = format.csvDelimiter.charCodeAt(0)
  const r = format.csvRowDelimiter
  const rowEnd = r === '\n' || r === '\r\n' ? LF : r.charCodeAt(0)
  const crlf = rowEnd === LF
  const quote = format.rfc4180 ? QUOTE : -1
  const want = [Buffer.from(table.name, 'utf8'), Buffer.from(table.schema, 'utf8')]
  const picked: Uint8Array[] = []
  const lines: number[] = []
  let size = 0
  let rows = 0
  let line = 1
  let i = n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0
  while (i < n) {
    if (b[i] === rowEnd || (crlf && b[i] === CR && b[i + 1] === LF))
      throw rowError('blank_line', 'blank line (expected a row of fields)', file, line, 1)
    const rowStart = i
    const rowLine = line
    let mine = true
    let field = 0
    let ended = false
    for (;;) {
      const fieldLine = line
      let s = i
      let e: number
      let escaped = false
      if (b[i] === quote) {
        s = i + 1
        let j = s
        for (;;) {
          while (j < n && b[j] !== QUOTE) {
            if (b[j] === rowEnd) line++
            j++
          }
          if (j >= n)
            throw rowError(
              'unterminated_quote',
              'unterminated quoted field (a closing " is missing before the end of the file)',
              file,
              fieldLine,
              field + 1,
            )
          if (b[j + 1] === QUOTE) {
            escaped = true
            j += 2
            continue
          }
          break
        }
        e = j
        i = j + 1
        if (i < n && b[i] !== delim && b[i] !== rowEnd && !(crlf && b[i] === CR))
          throw rowError(
            'bad_quote',
            `text after a closing quote (expected ${JSON.stringify(String.fromCharCode(delim))} or end of line)`,
            file,
            fieldLine,
            field + 1,
          )
      } else {
        while (i < n && b[i] !== delim && b[i] !== rowEnd && !(crlf && b[i] === CR)) {
          if (b[i] === quote)
            throw rowError(
              'bad_quote',
              'bare " inside an unquoted field (quote the whole field and double the quote)',
              file,
              fieldLine,
              field + 1,
            )
          i++
        }
        e = i
      }
      // table_name and database_schema_name pick the row.
      if (mine && (field === 1 || field === 2)) {
        const value = Buffer.from(b.buffer, b.byteOffset + s, e - s)
        const expected = want[field - 1]!
        mine = escaped
          ? value.toString('utf8').replaceAll('""', '"') === expected.toString('utf8')
          : value.equals(expected)
      }
      field++
      if (i >= n) break
      if (b[i] === delim) {
        i++
        continue
      }
      if (b[i] === rowEnd) i++
      else if (b[i + 1] === LF) i += 2
      else
        throw rowError(
          'bad_line_end',
          'carriage return not followed by a line feed (expected CRLF or LF line ends)',
          file,
          fieldLine,
          field,
        )
      line++
      ended = true
      break
    }
    if (field < LEADING.length)
      throw rowError(
        'field_count',
        `${field} fields (expected ${LEADING.join(',')},field_value,...: a DMS transaction row)`,
        file,
        rowLine,
        field,
      )
    rows++
    if (!mine) continue
    picked.push(b.subarray(rowStart, i))
    size += i - rowStart
    for (let l = rowLine; l <= (ended ? line - 1 : line); l++) lines.push(l)
  }
  const out = new Uint8Array(size)
  let o = 0
  for (const p of picked) {
    out.set(p, o)
    o += p.length
  }
  return { bytes: out, lines: Int32Array.from(lines), rows }
}

/** `e` pointing at the file's own line instead of the picked bytes' line (the message follows). */
function relocate(e: unknown, lines: Int32Array): unknown {
  if (!(e instanceof LakesyncError) || e.location?.line === undefined) return e
  const old = e.location
  const loc = { ...old, line: lines[old.line! - 1] ?? old.line! }
  const message = e.message.replace(at(old), at(loc))
  const Class = e.constructor as new (...a: ConstructorParameters<typeof LakesyncError>) => LakesyncError
  const moved = new Class(e.code, message, loc, { cause: e.cause })
  if (e.stack !== undefined) moved.stack = e.stack.replace(e.message, message)
  return moved
}

/**
 * The changes of one table in a transaction file, as a ParsedFile whose `lines` are the file's own; errors name
 * the file's line and column too. A file naming none of the table's rows gives no rows.
 */
export function parseTransactionFile(
  bytes: Uint8Array,
  file: string,
  spec: TableSpec,
  format: DmsFormat,
  table: TransactionTable,
): ParsedFile {
  const picked = pickTransactionRows(bytes, file, table, format)
  let parsed: ParsedFile
  try {
    parsed = parseDmsCsv(picked.bytes, file, spec, transactionLayout(spec), format)
  } catch (e) {
    throw relocate(e, picked.lines)
  }
  // Later errors (a NULL in a NOT NULL column, a NOSUP value that keeps nothing) name rows by these lines.
  parsed.lines = parsed.lines.map((l) => picked.lines[l - 1]!)
  return parsed
}
