/**
 * The DuckDB yardstick for a table mirrored without features (a `--config` table, such as bench/events.ts's): read
 * the DMS CSV with the table's own column types, keep the last change per key (I/U set the row, D removes it),
 * merge with the full load (bulk) or with DuckDB's own Parquet copy of the previous version (steady state), and write
 * target/<table>/part-00000.parquet in key order, as lakesync publishes it.
 *
 * Like bench/duckdb-peer.ts it skips lakesync's bookkeeping (commit log, SHA-256 of every file, exact error
 * locations, snapshots, statistics checks): a lower bound of the work on a vectorised, multi-threaded engine.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'

export interface MirrorTable {
  name: string
  columns: { name: string; type: string }[]
  primaryKey: string[] | string
}

/** A lakesync config type as the DuckDB type with the same values and Parquet logical type. */
export function duckdbType(type: string): string {
  const decimal = /^decimal\((\d+),(\d+)\)$/.exec(type)
  if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`
  const t = {
    int16: 'SMALLINT',
    int32: 'INTEGER',
    int64: 'BIGINT',
    float32: 'FLOAT',
    float64: 'DOUBLE',
    boolean: 'BOOLEAN',
    string: 'VARCHAR',
    json: 'JSON',
    binary: 'BLOB',
    date: 'DATE',
    time: 'TIME',
    timestamp: 'TIMESTAMP',
    timestamptz: 'TIMESTAMPTZ',
  }[type]
  if (t === undefined) throw new Error(`mirror peer: no DuckDB type for ${type}`)
  return t
}

function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

function ident(s: string): string {
  return `"${s.replaceAll('"', '""')}"`
}

/** DMS CSV: no header, RFC 4180 quoting, NULL = an empty unquoted field ("" stays the empty string). */
const CSV_OPTIONS =
  "header = false, delim = ',', quote = '\"', escape = '\"', nullstr = '', allow_quoted_nulls = false, auto_detect = false, strict_mode = true"
const LOAD_NAME = /^LOAD[0-9A-F]{8}\.csv$/
const CHANGE_NAME = /^\d{8}-\d{9,}\.csv$/

export interface MirrorOptions {
  source: string // folder of DMS files
  target: string // output folder
  table: MirrorTable
  baseParquet?: string // steady state: the previous version as Parquet, instead of the LOAD files
}

/** Runs the whole job; returns the row count of the table written. */
export async function runMirrorPeer(o: MirrorOptions): Promise<{ rows: number }> {
  const names = readdirSync(o.source)
  const loads = names.filter((n) => LOAD_NAME.test(n)).sort()
  const changes = names.filter((n) => CHANGE_NAME.test(n)).sort() // fixed-width timestamps: name order is time order
  if (loads.length === 0 && o.baseParquet === undefined)
    throw new Error(`mirror peer: no LOAD*.csv in ${o.source}`)
  const keys = (Array.isArray(o.table.primaryKey) ? o.table.primaryKey : [o.table.primaryKey]).map(ident)
  const cols = o.table.columns.map((c) => ident(c.name)).join(', ')
  const types = o.table.columns.map((c) => `${lit(c.name)}: ${lit(duckdbType(c.type))}`).join(', ')
  const base =
    o.baseParquet !== undefined
      ? `read_parquet(${lit(o.baseParquet)})`
      : `read_csv([${loads.map((n) => lit(join(o.source, n))).join(', ')}], ${CSV_OPTIONS}, columns = {${types}})`
  const outDir = join(o.target, o.table.name)
  const outFile = lit(join(outDir, 'part-00000.parquet'))

  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  const trace = process.env.BENCH_TRACE === '1' // BENCH_TRACE=1: each statement's time on stderr
  const run = async (sql: string): Promise<void> => {
    const t0 = performance.now()
    await conn.run(sql)
    if (trace)
      process.stderr.write(
        `mirror peer: ${Math.round(performance.now() - t0)} ms ${sql.trim().replace(/\s+/g, ' ').slice(0, 70)}\n`,
      )
  }
  try {
    await mkdir(outDir, { recursive: true })
    if (changes.length === 0) {
      // Bulk: the full load alone, straight from the CSV scan to the Parquet file.
      await run(
        `COPY (SELECT ${cols} FROM ${base} ORDER BY ${keys.join(', ')}) TO ${outFile} (FORMAT parquet)`,
      )
    } else {
      // One scan per change file, tagged with its position; parallel = false plus a streaming row_number() over ()
      // numbers the rows in file order.
      const perFile = changes.map(
        (n, i) =>
          `SELECT ${i} AS file_no, row_number() OVER () AS row_no, * FROM read_csv(${lit(join(o.source, n))}, ${CSV_OPTIONS}, parallel = false, columns = {'op': 'VARCHAR', ${types}})`,
      )
      await run(`CREATE TABLE changes AS ${perFile.join(' UNION ALL ')}`)
      const badOp = await conn.runAndReadAll(
        `SELECT count(*)::INTEGER AS n FROM changes WHERE op NOT IN ('I', 'U', 'D')`,
      )
      if ((badOp.getRowObjectsJson()[0]?.n as number) > 0)
        throw new Error('mirror peer: unknown Op in a change file')
      await run(`
        CREATE TABLE last_change AS SELECT * FROM changes
        QUALIFY row_number() OVER (PARTITION BY ${keys.join(', ')} ORDER BY file_no DESC, row_no DESC) = 1`)
      await run(`
        COPY (
          SELECT ${cols} FROM ${base} ANTI JOIN last_change USING (${keys.join(', ')})
          UNION ALL
          SELECT ${cols} FROM last_change WHERE op <> 'D'
          ORDER BY ${keys.join(', ')}
        ) TO ${outFile} (FORMAT parquet)`)
    }
    const n = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet(${outFile})`)
    return { rows: Number(n.getRowObjectsJson()[0]!.n) }
  } finally {
    conn.closeSync()
    db.closeSync()
  }
}

/** The table of a `lakesync run --config` file. */
export function readMirrorTable(configFile: string): MirrorTable {
  return (JSON.parse(readFileSync(configFile, 'utf8')) as { table: MirrorTable }).table
}
