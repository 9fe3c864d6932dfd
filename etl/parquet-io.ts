/**
 * Tables to and from Parquet bytes, with hyparquet-writer and hyparquet (pure JS, no native code, small enough for
 * a Lambda bundle). parquetjs-lite, named in the product brief, was ~10x slower to write and cannot read files
 * written by other writers: docs/decisions.md has the numbers.
 */
import { parquetMetadata, parquetRead } from 'hyparquet'
import type { ColumnSource } from 'hyparquet-writer'
import { parquetWriteBuffer } from 'hyparquet-writer'
import { StateError } from './errors.js'
import type { ColumnData, StringValues, Table, TableSpec } from './types.js'
import { NULL_DATE } from './types.js'

/** Rows per row group: big enough for good compression, small enough for readers to split work. */
const ROW_GROUP_SIZE = 1 << 20

type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number]

function schemaOf(spec: TableSpec): SchemaElement[] {
  const root: SchemaElement = { name: 'schema', num_children: spec.columns.length }
  return [
    root,
    ...spec.columns.map((c): SchemaElement => {
      const repetition_type = c.name === spec.primaryKey ? 'REQUIRED' : 'OPTIONAL'
      switch (c.type) {
        case 'int32':
          return { name: c.name, type: 'INT32', repetition_type }
        case 'date':
          return {
            name: c.name,
            type: 'INT32',
            converted_type: 'DATE',
            logical_type: { type: 'DATE' },
            repetition_type,
          }
        case 'double':
          return { name: c.name, type: 'DOUBLE', repetition_type }
        case 'string':
          return {
            name: c.name,
            type: 'BYTE_ARRAY',
            converted_type: 'UTF8',
            logical_type: { type: 'STRING' },
            repetition_type,
          }
      }
    }),
  ]
}

/** The values of one column as hyparquet-writer takes them: typed arrays when there is no NULL. */
function writerData(c: ColumnData, n: number): ColumnSource['data'] {
  switch (c.type) {
    case 'string':
      return c.values.length === n ? c.values : c.values.slice(0, n)
    case 'double':
      return c.values.subarray(0, n)
    case 'date': {
      const v = c.values.subarray(0, n)
      if (!v.includes(NULL_DATE)) return v
      return Array.from(v, (d) => (d === NULL_DATE ? null : d))
    }
    case 'int32': {
      const v = c.values.subarray(0, n)
      if (!c.valid.subarray(0, n).includes(0)) return v
      return Array.from(v, (x, i) => (c.valid[i] === 1 ? x : null))
    }
  }
}

/** Encodes a table as one Parquet file. */
export function tableToParquet(table: Table): Uint8Array {
  const columnData: ColumnSource[] = table.spec.columns.map((c, i) => ({
    name: c.name,
    data: writerData(table.columns[i]!, table.length),
  }))
  const buffer = parquetWriteBuffer({
    columnData,
    schema: schemaOf(table.spec),
    rowGroupSize: ROW_GROUP_SIZE,
    createdBy: 'lakesync',
  })
  return new Uint8Array(buffer)
}

/** Decodes a Parquet file written for `spec` (by lakesync or any other writer with the same columns). */
export async function parquetToTable(bytes: Uint8Array, spec: TableSpec, file: string): Promise<Table> {
  const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const metadata = parquetMetadata(arrayBuffer)
  const n = Number(metadata.num_rows)
  const names = metadata.schema.slice(1).map((s) => s.name)
  for (const c of spec.columns)
    if (!names.includes(c.name))
      throw new StateError(
        'corrupt_state',
        `parquet: ${file} has no column ${c.name} (columns: ${names.join(', ')})`,
      )
  const chunks = new Map<string, { start: number; data: ArrayLike<unknown> }[]>()
  await parquetRead({
    file: arrayBuffer,
    metadata,
    columns: spec.columns.map((c) => c.name),
    parsers: { dateFromDays: (d: number) => d },
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
          for (let i = 0; i < p.data.length; i++)
            values[p.start + i] = (p.data[i] as string | null | undefined) ?? null
        return { type: 'string', values }
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
    }
  })
  return { spec, length: n, columns }
}
