/**
 * Decoded transactions to DMS change rows for one table (pure). What each source change becomes:
 *
 * - INSERT: `I` with the new row.
 * - UPDATE: `U` with the new row. When the update changed the key, first a `D` of the old key, so the old row goes
 *   (DMS-format files have no "key changed" row). A TOASTed value the update left unchanged is not in the stream: it is
 *   taken from the before image when the table has REPLICA IDENTITY FULL, and otherwise stops the capture (the file
 *   would carry a wrong NULL).
 * - DELETE: `D` with the key; the other columns carry the before image under REPLICA IDENTITY FULL and are empty
 *   (NULL) otherwise, as DMS writes them.
 * - TRUNCATE: stops the capture with instructions: DMS answers a TRUNCATE by deleting the table's files, which is
 *   a reload (see docs/local-e2e.md).
 */
import { keyColumns } from '../table/spec.js'
import type { TableSpec } from '../types.js'
import { type CaptureOp, type CaptureRow, changeSequence, formatCommitTime } from './dms-writer.js'
import { type Relation, type Transaction, type TupleValue, UNCHANGED_TOAST } from './pgoutput.js'

/** A problem in the change stream that the capture must not paper over: it stops before writing anything. */
export class CaptureStreamError extends Error {
  override name = 'CaptureStreamError'
}

export interface SourceTable {
  schema: string
  name: string
}

/**
 * What the source said about the table's columns when the capture opened (ChangeSource.open), in spec order: each
 * column's type, and how its text becomes the text DMS writes (etl/capture/pg-types.ts).
 */
export interface SourceColumns {
  typeOids: readonly number[] // the column's type (OID), as a Relation message carries it
  dmsText: readonly (((text: string) => string) | null)[] // the source's text of a value to DMS's text; null: as is
  rewrittenTypes: ReadonlySet<number> // type OIDs whose text needs a rewrite (boolean, money, domains over them)
}

/**
 * Checks that the relation has the spec's columns, in order; returns the spec's column positions in the tuple. Given
 * `columns`, a column whose type in the stream is not the type the capture opened with stops the capture when either
 * type's text needs a rewrite (boolean, money): the values would be written wrong (a restart after an ALTER TABLE
 * meets the old type in the changes still in the slot). Other type changes pass, and the pipeline checks each value
 * against the declared type.
 */
export function columnMap(relation: Relation, spec: TableSpec, columns?: SourceColumns): number[] {
  const names = relation.columns.map((c) => c.name)
  const expected = spec.columns.map((c) => c.name)
  if (names.join('\u0000') !== expected.join('\u0000'))
    throw new CaptureStreamError(
      `capture: ${relation.schema}.${relation.name} now has columns (${names.join(', ')}), but the table spec ${spec.name} has (${expected.join(', ')}): schema drift stops the capture before anything is written; update the table spec (--config) and reload`,
    )
  const changed = columns
    ? relation.columns.findIndex(
        (c, i) =>
          c.typeOid !== columns.typeOids[i] &&
          (columns.dmsText[i] !== null || columns.rewrittenTypes.has(c.typeOid)),
      )
    : -1
  if (changed >= 0)
    throw new CaptureStreamError(
      `capture: column ${names[changed]} of ${relation.schema}.${relation.name} changed its type (OID ${columns!.typeOids[changed]} -> ${relation.columns[changed]!.typeOid}): schema drift stops the capture before anything is written; update the table spec (--config), drop the slot and take a new full load (then lakesync reload)`,
    )
  return expected.map((_, i) => i)
}

export interface RowCounts {
  I: number
  U: number
  D: number
}

/** The change rows of one transaction for `table` (other tables of the publication are skipped). */
export function transactionRows(
  txn: Transaction,
  table: SourceTable,
  spec: TableSpec,
  columns?: SourceColumns,
): CaptureRow[] {
  const keys = keyColumns(spec)
  const commitTime = formatCommitTime(txn.commitTime)
  const rows: CaptureRow[] = []
  const ours = (r: Relation) => r.schema === table.schema && r.name === table.name
  const push = (op: CaptureOp, values: (string | null)[]) =>
    rows.push({ op, values, commitTime, sequence: changeSequence(txn.endLsn, rows.length) })
  const pick = (tuple: TupleValue[], map: number[], what: string): (string | null)[] =>
    map.map((i, c) => {
      const v = tuple[i]
      if (v === UNCHANGED_TOAST)
        throw new CaptureStreamError(
          `capture: an update of ${table.schema}.${table.name} left the large (TOASTed) value of ${spec.columns[c]!.name} unchanged, so the stream does not carry it (${what}); run ALTER TABLE ${table.schema}.${table.name} REPLICA IDENTITY FULL so updates carry the whole row`,
        )
      return v ?? null
    })
  for (const change of txn.changes) {
    if (change.kind === 'truncate') {
      if (change.relations.some(ours))
        throw new CaptureStreamError(
          `capture: ${table.schema}.${table.name} was truncated (transaction ${txn.xid}); a DMS task answers this with a reload: drop the slot, empty the staging location, run capture again for a new full load, then lakesync reload`,
        )
      continue
    }
    if (!ours(change.relation)) continue
    const map = columnMap(change.relation, spec, columns)
    // Every tuple (new and old, so that old and new keys compare in the same form) as DMS writes its values.
    const dms = (t: TupleValue[]): TupleValue[] =>
      columns
        ? t.map((v, i) => {
            const rewrite = columns.dmsText[i]
            return rewrite && typeof v === 'string' ? rewrite(v) : v
          })
        : t
    if (change.kind === 'insert') push('I', pick(dms(change.new), map, 'insert'))
    else if (change.kind === 'delete') {
      const old = dms(change.old).map((v) => (v === UNCHANGED_TOAST ? null : v))
      const values = pick(old, map, 'delete')
      if (keys.some((k) => values[k] === null || values[k] === undefined))
        throw new CaptureStreamError(
          `capture: a delete from ${table.schema}.${table.name} does not carry its key (${spec.primaryKey.join(', ')}; its replica identity is another index); use a primary key on (${spec.primaryKey.join(', ')}) or REPLICA IDENTITY FULL`,
        )
      push('D', change.oldIsKey ? values.map((v, i) => (keys.includes(i) ? v : null)) : values)
    } else {
      const old = change.old === null ? null : dms(change.old)
      const full = old !== null && !change.oldIsKey ? old : null
      const neu = dms(change.new)
      const merged = full ? neu.map((v, i) => (v === UNCHANGED_TOAST ? (full[i] ?? null) : v)) : neu
      const values = pick(merged, map, 'update')
      // An update that changes the key: DMS writes it as a delete of the old key, then the new row.
      const oldKey = old === null ? null : keys.map((k) => old[map[k]!])
      if (
        old !== null &&
        oldKey?.every((v) => typeof v === 'string') &&
        oldKey.some((v, i) => v !== values[keys[i]!])
      ) {
        const before = change.oldIsKey ? null : old.map((v) => (v === UNCHANGED_TOAST ? null : v))
        push(
          'D',
          map.map((i, c) => {
            const k = keys.indexOf(c)
            return k >= 0 ? (oldKey[k] as string) : before ? (before[i] as string | null) : null
          }),
        )
      }
      push('U', values)
    }
  }
  return rows
}

/** The key of a table in a lookup by schema and name. */
export function tableKey(table: SourceTable): string {
  return `${table.schema}\u0000${table.name}`
}

/**
 * A transaction split per table: for each table of `index` (tableKey to position) the transaction has changes of, the
 * same transaction with only that table's changes, in their order (a TRUNCATE goes to every table it names). Tables
 * the transaction does not touch are absent; changes of tables outside `index` are dropped. Pure.
 */
export function splitTransaction(
  txn: Transaction,
  index: ReadonlyMap<string, number>,
): Map<number, Transaction> {
  const parts = new Map<number, Transaction>()
  const add = (i: number | undefined, change: Transaction['changes'][number]) => {
    if (i === undefined) return
    let part = parts.get(i)
    if (!part) {
      part = { ...txn, changes: [] }
      parts.set(i, part)
    }
    if (part.changes.at(-1) !== change) part.changes.push(change)
  }
  for (const change of txn.changes) {
    if (change.kind === 'truncate') for (const r of change.relations) add(index.get(tableKey(r)), change)
    else add(index.get(tableKey(change.relation)), change)
  }
  return parts
}

export function countRows(rows: readonly CaptureRow[], into: RowCounts): RowCounts {
  for (const r of rows) into[r.op]++
  return into
}
