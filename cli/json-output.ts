/**
 * `--json`: one JSON object on stdout per command, `{"tables": [...]}` with one entry per table, in the schemas the
 * README documents ("Machine-readable output"). Human lines are not printed then; errors keep going to stderr too.
 */
import type { CommitRecord } from '../etl/commit/log.js'
import { LakesyncError } from '../etl/errors.js'
import type { RunResult } from '../etl/pipeline.js'
import type { Flags, Io } from './common.js'
import { exitCodeOf } from './exit-codes.js'

export interface JsonError {
  code: string // the error's code (bad_date, commit_conflict, ...); `internal` for a bug, `unavailable` for storage
  message: string
  file: string | null
  line: number | null
  column: number | null
}

export interface RunEntry {
  table: string
  status: 'committed' | 'unchanged' | 'failed' | 'busy'
  versions: number[] // versions this run committed, oldest first
  applied: { file: string; rows: number; counts: CommitRecord['counts'] | null }[]
  error: JsonError | null
}

export function wantsJson(flags: Flags): boolean {
  return flags.json === true
}

/** An error as JSON: its code and message, and where in which file when it is bad input. */
export function jsonError(e: unknown): JsonError {
  if (e instanceof LakesyncError)
    return {
      code: e.code,
      message: e.message,
      file: e.location?.file ?? null,
      line: e.location?.line ?? null,
      column: e.location?.column ?? null,
    }
  const code = exitCodeOf(e) === 4 ? 'unavailable' : 'internal'
  return { code, message: e instanceof Error ? e.message : String(e), file: null, line: null, column: null }
}

/** A table's run as a `run --json` entry. */
export function runEntry(table: string, result: RunResult): RunEntry {
  const busy = result.busy !== undefined && !result.committed
  return {
    table,
    status: result.committed ? 'committed' : busy ? 'busy' : 'unchanged',
    versions: result.records.map((r) => r.version),
    applied: result.records.flatMap((r) =>
      r.files.map((f) => ({ file: f.path, rows: f.rows, counts: f.counts ?? null })),
    ),
    error: busy
      ? {
          code: 'busy',
          message: `table ${table} is held by run ${result.busy!.runId} (claimed ${result.busy!.claimedAt}, until ${result.busy!.expiresAt})`,
          file: null,
          line: null,
          column: null,
        }
      : null,
  }
}

/** A failed table's `run --json` entry. */
export function failedEntry(table: string, e: unknown): RunEntry {
  return { table, status: 'failed', versions: [], applied: [], error: jsonError(e) }
}

export function printJson(io: Io, value: unknown): void {
  io.out.write(`${JSON.stringify(value)}\n`)
}
