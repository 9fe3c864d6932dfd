/**
 * DMS files written with DataFormat=parquet (`LOAD00000001.parquet`, `20211017-194324349.parquet`): the same rules
 * as the CSV reader, applied to typed Parquet values. Columns are matched by name (Op, the timestamp column, the
 * table's columns) and must be exactly those; ints must fit int32, dates are Parquet DATEs or `YYYY-MM-DD` strings,
 * the key is never NULL, Op is I, U or D. Errors name the file, the row (as "line", 1-based) and the column.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { parquetMetadata, parquetRead } from 'hyparquet'
import { at, InputError, quoteValue } from '../errors.js'
import { appendText, ensureCapacity, newColumn } from '../table/columns.js'
import { keyIndex } from '../table/spec.js'
import type { ParsedFile, StringColumn, TableSpec } from '../types.js'
import { OP_DELETE, OP_INSERT, OP_UPDATE } from '../types.js'
import type { CsvLayout } from './layout.js'
import { parseDateString } from './values.js'

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
  if (names.join('\u0000') !== layout.header.join('\u0000'))
    throw new InputError(
      'bad_header',
      `dms parquet: columns ${quoteValue(names.join(','))} of ${file} do not match the table (expected ${layout.header.join(',')})`,
      { file },
    )
  let rows: unknown[][] = []
  try {
    await parquetRead({
      file: buffer,
      metadata,
      compressors: COMPRESSORS,
      parsers: { dateFromDays: (d: number) => d },
      onComplete: (r: unknown[][]) => {
        rows = r
      },
    })
  } catch (e) {
    throw new InputError('bad_header', `dms parquet: cannot read ${file}: ${(e as Error).message}`, { file })
  }
  const n = rows.length
  const key = keyIndex(spec)
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
    for (let f = 0; f < layout.fieldCount; f++) {
      const v = row[f]
      const loc = { file, line: r + 1, column: f + 1 }
      const fail = (code: ConstructorParameters<typeof InputError>[0], what: string): never => {
        throw new InputError(code, `dms parquet: ${what}${at(loc)}`, loc)
      }
      const c = layout.fieldColumn[f]!
      if (f === layout.sequenceField) {
        if (v === null || v === undefined || v === '')
          fail('bad_sequence', `empty ${layout.header[f]} (expected the value that orders this change)`)
        sequence[r] = v instanceof Date ? v.toISOString() : String(v)
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
      if (op === OP_DELETE && c !== key) continue
      const col = columns[c]!
      const name = spec.columns[c]!.name
      if (v === null || v === undefined) {
        if (c === key) fail('null_key', `NULL key ${spec.primaryKey} (expected a value)`)
        continue
      }
      switch (col.type) {
        case 'string':
          if (typeof v !== 'string')
            fail('bad_header', `${name} is ${typeof v} ${quoteValue(String(v))} (expected a string)`)
          appendText(col, r, v as string)
          break
        case 'int32': {
          const x = typeof v === 'bigint' ? Number(v) : v
          if (typeof x !== 'number' || !Number.isInteger(x) || x < -2147483648 || x > 2147483647)
            fail('bad_int', `bad integer ${quoteValue(String(v))} for ${name} (expected an int32)`)
          col.values[r] = x as number
          col.valid[r] = 1
          break
        }
        case 'date': {
          const d =
            typeof v === 'number' && Number.isInteger(v)
              ? v
              : typeof v === 'string'
                ? parseDateString(v)
                : undefined
          if (d === undefined)
            fail('bad_date', `bad date ${quoteValue(String(v))} for ${name} (expected a DATE or YYYY-MM-DD)`)
          col.values[r] = d as number
          break
        }
        case 'double':
          fail('bad_header', `${name}: double columns are not read from DMS files`)
      }
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
