/**
 * The worker pool (etl/threads/worker-pool.ts): typed errors across the thread boundary, a crashed worker replaced,
 * LAKESYNC_WORKERS=0, encodeParquetAsync byte-identical to writeParquet, idle workers that never keep a process
 * alive, and the pool working where it ships: the compiled CLI (dist/) and an esbuild bundle like the merge Lambda's.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { AS_OF, generate } from '../bench/generate.js'
import { USERS_FEATURES_SPEC } from '../etl/city-features.js'
import { parseDmsCsv } from '../etl/dms/csv.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { csvLayout } from '../etl/dms/layout.js'
import { InputError, LakesyncError } from '../etl/errors.js'
import { parquetToTable } from '../etl/parquet/reader.js'
import { writeParquet } from '../etl/parquet/writer.js'
import { tableToCsv } from '../etl/report/csv-export.js'
import { stringColumnFrom } from '../etl/table/columns.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import { encodeParquetAsync, liveWorkers, runTask, workerCount } from '../etl/threads/worker-pool.js'
import { crashWorkerForTest, inFlightForTest, resetPoolForTest } from '../etl/threads/worker-pool-testing.js'
import type { Table, TableSpec } from '../etl/types.js'
import { enc } from './helpers/bytes.js'
import { REPO, tempDir } from './helpers/fixtures.js'

const format = DEFAULT_DMS_FORMAT
const loadLayout = csvLayout(USERS_SPEC, format, 'load')

/** A users table as the reader builds it (arrays longer than the rows), names with quotes and non-ASCII. */
function usersTable(rows: number): Table {
  const lines: string[] = []
  for (let i = 0; i < rows; i++)
    lines.push(
      `${i},${i % 50 === 0 ? '' : `"Nâme ""${i}"""`},${['Austin', 'Zürich', '', 'Nashville'][i % 4]},${i % 7 ? `2021-0${1 + (i % 9)}-1${i % 10}` : ''}`,
    )
  return parseDmsCsv(enc(lines.map((l) => `${l}\n`).join('')), 'u.csv', USERS_SPEC, loadLayout, format).rows
}

/** A features-like table: doubles, and strings built from JS values. */
function doublesTable(): Table {
  return {
    spec: {
      name: 't',
      columns: [
        { name: 'k', type: 'int32' },
        { name: 's', type: 'string' },
        { name: 'x', type: 'double' },
      ],
      primaryKey: ['k'],
    },
    length: 5,
    columns: [
      { type: 'int32', values: Int32Array.of(1, 2, 3, 4, 5), valid: Uint8Array.of(1, 1, 1, 1, 1) },
      stringColumnFrom(['a', null, '', 'a', '😀']),
      { type: 'double', values: Float64Array.of(0.1, 1 / 3, -0, Number.MAX_VALUE, 1) },
    ],
  }
}

async function withoutWorkers(): Promise<void> {
  process.env.LAKESYNC_WORKERS = '0'
  await resetPoolForTest()
}

afterEach(async () => {
  delete process.env.LAKESYNC_WORKERS
  await resetPoolForTest()
})
afterAll(async () => {
  await resetPoolForTest()
})

describe('worker pool', () => {
  it('has one worker per core but the caller, at least 1; LAKESYNC_WORKERS overrides and 0 disables', async () => {
    expect(workerCount()).toBeGreaterThanOrEqual(1)
    process.env.LAKESYNC_WORKERS = '3'
    await resetPoolForTest()
    expect(workerCount()).toBe(3)
    await withoutWorkers()
    expect(workerCount()).toBe(0)
    process.env.LAKESYNC_WORKERS = 'two'
    await resetPoolForTest()
    expect(() => workerCount()).toThrow(/LAKESYNC_WORKERS="two"/)
  })

  it('an InputError thrown in a worker arrives as an InputError with its code, location and message', async () => {
    const bytes = enc('1,A,B,2021-01-01\n2,"x\ny",B,2021-02-30\n')
    let serial: unknown
    try {
      parseDmsCsv(bytes, 'dir/f.csv', USERS_SPEC, loadLayout, format)
    } catch (e) {
      serial = e
    }
    const e = await runTask('parseCsvChunk', {
      bytes,
      file: 'dir/f.csv',
      spec: USERS_SPEC,
      layout: loadLayout,
      format,
      continuation: false,
    }).catch((x: unknown) => x)
    expect(liveWorkers()).toBe(1)
    expect(e).toBeInstanceOf(InputError)
    expect(e).toBeInstanceOf(LakesyncError)
    const err = e as InputError
    expect(err.name).toBe('InputError')
    expect(err.code).toBe('bad_date')
    expect(err.location).toEqual({ file: 'dir/f.csv', line: 3, column: 4 })
    expect(err.message).toBe((serial as Error).message)
    expect(err.stack).toContain('lakesync worker thread')
  })

  it('other errors keep their name and message', async () => {
    const broken = { ...doublesTable(), columns: [] } as Table
    const e = await encodeParquetAsync(broken).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(Error)
    expect(e).toBeInstanceOf(TypeError)
    let local: unknown
    try {
      writeParquet(broken)
    } catch (x) {
      local = x
    }
    expect((e as Error).message).toBe((local as Error).message)
  })

  it('a worker that dies rejects its task and is replaced', async () => {
    const e = await crashWorkerForTest(7).catch((x: unknown) => x)
    expect((e as Error).message).toMatch(/worker thread exited with code 7 while running crashForTest/)
    expect(liveWorkers()).toBe(0)
    const t = doublesTable()
    expect(await encodeParquetAsync(t)).toEqual(writeParquet(t))
    expect(liveWorkers()).toBe(1)
  })

  it('hands a busy worker its next task at once and answers the tasks in order', async () => {
    process.env.LAKESYNC_WORKERS = '1'
    await resetPoolForTest()
    const tables = [2000, 3, 500].map(usersTable)
    const pending = tables.map((t) => encodeParquetAsync(t))
    // All three were posted before any answer came back: none waits in this thread's queue for the one before.
    expect(inFlightForTest()).toEqual([3])
    const out = await Promise.all(pending)
    out.forEach((b, i) => {
      expect(b).toEqual(writeParquet(tables[i]!))
    })
    expect(inFlightForTest()).toEqual([0])
  })

  it('a worker that dies with tasks in hand rejects each of them, and the next task gets a new worker', async () => {
    process.env.LAKESYNC_WORKERS = '1'
    await resetPoolForTest()
    const crash = crashWorkerForTest(9).catch((x: unknown) => x)
    const behind = encodeParquetAsync(usersTable(10)).catch((x: unknown) => x)
    expect(((await crash) as Error).message).toMatch(/exited with code 9 while running crashForTest/)
    expect(((await behind) as Error).message).toMatch(/exited with code 9 while running encodeParquet/)
    const t = usersTable(20)
    expect(await encodeParquetAsync(t)).toEqual(writeParquet(t))
  })

  it('runs queued tasks on every worker and answers each task with its own result', async () => {
    process.env.LAKESYNC_WORKERS = '2'
    await resetPoolForTest()
    const tables = [1, 50, 300, 7, 1000, 2].map(usersTable)
    const out = await Promise.all(tables.map((t) => encodeParquetAsync(t)))
    out.forEach((b, i) => {
      expect(b).toEqual(writeParquet(tables[i]!))
    })
    expect(liveWorkers()).toBe(2)
  })
})

describe('encodeParquetAsync', () => {
  it('is byte-identical to writeParquet and leaves the caller its table (a copy is sent)', async () => {
    for (const t of [usersTable(3000), usersTable(0), doublesTable()]) {
      const want = writeParquet(t, { rowGroupSize: 1000 })
      const got = await encodeParquetAsync(t, { rowGroupSize: 1000 })
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true)
      expect(writeParquet(t, { rowGroupSize: 1000 })).toEqual(want) // still usable
    }
    expect(liveWorkers()).toBe(1)
  })

  it('with transfer: true moves the arrays (the caller must not use the table afterwards)', async () => {
    const t = usersTable(3000)
    const want = writeParquet(t, { compression: 'none' })
    const got = await encodeParquetAsync(t, { compression: 'none', transfer: true })
    expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true)
    const name = t.columns[1]
    expect(name?.type === 'string' && name.bytes.byteLength).toBe(0) // detached
  })

  it('with LAKESYNC_WORKERS=0 encodes in the calling thread', async () => {
    await withoutWorkers()
    const t = usersTable(500)
    expect(await encodeParquetAsync(t)).toEqual(writeParquet(t))
    expect(liveWorkers()).toBe(0)
  })
})

describe('where the pool ships', () => {
  const script = (entry: string) => `
    import * as pool from ${JSON.stringify(entry)}
    const table = { spec: { name: 't', columns: [{ name: 'k', type: 'int32' }], primaryKey: ['k'] }, length: 2,
      columns: [{ type: 'int32', values: Int32Array.of(1, 2), valid: Uint8Array.of(1, 1) }] }
    const bytes = await pool.encodeParquetAsync(table)
    const e = await pool.runTask('parseCsvChunk', { bytes: new TextEncoder().encode('x,A,B,\\n'), file: 'f.csv',
      spec: { name: 'u', columns: [{ name: 'id', type: 'int32' }, { name: 'a', type: 'string' },
        { name: 'b', type: 'string' }, { name: 'c', type: 'date' }], primaryKey: ['id'] },
      layout: { fieldCount: 4, hasOp: false, loadOnly: true, fieldColumn: Int32Array.of(0, 1, 2, 3),
        header: ['id', 'a', 'b', 'c'], sequenceField: -1 },
      format: ${JSON.stringify(DEFAULT_DMS_FORMAT)}, continuation: false }).catch((x) => x)
    const crash = await pool.runTask('crashForTest', { exitCode: 3 }).catch((x) => x.message)
    console.log(JSON.stringify({ size: bytes.length, workers: pool.liveWorkers(), name: e.name, code: e.code,
      location: e.location, crash, hooks: Object.keys(pool).filter((k) => /ForTest/.test(k)) }))
  `
  const expected = {
    size: writeParquet({
      spec: { name: 't', columns: [{ name: 'k', type: 'int32' }], primaryKey: ['k'] },
      length: 2,
      columns: [{ type: 'int32', values: Int32Array.of(1, 2), valid: Uint8Array.of(1, 1) }],
    }).length,
    workers: 1,
    name: 'InputError',
    code: 'bad_int',
    location: { file: 'f.csv', line: 1, column: 1 },
    // The test hooks live in worker-pool-testing.ts: the shipped module neither exports nor serves them.
    crash: 'worker pool: unknown task "crashForTest"',
    hooks: [],
  }

  /** Runs `code` as an ES module in a new Node process; the process must end by itself (idle workers are unref'd). */
  function runModule(dir: string, code: string, args: string[] = []) {
    const file = join(dir, 'main.mjs')
    writeFileSync(file, code)
    const r = spawnSync(process.execPath, [...args, file], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, LAKESYNC_WORKERS: '1' },
    })
    expect(r.error).toBeUndefined() // not killed by the timeout: nothing kept the process alive
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    return JSON.parse(r.stdout)
  }

  it('from TypeScript sources (tsx): an awaited task keeps the process alive, idle workers do not', () => {
    const dir = tempDir()
    const entry = join(REPO, 'etl', 'threads', 'worker-pool.ts')
    expect(runModule(dir, script(entry), ['--import', 'tsx'])).toEqual(expected)
    // Workers started ahead of any task (warmPool) do not keep the process alive either.
    const warm = `import * as pool from ${JSON.stringify(entry)}\npool.warmPool()\nconsole.log(pool.liveWorkers())`
    expect(runModule(dir, warm, ['--import', 'tsx'])).toBe(1)
  })

  it('from an esbuild bundle built like the merge Lambda (ESM, minified, one file)', async () => {
    const dir = tempDir()
    // The merge Lambda's esbuild options (lib/processing.ts): the worker re-enters the bundle itself.
    await build({
      entryPoints: [join(REPO, 'etl', 'threads', 'worker-pool.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minify: true,
      mainFields: ['module', 'main'],
      banner: {
        js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
      outfile: join(dir, 'index.mjs'),
      logLevel: 'silent',
    })
    expect(runModule(dir, script(join(dir, 'index.mjs')))).toEqual(expected)
    expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).not.toContain('crashForTest')
  })

  const cli = (target: string, src: string, env: Record<string, string>) =>
    spawnSync(
      process.execPath,
      [join(REPO, 'dist', 'cli', 'main.js'), 'run', '--source', src, '--target', target, '--as-of', AS_OF],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } },
    )
  // Every file parsed in pieces and every table encoded on both threads, however small.
  const parallelEnv = {
    LAKESYNC_PARALLEL_CSV_BYTES: '0',
    LAKESYNC_PARALLEL_MIN_ROWS: '0',
    LAKESYNC_WORKERS: '1',
  }
  const serialEnv = { LAKESYNC_WORKERS: '0' }
  /** Runs `source` in parallel and serially into two new folders, both required to succeed. */
  const runBoth = (source: string): [string, string] => {
    const a = tempDir()
    const b = tempDir()
    const pa = cli(a, source, parallelEnv)
    const sb = cli(b, source, serialEnv)
    expect(pa.status, pa.stderr).toBe(0)
    expect(sb.status, sb.stderr).toBe(0)
    return [a, b]
  }
  // The tables as values, and the published files' bytes: dictionaries are put in normal form after the merge,
  // so how the pieces coded their columns cannot show in the output.
  const parquetBytes = (target: string) =>
    ['users', 'users_features'].map((t) => {
      const v = join(target, t, readdirSync(join(target, t)).find((d) => d.startsWith('v='))!)
      return readFileSync(join(v, 'part-00000.parquet')).toString('base64')
    })
  const tables = (target: string) =>
    Promise.all(
      [
        ['users', USERS_SPEC],
        ['users_features', USERS_FEATURES_SPEC],
      ].map(async ([t, spec]) => {
        const v = join(
          target,
          t as string,
          readdirSync(join(target, t as string)).find((d) => d.startsWith('v='))!,
        )
        const file = join(v, 'part-00000.parquet')
        return tableToCsv(await parquetToTable(readFileSync(file), spec as TableSpec, file))
      }),
    )

  it('from dist/ (the CLI): a parallel parse gives the same tables and the same error as the serial one', async () => {
    const source = generate(REPO, { users: 20_000, changes: 2000, files: 5, seed: 7 })
    const [a, b] = runBoth(source)
    const [ua, fa] = await tables(a)
    const [ub, fb] = await tables(b)
    expect(ua).toBe(ub)
    expect(fa).toBe(fb)
    expect(parquetBytes(a)).toEqual(parquetBytes(b))

    // A bad row late in the full load: the same message (file, line, column) from both.
    const bad = tempDir()
    for (const f of readdirSync(source)) copyFileSync(join(source, f), join(bad, f))
    const load = join(bad, 'LOAD00000001.csv')
    const lines = readFileSync(load, 'utf8').split('\n')
    lines[lines.length - 100] = '123,"Bad ""row""",Austin,2021-02-30'
    writeFileSync(load, lines.join('\n'))
    const pe = cli(tempDir(), bad, parallelEnv)
    const se = cli(tempDir(), bad, serialEnv)
    expect(se.status).toBe(1)
    expect(se.stderr).toContain(`line ${lines.length - 99} column 4`)
    expect(pe.status).toBe(1)
    expect(pe.stderr).toBe(se.stderr)
  })

  it('from dist/ (the CLI): a change file large enough to be parsed in pieces applies like a small one', async () => {
    // One change file of ~8000 rows (~350 KB): cut into pieces, its text columns come back as dictionary columns,
    // which the merge appends from (DMS writes change files of up to 32 MB by default, CdcMinFileSize).
    const source = generate(REPO, { users: 5000, changes: 8000, files: 1, seed: 11 })
    const change = readdirSync(source).find((f) => !f.startsWith('LOAD'))!
    expect(statSync(join(source, change)).size).toBeGreaterThan(2 * 64 * 1024)
    const [a, b] = runBoth(source)
    expect(await tables(a)).toEqual(await tables(b))
    expect(parquetBytes(a)).toEqual(parquetBytes(b))
  })
})
