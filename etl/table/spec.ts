import { ConfigError } from '../errors.js'
import type { ColumnType, TableSpec } from '../types.js'

/** The reference table, `users(user_id int primary key, name text, city text, last_login date)`. */
export const USERS_SPEC: TableSpec = {
  name: 'users',
  columns: [
    { name: 'user_id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'last_login', type: 'date' },
  ],
  primaryKey: 'user_id',
}

const COLUMN_TYPES: readonly ColumnType[] = ['int32', 'string', 'date']
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Validates a table spec from a config file; returns it typed or throws naming the bad field. */
export function parseTableSpec(value: unknown, where = 'table'): TableSpec {
  if (typeof value !== 'object' || value === null)
    throw new ConfigError('bad_config', `config: ${where} must be an object`)
  const v = value as Record<string, unknown>
  if (typeof v.name !== 'string' || !NAME.test(v.name))
    throw new ConfigError(
      'bad_config',
      `config: ${where}.name must be an identifier, got ${JSON.stringify(v.name)}`,
    )
  if (!Array.isArray(v.columns) || v.columns.length === 0)
    throw new ConfigError('bad_config', `config: ${where}.columns must be a non-empty array`)
  const columns = v.columns.map((c: unknown, i: number) => {
    const col = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>
    if (typeof col.name !== 'string' || !NAME.test(col.name))
      throw new ConfigError('bad_config', `config: ${where}.columns[${i}].name must be an identifier`)
    if (!COLUMN_TYPES.includes(col.type as ColumnType))
      throw new ConfigError(
        'bad_config',
        `config: ${where}.columns[${i}].type must be one of ${COLUMN_TYPES.join(', ')}, got ${JSON.stringify(col.type)}`,
      )
    return { name: col.name, type: col.type as ColumnType }
  })
  const names = new Set<string>()
  for (const c of columns) {
    if (names.has(c.name)) throw new ConfigError('bad_config', `config: ${where} has column ${c.name} twice`)
    names.add(c.name)
  }
  const key = columns.find((c) => c.name === v.primaryKey)
  if (!key)
    throw new ConfigError(
      'bad_config',
      `config: ${where}.primaryKey ${JSON.stringify(v.primaryKey)} is not a column`,
    )
  if (key.type === 'date')
    throw new ConfigError('bad_config', `config: ${where}.primaryKey must be int32 or string`)
  return { name: v.name, columns, primaryKey: key.name }
}

/** Index of the key column in the spec. */
export function keyIndex(spec: TableSpec): number {
  return spec.columns.findIndex((c) => c.name === spec.primaryKey)
}

/** Index of a named column, or an error naming the spec when it is absent. */
export function columnIndex(spec: TableSpec, name: string): number {
  const i = spec.columns.findIndex((c) => c.name === name)
  if (i < 0) throw new ConfigError('bad_config', `table ${spec.name} has no column ${name}`)
  return i
}
