/**
 * When a run uses its worker thread (etl/threads/worker-pool.ts): the one place that decides, from the pool's size
 * and two thresholds. A worker costs fixed time (start-up, a second JIT warm-up, copying the table), so small runs
 * are faster on one thread and large ones gain; the thresholds are where that crossed on the bench machine
 * (docs/performance.md items 11 and 15; arm64 is unmeasured). The environment variables below move them; they are
 * read once, on first use, like LAKESYNC_WORKERS.
 */
import { ConfigError } from '../errors.js'
import { workerCount } from './worker-pool.js'

/** CSV files at least this large are parsed in pieces on both threads; LAKESYNC_PARALLEL_CSV_BYTES overrides it. */
export const PARALLEL_CSV_MIN_BYTES = 64 * 1024 * 1024

/** Tables of at least this many rows are encoded on both threads; LAKESYNC_PARALLEL_MIN_ROWS overrides it. */
export const PARALLEL_MIN_ROWS = 3_000_000

/** The smallest piece the parallel CSV parse cuts, unless the caller says otherwise. */
const MIN_PIECE_BYTES = 64 * 1024

/** A whole number from the environment variable `name`, or `fallback` when it is unset or blank. */
function envCount(name: string, fallback: number, unit: string, zero: string): number {
  const env = process.env[name]
  if (env === undefined || env.trim() === '') return fallback
  const n = Number(env)
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ConfigError(
      'bad_config',
      `${name}=${JSON.stringify(env)} (expected a whole number of ${unit}, 0 ${zero})`,
    )
  return n
}

let csvMinBytes: number | undefined
let minRows: number | undefined

/** Whether a CSV file of `bytes` bytes is read whole and parsed in pieces on several threads. */
export function parallelForCsvBytes(bytes: number): boolean {
  csvMinBytes ??= envCount(
    'LAKESYNC_PARALLEL_CSV_BYTES',
    PARALLEL_CSV_MIN_BYTES,
    'bytes',
    'to parse every file in pieces',
  )
  return bytes >= csvMinBytes && workerCount() > 0
}

/** Whether a table of `rows` rows is encoded on both threads (and the worker started ahead for it). */
export function parallelForRows(rows: number): boolean {
  if (workerCount() === 0) return false
  minRows ??= envCount(
    'LAKESYNC_PARALLEL_MIN_ROWS',
    PARALLEL_MIN_ROWS,
    'rows',
    'to use the worker for every table',
  )
  return rows >= minRows
}

/**
 * How many pieces the parallel CSV parse cuts `bytes` bytes into (below 2: parse serially): `pieces`, by default
 * one per worker plus the calling thread's, but none smaller than `minPieceBytes`.
 */
export function csvPieces(
  bytes: number,
  pieces = workerCount() + 1,
  minPieceBytes = MIN_PIECE_BYTES,
): number {
  return Math.min(pieces, Math.floor(bytes / Math.max(1, minPieceBytes)))
}

/** Whether a table's columns are split between a worker and the calling thread when it is encoded. */
export function parallelForColumns(columns: number): boolean {
  return workerCount() > 0 && columns >= 2
}
