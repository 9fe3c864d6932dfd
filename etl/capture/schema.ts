/**
 * `lakesync schema`: the config of PostgreSQL tables, read from the catalog: each column with the config type DMS's
 * type mapping gives it (pg-types.ts suggestedType; docs/dms-format.md), its nullability and the primary key in key
 * order. A table without a primary key is reported, never guessed: the merge needs a key.
 */
import pg from 'pg'
import { ConfigError } from '../errors.js'
import { suggestedType } from './pg-types.js'

export interface SchemaColumn {
  name: string
  type: string
  nullable?: false // NOT NULL at the source
}

export interface SchemaTable {
  schema: string
  name: string
  columns: SchemaColumn[]
  primaryKey: string[]
}

export interface SchemaResult {
  tables: SchemaTable[] // the tables with a primary key, in the order asked, then by name
  skipped: string[] // tables left out: no primary key, no such table
  notes: string[] // columns whose type is mapped with a caveat
}

const PATTERN = /^([A-Za-z_][A-Za-z0-9_$]*)\.([A-Za-z_][A-Za-z0-9_$]*|\*)$/

/** `schema.table` or `schema.*`, comma-separated. */
export function parseTablePatterns(text: string): { schema: string; table: string | null }[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (parts.length === 0) throw new ConfigError('bad_usage', '--tables needs schema.table or schema.* names')
  return parts.map((p) => {
    const m = PATTERN.exec(p)
    if (!m)
      throw new ConfigError('bad_usage', `--tables: ${JSON.stringify(p)} is not schema.table or schema.*`)
    return { schema: m[1]!, table: m[2] === '*' ? null : m[2]! }
  })
}

/** The config type of a PostgreSQL type (format_type text), or the type and why it is only an approximation. */
export function configTypeOf(pg: string): { type: string; caveat?: string } {
  const numeric = /^numeric(?:\((\d+),(\d+)\))?$/.exec(pg)
  if (numeric) {
    if (numeric[1] === undefined)
      return {
        type: 'string',
        caveat:
          'numeric without precision: DMS writes it as NUMERIC(28,6), rounded; string keeps what arrives',
      }
    if (Number(numeric[1]) > 38)
      return { type: 'string', caveat: `${pg}: DMS maps numeric beyond 38 digits to STRING` }
  }
  if (/ with time zone$/.test(pg) && pg.startsWith('time'))
    if (!pg.startsWith('timestamp'))
      return { type: 'string', caveat: `${pg}: there is no config type for a time with a zone` }
  return { type: suggestedType(pg) }
}

const COLUMNS_SQL = `
  SELECT c.oid, n.nspname AS schema, c.relname AS name, a.attname AS column, a.attnotnull AS notnull,
         format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END,
                     CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END) AS type
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type t ON t.oid = a.atttypid
   WHERE c.relkind IN ('r', 'p') AND n.nspname = $1 AND ($2::text IS NULL OR c.relname = $2)
   ORDER BY c.relname, a.attnum`

const KEY_SQL = `
  SELECT a.attname AS column
    FROM pg_index i
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
   WHERE i.indrelid = $1 AND i.indisprimary
   ORDER BY k.ord`

/** Reads the tables `patterns` name from the PostgreSQL at `url`. */
export async function readSchema(
  url: string,
  patterns: { schema: string; table: string | null }[],
): Promise<SchemaResult> {
  const db = new pg.Client({ connectionString: url })
  db.on('error', () => {}) // a dropped connection fails the pending query, which reports it
  await db.connect()
  try {
    const tables: SchemaTable[] = []
    const skipped: string[] = []
    const notes: string[] = []
    const seen = new Set<string>()
    for (const p of patterns) {
      const rows = (
        await db.query<{
          oid: number
          schema: string
          name: string
          column: string
          notnull: boolean
          type: string
        }>(COLUMNS_SQL, [p.schema, p.table])
      ).rows
      if (rows.length === 0) {
        skipped.push(`${p.schema}.${p.table ?? '*'}: no such table`)
        continue
      }
      const byTable = new Map<string, typeof rows>()
      for (const r of rows) byTable.set(r.name, [...(byTable.get(r.name) ?? []), r])
      for (const [name, cols] of byTable) {
        const qualified = `${p.schema}.${name}`
        if (seen.has(qualified)) continue
        seen.add(qualified)
        const key = (await db.query<{ column: string }>(KEY_SQL, [cols[0]!.oid])).rows.map((r) => r.column)
        if (key.length === 0) {
          skipped.push(
            `${qualified} has no primary key: lakesync merges by key, so add one (ALTER TABLE ${qualified} ADD PRIMARY KEY (...)) or write its config by hand with the columns that identify a row`,
          )
          continue
        }
        const columns = cols.map((c): SchemaColumn => {
          const { type, caveat } = configTypeOf(c.type)
          if (caveat) notes.push(`${qualified}.${c.column}: ${caveat}`)
          return {
            name: c.column,
            type,
            ...(c.notnull && !key.includes(c.column) ? { nullable: false as const } : {}),
          }
        })
        tables.push({ schema: p.schema, name, columns, primaryKey: key })
      }
    }
    return { tables, skipped, notes }
  } finally {
    await db.end().catch(() => {})
  }
}
