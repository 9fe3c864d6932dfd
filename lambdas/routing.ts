/**
 * Where a table's next run happens: in the merge Lambda (the lakesync engine) or as an AWS Glue job run (the Spark
 * job in glue/, same semantics, same commit log). Pure: the caller measures the committed state and the pending
 * input; this decides from thresholds in configuration.
 *
 * Defaults (docs/performance.md, "Scale-out"): lakesync applied 100k changes to 1M users in 2.9 s with a 358 MB peak,
 * and 10M users in ~37 s with a 2.4 GB peak; a Lambda has 10 GB and 15 minutes. Memory, not time, is the binding
 * limit and grows about linearly with the rows held (~250 bytes per row at 10M). 20M committed rows (~5 GB peak)
 * keeps a 2x margin under 10 GB; 2 GB of pending DMS input (CSV; ~25M change rows) keeps the read well inside both
 * limits. Past either, Glue's Spark job (minutes of start-up, but no memory ceiling) is the right engine.
 *
 * Rows alone miss width: a 20-column table needs about 6x its snapshot's bytes at peak (16.7 GB at 10M rows), so
 * the size of the committed version's snapshot (its columns' raw bytes) is a threshold too (docs/performance.md).
 */

import type { DmsFormat } from '../etl/types.js'

export interface RoutingThresholds {
  maxLambdaRows: number // committed rows of the table above which runs go to Glue
  maxLambdaPendingBytes: number // pending DMS bytes (as stored) above which runs go to Glue
  maxLambdaStateBytes: number // bytes of the committed version's snapshot (the table in memory) above which too
}

export const DEFAULT_ROUTING: RoutingThresholds = {
  maxLambdaRows: 20_000_000,
  maxLambdaPendingBytes: 2 * 1024 ** 3,
  maxLambdaStateBytes: 512 * 1024 ** 2,
}

export interface RoutingInput {
  stateRows: number // rows of the current committed version (0 when none)
  pendingBytes: number // bytes of the DMS files not yet applied (a reload counts every file)
  pendingFiles: number // how many
  stateBytes?: number | null // the committed version's snapshot bytes (null: no snapshot, e.g. a Spark commit)
  sparkGap?: string | null // what of the table's config the Spark engine does not read (sparkGap); null: nothing
}

export interface RoutingDecision {
  engine: 'lambda' | 'glue'
  reason: string // one line for the logs
  oversize?: true // past a threshold but kept on the Lambda (the caller warns)
}

/**
 * The first format setting of a table's config that the Spark job refuses by name (glue/lakesync_spark/job.py
 * load_config, settings.py), or null when it reads them all; it reads every table spec (added columns included).
 * test/routing.test.ts holds the two lists to each other.
 */
export function sparkGap(format: DmsFormat): string | null {
  if (format.preserveTransactions) return 'format.preserveTransactions (CDC_TXN files)'
  return null
}

/** Which threshold the table is past, said for the logs; null: it fits the Lambda. */
function overThreshold(input: RoutingInput, t: RoutingThresholds): string | null {
  if (input.stateRows > t.maxLambdaRows)
    return `committed table has ${input.stateRows} rows (> ${t.maxLambdaRows} for the Lambda)`
  if ((input.stateBytes ?? 0) > t.maxLambdaStateBytes)
    return `committed table holds ${input.stateBytes} bytes in memory (> ${t.maxLambdaStateBytes} for the Lambda)`
  if (input.pendingBytes > t.maxLambdaPendingBytes)
    return `${input.pendingFiles} pending file(s) of ${input.pendingBytes} bytes (> ${t.maxLambdaPendingBytes} for the Lambda)`
  return null
}

export function decideEngine(input: RoutingInput, t: RoutingThresholds = DEFAULT_ROUTING): RoutingDecision {
  const over = overThreshold(input, t)
  // A job that would stop on its config at once holds the table forever; the Lambda at least tries (and says why).
  if (over && input.sparkGap)
    return {
      engine: 'lambda',
      reason: `${over}, but the Spark engine does not read ${input.sparkGap}: kept on the Lambda`,
      oversize: true,
    }
  if (over) return { engine: 'glue', reason: over }
  return {
    engine: 'lambda',
    reason: `${input.stateRows} rows and ${input.pendingBytes} pending bytes fit the Lambda`,
  }
}

/** Parses a threshold from the environment: a positive integer, or the default when unset. */
export function parseThreshold(value: string | undefined, fallback: number): number | undefined {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  return Number.isInteger(n) && n > 0 ? n : undefined
}
