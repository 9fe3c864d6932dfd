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
import type { ColumnSpec, Table, TableSpec } from '../types.js'
import { E_PLAIN, E_RLE, E_RLE_DICTIONARY, encodeChunk } from './encode.js'
import { definitionLevels } from './rle.js'
import { snappyCompress } from './snappy.js'
import { bin, i32, i64, struct, type ThriftStruct, ThriftWriter } from './thrift.js'

// Parquet enums (parquet.thrift)
const T_INT32 = 1
const T_DOUBLE = 5
const T_BYTE_ARRAY = 6
const REQUIRED = 0
const OPTIONAL = 1
const CT_UTF8 = 0
const CT_DATE = 6
const CODEC_UNCOMPRESSED = 0
const CODEC_SNAPPY = 1
const PAGE_DATA = 0
const PAGE_DICTIONARY = 2

export interface ParquetWriteOptions {
  rowGroupSize?: number // rows per row group; default 1M
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
  return c.type === 'string' ? T_BYTE_ARRAY : c.type === 'double' ? T_DOUBLE : T_INT32
}

function schemaElements(spec: TableSpec): ThriftStruct[] {
  const root: ThriftStruct = [
    [4, bin('schema')],
    [5, i32(spec.columns.length)],
  ]
  return [
    root,
    ...spec.columns.map((c): ThriftStruct => {
      const logical =
        c.type === 'string'
          ? struct([[1, struct([])]])
          : c.type === 'date'
            ? struct([[6, struct([])]])
            : undefined
      return [
        [1, i32(physicalType(c))],
        [3, i32(c.name === spec.primaryKey ? REQUIRED : OPTIONAL)],
        [4, bin(c.name)],
        [6, c.type === 'string' ? i32(CT_UTF8) : c.type === 'date' ? i32(CT_DATE) : undefined],
        [10, logical],
      ]
    }),
  ]
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
  const optional = c.name !== table.spec.primaryKey
  return rowGroupsOf(table.length, rowGroupSize).map(([start, end]) => {
    const n = end - start
    // The key is unique in both tables lakesync writes (a repeated one would only be written PLAIN, still correct).
    const enc = encodeChunk(col, start, end, !optional)
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
    const levels = optional ? definitionLevels(enc.present, n) : null
    const raw = levels ? Buffer.concat([levels, enc.values]) : enc.values
    const body = compress(raw)
    const stats: ThriftStruct = [
      [3, i64(enc.nulls)],
      [5, enc.max ? bin(enc.max) : undefined],
      [6, enc.min ? bin(enc.min) : undefined],
    ]
    const header = pageHeader(PAGE_DATA, raw.length, body.length, [
      5,
      [
        [1, i32(n)],
        [2, i32(enc.encoding)],
        [3, i32(E_RLE)],
        [4, i32(E_RLE)],
        [5, struct(stats)],
      ],
    ])
    const dataOffset = size
    pages.push(header, body)
    size += header.length + body.length
    uncompressed += header.length + raw.length
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
