/**
 * One Parquet file encoded on two threads: a worker encodes some of the table's columns while the calling thread
 * encodes the others, then the chunks are laid out as one file (etl/parquet/writer.ts assembleParquet). The features
 * table is the last step before the claim and the worker is otherwise idle by then; the output is byte-identical
 * to writeParquet.
 */

import { assembleParquetFiles } from '../parquet/files.js'
import {
  assembleParquet,
  type EncodedColumnChunk,
  encodeColumn,
  type ParquetWriteOptions,
} from '../parquet/writer.js'
import type { ColumnData, Table } from '../types.js'
import { parallelForColumns } from './policy.js'
import { runTask } from './worker-pool.js'

/** Rough bytes a column's encoding touches: what the split between the threads balances. */
function weight(c: ColumnData, rows: number): number {
  switch (c.type) {
    case 'string':
      return c.offsets[rows]! + rows * 4
    case 'double':
      return rows * 8
    default:
      return rows * 4
  }
}

/** Columns for the worker: heaviest first, each to whichever side is lighter so far (the worker never gets all). */
export function splitColumns(table: Table): { worker: number[]; here: number[] } {
  const w = table.columns.map((c, i) => ({ i, w: weight(c, table.length) })).sort((a, b) => b.w - a.w)
  const worker: number[] = []
  const here: number[] = []
  let ws = 0
  let hs = 0
  for (const { i, w: cw } of w) {
    if (ws + cw <= hs + cw && worker.length < w.length - 1) {
      worker.push(i)
      ws += cw
    } else {
      here.push(i)
      hs += cw
    }
  }
  return { worker, here }
}

/** Every column of `table` encoded, some in a worker while this thread encodes the others. */
async function encodeColumnsParallel(
  table: Table,
  opts: ParquetWriteOptions,
): Promise<EncodedColumnChunk[][]> {
  if (!parallelForColumns(table.columns.length))
    return table.spec.columns.map((_, ci) => encodeColumn(table, ci, opts))
  const { worker, here } = splitColumns(table)
  // Only the worker's columns are copied to it; the spec keeps the key name, which decides REQUIRED/OPTIONAL.
  const sub: Table = {
    spec: { ...table.spec, columns: worker.map((i) => table.spec.columns[i]!) },
    length: table.length,
    columns: worker.map((i) => table.columns[i]!),
  }
  const remote = runTask('encodeColumns', { table: sub, opts })
  remote.catch(() => {}) // awaited below
  const columns: EncodedColumnChunk[][] = new Array(table.columns.length)
  for (const i of here) columns[i] = encodeColumn(table, i, opts)
  const done = await remote
  worker.forEach((i, k) => {
    columns[i] = done[k]!
  })
  return columns
}

export async function encodeParquetParallel(
  table: Table,
  opts: ParquetWriteOptions = {},
): Promise<Uint8Array> {
  return assembleParquet(table.spec, table.length, await encodeColumnsParallel(table, opts), opts)
}

/** encodeParquetParallel as files of about `opts.targetFileBytes` (etl/parquet/files.ts assembleParquetFiles). */
export async function encodeParquetFilesParallel(
  table: Table,
  opts: ParquetWriteOptions = {},
): Promise<Uint8Array[]> {
  return assembleParquetFiles(table.spec, await encodeColumnsParallel(table, opts), opts)
}
