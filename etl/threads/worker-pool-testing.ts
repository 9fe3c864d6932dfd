/**
 * The worker pool's test hooks (etl/threads/worker-pool.ts); only tests import this module, and no bundle holds it.
 * While it is loaded the pool starts its workers from here, and they serve one task more than the pool's own:
 * `crashForTest`, which kills the worker thread the way an out-of-memory abort would.
 */
import { workerData } from 'node:worker_threads'
import { poolInternals, runTask } from './worker-pool.js'

const TESTING = 'lakesync-worker-pool-testing'

const TEST_TASKS = { crashForTest: (a: { exitCode: number }): never => process.exit(a.exitCode) }

/** Runs `crashForTest` in a pool worker: the worker exits with `exitCode` and the pool sees it die. */
export function crashWorkerForTest(exitCode: number): Promise<never> {
  const untyped = runTask as unknown as (task: keyof typeof TEST_TASKS, args: unknown) => Promise<never>
  return untyped('crashForTest', { exitCode })
}

/** Stops every worker and reads LAKESYNC_WORKERS again. Queued and running tasks are rejected. */
export async function resetPoolForTest(): Promise<void> {
  const stopping = poolInternals.workers().map((w) => w.worker.terminate())
  for (const job of poolInternals.takeQueued()) job.reject(new Error('worker pool: reset'))
  await Promise.all(stopping)
  poolInternals.forget()
}

/** How many tasks each live worker has been handed and not answered yet. */
export function inFlightForTest(): number[] {
  return poolInternals.workers().map((w) => w.inFlight)
}

if ((workerData as { lakesyncWorker?: unknown } | undefined)?.lakesyncWorker === TESTING)
  poolInternals.serve(TEST_TASKS)
else poolInternals.startWorkersFrom(new URL(import.meta.url), { lakesyncWorker: TESTING })
