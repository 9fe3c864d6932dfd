/**
 * RFC 4180 reader for DMS CSV files, straight into typed columns.
 *
 * Hand-written rather than csv-parse: the reader must tell an empty unquoted field (NULL) from a quoted `""` (the empty
 * string), point every error at a physical line and field, and decode ints and dates from bytes without building an
 * intermediate string per field. csv-parse can do the first only through its `cast` hook, which made it ~10x slower
 * (docs/decisions.md has the measurements).
 */
import { Buffer, isAscii, isUtf8 } from 'node:buffer'
import { appendString, type ColumnBuilder, ensureBytes, ensureCapacity, newColumn } from './column-builder.js'
import { at, InputError, quoteValue } from './errors.js'
import { keyIndex } from './table-spec.js'
import type { DmsFormat, ParsedFile, StringColumn, TableSpec } from './types.js'
import { OP_DELETE, OP_INSERT, OP_UPDATE } from './types.js'
import { parseDate, parseInt32 } from './values.js'

const QUOTE = 34
const LF = 10
const CR = 13

/** Which field of a row holds what, for one kind of DMS file under one DmsFormat. */
export interface CsvLayout {
  fieldCount: number // fields per row
  hasOp: boolean // field 0 is the DMS Op column
  loadOnly: boolean // an Op column in a full-load file, where only I is valid
  fieldColumn: Int32Array // per field: index of the spec column it fills, or -1 (Op, timestamp, sequence)
  header: string[] // the header row DMS writes with AddColumnName
  sequenceField: number // field whose text orders changes (DmsFormat.orderChangesBy), or -1
}

/**
 * The layout of a LOAD or change file: [Op] [timestamp, sequence if afterOp] columns... [timestamp, sequence if last].
 * Only change files capture the ordering field: full-load rows are a set and carry no order.
 */
export function csvLayout(spec: TableSpec, format: DmsFormat, kind: 'load' | 'change'): CsvLayout {
  const hasOp = kind === 'change' || format.includeOpForFullLoad
  const header: string[] = []
  const fieldColumn: number[] = []
  const extra = (name: string | null, position: 'afterOp' | 'last', where: 'afterOp' | 'last') => {
    if (name === null || position !== where) return
    header.push(name)
    fieldColumn.push(-1)
  }
  if (hasOp) {
    header.push('Op')
    fieldColumn.push(-1)
  }
  for (const where of ['afterOp', 'last'] as const) {
    if (where === 'last')
      spec.columns.forEach((c, i) => {
        header.push(c.name)
        fieldColumn.push(i)
      })
    extra(format.timestampColumnName, format.timestampColumnPosition, where)
    extra(format.changeSequenceColumnName, format.changeSequencePosition, where)
  }
  const orderName =
    format.orderChangesBy === 'timestamp'
      ? format.timestampColumnName
      : format.orderChangesBy === 'changeSequence'
        ? format.changeSequenceColumnName
        : null
  const sequenceField = kind === 'change' && orderName !== null ? header.indexOf(orderName) : -1
  return {
    fieldCount: header.length,
    hasOp,
    loadOnly: kind === 'load',
    fieldColumn: Int32Array.from(fieldColumn),
    header,
    sequenceField,
  }
}

/**
 * Buffer#latin1Slice: the native method behind toString('latin1'), without toString's argument checks, which
 * showed up at ~20% of the reader's time when every string field became a JS string. Fields are bytes now; this
 * still serves the ordering column (one string per change row) and error messages, ASCII files being a byte copy.
 */
const latin1Slice: (b: Buffer, s: number, e: number) => string =
  typeof (Buffer.prototype as unknown as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (b, s, e) => (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(s, e)
    : (b, s, e) => b.toString('latin1', s, e)

/** Appends a quoted field's bytes with each doubled quote `""` collapsed to one `"`. */
function appendUnescaped(c: StringColumn, row: number, b: Uint8Array, s: number, e: number): void {
  const at = c.offsets[row]!
  ensureBytes(c, at, e - s)
  const out = c.bytes
  let o = at
  for (let i = s; i < e; i++) {
    out[o++] = b[i]!
    if (b[i] === QUOTE) i++ // the second quote of the pair
  }
  c.offsets[row + 1] = o
  c.valid[row] = 1
}

/** Byte offset of the first invalid UTF-8 sequence, or -1. Only called when `isUtf8` already said no. */
function firstInvalidUtf8(b: Uint8Array, from: number): number {
  let i = from
  while (i < b.length) {
    const c = b[i]!
    const need =
      c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1
    if (need < 0) return i
    if (need > 0 && !isUtf8(b.subarray(i, i + need + 1))) return i
    i += need + 1
  }
  return -1
}

/**
 * Parses one DMS CSV file. `file` names it in errors. Throws an InputError at the first bad byte; never returns a
 * partial result.
 */
export function parseDmsCsv(
  bytes: Uint8Array,
  file: string,
  spec: TableSpec,
  layout: CsvLayout,
  format: DmsFormat,
): ParsedFile {
  return parseDmsCsvPart(bytes, file, spec, layout, format, false).parsed
}

/**
 * parseDmsCsv on one piece of a file cut at a row boundary (etl/csv-parallel.ts). A `continuation` piece is not the
 * file's start: no BOM or header row is read. Lines (in `lines` and errors) count from 1 at the piece's first byte;
 * `endLine` is the line after its last byte, so the next piece starts `endLine - 1` lines further. The columns are
 * sized for `sizeHint` bytes of CSV (the whole file's size lets the pieces after this one be appended in place).
 */
export function parseDmsCsvPart(
  bytes: Uint8Array,
  file: string,
  spec: TableSpec,
  layout: CsvLayout,
  format: DmsFormat,
  continuation: boolean,
  sizeHint = bytes.byteLength,
): { parsed: ParsedFile; endLine: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = buf.length
  // One pass in native code decides how strings are decoded; the invalid-UTF-8 position is only found on failure.
  const ascii = isAscii(buf)
  const badUtf8At = ascii || isUtf8(buf) ? n : firstInvalidUtf8(buf, 0)
  const delim = format.csvDelimiter.charCodeAt(0)
  const nullBytes = format.csvNullValue === null ? null : Buffer.from(format.csvNullValue, 'utf8')
  const key = keyIndex(spec)
  const { fieldCount, fieldColumn, hasOp, sequenceField } = layout
  const sequence: string[] = []

  const columns: ColumnBuilder[] = spec.columns.map((c) => newColumn(c, 0))
  let capacity = Math.max(16, Math.ceil(Math.max(n, sizeHint) / 32))
  ensureCapacity(columns, capacity)
  const stringColumns = columns.filter((c): c is StringColumn => c.type === 'string')
  // A string column's text is at most the file's size; start at a fair share and let it double.
  for (const c of stringColumns)
    ensureBytes(c, 0, Math.ceil(Math.max(n, sizeHint) / (stringColumns.length + 1)))
  let ops = new Uint8Array(hasOp ? capacity : 0)
  let lines = new Int32Array(capacity)

  // A BOM is tolerated
  let i = !continuation && n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0
  let line = 1
  let row = 0
  let headerPending = format.addColumnName && !continuation

  // State of the field being read, shared with the helpers below.
  let s = 0
  let e = 0
  let quoted = false
  let escaped = false
  let fieldLine = 1
  let field = 0

  const fail = (
    code: ConstructorParameters<typeof InputError>[0],
    what: string,
    column = field + 1,
  ): never => {
    const loc = { file, line: fieldLine, column }
    throw new InputError(code, `dms csv: ${what}${at(loc)}`, loc)
  }
  const text = (): string => {
    const v = ascii ? latin1Slice(buf, s, e) : buf.toString('utf8', s, e)
    return escaped ? v.replaceAll('""', '"') : v
  }
  const isNull = (): boolean => {
    if (quoted) return false
    if (nullBytes === null) return s === e
    return e - s === nullBytes.length && buf.compare(nullBytes, 0, nullBytes.length, s, e) === 0
  }

  /** Reads one field starting at `i` into s/e/quoted/escaped; leaves `i` on the terminator (or at n). */
  const scanField = (): void => {
    fieldLine = line
    escaped = false
    if (buf[i] === QUOTE) {
      quoted = true
      s = i + 1
      let j = s
      for (;;) {
        j = buf.indexOf(QUOTE, j)
        if (j < 0)
          fail(
            'unterminated_quote',
            'unterminated quoted field (a closing " is missing before the end of the file)',
          )
        if (buf[j + 1] === QUOTE) {
          escaped = true
          j += 2
          continue
        }
        break
      }
      e = j
      for (let k = buf.indexOf(LF, s); k >= 0 && k < e; k = buf.indexOf(LF, k + 1)) line++
      i = j + 1
      if (i < n) {
        const c = buf[i]
        if (c !== delim && c !== LF && c !== CR)
          fail(
            'bad_quote',
            `text after a closing quote (expected ${JSON.stringify(String.fromCharCode(delim))} or end of line)`,
          )
      }
    } else {
      quoted = false
      s = i
      while (i < n) {
        const c = buf[i]
        if (c === delim || c === LF || c === CR) break
        if (c === QUOTE)
          fail('bad_quote', 'bare " inside an unquoted field (quote the whole field and double the quote)')
        i++
      }
      e = i
    }
    if (badUtf8At < e && badUtf8At >= s - 1)
      fail(
        'invalid_utf8',
        `invalid UTF-8 byte 0x${buf[badUtf8At]!.toString(16).padStart(2, '0')} (expected UTF-8 text)`,
      )
  }

  /** Consumes the terminator after a field; true when the row ended. */
  const endOfField = (): boolean => {
    if (i >= n) return true
    const c = buf[i]
    if (c === delim) {
      i++
      return false
    }
    if (c === LF) {
      i++
      line++
      return true
    }
    if (buf[i + 1] === LF) {
      i += 2
      line++
      return true
    }
    return fail('bad_line_end', 'carriage return not followed by a line feed (expected CRLF or LF line ends)')
  }

  const blankLineCheck = (): void => {
    const c = buf[i]
    if (c === LF || (c === CR && buf[i + 1] === LF)) {
      fieldLine = line
      fail('blank_line', 'blank line (expected a row of fields)', 1)
    }
  }

  if (headerPending && i < n) {
    blankLineCheck()
    const names: string[] = []
    field = 0
    for (;;) {
      scanField()
      names.push(text())
      field++
      if (endOfField()) break
    }
    if (names.join('\u0000') !== layout.header.join('\u0000')) {
      fieldLine = 1
      fail(
        'bad_header',
        `header ${quoteValue(names.join(','))} does not match the table (expected ${layout.header.join(',')})`,
        1,
      )
    }
    headerPending = false
  }

  while (i < n) {
    blankLineCheck()
    if (row >= capacity) {
      capacity *= 2
      ensureCapacity(columns, capacity)
      const grownOps = new Uint8Array(hasOp ? capacity : 0)
      grownOps.set(ops)
      ops = grownOps
      const grownLines = new Int32Array(capacity)
      grownLines.set(lines)
      lines = grownLines
    }
    lines[row] = line
    // Every string column starts the row as NULL (an empty range): D rows and NULL fields leave it so.
    for (const c of stringColumns) c.offsets[row + 1] = c.offsets[row]!
    let op = OP_INSERT
    field = 0
    for (;;) {
      scanField()
      if (field >= fieldCount)
        fail('field_count', `too many fields (expected ${fieldCount}: ${layout.header.join(',')})`)
      const c = fieldColumn[field]!
      if (field === sequenceField) {
        if (isNull() || s === e)
          fail('bad_sequence', `empty ${layout.header[field]} (expected the value that orders this change)`)
        sequence[row] = text()
      } else if (c < 0) {
        if (hasOp && field === 0) {
          const v = e - s === 1 ? buf[s] : 0
          op = v === 73 ? OP_INSERT : v === 85 ? OP_UPDATE : v === 68 ? OP_DELETE : 0
          if (op === 0 || (layout.loadOnly && op !== OP_INSERT))
            fail(
              'unknown_op',
              `unknown Op ${quoteValue(text())} (expected ${layout.loadOnly ? 'I in a full-load file' : 'I, U or D'})`,
            )
          ops[row] = op
        } // else: the DMS timestamp column, which only orders changes (a later issue) and is not stored
      } else if (op === OP_DELETE && c !== key) {
        // The other values of a D row are not read: DMS may write only the key. They stay NULL.
      } else {
        const col = columns[c]!
        if (isNull()) {
          if (c === key) fail('null_key', `NULL key ${spec.primaryKey} (expected a value)`)
          // NULL is every builder's initial state for the row (valid = 0, an empty string range).
        } else if (col.type === 'string') {
          if (escaped) appendUnescaped(col, row, buf, s, e)
          else appendString(col, row, buf, s, e)
        } else if (col.type === 'int32') {
          col.values[row] =
            (quoted && escaped ? undefined : parseInt32(buf, s, e)) ??
            fail(
              'bad_int',
              `bad integer ${quoteValue(text())} for ${spec.columns[c]!.name} (expected -?[0-9]+ within the int32 range)`,
            )
          col.valid[row] = 1
        } else if (col.type === 'date') {
          col.values[row] =
            (quoted && escaped ? undefined : parseDate(buf, s, e)) ??
            fail(
              'bad_date',
              `bad date ${quoteValue(text())} for ${spec.columns[c]!.name} (expected a real calendar date YYYY-MM-DD)`,
            )
        }
      }
      field++
      if (endOfField()) break
    }
    if (field !== fieldCount) {
      fieldLine = lines[row]!
      fail('field_count', `${field} fields (expected ${fieldCount}: ${layout.header.join(',')})`, field)
    }
    row++
  }

  const parsed: ParsedFile = {
    file,
    rows: { spec, length: row, columns },
    ops: hasOp ? ops.subarray(0, row) : null,
    lines: lines.subarray(0, row),
    ...(sequenceField >= 0 ? { sequence } : {}),
  }
  return { parsed, endLine: line }
}
