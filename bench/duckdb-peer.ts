/**
 * The same run as `lakesync run`, in DuckDB SQL: the yardstick of the benchmark. It reads the full load and the
 * change files, keeps the last change per key, merges, computes the per-city features and writes both tables as
 * Parquet (target/users/part-00000.parquet, target/users_features/part-00000.parquet) in lakesync's row orders.
 *
 * It does none of lakesync's bookkeeping (commit log, file fingerprints, strict error locations), so it is a lower
 * bound of what the work costs with a vectorised, multi-threaded engine rather than a like-for-like product.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'

export interface PeerOptions {
  source: string // folder of DMS files
  target: string // output folder
  asOf: string // YYYY-MM-DD
  citiesFile: string // city,state CSV with a header
  aliases: Record<string, string> // city as written -> canonical city
  baseParquet?: string // steady state: the current users table as Parquet, instead of the LOAD files
}

/** A SQL string literal. */
function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

const USERS_COLUMNS = "{'user_id': 'INTEGER', 'name': 'VARCHAR', 'city': 'VARCHAR', 'last_login': 'DATE'}"
const CHANGE_COLUMNS =
  "{'op': 'VARCHAR', 'user_id': 'INTEGER', 'name': 'VARCHAR', 'city': 'VARCHAR', 'last_login': 'DATE'}"
/** DMS CSV: no header, RFC 4180 quoting, NULL = an empty unquoted field ("" stays the empty string). */
const CSV_OPTIONS =
  "header = false, delim = ',', quote = '\"', escape = '\"', nullstr = '', allow_quoted_nulls = false, auto_detect = false, strict_mode = true"

const LOAD_NAME = /^LOAD[0-9A-F]{8}\.csv$/
const CHANGE_NAME = /^\d{8}-\d{9,}\.csv$/

/** Runs the whole job; returns the row count of the users table (the features table has the same). */
export async function runDuckdbPeer(o: PeerOptions): Promise<{ rows: number }> {
  const names = readdirSync(o.source)
  const loads = names.filter((n) => LOAD_NAME.test(n)).sort()
  // The generator's timestamps have a fixed width, so name order is DMS (timestamp) order.
  const changes = names.filter((n) => CHANGE_NAME.test(n)).sort()
  if (loads.length === 0 && o.baseParquet === undefined)
    throw new Error(`duckdb peer: no LOAD*.csv in ${o.source}`)

  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  // BENCH_TRACE=1 prints each statement's time to stderr.
  const trace = process.env.BENCH_TRACE === '1'
  const c = {
    run: async (sql: string): Promise<void> => {
      const t0 = performance.now()
      await conn.run(sql)
      if (trace)
        process.stderr.write(
          `duckdb peer: ${Math.round(performance.now() - t0)} ms ${sql.trim().replace(/\s+/g, ' ').slice(0, 60)}\n`,
        )
    },
    runAndReadAll: (sql: string) => conn.runAndReadAll(sql),
    closeSync: () => conn.closeSync(),
  }
  try {
    // Steady state: the state is DuckDB's own Parquet copy of the current users table, not the LOAD files.
    await c.run(
      o.baseParquet !== undefined
        ? `CREATE TABLE load AS SELECT * FROM read_parquet(${lit(o.baseParquet)})`
        : `CREATE TABLE load AS SELECT * FROM read_csv([${loads.map((n) => lit(join(o.source, n))).join(', ')}], ${CSV_OPTIONS}, columns = ${USERS_COLUMNS})`,
    )
    // One scan per change file, tagged with its position; parallel = false plus a streaming row_number() over ()
    // numbers the rows in file order.
    const perFile = changes.map(
      (n, i) =>
        `SELECT ${i} AS file_no, row_number() OVER () AS row_no, * FROM read_csv(${lit(join(o.source, n))}, ${CSV_OPTIONS}, parallel = false, columns = ${CHANGE_COLUMNS})`,
    )
    await c.run(
      perFile.length === 0
        ? `CREATE TABLE changes AS SELECT 0 AS file_no, 0 AS row_no, 'I' AS op, * FROM load LIMIT 0`
        : `CREATE TABLE changes AS ${perFile.join(' UNION ALL ')}`,
    )
    const badOp = await c.runAndReadAll(
      `SELECT count(*)::INTEGER AS n FROM changes WHERE op NOT IN ('I', 'U', 'D')`,
    )
    if ((badOp.getRowObjectsJson()[0]?.n as number) > 0)
      throw new Error('duckdb peer: unknown Op in a change file')
    // For each key only the last change counts: I/U set the row, D removes it.
    await c.run(`
      CREATE TABLE last_change AS
      SELECT * FROM changes
      QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY file_no DESC, row_no DESC) = 1`)
    await c.run(`
      CREATE TABLE users AS
      SELECT user_id, name, city, last_login FROM load ANTI JOIN last_change USING (user_id)
      UNION ALL
      SELECT user_id, name, city, last_login FROM last_change WHERE op <> 'D'`)

    await c.run(
      `CREATE TABLE city_to_state AS SELECT * FROM read_csv(${lit(o.citiesFile)}, header = true, delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false, auto_detect = false, columns = {'city': 'VARCHAR', 'state': 'VARCHAR'})`,
    )
    const aliasRows = Object.entries(o.aliases)
    await c.run(
      aliasRows.length === 0
        ? `CREATE TABLE city_alias (alias VARCHAR, canonical VARCHAR)`
        : `CREATE TABLE city_alias AS SELECT * FROM (VALUES ${aliasRows.map(([a, b]) => `(${lit(a)}, ${lit(b)})`).join(', ')}) t(alias, canonical)`,
    )

    const usersDir = join(o.target, 'users')
    const featuresDir = join(o.target, 'users_features')
    await mkdir(usersDir, { recursive: true })
    await mkdir(featuresDir, { recursive: true })
    await c.run(
      `COPY (SELECT * FROM users ORDER BY user_id) TO ${lit(join(usersDir, 'part-00000.parquet'))} (FORMAT parquet)`,
    )
    // count_if(p) rather than count(*) FILTER (WHERE p): in DuckDB 1.5.6 the FILTER form, next to the ordered
    // dense_rank window, made this statement ~10x slower (2.8 s vs 0.27 s at 1M rows; docs/performance.md).
    await c.run(`
      COPY (
        WITH u AS (
          SELECT u.user_id, u.name, coalesce(a.canonical, u.city) AS city, u.last_login
          FROM users u LEFT JOIN city_alias a ON a.alias = u.city
        )
        SELECT
          u.user_id, u.name, u.city, u.last_login, s.state,
          dense_rank() OVER (PARTITION BY u.city ORDER BY u.last_login DESC NULLS LAST)::INTEGER
            AS last_login_rank_by_city,
          count_if(u.last_login IS NOT NULL AND DATE ${lit(o.asOf)} - u.last_login <= 90) OVER w
            / count(*) OVER w AS login_rate_last_3_months_by_city,
          (count(*) OVER w)::INTEGER AS users_by_city
        FROM u LEFT JOIN city_to_state s ON s.city = u.city
        WINDOW w AS (PARTITION BY u.city)
        ORDER BY u.city ASC NULLS LAST, last_login_rank_by_city DESC, u.user_id ASC
      ) TO ${lit(join(featuresDir, 'part-00000.parquet'))} (FORMAT parquet)`)
    const counts = await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM users`)
    return { rows: counts.getRowObjectsJson()[0]!.n as number }
  } finally {
    c.closeSync()
    db.closeSync()
  }
}

/** The bundled city map and aliases of a lakesync checkout. */
export function bundledCityData(root: string): { citiesFile: string; aliases: Record<string, string> } {
  return {
    citiesFile: join(root, 'data', 'city_to_state.csv'),
    aliases: JSON.parse(readFileSync(join(root, 'data', 'city_aliases.json'), 'utf8')) as Record<
      string,
      string
    >,
  }
}
