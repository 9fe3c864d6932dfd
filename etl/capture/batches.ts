/**
 * How the slot's transactions become change files: decoded into whole transactions, grouped into batches cut between
 * transactions at about a file size, one file per table of each batch (all pure), and the check that tells a written
 * but unacknowledged file from the slot's next transactions (the capture's crash recovery, capture.ts).
 */
import type { SourceColumns, SourceTable } from './changes.js'
import { splitTransaction, tableKey, transactionRows } from './changes.js'
import { type CaptureRow, type DmsRowWriter, PG_EPOCH_MS } from './dms-writer.js'
import { PgoutputDecoder, type Transaction } from './pgoutput.js'

/** One message of the slot, as pg_logical_slot_peek_binary_changes returns it. */
export interface SlotMessage {
  lsn: bigint
  data: Uint8Array
}

const encoder = new TextEncoder()

/** Decodes a peek's messages into whole transactions (a fresh decoder: each peek resends its Relation messages). */
export function decodeMessages(messages: readonly SlotMessage[]): Transaction[] {
  const decoder = new PgoutputDecoder()
  const txns: Transaction[] = []
  for (const m of messages) {
    const t = decoder.push(m.data)
    if (t) txns.push(t)
  }
  return txns
}

/** A group of whole transactions that becomes one change file (or, with no rows, just a slot advance). */
export interface ChangeBatch {
  rows: CaptureRow[]
  text: string // the file's content
  bytes: number
  endLsn: bigint // advance the slot here once the file is written
  firstCommitMs: number // commit time of the oldest transaction with rows (for the lag)
}

/** One table's file of a batch. */
export interface TableFile {
  rows: CaptureRow[]
  text: string // the file's content
  bytes: number
  firstCommitMs: number // commit time of the oldest transaction with rows of the table (for the lag)
}

/** A group of whole transactions: one change file per table with rows (none: just a slot advance). */
export interface TablesBatch {
  files: (TableFile | undefined)[] // per table of the capture; undefined: no rows
  endLsn: bigint // advance the slot here once every file is written
}

/** How a batch renders one table. */
export interface BatchTable {
  table: SourceTable
  writer: DmsRowWriter // its change-file writer
  columns?: SourceColumns
  writtenThrough?: bigint // its rows of transactions ending at or before this LSN are in a file already
}

/**
 * Splits transactions into batches, cut between transactions once a table's file reaches about `fileSize` bytes; each
 * transaction's rows go to the file of their table, in commit order. Pure.
 */
export function batchTables(
  txns: readonly Transaction[],
  tables: readonly BatchTable[],
  fileSize: number,
): TablesBatch[] {
  const index = new Map(tables.map((t, i) => [tableKey(t.table), i]))
  const batches: TablesBatch[] = []
  let current: TablesBatch | null = null
  for (const txn of txns) {
    current ??= { files: tables.map(() => undefined), endLsn: 0n }
    let full = false
    for (const [i, part] of splitTransaction(txn, index)) {
      const t = tables[i]!
      if (t.writtenThrough !== undefined && txn.endLsn <= t.writtenThrough) continue
      const rows = transactionRows(part, t.table, t.writer.spec, t.columns)
      if (rows.length === 0) continue
      let file = current.files[i]
      if (!file) {
        const header = t.writer.header()
        file = { rows: [], text: header, bytes: encoder.encode(header).length, firstCommitMs: commitMs(txn) }
        current.files[i] = file
      }
      for (const r of rows) {
        const line = t.writer.row(r)
        file.rows.push(r)
        file.text += line
        file.bytes += encoder.encode(line).length
      }
      if (file.bytes >= fileSize) full = true
    }
    current.endLsn = txn.endLsn
    if (full) {
      batches.push(current)
      current = null
    }
  }
  if (current) batches.push(current)
  return batches
}

/** batchTables for one table: each batch as its one file (the header alone when it has no rows). Pure. */
export function batchTransactions(
  txns: readonly Transaction[],
  writer: DmsRowWriter,
  table: SourceTable,
  fileSize: number,
  columns?: SourceColumns,
): ChangeBatch[] {
  return batchTables(txns, [{ table, writer, columns }], fileSize).map((b) => {
    const file = b.files[0]
    if (file) return { ...file, endLsn: b.endLsn }
    const header = writer.header()
    return {
      rows: [],
      text: header,
      bytes: encoder.encode(header).length,
      endLsn: b.endLsn,
      firstCommitMs: 0,
    }
  })
}

function commitMs(txn: Transaction): number {
  return Number(txn.commitTime / 1000n) + PG_EPOCH_MS
}

/**
 * The end LSN after the slot's first transactions when their rows of `table` render to exactly `file` (a file written
 * but not acknowledged), else null: `exhausted` when the rows so far are the start of the file (no verdict yet: more
 * transactions may complete it), not when they differ from it.
 */
export function replayedPrefix(
  file: Uint8Array,
  txns: readonly Transaction[],
  writer: DmsRowWriter,
  table: SourceTable,
  columns?: SourceColumns,
): { endLsn: bigint | null; exhausted: boolean } {
  let offset = 0
  // Whether `text` comes next in the file (then the offset moves past it).
  const next = (text: string): boolean => {
    const b = encoder.encode(text)
    if (offset + b.length > file.length) return false
    for (let i = 0; i < b.length; i++) if (file[offset + i] !== b[i]) return false
    offset += b.length
    return true
  }
  const differs = { endLsn: null, exhausted: false }
  if (!next(writer.header())) return differs
  for (const txn of txns) {
    const rows = transactionRows(txn, table, writer.spec, columns)
    for (const r of rows) if (!next(writer.row(r))) return differs
    if (rows.length > 0 && offset === file.length) return { endLsn: txn.endLsn, exhausted: false }
  }
  return { endLsn: null, exhausted: true }
}
