/**
 * The capture engine: a local stand-in for an AWS DMS task with an S3 target. It takes a consistent full load,
 * then streams committed changes from a logical replication slot, and writes both as DMS-format files into a
 * Storage per table (a folder or an S3 prefix: the staging location the pipeline reads). One capture serves one
 * table (runCapture) or several (runCaptureTables): like one DMS task, one slot and one snapshot for all of them,
 * each table's files in its own location (`<root>/<schema>/<table>/` in the CLI).
 *
 * The database side is the ChangeSource interface (postgres.ts implements it for PostgreSQL with pgoutput); this
 * file decides what is written, when, under which name, and when the slot may forget a change.
 *
 * Exactly once, across crashes:
 * - The full load and the slot start from one snapshot (ChangeSource.fullLoad), for every table: no change is lost
 *   or doubled between the load and the stream. The slot is made durable only after the last LOAD file of the last
 *   table is written, so a crash during the load leaves no slot, and the next start takes the load again (replacing
 *   the LOAD files).
 * - The slot's transactions are read in batches, each cut between transactions. A batch becomes one change file per
 *   table it has rows of (a transaction's rows split per table, in commit order), all under one name; the files are
 *   written whole (rename / PutObject), and only then is the slot advanced past the batch's last transaction. A crash
 *   between the two replays the batch's transactions on the next start.
 * - The written files are the checkpoint: only the last batch can be unacknowledged, and its files are the ones with
 *   the newest name of all the tables' change files. On start, each such file is compared with what the slot holds
 *   first for its table. When the slot's first transactions render to exactly that file's bytes, the file was written
 *   but not acknowledged: its table's rows of those transactions are not written again (the slot moves past them
 *   with the next batch). When one of them differs, the batch was acknowledged and nothing is skipped. (A false match
 *   would need the source to have repeated exactly that file's changes, in order, right after it; applying a run of
 *   keyed full-row changes twice in a row leaves the same table as applying it once, so skipping the repeat is still
 *   correct.)
 * - Change file names are the UTC wall-clock time of the write, like DMS's, forced to increase over every table's
 *   files (newest existing name + 1 ms at least), so the pipeline's name order is the stream's commit order.
 */
import { classifyDmsFile, compareChangeFiles, type DmsFile } from '../dms/files.js'
import { StateError } from '../errors.js'
import { changeFileTime } from '../status.js'
import type { Storage } from '../storage/storage.js'
import type { DmsFormat, TableSpec } from '../types.js'
import { batchTables, decodeMessages, replayedPrefix, type SlotMessage } from './batches.js'
import { countRows, type RowCounts, type SourceColumns, type SourceTable, tableKey } from './changes.js'
import { changeFileName, DmsRowWriter, loadFileName } from './dms-writer.js'

/** The database side of a capture: one slot (and publication) for every table of the capture. */
export interface ChangeSource {
  readonly description: string // for messages: the tables and slot
  /**
   * Checks the tables and prepares the publication; `resume` when the slot exists (no full load needed).
   * `tableColumns` says, per table of the capture (in its order), how the stream's text of each column becomes DMS's
   * text; `columns` is the same for a capture of one table. Neither: every value as it comes.
   */
  open(): Promise<{
    resume: boolean
    columns?: SourceColumns
    tableColumns?: readonly (SourceColumns | undefined)[]
  }>
  /**
   * Creates the slot at the point of one snapshot, hands each table's rows in that snapshot (spec order, each value
   * the text DMS writes for it, NULL as null) to `onRows` chunk by chunk, table after table (`table`: its position in
   * the capture; a source of one table may leave it out), then awaits `finish` (when given), and makes the slot
   * durable only after that resolved.
   */
  fullLoad(
    onRows: (rows: (string | null)[][], table?: number) => Promise<void>,
    finish?: () => Promise<void>,
  ): Promise<void>
  /** About `max` messages after the slot's confirmed position (whole transactions), without consuming them. */
  peek(max: number): Promise<SlotMessage[]>
  /** Moves the slot past everything committed before `lsn` (a commit's end LSN). */
  advance(lsn: bigint): Promise<void>
  close(): Promise<void>
}

/** Where tests make a capture crash. */
export type CaptureFault = 'after-load-file' | 'after-change-file' | 'after-advance'

/** What a capture reports as it goes; `table` names the table a file or warning is about. */
export type CaptureEvent =
  | { type: 'load-skipped'; message: string }
  | { type: 'load-file'; path: string; rows: number; bytes: number; table?: SourceTable }
  | {
      type: 'change-file'
      path: string
      rows: number
      bytes: number
      counts: RowCounts
      lagMs: number
      table?: SourceTable
    }
  | { type: 'replayed'; path: string; message: string; table?: SourceTable }
  | { type: 'warning'; message: string; table?: SourceTable }

/** What a capture takes besides its tables. */
interface CaptureSettings {
  source: ChangeSource
  format: DmsFormat // the DMS CSV settings the pipeline reads with
  intervalMs?: number // poll interval: the longest a change waits before its file is written; default 1000
  fileSize?: number // a batch is closed once one of its files reaches this many bytes (a backlog becomes several); default 32 MiB
  maxChanges?: number // messages read from the slot per poll; default 50,000
  once?: boolean // write what the slot holds now, then return (tests, cron)
  signal?: AbortSignal // stops the capture between two batches
  now?: () => number // clock, ms since epoch
  faults?: (step: CaptureFault) => void | Promise<void> // test hook: throws to simulate a crash
  onEvent?: (event: CaptureEvent) => void
}

export interface CaptureOptions extends CaptureSettings {
  out: Storage // the staging location of the table's DMS files
  table: SourceTable // the source table
  spec: TableSpec // its shape (columns in source order)
}

/** One table of a capture of several. */
export interface CaptureTable {
  table: SourceTable // the source table
  spec: TableSpec // its shape (columns in source order)
  out: Storage // the staging location of its DMS files (`<root>/<schema>/<table>/`)
}

export interface TablesCaptureOptions extends CaptureSettings {
  tables: readonly CaptureTable[] // in the order the source was opened with
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

/** Per table, in the capture's order. */
export interface TablesCaptureResult {
  loaded: boolean
  tables: (CaptureResult & { table: SourceTable })[]
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

/** One table's state during a capture. */
interface TableState extends CaptureTable {
  loads: DmsFile[]
  changes: DmsFile[] // in DMS order
  writer: DmsRowWriter // change files
  columns: SourceColumns | undefined
  writtenThrough: bigint | undefined
  result: CaptureResult
}

const emptyResult = (): CaptureResult => ({
  loaded: false,
  loadRows: 0,
  loadFiles: [],
  changeFiles: [],
  counts: { I: 0, U: 0, D: 0 },
  replayed: [],
  maxLagMs: 0,
})

/** Captures one table into `out`. */
export async function runCapture(opts: CaptureOptions): Promise<CaptureResult> {
  const { out, table, spec, ...settings } = opts
  const r = await runCaptureTables({ ...settings, tables: [{ table, spec, out }] })
  const { table: _table, ...result } = r.tables[0]!
  return result
}

/** Captures several tables through one slot, each into its own location. */
export async function runCaptureTables(opts: TablesCaptureOptions): Promise<TablesCaptureResult> {
  const { source, format, signal } = opts
  const intervalMs = opts.intervalMs ?? 1000
  const fileSize = opts.fileSize ?? DEFAULT_FILE_SIZE
  const maxChanges = opts.maxChanges ?? 50_000
  const now = opts.now ?? Date.now
  const faults = opts.faults ?? (() => {})
  const emit = opts.onEvent ?? (() => {})
  const many = opts.tables.length > 1
  if (opts.tables.length === 0) throw new Error('capture: no tables')
  const keys = new Set(opts.tables.map((t) => tableKey(t.table)))
  if (keys.size !== opts.tables.length) throw new Error('capture: a table is listed twice')

  const tables: TableState[] = []
  for (const t of opts.tables) {
    const files = (await t.out.list()).flatMap((o) => {
      const f = classifyDmsFile(o.path, t.out.root)
      return f === 'ignored' ? [] : [f]
    })
    tables.push({
      ...t,
      loads: files.filter((f) => f.kind === 'load'),
      changes: files.filter((f) => f.kind === 'change').sort(compareChangeFiles),
      writer: new DmsRowWriter(t.spec, format, 'change'),
      columns: undefined,
      writtenThrough: undefined,
      result: emptyResult(),
    })
  }
  const newestMs = (t: TableState) =>
    t.changes.length > 0 ? (changeFileTime(t.changes.at(-1)!.name) ?? 0) : 0
  let lastNameMs = Math.max(0, ...tables.map(newestMs))

  const opened = await source.open()
  const columns = opened.tableColumns ?? [opened.columns]
  tables.forEach((t, i) => {
    t.columns = columns[i]
  })
  if (!opened.resume) {
    const stale = tables.find((t) => t.changes.length > 0)
    if (stale)
      throw new StateError(
        'corrupt_state',
        `capture: ${stale.out.root} already holds change files (${stale.changes.at(-1)!.name}, ...) but ${source.description} has no replication slot: the stream they came from is gone, and changes since then cannot be recovered. Empty the staging location${many ? ' of every table of the capture' : ''} (or choose a new one), run capture again for a new full load, then lakesync reload`,
      )
    await fullLoad(opts, tables, fileSize, faults, emit)
  } else {
    for (const t of tables)
      if (t.loads.length === 0)
        emit({
          type: 'warning',
          message: `resuming ${source.description}, but ${t.out.root} holds no full load (LOAD*.csv): the pipeline cannot start from change files alone`,
          table: t.table,
        })
    emit({ type: 'load-skipped', message: `resuming ${source.description}` })
  }

  // The last batch's files: the newest name of all.
  const last = tables.filter((t) => t.changes.length > 0 && newestMs(t) === lastNameMs)
  if (last.length > 0) await recover(source, last, maxChanges, emit)

  const nextName = (): string => {
    lastNameMs = Math.max(now(), lastNameMs + 1)
    return changeFileName(lastNameMs)
  }

  while (!signal?.aborted) {
    const messages = await source.peek(maxChanges)
    const txns = decodeMessages(messages)
    for (const batch of batchTables(txns, tables, fileSize)) {
      const written = batch.files.some((f) => f !== undefined)
      const path = written ? nextName() : ''
      for (const [i, file] of batch.files.entries()) {
        if (!file) continue
        const t = tables[i]!
        await t.out.write(path, encoder.encode(file.text))
        const lagMs = Math.max(0, now() - file.firstCommitMs)
        const counts = countRows(file.rows, { I: 0, U: 0, D: 0 })
        countRows(file.rows, t.result.counts)
        t.result.changeFiles.push(path)
        t.result.maxLagMs = Math.max(t.result.maxLagMs, lagMs)
        emit({
          type: 'change-file',
          path,
          rows: file.rows.length,
          bytes: file.bytes,
          counts,
          lagMs,
          table: t.table,
        })
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
  return { loaded: tables[0]!.result.loaded, tables: tables.map((t) => ({ table: t.table, ...t.result })) }
}

async function fullLoad(
  opts: TablesCaptureOptions,
  tables: TableState[],
  fileSize: number,
  faults: (step: CaptureFault) => void | Promise<void>,
  emit: (e: CaptureEvent) => void,
): Promise<void> {
  const { source, format } = opts
  // LOAD files of an earlier attempt that crashed before its slot was made durable: this load replaces them.
  for (const t of tables) {
    for (const f of t.loads) await t.out.remove(f.path)
    if (t.loads.length > 0)
      emit({
        type: 'warning',
        message: `replaced ${t.loads.length} LOAD file(s) of an earlier, unfinished full load in ${t.out.root} (if the pipeline already applied some, run lakesync reload)`,
        table: t.table,
      })
  }
  const parts = tables.map((t) => ({
    writer: new DmsRowWriter(t.spec, format, 'load'),
    part: 0,
    text: '',
    bytes: 0,
    rows: 0,
    done: false,
  }))
  const flush = async (i: number) => {
    const t = tables[i]!
    const p = parts[i]!
    const path = loadFileName(++p.part)
    const body = encoder.encode(p.writer.header() + p.text)
    await t.out.write(path, body)
    t.result.loadFiles.push(path)
    emit({ type: 'load-file', path, rows: p.rows, bytes: body.length, table: t.table })
    p.text = ''
    p.bytes = 0
    p.rows = 0
    await faults('after-load-file')
  }
  // A table's last part is written once its rows are all in (an empty table still gets its empty LOAD file: the
  // pipeline needs a full load to start from).
  const close = async (i: number) => {
    const p = parts[i]!
    if (p.done) return
    p.done = true
    if (p.rows > 0 || p.part === 0) await flush(i)
  }
  let current = 0
  const finish = async () => {
    for (let i = 0; i < tables.length; i++) await close(i)
  }
  await source.fullLoad(async (chunk, table = 0) => {
    // The source goes table after table: one that is done gets its last part now, not at the very end.
    for (; current < table; current++) await close(current)
    const t = tables[table]!
    const p = parts[table]!
    for (const values of chunk) {
      const line = p.writer.row({ op: 'I', values })
      p.text += line
      p.bytes += line.length // UTF-16 units: close enough to cut files
      p.rows++
      t.result.loadRows++
      if (p.bytes >= fileSize) await flush(table)
    }
  }, finish)
  await finish() // a source that does not call it: the slot is durable already, as when it crashed just now
  for (const t of tables) t.result.loaded = true
}

async function recover(
  source: ChangeSource,
  last: TableState[],
  maxChanges: number,
  emit: (e: CaptureEvent) => void,
): Promise<void> {
  const files = await Promise.all(last.map((t) => t.out.read(t.changes.at(-1)!.path)))
  for (let limit = maxChanges; ; limit *= 4) {
    const messages = await source.peek(limit)
    const txns = decodeMessages(messages)
    const verdicts = last.map((t, i) => replayedPrefix(files[i]!, txns, t.writer, t.table, t.columns))
    // One file that is not the slot's next rows of its table: the batch was acknowledged, whatever the others say.
    if (verdicts.some((v) => v.endLsn === null && !v.exhausted)) return
    const undecided = verdicts.some((v) => v.exhausted)
    if (!undecided || messages.length < limit) {
      last.forEach((t, i) => {
        const endLsn = verdicts[i]!.endLsn
        if (endLsn === null) return
        t.writtenThrough = endLsn
        const path = t.changes.at(-1)!.path
        t.result.replayed.push(path)
        emit({
          type: 'replayed',
          path,
          message: `${t.out.root.replace(/\/+$/, '')}/${path} was written before the last stop but not acknowledged: its changes are skipped, not written twice`,
          table: t.table,
        })
      })
      return
    }
  }
}
