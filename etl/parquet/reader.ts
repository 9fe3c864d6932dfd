/**
 * Parquet bytes to a table, with hyparquet (pure JS, reads files from any writer: lakesync's own, Spark's, DuckDB's).
 * Used to load the previous version before applying new changes, and by `lakesync export`/`show`.
 */
import { Buffer } from 'node:buffer'
import { parquetMetadata, parquetRead } from 'hyparquet'
import { RAW_PARSERS, rawMetadata, storeParquetValue } from '../dms/parquet-values.js'
import { StateError } from '../errors.js'
import { ensureCapacity, newColumn, stringColumnFrom } from '../table/columns.js'
import type { ColumnData, StringValues, Table, TableSpec } from '../types.js'
import { NULL_DATE } from '../types.js'

/** Decodes a Parquet file written for `spec` (by lakesync or any other writer with the same columns). */
export async function parquetToTable(bytes: Uint8Array, spec: TableSpec, file: string): Promise<Table> {
  const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const metadata = parquetMetadata(arrayBuffer)
  const n = Number(metadata.num_rows)
  const names = metadata.schema.slice(1).map((s) => s.name)
  // A column added to the config after this version was written: NULL in each of its rows.
  for (const c of spec.columns)
    if (!names.includes(c.name) && c.added !== true)
      throw new StateError(
        'corrupt_state',
        `parquet: ${file} has no column ${c.name} (columns: ${names.join(', ')})`,
      )
  const chunks = new Map<string, { start: number; data: ArrayLike<unknown> }[]>()
  const raw = rawMetadata(metadata)
  await parquetRead({
    file: arrayBuffer,
    metadata: raw.metadata,
    columns: spec.columns.map((c) => c.name).filter((c) => names.includes(c)),
    utf8: false,
    parsers: RAW_PARSERS,
    onChunk: (chunk) => {
      const list = chunks.get(chunk.columnName) ?? []
      list.push({ start: chunk.rowStart, data: chunk.columnData as ArrayLike<unknown> })
      chunks.set(chunk.columnName, list)
    },
  })
  const columns = spec.columns.map((c): ColumnData => {
    const parts = (chunks.get(c.name) ?? []).sort((a, b) => a.start - b.start)
    switch (c.type) {
      case 'string': {
        const values: StringValues = new Array(n)
        for (const p of parts)
          for (let i = 0; i < p.data.length; i++) {
            const v = p.data[i] as string | Uint8Array | null | undefined
            values[p.start + i] = v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : (v ?? null)
          }
        return stringColumnFrom(values)
      }
      case 'double': {
        const values = new Float64Array(n)
        for (const p of parts)
          for (let i = 0; i < p.data.length; i++) values[p.start + i] = p.data[i] as number
        return { type: 'double', values }
      }
      case 'date': {
        const values = new Int32Array(n).fill(NULL_DATE)
        for (const p of parts)
          for (let i = 0; i < p.data.length; i++) {
            const v = p.data[i] as number | null | undefined
            if (v !== null && v !== undefined) values[p.start + i] = v
          }
        return { type: 'date', values }
      }
      case 'int32': {
        const values = new Int32Array(n)
        const valid = new Uint8Array(n)
        for (const p of parts)
          for (let i = 0; i < p.data.length; i++) {
            const v = p.data[i] as number | null | undefined
            if (v !== null && v !== undefined) {
              values[p.start + i] = v
              valid[p.start + i] = 1
            }
          }
        return { type: 'int32', values, valid }
      }
      default: {
        // The other types, value by value in row order (string-stored ones are appended).
        const col = newColumn(c, 0)
        ensureCapacity([col], n)
        const info = raw.columns.get(c.name)
        for (const p of parts)
          for (let i = 0; i < p.data.length; i++) {
            const r = p.start + i
            const v = p.data[i]
            if (col.type === 'string') col.offsets[r + 1] = col.offsets[r]!
            if (v === null || v === undefined) continue
            const problem = storeParquetValue(c, col, r, v, info)
            if (problem !== null)
              throw new StateError(
                'corrupt_state',
                `parquet: ${file} column ${c.name} row ${r + 1}: ${problem}`,
              )
          }
        return col
      }
    }
  })
  return { spec, length: n, columns }
}
