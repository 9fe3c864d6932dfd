/**
 * When a run uses its worker thread: the decisions of etl/threads/policy.ts, the thresholds' overrides and their
 * errors. The policy reads the environment once per process, so each case imports a fresh copy of the module
 * (vi.resetModules) after setting the variables, which is what a new process would see.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PARALLEL_CSV_MIN_BYTES, PARALLEL_MIN_ROWS } from '../etl/threads/policy.js'

const VARS = ['LAKESYNC_PARALLEL_CSV_BYTES', 'LAKESYNC_PARALLEL_MIN_ROWS', 'LAKESYNC_WORKERS'] as const
type Env = Partial<Record<(typeof VARS)[number], string>>
const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]))
afterEach(() => {
  for (const v of VARS)
    if (saved[v] === undefined) delete process.env[v]
    else process.env[v] = saved[v]
})

/** The policy module as a process started with `env` (one worker unless it says otherwise) loads it. */
async function policyWith(env: Env): Promise<typeof import('../etl/threads/policy.js')> {
  const full: Env = { LAKESYNC_WORKERS: '1', ...env }
  for (const v of VARS)
    if (full[v] === undefined) delete process.env[v]
    else process.env[v] = full[v]
  vi.resetModules()
  return import('../etl/threads/policy.js')
}

function caught(f: () => unknown): unknown {
  try {
    f()
  } catch (e) {
    return e
  }
  return undefined
}

describe('parallel policy', () => {
  it('parses CSV files of 64 MiB and more in pieces unless LAKESYNC_PARALLEL_CSV_BYTES says otherwise', async () => {
    expect(PARALLEL_CSV_MIN_BYTES).toBe(64 * 1024 * 1024)
    for (const unset of [undefined, ' ']) {
      const p = await policyWith({ LAKESYNC_PARALLEL_CSV_BYTES: unset })
      expect(p.parallelForCsvBytes(PARALLEL_CSV_MIN_BYTES - 1)).toBe(false)
      expect(p.parallelForCsvBytes(PARALLEL_CSV_MIN_BYTES)).toBe(true)
    }
    const every = await policyWith({ LAKESYNC_PARALLEL_CSV_BYTES: '0' })
    expect(every.parallelForCsvBytes(0)).toBe(true)
  })

  it('encodes tables of 3M rows and more on both threads unless LAKESYNC_PARALLEL_MIN_ROWS says otherwise', async () => {
    expect(PARALLEL_MIN_ROWS).toBe(3_000_000)
    const p = await policyWith({})
    expect(p.parallelForRows(PARALLEL_MIN_ROWS - 1)).toBe(false)
    expect(p.parallelForRows(PARALLEL_MIN_ROWS)).toBe(true)
    expect((await policyWith({ LAKESYNC_PARALLEL_MIN_ROWS: '0' })).parallelForRows(0)).toBe(true)
    const lower = await policyWith({ LAKESYNC_PARALLEL_MIN_ROWS: '250000' })
    expect(lower.parallelForRows(249_999)).toBe(false)
    expect(lower.parallelForRows(250_000)).toBe(true)
  })

  it('never goes parallel without workers (LAKESYNC_WORKERS=0), whatever the thresholds', async () => {
    const p = await policyWith({
      LAKESYNC_WORKERS: '0',
      LAKESYNC_PARALLEL_CSV_BYTES: '0',
      LAKESYNC_PARALLEL_MIN_ROWS: '0',
    })
    expect(p.parallelForCsvBytes(1e12)).toBe(false)
    expect(p.parallelForRows(1e9)).toBe(false)
    expect(p.parallelForColumns(8)).toBe(false)
    expect(p.csvPieces(1e9)).toBe(1) // one piece: the serial parse
  })

  it('splits a table of two or more columns, and a CSV file into one piece per thread of at least 64 KiB', async () => {
    const p = await policyWith({ LAKESYNC_WORKERS: '3' })
    expect(p.parallelForColumns(1)).toBe(false)
    expect(p.parallelForColumns(2)).toBe(true)
    expect(p.csvPieces(1e9)).toBe(4)
    expect(p.csvPieces(3 * 64 * 1024)).toBe(3)
    expect(p.csvPieces(64 * 1024 - 1)).toBe(0)
    expect(p.csvPieces(100, 5, 1)).toBe(5)
  })

  it('reads the thresholds once: changing the environment later changes nothing', async () => {
    const p = await policyWith({ LAKESYNC_PARALLEL_CSV_BYTES: '10', LAKESYNC_PARALLEL_MIN_ROWS: '10' })
    expect(p.parallelForCsvBytes(10)).toBe(true)
    expect(p.parallelForRows(10)).toBe(true)
    process.env.LAKESYNC_PARALLEL_CSV_BYTES = '1000'
    process.env.LAKESYNC_PARALLEL_MIN_ROWS = 'lots'
    expect(p.parallelForCsvBytes(10)).toBe(true)
    expect(p.parallelForRows(10)).toBe(true)
  })

  it('rejects a bad value with a clear configuration error naming the variable, on every use', async () => {
    for (const bad of ['-1', '1.5', 'lots', '1e40']) {
      const p = await policyWith({ LAKESYNC_PARALLEL_CSV_BYTES: bad, LAKESYNC_PARALLEL_MIN_ROWS: bad })
      for (let i = 0; i < 2; i++) {
        expect(() => p.parallelForCsvBytes(1)).toThrow(
          `LAKESYNC_PARALLEL_CSV_BYTES="${bad}" (expected a whole number of bytes, 0 to parse every file in pieces)`,
        )
        expect(() => p.parallelForRows(1)).toThrow(
          `LAKESYNC_PARALLEL_MIN_ROWS="${bad}" (expected a whole number of rows, 0 to use the worker for every table)`,
        )
      }
      // A ConfigError of the fresh module's own copy of etl/errors.ts: matched by name and code.
      expect(caught(() => p.parallelForRows(1))).toMatchObject({ name: 'ConfigError', code: 'bad_config' })
    }
  })
})
