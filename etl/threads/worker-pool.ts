/**
 * A small pool of worker threads for the engine's pure, typed-array tasks: parsing a piece of a CSV file and
 * encoding a table as Parquet. The target machine and a 3 GB Lambda have 2 vCPUs; the rest of the engine uses one.
 *
 * - Size: `os.availableParallelism() - 1` workers, at least 1; `LAKESYNC_WORKERS=N` overrides it and
 *   `LAKESYNC_WORKERS=0` disables workers (every task then runs in the calling thread).
 * - Started lazily, on the first task (or `warmPool()`); idle workers are `unref()`ed so they never keep a CLI
 *   process alive, and a worker holds a reference only while it runs a task (so an awaited task does).
 * - The worker entry is this module itself (`new Worker(new URL(import.meta.url))`): the merge Lambda is one esbuild
 *   bundle (`index.mjs`), where no separate worker file exists. In the bundle the worker loads the whole bundle and
 *   serves tasks from the check at the bottom of this module; from `dist/` it loads this module and its imports; from
 *   TypeScript sources (vitest, tsx) it loads this file through tsx's CommonJS hook.
 * - Errors thrown by a task reach the caller as the same class (InputError, ConfigError, StateError) with the same
 *   `code`, `location` and message. A worker that dies (out of memory, `process.exit`) rejects its task with the
 *   error and is replaced by a new one on the next task.
 */
import { Buffer } from 'node:buffer'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { isMainThread, parentPort, type Transferable, Worker, workerData } from 'node:worker_threads'
import { parseDmsCsvPart } from '../dms/csv.js'
import type { CsvLayout } from '../dms/layout.js'
import {
  ConfigError,
  type ErrorCode,
  InputError,
  type InputLocation,
  LakesyncError,
  StateError,
} from '../errors.js'
import { writeParquetFiles } from '../parquet/files.js'
import {
  type EncodedColumnChunk,
  encodeColumn,
  type ParquetWriteOptions,
  writeParquet,
} from '../parquet/writer.js'
import type { DmsFormat, ParsedFile, Table, TableSpec } from '../types.js'

/** Arguments of a `parseCsvChunk` task: one piece of a DMS CSV file cut at a row boundary. */
export interface ParseCsvChunkArgs {
  bytes: Uint8Array // the piece (a copy: it is transferred to the worker)
  file: string // the file's name in errors
  spec: TableSpec
  layout: CsvLayout
  format: DmsFormat
  continuation: boolean // not the file's first piece: no BOM, no header row
  dictionary?: boolean // return repetitive string columns as dictionary columns (dictionaryEncodeColumns)
}

/** What a `parseCsvChunk` task returns: lines count from 1 at the piece's first byte. */
export interface ParsedChunk {
  parsed: ParsedFile
  endLine: number // line after the piece's last byte
}

export interface EncodeParquetArgs {
  table: Table
  opts: ParquetWriteOptions
}

/** The tasks, by name. Each runs in a worker or, with workers disabled, in the calling thread. */
const TASKS = {
  parseCsvChunk: (a: ParseCsvChunkArgs): ParsedChunk => {
    const { bytes, file, spec, layout, format, continuation, dictionary = false } = a
    return parseDmsCsvPart(bytes, file, spec, layout, format, continuation, bytes.byteLength, { dictionary })
  },
  encodeParquet: (a: EncodeParquetArgs): Uint8Array => writeParquet(a.table, a.opts),
  encodeParquetFiles: (a: EncodeParquetArgs): Uint8Array[] => writeParquetFiles(a.table, a.opts),
  /** Some columns of a table, encoded for assembleParquet (the caller encodes the others meanwhile). */
  encodeColumns: (a: EncodeParquetArgs): EncodedColumnChunk[][] =>
    a.table.spec.columns.map((_, ci) => encodeColumn(a.table, ci, a.opts)),
}

export type TaskName = keyof typeof TASKS
export type TaskArgs<K extends TaskName> = Parameters<(typeof TASKS)[K]>[0]
export type TaskResult<K extends TaskName> = ReturnType<(typeof TASKS)[K]>

interface Request {
  id: number
  task: string
  args: unknown
}

/** An error as it crosses the thread boundary (an Error's class and own properties do not survive a clone). */
interface SerializedError {
  name: string
  message: string
  stack: string | undefined
  code: ErrorCode | undefined
  location: InputLocation | undefined
}

type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SerializedError }

function serializeError(e: unknown): SerializedError {
  if (e instanceof Error)
    return {
      name: e.name,
      message: e.message,
      stack: e.stack,
      code: e instanceof LakesyncError ? e.code : undefined,
      location: e instanceof LakesyncError ? e.location : undefined,
    }
  return { name: 'Error', message: String(e), stack: undefined, code: undefined, location: undefined }
}

const STANDARD_ERRORS = new Map<string, ErrorConstructor>(
  [TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError].map((c) => [c.name, c]),
)

/** The caller-side error for a task's error: the same class, code, location and message. */
function rebuildError(s: SerializedError): Error {
  let e: Error
  if (s.code !== undefined) {
    const Class =
      s.name === 'InputError'
        ? InputError
        : s.name === 'ConfigError'
          ? ConfigError
          : s.name === 'StateError'
            ? StateError
            : LakesyncError
    e = new Class(s.code, s.message, s.location)
  } else {
    const Std = STANDARD_ERRORS.get(s.name) ?? Error
    e = new Std(s.message)
    if (e.name !== s.name) e.name = s.name
  }
  if (s.stack !== undefined) e.stack = `${s.stack}\n    at (lakesync worker thread)`
  return e
}

/**
 * Every ArrayBuffer under `value` (typed arrays in objects and arrays), once each: a transfer list. Buffers no larger
 * than Node's Buffer pool are left out (copied): a small Buffer may be a view into the shared pool, which must not
 * be detached, and copying a few KiB costs nothing.
 */
export function transferables(value: unknown): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>()
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer && v.buffer.byteLength > Buffer.poolSize) out.add(v.buffer)
      return
    }
    for (const x of Array.isArray(v) ? v : Object.values(v)) walk(x)
  }
  walk(value)
  return [...out]
}

// ---- the worker side ------------------------------------------------------------------------------------------

/** Answers the calling thread's requests with TASKS and `extra` (worker-pool-testing.ts adds its test task). */
function serve(extra: Readonly<Record<string, (a: never) => unknown>> = {}): void {
  const port = parentPort!
  const tasks = { ...TASKS, ...extra } as Record<string, ((a: unknown) => unknown) | undefined>
  port.on('message', (req: Request) => {
    let res: Response
    let transfer: ArrayBuffer[] = []
    try {
      const fn = tasks[req.task]
      if (fn === undefined) throw new Error(`worker pool: unknown task ${JSON.stringify(req.task)}`)
      const result = fn(req.args)
      transfer = transferables(result) // results are fresh arrays of this thread: hand them over, do not copy
      res = { id: req.id, ok: true, result }
    } catch (e) {
      res = { id: req.id, ok: false, error: serializeError(e) }
    }
    port.postMessage(res, transfer)
  })
}

// ---- the caller side ------------------------------------------------------------------------------------------

interface Job {
  id: number
  task: string
  args: unknown
  transfer: Transferable[]
  resolve: (v: unknown) => void
  reject: (e: Error) => void
}

interface Slot {
  worker: Worker
  jobs: Job[] // posted to this worker and not answered yet, in the order posted (the worker answers in order)
}

/** A pool worker's workerData: `true` for this module's workers, another value for worker-pool-testing.ts's. */
interface WorkerFlag {
  lakesyncWorker: true | string
}
const WORKER_FLAG: WorkerFlag = { lakesyncWorker: true }

/** What new workers run: this module, unless worker-pool-testing.ts names itself. */
let entry = { url: new URL(import.meta.url), data: WORKER_FLAG }
let slots: Slot[] = []
const queue: Job[] = []
let nextId = 1
let configuredSize: number | undefined

/**
 * How many worker threads the pool uses: LAKESYNC_WORKERS when set (0 = none), else one per core but the calling
 * thread's, at least 1. Read once; `resetPoolForTest` reads it again.
 */
export function workerCount(): number {
  if (configuredSize !== undefined) return configuredSize
  const env = process.env.LAKESYNC_WORKERS
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env)
    if (!Number.isInteger(n) || n < 0)
      throw new ConfigError(
        'bad_config',
        `LAKESYNC_WORKERS=${JSON.stringify(env)} (expected a whole number of worker threads, 0 for none)`,
      )
    configuredSize = n
  } else configuredSize = Math.max(1, availableParallelism() - 1)
  return configuredSize
}

/**
 * A worker running this module. From TypeScript sources (vitest, tsx) the module is loaded through tsx's CommonJS
 * hook: on Node 20 a worker ignores ESM loader hooks (`--import tsx` in its execArgv included), CommonJS ones work.
 */
function newWorker(): Worker {
  const { url, data } = entry
  if (!/\.[cm]?ts$/.test(url.pathname)) return new Worker(url, { workerData: data })
  const require = createRequire(url)
  const code = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(fileURLToPath(url))})`
  return new Worker(code, { eval: true, workerData: data })
}

function startWorker(): Slot {
  const worker = newWorker()
  const slot: Slot = { worker, jobs: [] }
  worker.on('message', (res: Response) => {
    const job = slot.jobs[0]
    if (job === undefined || job.id !== res.id) return
    slot.jobs.shift()
    if (slot.jobs.length === 0) worker.unref()
    if (res.ok) job.resolve(res.result)
    else job.reject(rebuildError(res.error))
  })
  let failure: Error | undefined
  worker.on('error', (e) => {
    failure = e instanceof Error ? e : new Error(String(e))
  })
  worker.on('exit', (code) => {
    slots = slots.filter((s) => s !== slot)
    const jobs = slot.jobs
    slot.jobs = []
    for (const job of jobs)
      job.reject(
        failure ??
          new Error(`worker pool: a worker thread exited with code ${code} while running ${job.task}`),
      )
    dispatch()
  })
  worker.unref() // after the listeners: adding a 'message' listener refs the worker again
  return slot
}

/**
 * Hands queued jobs to workers, starting workers up to the pool's size. A job goes to the worker with the fewest
 * jobs in hand, even a busy one: the worker starts it the moment it finishes the one before. Waiting for the
 * answer to reach this thread first would leave the worker idle for as long as this thread runs synchronous code
 * (measured at ~0.2 s of a 1M-row run, between encoding the users and the features tables).
 */
function dispatch(): void {
  while (queue.length > 0) {
    if (slots.length < workerCount() && !slots.some((s) => s.jobs.length === 0)) slots.push(startWorker())
    const slot = slots.reduce<Slot | undefined>(
      (a, s) => (a === undefined || s.jobs.length < a.jobs.length ? s : a),
      undefined,
    )
    if (slot === undefined) return
    const job = queue.shift()!
    slot.jobs.push(job)
    slot.worker.ref()
    try {
      slot.worker.postMessage({ id: job.id, task: job.task, args: job.args } satisfies Request, job.transfer)
    } catch (e) {
      // A value that cannot be cloned: the worker never saw the job.
      slot.jobs.pop()
      if (slot.jobs.length === 0) slot.worker.unref()
      job.reject(e as Error)
    }
  }
}

/**
 * Runs a task in a worker (in the calling thread when workers are disabled). `transfer` lists buffers of `args` to
 * move instead of copy: the caller must not use them afterwards.
 */
export function runTask<K extends TaskName>(
  task: K,
  args: TaskArgs<K>,
  transfer: Transferable[] = [],
): Promise<TaskResult<K>> {
  if (workerCount() === 0) {
    try {
      return Promise.resolve((TASKS[task] as (a: TaskArgs<K>) => TaskResult<K>)(args))
    } catch (e) {
      return Promise.reject(e)
    }
  }
  return new Promise<TaskResult<K>>((resolve, reject) => {
    queue.push({ id: nextId++, task, args, transfer, resolve: resolve as (v: unknown) => void, reject })
    dispatch()
  })
}

/** Starts the pool's workers now (they load their modules while the caller does other work, e.g. reads a file). */
export function warmPool(): void {
  while (slots.length < workerCount()) slots.push(startWorker())
}

/**
 * The pool's state and worker entry, for worker-pool-testing.ts (the tests' hooks) only: no engine module uses it.
 */
export const poolInternals = {
  /** The live workers, each with how many tasks it has been handed and not answered yet. */
  workers: (): { worker: Worker; inFlight: number }[] =>
    slots.map((s) => ({ worker: s.worker, inFlight: s.jobs.length })),
  /** Empties the queue of tasks that wait for a worker, returning them (the caller rejects them). */
  takeQueued: (): { reject: (e: Error) => void }[] => queue.splice(0),
  /** Forgets the workers and the pool's size: the next task reads LAKESYNC_WORKERS again and starts new ones. */
  forget: (): void => {
    slots = []
    configuredSize = undefined
  },
  /** New workers run `url` (a module that calls `serve` when it sees `data`) instead of this module. */
  startWorkersFrom: (url: URL, data: WorkerFlag): void => {
    entry = { url, data }
  },
  serve,
}

/** The number of live worker threads (tests). */
export function liveWorkers(): number {
  return slots.length
}

/**
 * `writeParquet` in a worker. The table's arrays are copied to the worker (structured clone), so the caller keeps
 * using its table; with `transfer: true` they are moved instead (free, but the caller's table is unusable after).
 * With workers disabled the table is encoded in the calling thread.
 */
export function encodeParquetAsync(
  table: Table,
  opts: ParquetWriteOptions & { transfer?: boolean } = {},
): Promise<Uint8Array> {
  const { transfer = false, ...writeOpts } = opts
  return runTask('encodeParquet', { table, opts: writeOpts }, transfer ? transferables(table) : [])
}

/** `writeParquetFiles` in a worker (files of about `opts.targetFileBytes`), as encodeParquetAsync. */
export function encodeParquetFilesAsync(table: Table, opts: ParquetWriteOptions = {}): Promise<Uint8Array[]> {
  return runTask('encodeParquetFiles', { table, opts })
}

if (!isMainThread && (workerData as WorkerFlag | undefined)?.lakesyncWorker === true) serve()
