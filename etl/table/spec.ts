import { ConfigError } from '../errors.js'
import type { ColumnSpec, FeatureColumns, TableSpec } from '../types.js'
import { keyProblem, parseColumnType, typeName } from './column-types.js'

/** The reference table, `users(user_id int primary key, name text, city text, last_login date)`. */
export const USERS_SPEC: TableSpec = {
  name: 'users',
  columns: [
    { name: 'user_id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'last_login', type: 'date' },
  ],
  primaryKey: ['user_id'],
  features: { id: 'user_id', name: 'name', city: 'city', lastLogin: 'last_login' },
}

/** What each feature role needs: the config key, and the storage the features step reads today. */
const FEATURE_ROLES: [keyof FeatureColumns, string[]][] = [
  ['id', ['int32', 'int64']],
  ['name', ['string']],
  ['city', ['string']],
  ['lastLogin', ['date', 'timestamp', 'timestamptz']],
]

/** A `features` section: each role names a column of the table, of the type the features step reads. */
function parseFeatures(value: unknown, columns: ColumnSpec[], where: string): FeatureColumns {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(
      'bad_config',
      `config: ${where}.features must be an object naming the columns (id, name, city, lastLogin)`,
    )
  const v = value as Record<string, unknown>
  for (const k of Object.keys(v))
    if (!FEATURE_ROLES.some(([role]) => role === k))
      throw new ConfigError(
        'bad_config',
        `config: unknown key ${JSON.stringify(k)} in ${where}.features (known: id, name, city, lastLogin)`,
      )
  const out: Partial<FeatureColumns> = {}
  for (const [role, type] of FEATURE_ROLES) {
    const col = columns.find((c) => c.name === v[role])
    if (!col)
      throw new ConfigError(
        'bad_config',
        `config: ${where}.features.${role} ${JSON.stringify(v[role])} is not a column of the table`,
      )
    if (!type.includes(col.type))
      throw new ConfigError(
        'bad_config',
        `config: ${where}.features.${role} names ${col.name}, a ${typeName(col)} column (expected ${type.join(' or ')})`,
      )
    out[role] = col.name
  }
  return out as FeatureColumns
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Validates a table spec from a config file; returns it typed or throws naming the bad field. */
export function parseTableSpec(value: unknown, where = 'table'): TableSpec {
  if (typeof value !== 'object' || value === null)
    throw new ConfigError('bad_config', `config: ${where} must be an object`)
  const v = value as Record<string, unknown>
  for (const k of Object.keys(v))
    if (!['name', 'columns', 'primaryKey', 'features'].includes(k))
      throw new ConfigError(
        'bad_config',
        `config: unknown key ${JSON.stringify(k)} in ${where} (known: name, columns, primaryKey, features)`,
      )
  if (typeof v.name !== 'string' || !NAME.test(v.name))
    throw new ConfigError(
      'bad_config',
      `config: ${where}.name must be an identifier, got ${JSON.stringify(v.name)}`,
    )
  if (!Array.isArray(v.columns) || v.columns.length === 0)
    throw new ConfigError('bad_config', `config: ${where}.columns must be a non-empty array`)
  const columns = v.columns.map((c: unknown, i: number): ColumnSpec => {
    const col = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>
    if (typeof col.name !== 'string' || !NAME.test(col.name))
      throw new ConfigError('bad_config', `config: ${where}.columns[${i}].name must be an identifier`)
    for (const k of Object.keys(col))
      if (k !== 'name' && k !== 'type' && k !== 'nullable' && k !== 'added')
        throw new ConfigError(
          'bad_config',
          `config: unknown key ${JSON.stringify(k)} in ${where}.columns[${i}] (known: name, type, nullable, added)`,
        )
    for (const k of ['nullable', 'added'] as const)
      if (col[k] !== undefined && typeof col[k] !== 'boolean')
        throw new ConfigError('bad_config', `config: ${where}.columns[${i}].${k} must be true or false`)
    if (col.added === true && col.nullable === false)
      throw new ConfigError(
        'bad_config',
        `config: ${where}.columns[${i}] (${col.name}) is added and not nullable: rows written before it was added read NULL`,
      )
    const spec = parseColumnType(col.name, col.type, `${where}.columns[${i}].type`)
    return {
      ...spec,
      ...(col.nullable === false ? { nullable: false } : {}),
      ...(col.added === true ? { added: true } : {}),
    }
  })
  checkAddedColumns(columns, where)
  const names = new Set<string>()
  for (const c of columns) {
    if (names.has(c.name)) throw new ConfigError('bad_config', `config: ${where} has column ${c.name} twice`)
    names.add(c.name)
  }
  const raw = typeof v.primaryKey === 'string' ? [v.primaryKey] : v.primaryKey
  if (!Array.isArray(raw) || raw.length === 0)
    throw new ConfigError(
      'bad_config',
      `config: ${where}.primaryKey must be a column name or a non-empty array of them, got ${JSON.stringify(v.primaryKey)}`,
    )
  const primaryKey = raw.map((k: unknown) => {
    const key = columns.find((c) => c.name === k)
    if (!key)
      throw new ConfigError('bad_config', `config: ${where}.primaryKey ${JSON.stringify(k)} is not a column`)
    if (key.added)
      throw new ConfigError(
        'bad_config',
        `config: ${where}.primaryKey column ${key.name} is declared added (a key column is in every row: reload the table after changing the key)`,
      )
    const problem = keyProblem(key)
    if (problem)
      throw new ConfigError(
        'bad_config',
        `config: ${where}.primaryKey column ${key.name} is ${typeName(key)}: ${problem} (a key column may be any type but float32, float64, binary and json)`,
      )
    return key.name
  })
  if (new Set(primaryKey).size !== primaryKey.length)
    throw new ConfigError('bad_config', `config: ${where}.primaryKey names a column twice`)
  const features = v.features === undefined ? undefined : parseFeatures(v.features, columns, where)
  return { name: v.name, columns, primaryKey, ...(features ? { features } : {}) }
}

/**
 * Columns added at the source during CDC (`"added": true`) come last: DMS appends a new column to the rows, so only
 * trailing additions can be told apart in files without headers.
 */
function checkAddedColumns(columns: ColumnSpec[], where: string): void {
  const first = columns.findIndex((c) => c.added === true)
  if (first < 0) return
  const later = columns.slice(first).find((c) => c.added !== true)
  if (later)
    throw new ConfigError(
      'bad_config',
      `config: ${where}.columns: ${later.name} follows the added column ${columns[first]!.name} but is not added (added columns are the last ones, in the order they were added)`,
    )
}

/** Indexes of the key columns in the spec, in key order. */
export function keyColumns(spec: TableSpec): number[] {
  return spec.primaryKey.map((k) => spec.columns.findIndex((c) => c.name === k))
}

/** Whether column `ci` is part of the key. */
export function isKeyColumn(spec: TableSpec, ci: number): boolean {
  return spec.primaryKey.includes(spec.columns[ci]!.name)
}

/** Index of a named column, or an error naming the spec when it is absent. */
export function columnIndex(spec: TableSpec, name: string): number {
  const i = spec.columns.findIndex((c) => c.name === name)
  if (i < 0) throw new ConfigError('bad_config', `table ${spec.name} has no column ${name}`)
  return i
}

/** The key names as a user reads them: `user_id` or `(order_id, line_no)`. */
export function keyLabel(spec: TableSpec): string {
  return spec.primaryKey.length === 1 ? spec.primaryKey[0]! : `(${spec.primaryKey.join(', ')})`
}
