/**
 * RFC 4180 reader for DMS CSV files, straight into typed columns.
 *
 * Hand-written rather than csv-parse: the reader must tell an empty unquoted field (NULL) from a quoted `""` (the empty
 * string), point every error at a physical line and field, and decode ints and dates from bytes without building an
 * intermediate string per field. csv-parse can do the first only through its `cast` hook, at a cost measured in
 * docs/decisions.md.
 */
import { Buffer, isAscii, isUtf8 } from 'node:buffer'
import { at, InputError, quoteValue } from '../errors.js'
import { typeName } from '../table/column-types.js'
import { appendString, type ColumnBuilder, ensureBytes, ensureCapacity, newColumn } from '../table/columns.js'
import { BytesDictionary, dictionaryLimit, expandDict, MAX_DICTIONARY } from '../table/dictionary.js'
import { keyColumns } from '../table/spec.js'
import type { DictColumn, DmsFormat, ParsedFile, StringColumn, TableSpec } from '../types.js'
import { OP_DELETE, OP_INSERT, OP_UPDATE } from '../types.js'
import { noSupText } from './format.js'
import type { CsvLayout } from './layout.js'
import { allowedOps, expectedOps } from './op-rules.js'
import { fewestFields, fileShape, tooFewFieldsHint, tooManyFieldsHint } from './row-shape.js'
import { expectedForm, parsedAsText, storeText } from './text-values.js'
import { parseDate, parseInt32 } from './values.js'

const QUOTE = 34
const LF = 10
const CR = 13

/**
 * Buffer#latin1Slice: the native method behind toString('latin1'), without toString's argument checks (a hot spot
 * in profiles when fields were strings). Fields are bytes now; this still serves the ordering column (one string per change row) and error messages, ASCII files being a byte copy.
 */
const latin1Slice: (b: Buffer, s: number, e: number) => string =
  typeof (Buffer.prototype as unknown as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (b, s, e) => (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(s, e)
    : (b, s, e) => b.toString('latin1', s, e)

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

/** Options of parseDmsCsv and parseDmsCsvPart. */
export interface ParseCsvOptions {
  /**
   * Return the repetitive string columns but the key as dictionary columns, coded while the field is read:
   * exactly dictionaryEncodeColumns' result (same decision, same codes in order of first sight), without a second
   * pass over the text. For full-load files, whose columns the merge, features and writer then use as codes.
   */
  dictionary?: boolean
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
  opts: ParseCsvOptions = {},
): ParsedFile {
  return parseDmsCsvPart(bytes, file, spec, layout, format, false, bytes.byteLength, opts).parsed
}

// What the reader does with each field of a row (CsvLayout.fieldColumn and the column's type, decided once).
const F_OP = 0
const F_SKIP = 1 // the DMS timestamp column, which only orders changes when it is the sequence field
const F_SEQUENCE = 2
const F_INT = 3
const F_DATE = 4
const F_STRING = 5
const F_DICT = 6
const F_TYPED = 7 // the other types: etl/dms/text-values.ts

// Byte classes for the unquoted-field scan: one table load per byte instead of four comparisons.
const C_END = 1 // delimiter, LF or CR
const C_QUOTE = 2

/**
 * Row `row` of a column as NULL. Each row's field writes its column once, NULL included: the builders' fresh
 * memory already reads as NULL for int32 (valid 0) and date (NULL_DATE), a string row needs its empty range and a
 * dictionary row its -1.
 */
function setNull(c: ColumnBuilder, row: number): void {
  if (c.type === 'string') c.offsets[row + 1] = c.offsets[row]!
  else if (c.type === 'dict') c.codes[row] = -1
}

/** An InputError at `line`/`column` of `file`. */
function csvError(
  code: ConstructorParameters<typeof InputError>[0],
  what: string,
  file: string,
  line: number,
  column: number,
): InputError {
  const loc = { file, line, column }
  return new InputError(code, `dms csv: ${what}${at(loc)}`, loc)
}

/**
 * parseDmsCsv on one piece of a file cut at a row boundary (etl/threads/csv-parallel.ts). A `continuation` piece is not the
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
  opts: ParseCsvOptions = {},
): { parsed: ParsedFile; endLine: number } {
  const reader = new DmsCsvReader(file, spec, layout, format, {
    ...opts,
    continuation,
    sizeHint: Math.max(sizeHint, bytes.byteLength),
  })
  reader.read(bytes, bytes.byteLength)
  return reader.finish()
}

/** Options of a DmsCsvReader. */
export interface DmsCsvReaderOptions extends ParseCsvOptions {
  continuation?: boolean // not the file's first piece: no BOM, no header row
  sizeHint?: number // the columns are sized for this many bytes of CSV at first (they grow as needed)
}

/**
 * The reader behind parseDmsCsv, resumable: `read(bytes, end)` parses the rows up to `end`, which must be a row
 * boundary (the byte after a line feed outside quoted fields) or the end of the file, and can be called again as
 * more of the same file arrives in `bytes` (etl/read-dms-file.ts parses a file while it is still being read). Rows,
 * lines, errors and the result are the same however the file is split.
 *
 * One loop over the bytes with every piece of state in a local, because V8 keeps state shared with helper closures
 * in a heap context (docs/performance.md item 9). `read` loads the reader's state into locals on entry and stores
 * it back on exit, so the loop itself never touches `this`. The one file over 400 lines: the hot loop is one
 * function on purpose.
 */
export class DmsCsvReader {
  private readonly delim: number
  private readonly rowEnd: number // LF (CRLF also read), or the one-byte CsvRowDelimiter
  private readonly quote: number // QUOTE, or -1 with Rfc4180=false: a `"` is then a plain byte
  private readonly nullBytes: Buffer | null
  private readonly noSup: Buffer | null // CsvNoSupValue in a change file: the U row keeps that column's value
  private readonly allowedOps: number // bit per Op code the file may hold
  private kept: (Uint8Array | null)[] | null = null // per column, rows holding the NOSUP text; null until one does
  private fieldColumn: Int32Array // the layout's, or the file header's when it names other columns
  private fieldCount: number
  private fieldNames: string[]
  private missing: Int32Array = new Int32Array(0) // columns the file's header lacks: NULL in every row
  private minFields: number // a header-less row may lack trailing `added` columns
  private readonly isKey: Uint8Array // per column: 1 = part of the primary key
  private readonly byteClass = new Uint8Array(256)
  private readonly columns: ColumnBuilder[]
  private readonly dicts: (BytesDictionary | null)[]
  private action: Int8Array
  private readonly sequence: string[] = []
  private readonly names: string[] = []
  private capacity: number
  private scratch = new Uint8Array(256) // an escaped field's unescaped bytes, for the dictionary lookup
  private ops: Uint8Array
  private lines: Int32Array
  private pos = 0 // the next byte to read
  private line = 1
  private row = 0
  private headerPending: boolean
  private readonly continuation: boolean

  constructor(
    private readonly file: string,
    private readonly spec: TableSpec,
    private readonly layout: CsvLayout,
    format: DmsFormat,
    opts: DmsCsvReaderOptions = {},
  ) {
    const { continuation = false, sizeHint = 0 } = opts
    this.continuation = continuation
    this.delim = format.csvDelimiter.charCodeAt(0)
    const r = format.csvRowDelimiter
    this.rowEnd = r === '\n' || r === '\r\n' ? LF : r.charCodeAt(0)
    this.quote = format.rfc4180 ? QUOTE : -1
    this.nullBytes = format.csvNullValue === null ? null : Buffer.from(format.csvNullValue, 'utf8')
    const noSup = layout.loadOnly ? null : noSupText(format)
    this.noSup = noSup === null ? null : Buffer.from(noSup, 'utf8')
    this.allowedOps = allowedOps(format, layout.loadOnly)
    this.fieldColumn = layout.fieldColumn
    this.fieldCount = layout.fieldCount
    this.fieldNames = layout.header
    this.minFields = fewestFields(spec, layout)
    this.isKey = new Uint8Array(spec.columns.length)
    for (const k of keyColumns(spec)) this.isKey[k] = 1
    this.headerPending = format.addColumnName && !continuation
    const { byteClass } = this
    byteClass[this.delim] = C_END
    byteClass[this.rowEnd] = C_END
    if (this.rowEnd === LF) byteClass[CR] = C_END
    if (format.rfc4180) byteClass[QUOTE] = C_QUOTE
    const columns: ColumnBuilder[] = spec.columns.map((c) => newColumn(c, 0))
    this.columns = columns
    const capacity = Math.max(16, Math.ceil(sizeHint / 32))
    this.capacity = capacity
    ensureCapacity(columns, capacity)
    // Dictionary-coded columns: codes plus the dictionary's entries, until a column has too many distinct values.
    this.dicts = columns.map(() => null)
    if (opts.dictionary)
      columns.forEach((c, ci) => {
        const t = spec.columns[ci]!.type
        if (c.type !== 'string' || this.isKey[ci] === 1 || (t !== 'string' && t !== 'json')) return
        const dict = new BytesDictionary(MAX_DICTIONARY)
        this.dicts[ci] = dict
        columns[ci] = { type: 'dict', codes: new Int32Array(capacity), entries: dict.values, size: 0 }
      })
    const stringCount = columns.filter((c) => c.type === 'string').length
    // A string column's text is at most the file's size; start at a fair share and let it double.
    for (const c of columns)
      if (c.type === 'string') ensureBytes(c, 0, Math.ceil(Math.max(16, sizeHint) / (stringCount + 1)))
    this.action = this.actions(layout.sequenceField)
    this.ops = new Uint8Array(layout.hasOp ? capacity : 0)
    this.lines = new Int32Array(capacity)
  }

  /** What the reader does with each field, for the current field-to-column map. */
  private actions(sequenceField: number): Int8Array {
    const { fieldColumn, spec, columns, layout } = this
    return Int8Array.from(fieldColumn, (c, f) => {
      if (f === sequenceField) return F_SEQUENCE
      if (c < 0) return layout.hasOp && f === 0 ? F_OP : F_SKIP
      if (parsedAsText(spec.columns[c]!)) return F_TYPED
      const t = columns[c]!.type
      return t === 'int32' ? F_INT : t === 'date' ? F_DATE : t === 'dict' ? F_DICT : F_STRING
    })
  }

  /** A header that differs from the config's: columns matched by name (etl/dms/row-shape.ts). */
  private useHeader(names: string[]): void {
    const shape = fileShape(names, this.spec, this.layout, this.file, 'dms csv')
    this.fieldColumn = shape.fieldColumn
    this.fieldCount = names.length
    this.fieldNames = names
    this.missing = shape.missing
    this.action = this.actions(shape.sequenceField)
  }

  /** The byte the next `read` starts at. */
  get position(): number {
    return this.pos
  }

  /**
   * Parses bytes[position, end). `bytes` holds the file from its start (or the piece, for parseDmsCsvPart) and may
   * be a new buffer on each call. With `final`, `end` is the end of the file. Otherwise more of the file follows and
   * `end` is the byte after a line feed: a row with a quoted field still open there (a line feed inside quotes) is
   * left for the next call, which starts at that row (`position`). Throws an InputError at the first bad byte, after
   * which the reader must not be used.
   */
  read(bytes: Uint8Array, end: number, final = true): void {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, end)
    const b = new Uint8Array(bytes.buffer, bytes.byteOffset, end) // the hot loops index a plain array
    const n = end
    let i = this.pos
    // One pass in native code decides how strings are decoded; the invalid-UTF-8 position is only found on failure.
    // The range starts at a row boundary, so never inside a UTF-8 sequence.
    const range = buf.subarray(i, n)
    const ascii = isAscii(range)
    const badUtf8At = ascii || isUtf8(range) ? n : firstInvalidUtf8(buf, i)
    const {
      file,
      spec,
      layout,
      delim,
      rowEnd,
      quote,
      nullBytes,
      noSup,
      allowedOps,
      isKey,
      byteClass,
      columns,
      dicts,
      sequence,
      names,
    } = this
    const { hasOp } = layout
    const crlf = rowEnd === LF // a CR before the LF is part of the line end
    let { capacity, scratch, ops, lines, line, row, headerPending, kept } = this
    let { fieldCount, fieldColumn, fieldNames, missing, minFields, action } = this

    /** The field [s, e) as text, for the sequence column and error messages. */
    const text = (s: number, e: number, escaped: boolean): string => {
      const v = ascii ? latin1Slice(buf, s, e) : buf.toString('utf8', s, e)
      return escaped ? v.replaceAll('""', '"') : v
    }

    // A BOM is tolerated
    if (i === 0 && !this.continuation && n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3
    rows: while (i < n) {
      // A blank line is an error, not an empty row.
      if (b[i] === rowEnd || (crlf && b[i] === CR && b[i + 1] === LF))
        throw csvError('blank_line', 'blank line (expected a row of fields)', file, line, 1)
      const header = headerPending
      if (!header && row >= capacity) {
        capacity *= 2
        ensureCapacity(columns, capacity)
        const grownOps = new Uint8Array(hasOp ? capacity : 0)
        grownOps.set(ops)
        ops = grownOps
        const grownLines = new Int32Array(capacity)
        grownLines.set(lines)
        lines = grownLines
        if (kept !== null)
          for (let c = 0; c < kept.length; c++) {
            const k = kept[c]
            if (!k) continue
            kept[c] = new Uint8Array(capacity)
            kept[c]!.set(k)
          }
      }
      if (!header) lines[row] = line
      const rowLine = line
      const rowStart = i
      let op = OP_INSERT
      let field = 0
      for (;;) {
        // Read one field into [s, e), leaving i on its terminator (or at n).
        const fieldLine = line
        let s: number
        let e: number
        let quoted = false
        let escaped = false
        if (b[i] === quote) {
          quoted = true
          s = i + 1
          let j = s
          for (;;) {
            j = buf.indexOf(QUOTE, j)
            if (j < 0 && !final) {
              // The field goes on past `end`: this row is read again, whole, by the next call. What it wrote so far
              // is rewritten then, in the same order (its dictionary entries included); a header starts over.
              i = rowStart
              line = rowLine
              if (header) names.length = 0
              break rows
            }
            if (j < 0)
              throw csvError(
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
          for (let k = buf.indexOf(rowEnd, s); k >= 0 && k < e; k = buf.indexOf(rowEnd, k + 1)) line++
          i = j + 1
          if (i < n && byteClass[b[i]!] !== C_END)
            throw csvError(
              'bad_quote',
              `text after a closing quote (expected ${JSON.stringify(String.fromCharCode(delim))} or end of line)`,
              file,
              fieldLine,
              field + 1,
            )
        } else {
          s = i
          let k = i < n ? byteClass[b[i]!]! : C_END
          while (k === 0 && ++i < n) k = byteClass[b[i]!]!
          if (k === C_QUOTE && i < n)
            throw csvError(
              'bad_quote',
              'bare " inside an unquoted field (quote the whole field and double the quote)',
              file,
              fieldLine,
              field + 1,
            )
          e = i
        }
        if (badUtf8At < e && badUtf8At >= s - 1)
          throw csvError(
            'invalid_utf8',
            `invalid UTF-8 byte 0x${b[badUtf8At]!.toString(16).padStart(2, '0')} (expected UTF-8 text)`,
            file,
            fieldLine,
            field + 1,
          )

        if (header) names.push(text(s, e, escaped))
        else {
          if (field >= fieldCount)
            throw csvError(
              'field_count',
              `too many fields (expected ${fieldCount}: ${fieldNames.join(',')})${tooManyFieldsHint(spec, field)}`,
              file,
              fieldLine,
              field + 1,
            )
          const isNull =
            !quoted &&
            (nullBytes === null
              ? s === e
              : e - s === nullBytes.length && buf.compare(nullBytes, 0, nullBytes.length, s, e) === 0)
          const act = action[field]!
          const c = fieldColumn[field]!
          if (act === F_OP) {
            const v = e - s === 1 ? b[s] : 0
            op = v === 73 ? OP_INSERT : v === 85 ? OP_UPDATE : v === 68 ? OP_DELETE : 0
            if (op === 0 || ((allowedOps >> op) & 1) === 0)
              throw csvError(
                'unknown_op',
                `unknown Op ${quoteValue(text(s, e, escaped))} (expected ${expectedOps(allowedOps, layout.loadOnly)})`,
                file,
                fieldLine,
                field + 1,
              )
            ops[row] = op
          } else if (act === F_SEQUENCE) {
            if (isNull || s === e)
              throw csvError(
                'bad_sequence',
                `empty ${fieldNames[field]} (expected the value that orders this change)`,
                file,
                fieldLine,
                field + 1,
              )
            sequence[row] = text(s, e, escaped)
          } else if (act === F_SKIP) {
            // The DMS timestamp column, when it does not order the changes: not stored.
          } else if (
            noSup !== null &&
            !quoted &&
            e - s === noSup.length &&
            buf.compare(noSup, 0, noSup.length, s, e) === 0
          ) {
            // CsvNoSupValue: a column missing from the source's supplemental log. A U row keeps its value.
            if (isKey[c] === 1 || op === OP_INSERT)
              throw csvError(
                'nosup_value',
                `CsvNoSupValue ${quoteValue(text(s, e, escaped))} in ${isKey[c] === 1 ? 'key column' : 'an I row, column'} ${spec.columns[c]!.name} (expected a value: only a U row's non-key columns can keep their previous value)`,
                file,
                fieldLine,
                field + 1,
              )
            if (op === OP_UPDATE) {
              kept ??= spec.columns.map(() => null)
              kept[c] ??= new Uint8Array(capacity)
              kept[c]![row] = 1
            }
            setNull(columns[c]!, row)
          } else if (op === OP_DELETE && isKey[c] !== 1) {
            // The other values of a D row are not read (DMS may write only the key): NULL.
            setNull(columns[c]!, row)
          } else if (isNull) {
            if (isKey[c] === 1)
              throw csvError(
                'null_key',
                `NULL key column ${spec.columns[c]!.name} (expected a value)`,
                file,
                fieldLine,
                field + 1,
              )
            setNull(columns[c]!, row)
          } else if (act === F_TYPED) {
            const value = text(s, e, escaped)
            const problem = storeText(spec.columns[c]!, columns[c]!, row, value)
            if (problem !== null)
              throw csvError(
                'bad_value',
                `bad ${typeName(spec.columns[c]!)} ${quoteValue(value)} for ${spec.columns[c]!.name}: ${problem} (expected ${expectedForm(spec.columns[c]!)})`,
                file,
                fieldLine,
                field + 1,
              )
          } else if (act === F_INT) {
            const col = columns[c] as Extract<ColumnBuilder, { type: 'int32' }>
            const v = escaped ? undefined : parseInt32(b, s, e)
            if (v === undefined)
              throw csvError(
                'bad_int',
                `bad integer ${quoteValue(text(s, e, escaped))} for ${spec.columns[c]!.name} (expected -?[0-9]+ within the int32 range)`,
                file,
                fieldLine,
                field + 1,
              )
            col.values[row] = v
            col.valid[row] = 1
          } else if (act === F_DATE) {
            const v = escaped ? undefined : parseDate(b, s, e)
            if (v === undefined)
              throw csvError(
                'bad_date',
                `bad date ${quoteValue(text(s, e, escaped))} for ${spec.columns[c]!.name} (expected a real calendar date YYYY-MM-DD)`,
                file,
                fieldLine,
                field + 1,
              )
            ;(columns[c] as Extract<ColumnBuilder, { type: 'date' }>).values[row] = v
          } else {
            let src: Uint8Array = b
            let from = s
            let to = e
            if (escaped) {
              // Each doubled quote `""` collapsed to one `"`.
              if (scratch.length < e - s) scratch = new Uint8Array(2 * (e - s))
              let o = 0
              for (let k = s; k < e; k++) {
                scratch[o++] = b[k]!
                if (b[k] === QUOTE) k++ // the second quote of the pair
              }
              src = scratch
              from = 0
              to = o
            }
            const dict = act === F_DICT ? dicts[c]! : null
            const code = dict === null ? -1 : dict.codeOf(src, from, to)
            if (code >= 0) (columns[c] as DictColumn).codes[row] = code
            else {
              if (dict !== null) {
                // More distinct values than any dictionary may hold: the column is plain text from here on.
                const plain = expandDict(columns[c] as DictColumn, row)
                ensureCapacity([plain], capacity)
                columns[c] = plain
                dicts[c] = null
                for (let f = 0; f < fieldCount; f++) if (fieldColumn[f] === c) action[f] = F_STRING
              }
              appendString(columns[c] as StringColumn, row, src, from, to)
            }
          }
        }
        field++
        // The field's terminator: a delimiter (next field), a line end or the end of the bytes (end of row).
        if (i >= n) break
        const t = b[i]
        if (t === delim) {
          i++
          continue
        }
        if (t === rowEnd) {
          i++
          line++
          break
        }
        if (b[i + 1] === LF) {
          i += 2
          line++
          break
        }
        throw csvError(
          'bad_line_end',
          'carriage return not followed by a line feed (expected CRLF or LF line ends)',
          file,
          fieldLine,
          field + 1,
        )
      }
      if (header) {
        // A header other than the config's (a column added or dropped at the source): matched by name.
        if (names.join('\u0000') !== layout.header.join('\u0000')) {
          this.useHeader(names)
          ;({ fieldCount, fieldColumn, fieldNames, missing, action } = this)
        }
        minFields = fieldCount // the header says which fields every row of the file has
        headerPending = false
        continue
      }
      if (field !== fieldCount) {
        if (field < minFields || field > fieldCount)
          throw csvError(
            'field_count',
            `${field} fields (expected ${fieldCount}: ${fieldNames.join(',')})${tooFewFieldsHint(spec, layout)}`,
            file,
            rowLine,
            field,
          )
        // Written before trailing `added` columns existed: they read NULL.
        for (let f = field; f < fieldCount; f++) setNull(columns[fieldColumn[f]!]!, row)
      }
      for (let m = 0; m < missing.length; m++) setNull(columns[missing[m]!]!, row)
      row++
    }
    this.pos = i
    this.capacity = capacity
    this.scratch = scratch
    this.ops = ops
    this.lines = lines
    this.line = line
    this.row = row
    this.headerPending = headerPending
    this.kept = kept
    this.minFields = minFields
  }

  /** The parsed file, once every byte has been read; `endLine` is the line after the last byte. */
  finish(): { parsed: ParsedFile; endLine: number } {
    const { columns, dicts, row, spec, layout, kept, fieldColumn } = this
    // A dictionary column keeps its codes only where dictionaryEncodeColumns would have (the same limit).
    columns.forEach((c, ci) => {
      const dict = dicts[ci]
      if (c.type !== 'dict' || dict === null || dict === undefined) return
      c.entries = dict.values
      c.size = dict.size
      let present = 0
      for (let r = 0; r < row; r++) if (c.codes[r]! >= 0) present++
      if (dict.size > dictionaryLimit(present)) columns[ci] = expandDict(c, row)
    })
    const parsed: ParsedFile = {
      file: this.file,
      rows: { spec, length: row, columns },
      ops: layout.hasOp ? this.ops.subarray(0, row) : null,
      lines: this.lines.subarray(0, row),
      ...(layout.sequenceField >= 0 ? { sequence: this.sequence } : {}),
      ...(kept === null
        ? {}
        : {
            kept: { rows: kept, field: Int32Array.from(spec.columns, (_, c) => fieldColumn.indexOf(c) + 1) },
          }),
    }
    return { parsed, endLine: this.line }
  }
}
