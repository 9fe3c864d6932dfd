/** Reads one DMS file from storage: CSV (gunzipped when named .gz) or Parquet, parsed with the layout of its kind. */
import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { DmsCsvReader, parseDmsCsv } from './dms/csv.js'
import type { DmsFile } from './dms/files.js'
import { noSupText } from './dms/format.js'
import { type CsvLayout, csvLayout } from './dms/layout.js'
import { parseDmsParquet } from './dms/parquet.js'
import { parseTransactionFile, transactionLayout } from './dms/transactions.js'
import { at, ConfigError, InputError } from './errors.js'
import { objectName, readInPieces, type Storage } from './storage/storage.js'
import { transactionTableOf } from './storage/transaction-source.js'
import { isNullAt } from './table/columns.js'
import { parseDmsCsvParallel } from './threads/csv-parallel.js'
import { parallelForCsvBytes } from './threads/policy.js'
import type { DmsFormat, ParsedFile, TableSpec } from './types.js'
import { OP_DELETE, OP_INSERT } from './types.js'

export interface ReadFile {
  raw: Uint8Array // the stored bytes (compressed for .gz)
  sha256: string // of `raw`: the commit record's fingerprint of the file
  parsed: ParsedFile
}

const LF = 10

/**
 * Reads and parses one file. The bytes are hashed as they arrive, and a plain CSV file below the parallel threshold
 * is parsed as it arrives too: each piece up to its last line feed while the next piece is read (a row still open
 * there, inside a quoted field, waits for the next piece). The parse of a 1M-row load then starts with the first
 * 4 MiB instead of after the whole file (~45 ms), and no longer waits for the hash (docs/performance.md item 14).
 */
export async function readDmsFile(
  source: Storage,
  f: DmsFile,
  spec: TableSpec,
  format: DmsFormat,
): Promise<ReadFile> {
  const read = f.transaction
    ? await readTransactionFile(source, f, spec, format)
    : await readAndParse(source, f, spec, format)
  const { parsed } = read
  // CdcInsertsOnly/CdcInsertsAndUpdates without an Op field: each change row is an insert-or-replace by key.
  if (f.kind === 'change' && parsed.ops === null)
    parsed.ops = new Uint8Array(parsed.rows.length).fill(OP_INSERT)
  checkNotNull(parsed, spec, f.transaction ? transactionLayout(spec) : csvLayout(spec, format, f.kind))
  return read
}

/** A CDC_TXN file (PreserveTransactions): read whole, since the table's rows are picked out before they are parsed. */
async function readTransactionFile(
  source: Storage,
  f: DmsFile,
  spec: TableSpec,
  format: DmsFormat,
): Promise<ReadFile> {
  const table = transactionTableOf(source)
  const name = objectName(source, f.path)
  if (table === null)
    throw new ConfigError(
      'bad_config',
      `config: ${name} is a DMS transaction file, read only through a table of a DMS root with format.preserveTransactions (the "tables" form)`,
    )
  const raw = await source.read(f.path)
  const sha256 = createHash('sha256').update(raw).digest('hex')
  const bytes = f.gzip ? gunzipped(raw, name) : raw
  return { raw, sha256, parsed: parseTransactionFile(bytes, name, spec, format, table) }
}

/** A .gz file's bytes (DMS CompressionType=GZIP), or the error naming it. */
function gunzipped(raw: Uint8Array, name: string): Uint8Array {
  try {
    return gunzipSync(raw)
  } catch (e) {
    throw new InputError(
      'truncated_gzip',
      `dms files: cannot gunzip ${name}: ${(e as Error).message} (expected a complete gzip file)`,
      { file: name },
      { cause: e },
    )
  }
}

/**
 * Whether a CSV file may be cut into pieces for the parallel parse, which cuts after line feeds outside `"` and
 * reads the header in the first piece only: not with another row delimiter or quoting, nor when the header is not
 * the config's (its columns are then matched by name, which the later pieces would not know), nor with NOSUP values
 * (whose kept columns the pieces do not join).
 */
function cuttable(bytes: Uint8Array, format: DmsFormat, layout: CsvLayout): boolean {
  if (!format.rfc4180 || (format.csvRowDelimiter !== '\n' && format.csvRowDelimiter !== '\r\n')) return false
  if (!layout.loadOnly && noSupText(format) !== null) return false
  if (!format.addColumnName) return true
  const header = Buffer.from(`${layout.header.join(format.csvDelimiter)}\n`)
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  const line = bytes.subarray(start, start + header.length)
  const crlf = Buffer.from(`${layout.header.join(format.csvDelimiter)}\r\n`)
  return (
    Buffer.compare(line, header) === 0 ||
    Buffer.compare(bytes.subarray(start, start + crlf.length), crlf) === 0
  )
}

/**
 * A NULL in a column declared `"nullable": false` (NOT NULL at the source: `lakesync schema` writes it) is an error
 * naming the row; D rows are skipped, their values other than the key are not read.
 */
function checkNotNull(p: ParsedFile, spec: TableSpec, layout: CsvLayout): void {
  spec.columns.forEach((c, ci) => {
    if (c.nullable !== false) return
    const col = p.rows.columns[ci]!
    const kept = p.kept?.rows[ci]
    for (let r = 0; r < p.rows.length; r++) {
      if (p.ops !== null && p.ops[r] === OP_DELETE) continue
      if (kept && kept[r] === 1) continue // CsvNoSupValue: the previous value stays
      if (!isNullAt(col, r)) continue
      const loc = { file: p.file, line: p.lines[r]!, column: layout.fieldColumn.indexOf(ci) + 1 }
      throw new InputError(
        'null_value',
        `dms files: NULL in ${c.name}, which is not nullable${at(loc)} (expected a value: the column is NOT NULL at the source)`,
        loc,
      )
    }
  })
}

async function readAndParse(
  source: Storage,
  f: DmsFile,
  spec: TableSpec,
  format: DmsFormat,
): Promise<ReadFile> {
  // Errors name the file as the operator finds it: the full S3 key or local path.
  const name = objectName(source, f.path)
  const layout = csvLayout(spec, format, f.kind)
  const hash = createHash('sha256')
  let hashed = 0
  let reader: DmsCsvReader | null | undefined // decided on the first piece, which tells the size
  const rowEnd = format.csvRowDelimiter.length === 1 ? format.csvRowDelimiter.charCodeAt(0) : LF
  const raw = await readInPieces(source, f.path, (bytes, end) => {
    hash.update(bytes.subarray(hashed, end))
    hashed = end
    if (reader === undefined)
      reader =
        f.format === 'csv' &&
        !f.gzip &&
        !(parallelForCsvBytes(bytes.length) && cuttable(bytes, format, layout))
          ? new DmsCsvReader(name, spec, layout, format, {
              dictionary: f.kind === 'load',
              sizeHint: bytes.length,
            })
          : null
    if (reader === null || end === bytes.length) return // the last piece is read below, as the end of the file
    const cut = bytes.lastIndexOf(rowEnd, end - 1) + 1
    if (cut > reader.position) reader.read(bytes, cut, false)
  })
  const sha256 = hash.digest('hex')
  if (reader) {
    reader.read(raw, raw.length, true)
    return { raw, sha256, parsed: reader.finish().parsed }
  }
  if (f.format === 'parquet') {
    // The Op rule of CdcInsertsOnly/CdcInsertsAndUpdates is for .csv only [S3T]: Parquet change rows keep Op.
    const op = csvLayout(spec, { ...format, cdcInsertsOnly: false, cdcInsertsAndUpdates: false }, f.kind)
    return { raw, sha256, parsed: await parseDmsParquet(raw, name, spec, op) }
  }
  const bytes = f.gzip ? gunzipped(raw, name) : raw
  // Large files (a full load) are parsed on every core; the result and errors are the serial parser's. A full load's
  // repetitive string columns come back as dictionary columns, which the merge keeps (change files are small).
  const parsed =
    parallelForCsvBytes(bytes.length) && cuttable(bytes, format, layout)
      ? await parseDmsCsvParallel(bytes, name, spec, layout, format)
      : parseDmsCsv(bytes, name, spec, layout, format, { dictionary: f.kind === 'load' })
  return { raw, sha256, parsed }
}
