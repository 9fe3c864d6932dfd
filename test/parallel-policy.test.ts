/** When a run uses its worker thread: the two size thresholds, their overrides and their errors. */
import { afterEach, describe, expect, it } from 'vitest'
import {
  PARALLEL_CSV_MIN_BYTES,
  PARALLEL_MIN_ROWS,
  parallelCsvThreshold,
  parallelMinRows,
} from '../etl/threads/policy.js'

const VARS = ['LAKESYNC_PARALLEL_CSV_BYTES', 'LAKESYNC_PARALLEL_MIN_ROWS'] as const
const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]))
afterEach(() => {
  for (const v of VARS)
    if (saved[v] === undefined) delete process.env[v]
    else process.env[v] = saved[v]
})

describe('parallel policy', () => {
  it('parses CSV files of 64 MiB and more in pieces unless LAKESYNC_PARALLEL_CSV_BYTES says otherwise', () => {
    delete process.env.LAKESYNC_PARALLEL_CSV_BYTES
    expect(parallelCsvThreshold()).toBe(PARALLEL_CSV_MIN_BYTES)
    expect(PARALLEL_CSV_MIN_BYTES).toBe(64 * 1024 * 1024)
    process.env.LAKESYNC_PARALLEL_CSV_BYTES = ' '
    expect(parallelCsvThreshold()).toBe(PARALLEL_CSV_MIN_BYTES)
    process.env.LAKESYNC_PARALLEL_CSV_BYTES = '0'
    expect(parallelCsvThreshold()).toBe(0)
  })

  it('encodes tables of 3M rows and more on both threads unless LAKESYNC_PARALLEL_MIN_ROWS says otherwise', () => {
    delete process.env.LAKESYNC_PARALLEL_MIN_ROWS
    expect(parallelMinRows()).toBe(PARALLEL_MIN_ROWS)
    expect(PARALLEL_MIN_ROWS).toBe(3_000_000)
    process.env.LAKESYNC_PARALLEL_MIN_ROWS = '0'
    expect(parallelMinRows()).toBe(0)
    process.env.LAKESYNC_PARALLEL_MIN_ROWS = '250000'
    expect(parallelMinRows()).toBe(250_000)
  })

  it('rejects a bad value with a clear configuration error naming the variable', () => {
    for (const bad of ['-1', '1.5', 'lots', '1e40']) {
      process.env.LAKESYNC_PARALLEL_CSV_BYTES = bad
      expect(() => parallelCsvThreshold()).toThrow(
        `LAKESYNC_PARALLEL_CSV_BYTES="${bad}" (expected a whole number of bytes, 0 to parse every file in pieces)`,
      )
      process.env.LAKESYNC_PARALLEL_MIN_ROWS = bad
      expect(() => parallelMinRows()).toThrow(
        `LAKESYNC_PARALLEL_MIN_ROWS="${bad}" (expected a whole number of rows, 0 to use the worker for every table)`,
      )
    }
  })
})
