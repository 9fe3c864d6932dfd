/**
 * DMS files written with DataFormat=parquet (`LOAD00000001.parquet`, `20211017-194324349.parquet`): the same rules
 * as the CSV reader, applied to typed Parquet values. Columns are matched by name (Op, the timestamp column, the
 * table's columns); a declared column the file lacks reads NULL (etl/dms/row-shape.ts), an undeclared one stops; each value is read into its column's declared type
 * (etl/dms/parquet-values.ts), the key is never NULL, Op is I, U or D. Errors name the file, the row (as "line", 1-based) and the column.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { parquetMetadata, parquetRead } from 'hyparquet'
import { at, InputError, quoteValue } from '../errors.js'
import { typeName } from '../table/column-types.js'
import { ensureCapacity, newColumn } from '../table/columns.js'
import { keyColumns } from '../table/spec.js'
import type { ParsedFile, StringColumn, TableSpec } from '../types.js'
import { OP_DELETE, OP_INSERT, OP_UPDATE } from '../types.js'
import type { CsvLayout } from './layout.js'
import { RAW_PARSERS, type RawTimestamp, rawMetadata, storeParquetValue } from './parquet-values.js'
import { fileShape } from './row-shape.js'

/** Codecs beyond hyparquet's built-in Snappy, from Node's zlib (DMS ParquetCompression / CompressionType=GZIP). */
const COMPRESSORS = {
  GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliDecompressSync(input)),
}

export async function parseDmsParquet(
  bytes: Uint8Array,
  file: string,
  spec: TableSpec,
  layout: CsvLayout,
): Promise<ParsedFile> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  let metadata: ReturnType<typeof parquetMetadata>
  try {
    metadata = parquetMetadata(buffer)
  } catch (e) {
    throw new InputError(
      'bad_header',
      `dms parquet: ${file} is not a readable Parquet file: ${(e as Error).message}`,
      { file },
    )
  }
  const names = metadata.schema.slice(1).map((s) => s.name)
  // Other columns than the config's (added or dropped at the source): matched by name, absent ones read NULL.
  const { fieldColumn, sequenceField, header } =
    names.join('\u0000') === layout.header.join('\u0000')
      ? layout
      : fileShape(names, spec, layout, file, 'dms parquet')
  let rows: unknown[][] = []
  const raw = rawMetadata(metadata)
  try {
    await parquetRead({
      file: buffer,
      metadata: raw.metadata,
      compressors: COMPRESSORS,
      utf8: false,
      parsers: RAW_PARSERS,
      onComplete: (r: unknown[][]) => {
        rows = r
      },
    })
  } catch (e) {
    throw new InputError('bad_header', `dms parquet: cannot read ${file}: ${(e as Error).message}`, { file })
  }
  const n = rows.length
  const isKey = new Uint8Array(spec.columns.length)
  for (const k of keyColumns(spec)) isKey[k] = 1
  const columns = spec.columns.map((c) => newColumn(c, 0))
  ensureCapacity(columns, n)
  const ops = layout.hasOp ? new Uint8Array(n) : null
  const lines = new Int32Array(n)
  const sequence: string[] = []
  const stringColumns = columns.filter((c): c is StringColumn => c.type === 'string')
  for (let r = 0; r < n; r++) {
    const row = rows[r]!
    lines[r] = r + 1
    // Every string column starts the row as NULL (an empty range): D rows and NULL values leave it so.
    for (const c of stringColumns) c.offsets[r + 1] = c.offsets[r]!
    let op = OP_INSERT
    for (let f = 0; f < header.length; f++) {
      const v = row[f]
      const loc = { file, line: r + 1, column: f + 1 }
      const fail = (code: ConstructorParameters<typeof InputError>[0], what: string): never => {
        throw new InputError(code, `dms parquet: ${what}${at(loc)}`, loc)
      }
      const c = fieldColumn[f]!
      if (f === sequenceField) {
        if (v === null || v === undefined || v === '')
          fail('bad_sequence', `empty ${header[f]} (expected the value that orders this change)`)
        sequence[r] = sequenceText(v)
        continue
      }
      if (c < 0) {
        if (layout.hasOp && f === 0) {
          op = v === 'I' ? OP_INSERT : v === 'U' ? OP_UPDATE : v === 'D' ? OP_DELETE : 0
          if (op === 0 || (layout.loadOnly && op !== OP_INSERT))
            fail(
              'unknown_op',
              `unknown Op ${quoteValue(String(v))} (expected ${layout.loadOnly ? 'I in a full-load file' : 'I, U or D'})`,
            )
          ops![r] = op
        }
        continue
      }
      if (op === OP_DELETE && isKey[c] !== 1) continue
      const col = columns[c]!
      const cs = spec.columns[c]!
      if (v === null || v === undefined) {
        if (isKey[c] === 1) fail('null_key', `NULL key column ${cs.name} (expected a value)`)
        continue
      }
      const problem = storeParquetValue(cs, col, r, v, raw.columns.get(header[f]!))
      if (problem !== null)
        fail('bad_value', `bad ${typeName(cs)} ${quoteValue(shown(v))} for ${cs.name}: ${problem}`)
    }
  }
  return {
    file,
    rows: { spec, length: n, columns },
    ops,
    lines,
    ...(layout.sequenceField >= 0 ? { sequence } : {}),
  }
}

/**
 * A DMS timestamp column's value as the text that orders changes: ISO 8601 in UTC to the millisecond, as the Spark
 * route writes it (commit records compare it across engines). Timestamps arrive raw (parquet-values.ts RAW_PARSERS).
 */
function sequenceText(v: unknown): string {
  if (typeof v === 'object' && v !== null && 'raw' in v) {
    const t = v as RawTimestamp
    const ms = t.unit === 'millis' ? t.raw : t.unit === 'micros' ? t.raw / 1000n : t.raw / 1_000_000n
    return new Date(Number(ms)).toISOString()
  }
  return v instanceof Date ? v.toISOString() : String(v)
}

/** A value for an error message. */
function shown(v: unknown): string {
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`
  if (typeof v === 'object' && v !== null && 'raw' in v) return String((v as { raw: bigint }).raw)
  return String(v)
}
