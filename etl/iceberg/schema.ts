/**
 * The Iceberg schema of a table (Iceberg spec, "Schemas and Data Types"): one field per column with the Parquet
 * field id (its 1-based position, etl/parquet/writer.ts), the key columns required and listed as identifier fields.
 */
import { isKeyColumn } from '../table/spec.js'
import type { ColumnSpec, TableSpec } from '../types.js'

/** The Iceberg type of a column type. */
export function icebergType(c: ColumnSpec): string {
  switch (c.type) {
    case 'int16':
    case 'int32':
      return 'int'
    case 'int64':
      return 'long'
    case 'float32':
      return 'float'
    case 'float64':
    case 'double':
      return 'double'
    case 'decimal':
      return `decimal(${c.precision}, ${c.scale})`
    case 'boolean':
      return 'boolean'
    case 'string':
    case 'json':
      return 'string'
    case 'binary':
      return 'binary'
    case 'date':
      return 'date'
    case 'time':
      return 'time'
    case 'timestamp':
      return 'timestamp'
    case 'timestamptz':
      return 'timestamptz'
  }
}

export interface IcebergField {
  id: number
  name: string
  required: boolean
  type: string
}

export interface IcebergSchema {
  type: 'struct'
  'schema-id': number
  'identifier-field-ids': number[]
  fields: IcebergField[]
}

export function icebergSchema(spec: TableSpec): IcebergSchema {
  const fields = spec.columns.map((c, ci) => ({
    id: ci + 1,
    name: c.name,
    required: isKeyColumn(spec, ci),
    type: icebergType(c),
  }))
  return {
    type: 'struct',
    'schema-id': 0,
    'identifier-field-ids': fields.filter((f) => f.required).map((f) => f.id),
    fields,
  }
}
