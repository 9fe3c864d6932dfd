/**
 * The capture engine: a local stand-in for an AWS DMS task with an S3 target. It takes a consistent full load,
 * then streams committed changes from a logical replication slot, and writes both as DMS-format files into a
 * Storage (a folder or an S3 prefix: the staging location the pipeline reads).
 *
 * The database side is the ChangeSource interface (postgres.ts implements it for PostgreSQL with pgoutput); this
 * file decides what is written, when, under which name, and when the slot may forget a change.
 *
 * Exactly once, across crashes:
 * - The full load and the slot start from one snapshot (ChangeSource.fullLoad): no change is lost or doubled
 *   between the load and the stream. The slot is made durable only after the last LOAD file is written, so a crash
 *   during the load leaves no slot, and the next start takes the load again (replacing the LOAD files).
 * - A change file is written whole (rename / PutObject), and only then is the slot advanced past its last
 *   transaction. A crash between the two replays the file's transactions on the next start.
 * - The written files are the checkpoint: on start, the newest change file is compared with what the slot holds
 *   first. When the slot's first transactions render to exactly that file's bytes, the file was written but not
 *   acknowledged: the slot is advanced past them and nothing is written again. (A false match would need the source
 *   to have repeated exactly that file's changes, in order, right after it; applying a run of keyed full-row changes
 *   twice in a row leaves the same table as applying it once, so skipping the repeat is still correct.)
 * - Change file names are the UTC wall-clock time of the write, like DMS's, forced to increase (newest existing
 *   name + 1 ms at least), so the pipeline's name order is the stream's commit order.
 */
import { classifyDmsFile, compareChangeFiles, type DmsFile } from '../dms/files.js'
import { StateError } from '../errors.js'
import { changeFileTime } from '../status.js'
import type { Storage } from '../storage/storage.js'
import type { DmsFormat, TableSpec } from '../types.js'
import {
  countRows,
  type RowCounts,
  type SourceColumns,
  type SourceTable,
  transactionRows,
} from './changes.js'
import { type CaptureRow, changeFileName, DmsRowWriter, loadFileName, PG_EPOCH_MS } from './dms-writer.js'
import { PgoutputDecoder, type Transaction } from './pgoutput.js'

/** One message of the slot, as pg_logical_slot_peek_binary_changes returns it. */
export interface SlotMessage {
  lsn: bigint
  data: Uint8Array
}

/** The database side of a capture. */
export interface ChangeSource {
  readonly description: string // for messages: the table and slot
  /**
   * Checks the table and prepares the publication; `resume` when the slot exists (no full load needed). `columns`
   * says how the stream's text of each column becomes DMS's text (none: as it comes).
   */
  open(): Promise<{ resume: boolean; columns?: SourceColumns }>
  /**
   * Creates the slot at the point of a snapshot, hands the snapshot's rows (spec order, each value the text DMS
   * writes for it, NULL as null) to `onRows` chunk by chunk, and makes the slot durable only after the last `onRows`
   * resolved.
   */
  fullLoad(onRows: (rows: (string | null)[][]) => Promise<void>): Promise<void>
  /** About `max` messages after the slot's confirmed position (whole transactions), without consuming them. */
  peek(max: number): Promise<SlotMessage[]>
  /** Moves the slot past everything committed before `lsn` (a commit's end LSN). */
  advance(lsn: bigint): Promise<void>
  close(): Promise<void>
}

/** Where tests make a capture crash. */
export type CaptureFault = 'after-load-file' | 'after-change-file' | 'after-advance'

export type CaptureEvent =
  | { type: 'load-skipped'; message: string }
  | { type: 'load-file'; path: string; rows: number; bytes: number }
  | { type: 'change-file'; path: string; rows: number; bytes: number; counts: RowCounts; lagMs: number }
  | { type: 'replayed'; path: string; message: string }
  | { type: 'warning'; message: string }

export interface CaptureOptions {
  source: ChangeSource
  out: Storage // the staging location of the table's DMS files
  table: SourceTable // the source table
  spec: TableSpec // its shape (columns in source order)
  format: DmsFormat // the DMS CSV settings the pipeline reads with
  intervalMs?: number // poll interval: the longest a change waits before its file is written; default 1000
  fileSize?: number // a file is closed once it reaches this many bytes (a backlog becomes several files); default 32 MiB
  maxChanges?: number // messages read from the slot per poll; default 50,000
  once?: boolean // write what the slot holds now, then return (tests, cron)
  signal?: AbortSignal // stops the capture between two files
  now?: () => number // clock, ms since epoch
  faults?: (step: CaptureFault) => void | Promise<void> // test hook: throws to simulate a crash
  onEvent?: (event: CaptureEvent) => void
}

export interface CaptureResult {
  loaded: boolean // this run took the full load
  loadRows: number
  loadFiles: string[]
  changeFiles: string[]
  counts: RowCounts // change rows written, per op
  replayed: string[] // files found written but not acknowledged, skipped on start
  maxLagMs: number // longest time from a commit to the write of its file
}

export const DEFAULT_FILE_SIZE = 32 * 1024 * 1024
const encoder = new TextEncoder()

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

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

/** Splits transactions into files of about `fileSize` bytes, cut between transactions. Pure. */
export function batchTransactions(
  txns: readonly Transaction[],
  writer: DmsRowWriter,
  table: SourceTable,
  fileSize: number,
  columns?: SourceColumns,
): ChangeBatch[] {
  const batches: ChangeBatch[] = []
  let current: ChangeBatch | null = null
  for (const txn of txns) {
    const rows = transactionRows(txn, table, writer.spec, columns)
    if (!current) {
      const header = writer.header()
      current = { rows: [], text: header, bytes: encoder.encode(header).length, endLsn: 0n, firstCommitMs: 0 }
    }
    if (rows.length > 0 && current.rows.length === 0) current.firstCommitMs = commitMs(txn)
    for (const r of rows) {
      const line = writer.row(r)
      current.rows.push(r)
      current.text += line
      current.bytes += encoder.encode(line).length
    }
    current.endLsn = txn.endLsn
    if (current.bytes >= fileSize && current.rows.length > 0) {
      batches.push(current)
      current = null
    }
  }
  if (current) batches.push(current)
  return batches
}

function commitMs(txn: Transaction): number {
  return Number(txn.commitTime / 1000n) + PG_EPOCH_MS
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * The end LSN after the slot's first transactions when they render to exactly `file` (a file written but not
 * acknowledged), else null. `more` is false when the transactions are all the slot holds right now.
 */
export function replayedPrefix(
  file: Uint8Array,
  txns: readonly Transaction[],
  writer: DmsRowWriter,
  table: SourceTable,
  columns?: SourceColumns,
): { endLsn: bigint | null; exhausted: boolean } {
  let text = writer.header()
  let bytes = encoder.encode(text).length
  for (const txn of txns) {
    const rows = transactionRows(txn, table, writer.spec, columns)
    for (const r of rows) {
      const line = writer.row(r)
      text += line
      bytes += encoder.encode(line).length
    }
    if (rows.length > 0 && bytes === file.length && sameBytes(encoder.encode(text), file))
      return { endLsn: txn.endLsn, exhausted: false }
    if (bytes > file.length) return { endLsn: null, exhausted: false }
  }
  return { endLsn: null, exhausted: true }
}

export async function runCapture(opts: CaptureOptions): Promise<CaptureResult> {
  const { source, out, table, spec, format, signal } = opts
  const intervalMs = opts.intervalMs ?? 1000
  const fileSize = opts.fileSize ?? DEFAULT_FILE_SIZE
  const maxChanges = opts.maxChanges ?? 50_000
  const now = opts.now ?? Date.now
  const faults = opts.faults ?? (() => {})
  const emit = opts.onEvent ?? (() => {})
  const result: CaptureResult = {
    loaded: false,
    loadRows: 0,
    loadFiles: [],
    changeFiles: [],
    counts: { I: 0, U: 0, D: 0 },
    replayed: [],
    maxLagMs: 0,
  }

  const listed = await out.list()
  const files = listed.flatMap((o) => {
    const f = classifyDmsFile(o.path, out.root)
    return f === 'ignored' ? [] : [f]
  })
  const loads = files.filter((f) => f.kind === 'load')
  const changes = files.filter((f) => f.kind === 'change').sort(compareChangeFiles)
  let lastNameMs = changes.length > 0 ? (changeFileTime(changes.at(-1)!.name) ?? 0) : 0

  const { resume, columns } = await source.open()
  if (!resume) {
    if (changes.length > 0)
      throw new StateError(
        'corrupt_state',
        `capture: ${out.root} already holds change files (${changes.at(-1)!.name}, ...) but ${source.description} has no replication slot: the stream they came from is gone, and changes since then cannot be recovered. Empty the staging location (or choose a new one), run capture again for a new full load, then lakesync reload`,
      )
    await fullLoad(opts, loads, fileSize, result, faults, emit)
  } else {
    if (loads.length === 0)
      emit({
        type: 'warning',
        message: `resuming ${source.description}, but ${out.root} holds no full load (LOAD*.csv): the pipeline cannot start from change files alone`,
      })
    emit({ type: 'load-skipped', message: `resuming ${source.description}` })
  }

  const writer = new DmsRowWriter(spec, format, 'change')
  const newest = changes.at(-1)
  if (newest) await recover(opts, newest, writer, maxChanges, result, emit, columns)

  const nextName = (): string => {
    lastNameMs = Math.max(now(), lastNameMs + 1)
    return changeFileName(lastNameMs)
  }

  while (!signal?.aborted) {
    const messages = await source.peek(maxChanges)
    const txns = decodeMessages(messages)
    for (const batch of batchTransactions(txns, writer, table, fileSize, columns)) {
      if (batch.rows.length > 0) {
        const path = nextName()
        await out.write(path, encoder.encode(batch.text))
        const lagMs = Math.max(0, now() - batch.firstCommitMs)
        const counts = countRows(batch.rows, { I: 0, U: 0, D: 0 })
        countRows(batch.rows, result.counts)
        result.changeFiles.push(path)
        result.maxLagMs = Math.max(result.maxLagMs, lagMs)
        emit({ type: 'change-file', path, rows: batch.rows.length, bytes: batch.bytes, counts, lagMs })
        await faults('after-change-file')
      }
      await source.advance(batch.endLsn)
      await faults('after-advance')
    }
    // A full read means a backlog: read on at once. Otherwise the slot is drained for now.
    if (messages.length >= maxChanges) continue
    if (opts.once) break
    await sleep(intervalMs, signal)
  }
  return result
}

async function fullLoad(
  opts: CaptureOptions,
  stale: DmsFile[],
  fileSize: number,
  result: CaptureResult,
  faults: (step: CaptureFault) => void | Promise<void>,
  emit: (e: CaptureEvent) => void,
): Promise<void> {
  const { source, out, spec, format } = opts
  // LOAD files of an earlier attempt that crashed before its slot was made durable: this load replaces them.
  for (const f of stale) await out.remove(f.path)
  if (stale.length > 0)
    emit({
      type: 'warning',
      message: `replaced ${stale.length} LOAD file(s) of an earlier, unfinished full load (if the pipeline already applied some, run lakesync reload)`,
    })
  const writer = new DmsRowWriter(spec, format, 'load')
  let part = 0
  let text = ''
  let bytes = 0
  let rows = 0
  const flush = async () => {
    const path = loadFileName(++part)
    const body = encoder.encode(writer.header() + text)
    await out.write(path, body)
    result.loadFiles.push(path)
    emit({ type: 'load-file', path, rows, bytes: body.length })
    text = ''
    bytes = 0
    rows = 0
    await faults('after-load-file')
  }
  await source.fullLoad(async (chunk) => {
    for (const values of chunk) {
      const line = writer.row({ op: 'I', values })
      text += line
      bytes += line.length // UTF-16 units: close enough to cut files
      rows++
      result.loadRows++
      if (bytes >= fileSize) await flush()
    }
  })
  // An empty table still gets its (empty) LOAD file: the pipeline needs a full load to start from.
  if (rows > 0 || part === 0) await flush()
  result.loaded = true
}

async function recover(
  opts: CaptureOptions,
  newest: DmsFile,
  writer: DmsRowWriter,
  maxChanges: number,
  result: CaptureResult,
  emit: (e: CaptureEvent) => void,
  columns: SourceColumns | undefined,
): Promise<void> {
  const { source, out, table } = opts
  const file = await out.read(newest.path)
  for (let limit = maxChanges; ; limit *= 4) {
    const messages = await source.peek(limit)
    const { endLsn, exhausted } = replayedPrefix(file, decodeMessages(messages), writer, table, columns)
    if (endLsn !== null) {
      await source.advance(endLsn)
      result.replayed.push(newest.path)
      emit({
        type: 'replayed',
        path: newest.path,
        message: `${newest.path} was written before the last stop but not acknowledged: its changes are skipped, not written twice`,
      })
      return
    }
    if (!exhausted || messages.length < limit) return
  }
}
