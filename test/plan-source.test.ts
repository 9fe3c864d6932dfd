/**
 * One planning path (etl/commit/plan-source.ts): `lakesync status` reports the pending files and the error that
 * `lakesync run` then applies or stops on, in every ordering mode, for late, vanished, changed and misnamed files;
 * the Lambda's routing measure counts the same pending files and sends bad input to the Lambda.
 */
import { rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readCommitLog } from '../etl/commit/log.js'
import { DEFAULT_DMS_FORMAT, parseDmsFormat } from '../etl/dms/format.js'
import { LakesyncError } from '../etl/errors.js'
import { runPipeline } from '../etl/pipeline.js'
import { tableStatus } from '../etl/status.js'
import { LocalStorage } from '../etl/storage/local.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import type { DmsFormat } from '../etl/types.js'
import { decideEngine } from '../lambdas/routing.js'
import { measureTable } from '../lambdas/run-table.js'
import { cityMapFor, REPO, seedRunOptions, tempDir } from './helpers/fixtures.js'

const CITIES = cityMapFor({ dir: REPO })
const DAY_MS = 86_400_000

/** A table's DMS rows in one ordering mode: `order` is the row's place in the column that orders the changes. */
interface Mode {
  name: DmsFormat['orderChangesBy']
  format: DmsFormat
  load: (row: string) => string
  change: (op: string, row: string, order: number) => string
}

const MODES: Mode[] = [
  { name: 'file', format: DEFAULT_DMS_FORMAT, load: (r) => r, change: (op, r) => `${op},${r}` },
  {
    name: 'timestamp',
    format: parseDmsFormat({ timestampColumnName: 'ts', orderChangesBy: 'timestamp' }),
    load: (r) => `2021-10-01 00:00:00.000000,${r}`,
    change: (op, r, n) => `${op},2021-10-17 10:00:00.${String(n).padStart(6, '0')},${r}`,
  },
  {
    name: 'changeSequence',
    format: parseDmsFormat({ changeSequenceColumnName: 'seq', orderChangesBy: 'changeSequence' }),
    load: (r) => `${r},0`,
    change: (op, r, n) => `${op},${r},${n}`,
  },
]

interface Outcome {
  pending: string[] // status: the files the next run applies; run: the files it applied
  error: { code: string; message: string } | null
}

/** A source and target folder with the table's first version committed from a LOAD and one change file. */
async function committedTable(mode: Mode, opts: { changeMtime?: Date } = {}) {
  const sourceDir = tempDir()
  const targetDir = tempDir()
  writeFileSync(join(sourceDir, 'LOAD00000001.csv'), `${mode.load('1,Ann,Austin,2021-01-01')}\n`)
  const first = join(sourceDir, '20211017-000000002.csv')
  writeFileSync(first, `${mode.change('U', '1,Ann,Boston,2021-10-02', 2)}\n`)
  if (opts.changeMtime) utimesSync(first, opts.changeMtime, opts.changeMtime)
  const source = new LocalStorage(sourceDir)
  const target = new LocalStorage(targetDir)
  await runPipeline(seedRunOptions(source, target, CITIES, { format: mode.format }))
  return {
    sourceDir,
    source,
    target,
    put: (name: string, text: string) => writeFileSync(join(sourceDir, name), text),
  }
}

/** `lakesync status` first (it writes nothing), then `lakesync run` on the same folders. */
async function statusThenRun(
  t: Awaited<ReturnType<typeof committedTable>>,
  mode: Mode,
  opts: { stagingExpiryDays?: number } = {},
): Promise<{ status: Outcome; run: Outcome }> {
  const s = await tableStatus(t.source, t.target, USERS_SPEC, mode.format, opts)
  const run = await runPipeline(
    seedRunOptions(t.source, t.target, CITIES, { format: mode.format, ...opts }),
  ).then(
    (r): Outcome => ({ pending: r.records.flatMap((rec) => rec.files.map((f) => f.path)), error: null }),
    (e: unknown): Outcome => {
      if (!(e instanceof LakesyncError)) throw e
      return { pending: [], error: { code: e.code, message: e.message } }
    },
  )
  return { status: { pending: s.pending, error: s.error }, run }
}

describe.each(MODES)('status and run agree, changes ordered by $name', (mode) => {
  it('on new change files that arrive in name order', async () => {
    const t = await committedTable(mode)
    t.put('20211017-000000004.csv', `${mode.change('U', '1,Ann,Denver,2021-10-04', 4)}\n`)
    t.put('20211017-000000003.csv', `${mode.change('I', '2,Bo,Austin,2021-10-03', 3)}\n`)
    const { status, run } = await statusThenRun(t, mode)
    expect(status).toEqual({ pending: ['20211017-000000003.csv', '20211017-000000004.csv'], error: null })
    expect(run).toEqual(status)
  })

  it('on a change file named older than one already applied: late by file order, in order by a column', async () => {
    const t = await committedTable(mode)
    // Its name sorts before the applied 20211017-000000002.csv; its ordering value (3) is newer.
    t.put('20211017-000000001.csv', `${mode.change('U', '1,Ann,Denver,2021-10-03', 3)}\n`)
    const { status, run } = await statusThenRun(t, mode)
    if (mode.name === 'file') {
      expect(status.pending).toEqual([])
      expect(status.error?.code).toBe('late_file')
      expect(status.error?.message).toContain('20211017-000000001.csv is older than')
    } else expect(status).toEqual({ pending: ['20211017-000000001.csv'], error: null })
    expect(run).toEqual(status)
  })

  it('on a change whose ordering value is older than one already applied', async () => {
    const t = await committedTable(mode)
    // Named after the applied file, but its ordering value (1) is older than the applied 2 (by a column).
    t.put('20211017-000000003.csv', `${mode.change('U', '1,Ann,Denver,2021-10-03', 1)}\n`)
    const { status, run } = await statusThenRun(t, mode)
    if (mode.name === 'file') expect(status).toEqual({ pending: ['20211017-000000003.csv'], error: null })
    else {
      expect(status.pending).toEqual(['20211017-000000003.csv'])
      expect(status.error?.code).toBe('late_file')
      expect(status.error?.message).toContain('older than')
      expect(run.error).toEqual(status.error)
      return
    }
    expect(run).toEqual(status)
  })

  it('on an applied file that vanished before the staging expiry age, and after it', async () => {
    const t = await committedTable(mode, { changeMtime: new Date(Date.now() - 10 * DAY_MS) })
    rmSync(join(t.sourceDir, '20211017-000000002.csv'))
    const early = await statusThenRun(t, mode, { stagingExpiryDays: 30 })
    expect(early.status.error?.code).toBe('missing_file')
    expect(early.status.error?.message).toContain('before the 30-day staging expiry')
    expect(early.run).toEqual(early.status)
    // Ten days old with a 7-day lifecycle rule: expired as intended, nothing to do.
    const expired = await statusThenRun(t, mode, { stagingExpiryDays: 7 })
    expect(expired.status).toEqual({ pending: [], error: null })
    expect(expired.run).toEqual(expired.status)
  })

  it('on an applied file rewritten with other bytes of the same size, and with the same bytes', async () => {
    const t = await committedTable(mode)
    const file = join(t.sourceDir, '20211017-000000002.csv')
    const later = new Date(Date.now() + 5000)
    t.put('20211017-000000002.csv', `${mode.change('U', '1,Ann,Bosten,2021-10-02', 2)}\n`)
    utimesSync(file, later, later)
    const changed = await statusThenRun(t, mode)
    expect(changed.status.error?.code).toBe('changed_file')
    expect(changed.status.error?.message).toContain('same size, different content')
    expect(changed.run).toEqual(changed.status)
    // Re-uploaded unchanged (new mtime): re-hashed, found identical, nothing pending.
    t.put('20211017-000000002.csv', `${mode.change('U', '1,Ann,Boston,2021-10-02', 2)}\n`)
    utimesSync(file, later, new Date(later.getTime() + 5000))
    const same = await statusThenRun(t, mode)
    expect(same.status).toEqual({ pending: [], error: null })
    expect(same.run).toEqual(same.status)
  })

  it('on a malformed DMS file name, named by its full path', async () => {
    const t = await committedTable(mode)
    t.put('2021-10-17.csv', `${mode.change('U', '1,Ann,Denver,2021-10-03', 3)}\n`)
    const { status, run } = await statusThenRun(t, mode)
    expect(status.error?.code).toBe('bad_file_name')
    expect(status.error?.message).toContain(JSON.stringify(join(t.sourceDir, '2021-10-17.csv')))
    expect(run).toEqual(status)
  })
})

describe('the routing measure plans like the run', () => {
  const mode = MODES[1]!
  const routing = { maxLambdaRows: 1000, maxLambdaPendingBytes: 40, maxLambdaStateBytes: 1 << 30 }

  it('counts the pending files status lists, in apply order, with their sizes', async () => {
    const t = await committedTable(mode)
    const late = `${mode.change('U', '1,Ann,Denver,2021-10-03', 3)}\n`
    const next = `${mode.change('I', '2,Bo,Austin,2021-10-04', 4)}\n`
    t.put('20211017-000000001.csv', late)
    t.put('20211017-000000005.csv', next)
    const m = await measureTable(t.source, t.target, 'users', { format: mode.format })
    const s = await tableStatus(t.source, t.target, USERS_SPEC, mode.format)
    expect(s.pending).toEqual(['20211017-000000001.csv', '20211017-000000005.csv'])
    const log = await readCommitLog(t.target, 'users')
    expect(m).toEqual({
      stateRows: 1,
      stateBytes: log.current!.snapshot!.size, // the committed table's columns in memory
      asOf: log.current!.asOf,
      pendingBytes: late.length + next.length,
      pendingFiles: 2,
      range: ['20211017-000000001.csv', '20211017-000000005.csv'],
    })
    expect(decideEngine(m, routing).engine).toBe('glue')
  })

  it('sends a table whose planning fails to the Lambda, whose run stops on that error', async () => {
    const t = await committedTable(mode)
    t.put('20211017-000000003.csv', `${mode.change('U', '1,Ann,Denver,2021-10-03', 3)}\n`.repeat(4))
    rmSync(join(t.sourceDir, '20211017-000000002.csv'))
    const m = await measureTable(t.source, t.target, 'users', { format: mode.format })
    expect(m).toEqual({
      stateRows: 0,
      stateBytes: null,
      asOf: null,
      pendingBytes: 0,
      pendingFiles: 0,
      range: null,
    })
    expect(decideEngine(m, routing).engine).toBe('lambda')
    const { run } = await statusThenRun(t, mode)
    expect(run.error?.code).toBe('missing_file')
  })
})
