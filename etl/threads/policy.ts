/**
 * When a run uses its worker thread (etl/threads/worker-pool.ts). On the bench machine (x86), whose two vCPUs are two
 * hyperthreads of one core, two threads of this engine's work run at ~0.6x the speed of one each, and a worker
 * costs fixed time of its own: starting and loading its modules (while this thread parses), compiling its code a
 * second time, and copying the table to it. Small runs are therefore faster on one thread; large ones gain
 * (docs/performance.md). The merge Lambda runs on arm64, whose vCPUs are cores of their own: there the crossover
 * is probably lower, unmeasured; the environment variables below move it.
 * - bulk 1M rows: ~9% faster without the worker; 3M: even; steady state 10M: ~12% faster with it.
 * - CSV parse of one 42 MB file: ~3% faster serially; 420 MB: 3.4 s in parallel against 4.3-4.8 s.
 */
import { ConfigError } from '../errors.js'

/** CSV files at least this large are parsed in pieces on both threads; LAKESYNC_PARALLEL_CSV_BYTES overrides it. */
export const PARALLEL_CSV_MIN_BYTES = 64 * 1024 * 1024

/** Tables of at least this many rows are encoded on both threads; LAKESYNC_PARALLEL_MIN_ROWS overrides it. */
export const PARALLEL_MIN_ROWS = 3_000_000

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

/** The size from which CSV files are parsed in parallel: LAKESYNC_PARALLEL_CSV_BYTES when set, else the default. */
export function parallelCsvThreshold(): number {
  return envCount(
    'LAKESYNC_PARALLEL_CSV_BYTES',
    PARALLEL_CSV_MIN_BYTES,
    'bytes',
    'to parse every file in pieces',
  )
}

/** The rows from which a table is encoded on both threads: LAKESYNC_PARALLEL_MIN_ROWS when set, else the default. */
export function parallelMinRows(): number {
  return envCount(
    'LAKESYNC_PARALLEL_MIN_ROWS',
    PARALLEL_MIN_ROWS,
    'rows',
    'to use the worker for every table',
  )
}
