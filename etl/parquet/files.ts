/**
 * A table as several Parquet files: its encoded row groups (etl/parquet/writer.ts) laid out into files of about a
 * target size, whole groups each, so a large table in key order becomes files of disjoint key ranges.
 */
import type { Table, TableSpec } from '../types.js'
import { assembleParquet, type EncodedColumnChunk, encodeColumn, type ParquetWriteOptions } from './writer.js'

/**
 * Consecutive row groups, as [first, end) ranges, each of about `targetBytes` encoded (a group larger than that is a
 * file of its own): a large table becomes several files, each a key range when the rows are in key order.
 */
export function fileRanges(
  columns: EncodedColumnChunk[][],
  targetBytes = Number.POSITIVE_INFINITY,
): [number, number][] {
  const groups = columns[0]?.length ?? 0
  const ranges: [number, number][] = []
  let first = 0
  let bytes = 0
  for (let g = 0; g < groups; g++) {
    let size = 0
    for (const col of columns) size += col[g]!.size
    if (g > first && bytes + size > targetBytes) {
      ranges.push([first, g])
      first = g
      bytes = 0
    }
    bytes += size
  }
  ranges.push([first, Math.max(groups, first + 1)])
  return ranges
}

/** Lays out encoded columns as files of about `opts.targetFileBytes` (fileRanges); one file by default. */
export function assembleParquetFiles(
  spec: TableSpec,
  columns: EncodedColumnChunk[][],
  opts: ParquetWriteOptions = {},
): Uint8Array[] {
  const ranges = fileRanges(columns, opts.targetFileBytes)
  return ranges.map(([a, b]) => {
    const part = columns.map((col) => col.slice(a, b))
    const length = part[0]?.reduce((n, chunk) => n + chunk.rows, 0) ?? 0
    return assembleParquet(spec, length, part, opts)
  })
}

/** Encodes a table as Parquet files of about `opts.targetFileBytes` each (assembleParquetFiles). */
export function writeParquetFiles(table: Table, opts: ParquetWriteOptions = {}): Uint8Array[] {
  const columns = table.spec.columns.map((_, ci) => encodeColumn(table, ci, opts))
  return assembleParquetFiles(table.spec, columns, opts)
}
