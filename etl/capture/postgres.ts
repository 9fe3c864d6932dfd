/**
 * The PostgreSQL side of a capture (a ChangeSource): the `pg` client, the built-in `pgoutput` plugin, and one
 * publication for the capture's tables (one, or several as one DMS task replicates them). Only this file talks to the
 * database.
 *
 * - open(): checks wal_level, each table's columns against its table spec and its replica identity; creates the
 *   publication `<publication> FOR TABLE <table>, ...` when absent (before the slot: pgoutput reads the publication as
 *   of each change, so it must predate the slot). A capture of several tables needs the publication to hold exactly
 *   them: the slot's position is shared, so a table it carries that the capture does not write would lose its changes.
 * - fullLoad(): on a replication connection, `CREATE_REPLICATION_SLOT <slot>_load TEMPORARY LOGICAL pgoutput
 *   EXPORT_SNAPSHOT`; on the normal connection, one REPEATABLE READ transaction in that snapshot reads every table,
 *   one after the other, through a cursor. After the last row was handed over and the engine wrote its last file
 *   (`finish`), pg_copy_logical_replication_slot makes the durable slot `<slot>` at the temporary slot's position,
 *   and the replication connection closes, dropping the temporary one. A crash before the copy leaves no slot: the
 *   next start takes the load again.
 * - peek()/advance(): pg_logical_slot_peek_binary_changes and pg_replication_slot_advance over plain SQL, so the
 *   slot moves only when the engine says its file is written.
 *
 * Values: the load and the stream both read each value as its type's output function prints it (pgoutput's text
 * tuples are that text, and so are the load's columns, selected without a cast), in a session that pins every setting
 * that output depends on (SESSION_SETTINGS; the output functions run in the session that reads the slot). pg-types.ts
 * rewrites the few types whose text DMS writes differently (boolean, money), so the same value gives the same text in
 * the load and the stream.
 */
import pg from 'pg'
import { ConfigError, StateError } from '../errors.js'
import type { TableSpec } from '../types.js'
import type { SlotMessage } from './batches.js'
import type { ChangeSource } from './capture.js'
import type { SourceColumns, SourceTable } from './changes.js'
import { checkSlotName } from './names.js'
import { dmsTextOf, fitsColumn, moneyText, suggestedType } from './pg-types.js'
import { formatLsn, parseLsn } from './pgoutput.js'

export { checkSlotName, defaultSlotName, parseTableName } from './names.js'

export interface PostgresSourceOptions {
  url: string // postgres://user@host:port/db (the user needs REPLICATION or superuser)
  table?: SourceTable // a capture of one table: the table and its spec
  spec?: TableSpec
  tables?: readonly { table: SourceTable; spec: TableSpec }[] // a capture of several (the publication holds exactly them)
  slot: string // logical replication slot name
  publication: string // publication name
  loadChunkRows?: number // rows per cursor fetch during the full load; default 5,000
}

const SLOT_WAIT_MS = 30_000

const ident = (s: string) => `"${s.replaceAll('"', '""')}"`

/**
 * What a value's text depends on, pinned for the capture's session: dates ISO (YYYY-MM-DD), timestamptz in UTC (with
 * `+00`; another zone would print offsets such as `+00:09:21` before 1900), floats with the shortest digits that read
 * back exactly (PostgreSQL 12+ for any extra_float_digits > 0; 0 would round), bytea as `\x` + hex, intervals in the
 * default style. lc_monetary is left as the server has it: it decides what a money value means (its fraction
 * digits), and open() checks that the capture reads its text right.
 */
const SESSION_SETTINGS =
  "SET datestyle = 'ISO, YMD'; SET timezone = 'UTC'; SET extra_float_digits = 1; SET bytea_output = 'hex'; SET intervalstyle = 'postgres'"

/** The OIDs of boolean and money, the built-in types whose text pg-types.ts rewrites. */
const REWRITTEN_TYPES = [16, 790]

/** Values as the server sends them in text format: no parsing into JS values. */
const RAW_TEXT = { getTypeParser: () => (text: string) => text }

/** One table of the capture, as open() found it. */
interface OpenTable {
  table: SourceTable
  spec: TableSpec
  qualified: string // "schema"."name"
}

const qualifiedName = (t: SourceTable) => `${t.schema}.${t.name}`

export class PostgresSource implements ChangeSource {
  readonly description: string
  private db: pg.Client | undefined
  private readonly tables: OpenTable[]
  private readonly many: boolean // built with `tables`: the publication must hold exactly them
  private columns: SourceColumns[] | undefined

  constructor(private readonly opts: PostgresSourceOptions) {
    checkSlotName(opts.slot)
    const list = opts.tables ?? (opts.table && opts.spec ? [{ table: opts.table, spec: opts.spec }] : [])
    if (list.length === 0) throw new Error('capture: a PostgresSource needs a table and its spec, or tables')
    this.many = opts.tables !== undefined
    this.tables = list.map((t) => ({ ...t, qualified: `${ident(t.table.schema)}.${ident(t.table.name)}` }))
    this.description = `${this.tables.map((t) => qualifiedName(t.table)).join(', ')} (slot ${opts.slot})`
  }

  private client(): pg.Client {
    if (!this.db) throw new Error('capture: the source is not open')
    return this.db
  }

  private async connect(replication: boolean): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.opts.url,
      ...(replication ? { replication: 'database' } : {}),
    } as pg.ClientConfig)
    client.on('error', () => {}) // a dropped connection fails the pending query, which reports it
    await client.connect()
    return client
  }

  async open(): Promise<{ resume: boolean; columns: SourceColumns; tableColumns: SourceColumns[] }> {
    const db = await this.connect(false)
    this.db = db
    await db.query(SESSION_SETTINGS)
    const { slot, publication } = this.opts
    const wal = (await db.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level
    if (wal !== 'logical')
      throw new ConfigError(
        'bad_config',
        `capture: the server runs with wal_level = ${wal}; logical decoding needs wal_level = logical (postgresql.conf, then restart)`,
      )
    const columns: SourceColumns[] = []
    for (const t of this.tables) columns.push(await this.checkTable(db, t))
    this.columns = columns

    const pub = await db.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication])
    if (pub.rowCount === 0)
      await db.query(
        `CREATE PUBLICATION ${ident(publication)} FOR TABLE ${this.tables.map((t) => t.qualified).join(', ')}`,
      )
    else if (!this.many) {
      const { table } = this.tables[0]!
      const member = await db.query(
        'SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3',
        [publication, table.schema, table.name],
      )
      if (member.rowCount === 0)
        throw new ConfigError(
          'bad_config',
          `capture: publication ${publication} exists but does not publish ${table.schema}.${table.name}`,
        )
    } else {
      const published = (
        await db.query<{ schemaname: string; tablename: string }>(
          'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2',
          [publication],
        )
      ).rows.map((r) => qualifiedName({ schema: r.schemaname, name: r.tablename }))
      const wanted = this.tables.map((t) => qualifiedName(t.table))
      const missing = wanted.filter((w) => !published.includes(w))
      const extra = published.filter((p) => !wanted.includes(p))
      if (missing.length > 0 || extra.length > 0)
        throw new ConfigError(
          'bad_config',
          `capture: publication ${publication} publishes (${published.join(', ')}), not the tables of this capture (${wanted.join(', ')}): one slot serves every table of its publication, so capturing a different set would skip changes for good. Capture exactly (${published.join(', ')}), or start a new capture of these tables with another --slot (a new full load into an empty --out)`,
        )
    }
    const existing = (
      await db.query<{ plugin: string; database: string; current: string }>(
        'SELECT plugin, database, current_database() AS current FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      )
    ).rows[0]
    const result = { columns: columns[0]!, tableColumns: columns }
    if (!existing) return { resume: false, ...result }
    if (existing.plugin !== 'pgoutput' || existing.database !== existing.current)
      throw new ConfigError(
        'bad_config',
        `capture: slot ${slot} exists but is a ${existing.plugin} slot of database ${existing.database}; choose another --slot`,
      )
    return { resume: true, ...result }
  }

  /** Checks one table against its spec (columns, types, replica identity); how its values become DMS's text. */
  private async checkTable(db: pg.Client, { table, spec }: OpenTable): Promise<SourceColumns> {
    const rel = (
      await db.query<{ oid: number; relreplident: string }>(
        `SELECT c.oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
        [table.schema, table.name],
      )
    ).rows[0]
    if (!rel) throw new ConfigError('bad_config', `capture: no table ${table.schema}.${table.name}`)
    // Each column's type, through any domains to the base type (whose output the values have).
    const cols = (
      await db.query<{ attname: string; oid: number; type: string }>(
        `SELECT a.attname, a.atttypid::int AS oid,
                (WITH RECURSIVE d(oid, mod) AS (
                   SELECT a.atttypid, a.atttypmod
                   UNION ALL SELECT t.typbasetype, t.typtypmod FROM pg_type t JOIN d ON t.oid = d.oid WHERE t.typtype = 'd')
                 SELECT format_type(d.oid, d.mod) FROM d JOIN pg_type t ON t.oid = d.oid WHERE t.typtype <> 'd') AS type
           FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [rel.oid],
      )
    ).rows
    const names = cols.map((c) => c.attname)
    if (names.join('\u0000') !== spec.columns.map((c) => c.name).join('\u0000'))
      throw new ConfigError(
        'bad_config',
        `capture: ${table.schema}.${table.name} has columns (${names.join(', ')}), but the table spec ${spec.name} has (${spec.columns.map((c) => c.name).join(', ')}); pass a --config whose table spec matches`,
      )
    const moneyDigits = cols.some((c) => c.type === 'money') ? await this.checkMoney(db) : 2
    spec.columns.forEach((c, i) => {
      const type = cols[i]!.type
      if (!fitsColumn(c, type, moneyDigits))
        throw new ConfigError(
          'bad_config',
          `capture: column ${c.name} of ${table.schema}.${table.name} is ${type}, which does not fit the spec's ${c.type === 'decimal' ? `decimal(${c.precision},${c.scale})` : c.type} (declare it as ${suggestedType(type)})`,
        )
    })
    const dmsText = cols.map((c) => dmsTextOf(c.type, moneyDigits))
    const pk = (
      await db.query<{ attname: string }>(
        `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
          WHERE i.indrelid = $1 AND i.indisprimary`,
        [rel.oid],
      )
    ).rows.map((r) => r.attname)
    const identity = rel.relreplident
    if (identity === 'n' || (identity === 'd' && pk.length === 0))
      throw new ConfigError(
        'bad_config',
        `capture: ${table.schema}.${table.name} has no replica identity (no primary key${identity === 'n' ? ', REPLICA IDENTITY NOTHING' : ''}): deletes could not name their row, and a publication would make UPDATE and DELETE fail on the source. Add a primary key on (${spec.primaryKey.join(', ')}) or ALTER TABLE ... REPLICA IDENTITY FULL`,
      )
    if (identity === 'd' && [...pk].sort().join('\u0000') !== [...spec.primaryKey].sort().join('\u0000'))
      throw new ConfigError(
        'bad_config',
        `capture: the primary key of ${table.schema}.${table.name} is (${pk.join(', ')}), not the spec's key (${spec.primaryKey.join(', ')}): deletes would not carry it. Use REPLICA IDENTITY FULL or fix the spec`,
      )
    return {
      typeOids: cols.map((c) => c.oid),
      dmsText,
      rewrittenTypes: new Set([...REWRITTEN_TYPES, ...cols.filter((_, i) => dmsText[i]).map((c) => c.oid)]),
    }
  }

  /**
   * The fraction digits of money under the session's lc_monetary (what money::numeric uses), after checking that
   * pg-types.ts reads this locale's money text to the same number as PostgreSQL's money::numeric.
   */
  private async checkMoney(db: pg.Client): Promise<number> {
    const samples = (
      await db.query<{ text: string; plain: string; digits: number }>(
        `SELECT m::text AS text, m::numeric::text AS plain, scale(m::numeric) AS digits
           FROM (VALUES ('-1234567.89'::numeric::money), ('1234567.89'::numeric::money), ('0.01'::numeric::money)) v(m)`,
      )
    ).rows
    const digits = samples[0]!.digits
    for (const s of samples)
      if (moneyText(s.text, digits) !== s.plain)
        throw new ConfigError(
          'bad_config',
          `capture: cannot read money values under this session's lc_monetary: ${JSON.stringify(s.text)} is ${s.plain}; set lc_monetary for the capture's user (ALTER ROLE ... SET lc_monetary = ...) to a locale whose money text is digits, separators and a sign`,
        )
    return digits
  }

  async fullLoad(
    onRows: (rows: (string | null)[][], table?: number) => Promise<void>,
    finish?: () => Promise<void>,
  ): Promise<void> {
    const db = this.client()
    const { slot } = this.opts
    const columns = this.columns
    if (!columns) throw new Error('capture: the source is not open')
    const temporary = `${slot.slice(0, 58)}_load`
    const repl = await this.connect(true)
    try {
      const created = await repl.query<{ snapshot_name: string }>(
        `CREATE_REPLICATION_SLOT ${temporary} TEMPORARY LOGICAL pgoutput EXPORT_SNAPSHOT`,
      )
      const snapshot = created.rows[0]?.snapshot_name
      if (!snapshot) throw new StateError('corrupt_state', 'capture: the server exported no snapshot')
      await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
      try {
        await db.query(`SET TRANSACTION SNAPSHOT '${snapshot.replaceAll("'", "''")}'`)
        // Every table in the one snapshot: their loads are consistent with each other and with the slot.
        for (const [t, { spec, qualified }] of this.tables.entries()) {
          const rewrites = columns[t]!.dmsText
          // No cast: `::text` is not always the output function (boolean gives true/false, char(n) drops its
          // padding, inet adds /32), and the load must write what the stream writes.
          const list = spec.columns.map((c) => `src.${ident(c.name)}`).join(', ')
          await db.query(
            `DECLARE lakesync_load NO SCROLL CURSOR FOR SELECT ${list} FROM ${qualified} AS src ORDER BY ${spec.primaryKey.map((k) => `src.${ident(k)}`).join(', ')}`,
          )
          const chunk = this.opts.loadChunkRows ?? 5000
          for (;;) {
            const got = await db.query<(string | null)[]>({
              text: `FETCH FORWARD ${chunk} FROM lakesync_load`,
              rowMode: 'array',
              types: RAW_TEXT,
            })
            const rows = got.rows.map((r) =>
              r.map((v, i) => {
                const rewrite = rewrites[i]
                return rewrite && v !== null ? rewrite(v) : v
              }),
            )
            if (rows.length > 0) await onRows(rows, t)
            if (got.rows.length < chunk) break
          }
          await db.query('CLOSE lakesync_load')
        }
        await db.query('COMMIT')
      } catch (e) {
        await db.query('ROLLBACK').catch(() => {})
        throw e
      }
      // Every LOAD file is written: only now does the slot become durable, at the snapshot's position.
      await finish?.()
      await db.query('SELECT pg_copy_logical_replication_slot($1, $2, false)', [temporary, slot])
    } finally {
      await repl.end().catch(() => {})
    }
  }

  /**
   * A slot serves one session at a time. After a crash, the dead capture's backend may hold it until the server
   * notices the closed connection: wait for it (SQLSTATE 55006, object in use) for up to SLOT_WAIT_MS.
   */
  private async onSlot<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    const deadline = Date.now() + SLOT_WAIT_MS
    for (;;) {
      try {
        return await this.client().query<R>(text, values)
      } catch (e) {
        if ((e as { code?: string }).code !== '55006' || Date.now() > deadline) throw e
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }

  async peek(max: number): Promise<SlotMessage[]> {
    const got = await this.onSlot<{ lsn: string; data: Buffer }>(
      `SELECT lsn::text AS lsn, data FROM pg_logical_slot_peek_binary_changes($1, NULL, $2, 'proto_version', '1', 'publication_names', $3)`,
      [this.opts.slot, max, this.opts.publication],
    )
    return got.rows.map((r) => ({ lsn: parseLsn(r.lsn), data: r.data }))
  }

  async advance(lsn: bigint): Promise<void> {
    await this.onSlot('SELECT pg_replication_slot_advance($1, $2::pg_lsn)', [this.opts.slot, formatLsn(lsn)])
  }

  async close(): Promise<void> {
    const db = this.db
    this.db = undefined
    await db?.end().catch(() => {})
  }
}
