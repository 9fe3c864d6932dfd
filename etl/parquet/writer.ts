/**
 * A Parquet writer specialised for lakesync's column types (INT32, DATE, DOUBLE, UTF8 strings).
 *
 * Hand-written because the measurement says it pays (docs/decisions.md): the general writers took longer than
 * DuckDB's whole run. This writer encodes straight from
 * the engine's typed arrays: PLAIN values copied as bytes, ASCII strings copied char by char, dictionary pages
 * for strings that repeat (city, state), definition levels bit-packed in one run, and Snappy (the Parquet
 * default, read by every engine; etl/parquet/snappy.ts). Data page v1, one page per column chunk.
 */
import { Buffer } from 'node:buffer'
import { isWideDecimal, storageOf } from '../table/column-types.js'
import { expandDict } from '../table/dictionary.js'
import { isKeyColumn } from '../table/spec.js'
import type { BoolColumn, ColumnData, ColumnSpec, Table, TableSpec } from '../types.js'
import { E_PLAIN, E_RLE, E_RLE_DICTIONARY, type EncodedChunk, encodeChunk } from './encode.js'
import {
  encodeBooleans,
  encodeFloats,
  encodeInt64,
  encodeWideDecimals,
  narrowDecimals,
} from './encode-typed.js'
import { definitionLevels, dictionaryIndices } from './rle.js'
import {
  decimalBytes,
  parquetType,
  T_BOOLEAN,
  T_BYTE_ARRAY,
  T_DOUBLE,
  T_FIXED_LEN_BYTE_ARRAY,
  T_FLOAT,
  T_INT32,
  T_INT64,
} from './schema.js'
import { snappyCompress } from './snappy.js'
import { bin, i32, i64, struct, type ThriftStruct, ThriftWriter } from './thrift.js'

// Parquet enums (parquet.thrift)
const REQUIRED = 0
const OPTIONAL = 1
const CODEC_UNCOMPRESSED = 0
const CODEC_SNAPPY = 1
const PAGE_DATA = 0
const PAGE_DICTIONARY = 2

export interface ParquetWriteOptions {
  rowGroupSize?: number // rows per row group; default 1M
  targetFileBytes?: number // files of several row groups up to about this size (files.ts); default: one file
  compression?: 'snappy' | 'none' // page compression; default snappy
  createdBy?: string // FileMetaData.created_by
}

/** A growable byte buffer (one per file). */
class Bytes {
  buf = Buffer.allocUnsafe(1 << 16)
  length = 0
  ensure(n: number): void {
    if (this.length + n <= this.buf.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n))
    this.buf.copy(grown, 0, 0, this.length)
    this.buf = grown
  }
  append(b: Uint8Array): number {
    this.ensure(b.length)
    this.buf.set(b, this.length)
    const at = this.length
    this.length += b.length
    return at
  }
}

function physicalType(c: ColumnSpec): number {
  return parquetType(c).physical
}

/** The schema: key columns REQUIRED, the rest OPTIONAL; field ids are 1-based column positions (kept for life). */
function schemaElements(spec: TableSpec): ThriftStruct[] {
  const root: ThriftStruct = [
    [4, bin('schema')],
    [5, i32(spec.columns.length)],
  ]
  return [
    root,
    ...spec.columns.map((c, ci): ThriftStruct => {
      const t = parquetType(c)
      return [
        [1, i32(t.physical)],
        [2, t.typeLength === undefined ? undefined : i32(t.typeLength)],
        [3, i32(isKeyColumn(spec, ci) ? REQUIRED : OPTIONAL)],
        [4, bin(c.name)],
        [6, t.converted === undefined ? undefined : i32(t.converted)],
        [7, t.scale === undefined ? undefined : i32(t.scale)],
        [8, t.precision === undefined ? undefined : i32(t.precision)],
        [9, i32(ci + 1)],
        [10, t.logical],
      ]
    }),
  ]
}

/** Rows [start, end) of a column, encoded as its Parquet type (etl/parquet/schema.ts). */
function encodeTyped(
  c: ColumnSpec,
  col: ColumnData,
  start: number,
  end: number,
  unique: boolean,
): EncodedChunk {
  if (col.type === 'int64') {
    if (c.type === 'decimal' && c.precision! <= 9)
      return encodeChunk(narrowDecimals(col, start, end), start, end, unique)
    return encodeInt64(col, start, end, unique)
  }
  if (col.type === 'float64') return encodeFloats(col, start, end, parquetType(c).physical === T_FLOAT)
  if (col.type === 'bool') return encodeBooleans(col, start, end)
  if (isWideDecimal(c)) {
    // Repeated values may have come back from the merge as a dictionary column: FIXED_LEN values are written whole.
    const plain = col.type === 'dict' ? expandDict(col, end) : col
    if (plain.type === 'string')
      return encodeWideDecimals(plain, start, end, decimalBytes(c.precision!), unique)
  }
  if (storageOf(c) === 'string' && col.type !== 'string' && col.type !== 'dict')
    throw new Error(`parquet: column ${c.name} is ${c.type} but holds ${col.type} values`)
  return encodeChunk(col, start, end, unique)
}

function pageHeader(
  type: number,
  uncompressed: number,
  compressed: number,
  detail: [number, ThriftStruct],
): Uint8Array {
  const w = new ThriftWriter()
  w.struct([
    [1, i32(type)],
    [2, i32(uncompressed)],
    [3, i32(compressed)],
    [detail[0], struct(detail[1])],
  ])
  return w.result()
}

/** One column chunk, encoded: its pages, and what the footer says about it (offsets relative to its first byte). */
export interface EncodedColumnChunk {
  pages: Uint8Array[] // [dictionary header, dictionary page,] data header, data page
  size: number // bytes of all pages
  dictionaryOffset: number | undefined // relative
  dataOffset: number // relative
  uncompressed: number // headers plus uncompressed pages
  rows: number
  hasDictionary: boolean
  stats: ThriftStruct
}

/** Data pages hold about this many bytes of values (Parquet's and Arrow's default page size): readers skip pages. */
export const PAGE_BYTES = 1 << 20

/** One data page of a chunk: its rows, their presence bytes (null: none NULL) and its encoded values. */
interface DataPage {
  rows: number
  present: Uint8Array | null
  values: Uint8Array
}

/** Byte offset of each PLAIN BYTE_ARRAY value (4-byte length, then the bytes), and the end. */
function byteArrayOffsets(values: Uint8Array, count: number): Int32Array {
  const at = new Int32Array(count + 1)
  const view = new DataView(values.buffer, values.byteOffset, values.byteLength)
  let o = 0
  for (let i = 0; i < count; i++) {
    at[i] = o
    o += 4 + view.getUint32(o, true)
  }
  at[count] = o
  return at
}

/**
 * A chunk's values cut into pages of about PAGE_BYTES, at row boundaries spread evenly: dictionary codes re-run per
 * page, fixed-width PLAIN values sliced, PLAIN byte arrays cut between values, booleans re-encoded. A chunk below
 * PAGE_BYTES is one page (the bytes lakesync wrote before pages were cut).
 */
function dataPages(
  c: ColumnSpec,
  col: ColumnData,
  enc: EncodedChunk,
  start: number,
  end: number,
): DataPage[] {
  const n = end - start
  const pagesWanted = Math.ceil(enc.values.length / PAGE_BYTES)
  if (pagesWanted <= 1 || n < 2) return [{ rows: n, present: enc.present, values: enc.values }]
  const count = n - enc.nulls
  const t = parquetType(c)
  const width =
    t.physical === T_INT32 || t.physical === T_FLOAT
      ? 4
      : t.physical === T_INT64 || t.physical === T_DOUBLE
        ? 8
        : t.physical === T_FIXED_LEN_BYTE_ARRAY
          ? t.typeLength!
          : 0
  const offsets = !enc.indices && t.physical === T_BYTE_ARRAY ? byteArrayOffsets(enc.values, count) : null
  const pages: DataPage[] = []
  const rowsPer = Math.ceil(n / pagesWanted)
  let first = 0 // present values before the page
  for (let ps = start; ps < end; ps += rowsPer) {
    const pe = Math.min(end, ps + rowsPer)
    const present = enc.present === null ? null : enc.present.subarray(ps - start, pe - start)
    let inPage = pe - ps
    if (present !== null) {
      inPage = 0
      for (let i = 0; i < present.length; i++) inPage += present[i]!
    }
    const last = first + inPage
    let values: Uint8Array
    if (enc.indices && enc.dictionary)
      values = dictionaryIndices(enc.indices.subarray(first, last), last - first, enc.dictionary.count)
    else if (t.physical === T_BOOLEAN) values = encodeBooleans(col as BoolColumn, ps, pe).values
    else if (offsets) values = enc.values.subarray(offsets[first]!, offsets[last]!)
    else values = enc.values.subarray(first * width, last * width)
    pages.push({ rows: pe - ps, present, values })
    first = last
  }
  return pages
}

/** The row groups of a table: [start, end) pairs (one empty group for an empty table). */
export function rowGroupsOf(length: number, rowGroupSize = 1 << 20): [number, number][] {
  const groups: [number, number][] = []
  for (let start = 0; start < length; start += rowGroupSize)
    groups.push([start, Math.min(start + rowGroupSize, length)])
  return groups.length > 0 ? groups : [[0, 0]]
}

/**
 * Encodes column `ci` of `table` for every row group: pure and independent of the other columns, so a worker can
 * encode some columns while the calling thread encodes the rest (etl/threads/parquet-parallel.ts).
 */
export function encodeColumn(table: Table, ci: number, opts: ParquetWriteOptions = {}): EncodedColumnChunk[] {
  const { rowGroupSize = 1 << 20, compression = 'snappy' } = opts
  const compress = (b: Uint8Array) => (compression === 'snappy' ? snappyCompress(b) : b)
  const c = table.spec.columns[ci]!
  const col = table.columns[ci]!
  const optional = !isKeyColumn(table.spec, ci)
  // A single-column key is unique (a repeated one would only be written PLAIN, still correct).
  const unique = !optional && table.spec.primaryKey.length === 1
  return rowGroupsOf(table.length, rowGroupSize).map(([start, end]) => {
    const n = end - start
    const enc = encodeTyped(c, col, start, end, unique)
    const pages: Uint8Array[] = []
    let size = 0
    let uncompressed = 0
    let dictionaryOffset: number | undefined
    if (enc.dictionary) {
      const body = compress(enc.dictionary.bytes)
      const header = pageHeader(PAGE_DICTIONARY, enc.dictionary.bytes.length, body.length, [
        7,
        [
          [1, i32(enc.dictionary.count)],
          [2, i32(E_PLAIN)],
        ],
      ])
      dictionaryOffset = 0
      pages.push(header, body)
      size += header.length + body.length
      uncompressed += header.length + enc.dictionary.bytes.length
    }
    const stats: ThriftStruct = [
      [3, i64(enc.nulls)],
      [5, enc.max ? bin(enc.max) : undefined],
      [6, enc.min ? bin(enc.min) : undefined],
    ]
    const dataOffset = size
    const split = dataPages(c, col, enc, start, end)
    for (const page of split) {
      const levels = optional ? definitionLevels(page.present, page.rows) : null
      const raw = levels ? Buffer.concat([levels, page.values]) : page.values
      const body = compress(raw)
      const header = pageHeader(PAGE_DATA, raw.length, body.length, [
        5,
        [
          [1, i32(page.rows)],
          [2, i32(enc.encoding)],
          [3, i32(E_RLE)],
          [4, i32(E_RLE)],
          // One page: the chunk's statistics; several: the chunk's (in the footer) bound every page anyway.
          [5, split.length === 1 ? struct(stats) : undefined],
        ],
      ])
      pages.push(header, body)
      size += header.length + body.length
      uncompressed += header.length + raw.length
    }
    return {
      pages,
      size,
      dictionaryOffset,
      dataOffset,
      uncompressed,
      rows: n,
      hasDictionary: enc.dictionary !== undefined,
      stats,
    }
  })
}

/** Lays out encoded columns (`columns[ci][group]`) as one Parquet file: pages by row group, then the footer. */
export function assembleParquet(
  spec: TableSpec,
  length: number,
  columns: EncodedColumnChunk[][],
  opts: ParquetWriteOptions = {},
): Uint8Array {
  const { compression = 'snappy', createdBy = 'lakesync' } = opts
  const codec = compression === 'snappy' ? CODEC_SNAPPY : CODEC_UNCOMPRESSED
  const groups = columns[0]?.length ?? 0
  let total = 4
  for (const col of columns) for (const chunk of col) total += chunk.size
  const out = new Bytes()
  out.ensure(total + 4096)
  out.append(Buffer.from('PAR1'))
  const rowGroups: ThriftStruct[] = []
  for (let g = 0; g < groups; g++) {
    const groupStart = out.length
    let groupUncompressed = 0
    const n = columns[0]![g]!.rows
    const chunks = spec.columns.map((c, ci): ThriftStruct => {
      const chunk = columns[ci]![g]!
      const chunkStart = out.length
      for (const page of chunk.pages) out.append(page)
      groupUncompressed += chunk.uncompressed
      const encodings = chunk.hasDictionary ? [E_PLAIN, E_RLE, E_RLE_DICTIONARY] : [E_PLAIN, E_RLE]
      return [
        [2, i64(chunkStart)],
        [
          3,
          struct([
            [1, i32(physicalType(c))],
            [2, { t: 'list', elem: 'i32', v: encodings }],
            [3, { t: 'list', elem: 'binary', v: [c.name] }],
            [4, i32(codec)],
            [5, i64(chunk.rows)],
            [6, i64(chunk.uncompressed)],
            [7, i64(chunk.size)],
            [9, i64(chunkStart + chunk.dataOffset)],
            [11, chunk.dictionaryOffset === undefined ? undefined : i64(chunkStart + chunk.dictionaryOffset)],
            [12, struct(chunk.stats)],
          ]),
        ],
      ]
    })
    rowGroups.push([
      [1, { t: 'list', elem: 'struct', v: chunks }],
      [2, i64(groupUncompressed)],
      [3, i64(n)],
      [5, i64(groupStart)],
      [6, i64(out.length - groupStart)],
    ])
  }
  const meta = new ThriftWriter()
  meta.struct([
    [1, i32(1)],
    [2, { t: 'list', elem: 'struct', v: schemaElements(spec) }],
    [3, i64(length)],
    [4, { t: 'list', elem: 'struct', v: rowGroups }],
    [6, bin(createdBy)],
    // TypeDefinedOrder for every column: without it pyarrow and Trino ignore min/max.
    [7, { t: 'list', elem: 'struct', v: spec.columns.map((): ThriftStruct => [[1, struct([])]]) }],
  ])
  const footer = meta.result()
  out.append(footer)
  const tail = Buffer.allocUnsafe(8)
  tail.writeUInt32LE(footer.length, 0)
  tail.write('PAR1', 4, 'latin1')
  out.append(tail)
  return new Uint8Array(out.buf.buffer, out.buf.byteOffset, out.length)
}

/** Encodes a table as one Parquet file. */
export function writeParquet(table: Table, opts: ParquetWriteOptions = {}): Uint8Array {
  const columns = table.spec.columns.map((_, ci) => encodeColumn(table, ci, opts))
  return assembleParquet(table.spec, table.length, columns, opts)
}
