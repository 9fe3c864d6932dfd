/**
 * Cases that run the same DMS files through the Spark job and the TypeScript engine (test/spark-settings*.test.ts):
 * every Spark run of a test file in one Spark session (run_local.py --batch), then per case either both engines
 * publish the same tables and commit records, or both stop with the same error code and message and commit nothing.
 * A case's `before` lineage (v1) is committed by the TypeScript engine first, as the Lambda would.
 */
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { beforeAll, expect, it } from 'vitest'
import { readCommitLog } from '../../etl/commit/log.js'
import { LocalStorage } from '../../etl/storage/local.js'
import { cli } from './cli.js'
import { listTree, tempDir } from './fixtures.js'
import { toParquet } from './parquet.js'
import {
  comparable,
  current,
  expectSameTables,
  PYTHON,
  type SparkResult,
  type SparkRun,
  sparkBatch,
} from './spark.js'

export const AS_OF = '2021-10-17'

export interface TableConfig {
  name: string
  columns: Record<string, unknown>[]
  primaryKey: string | string[]
}

/** A DMS file's text, or for a `.parquet` name the DuckDB query whose rows DMS wrote (DataFormat=parquet). */
export type Files = Record<string, string>

export interface Case {
  table: TableConfig
  format?: Record<string, unknown>
  before?: { table: TableConfig; files: Files } // committed first (v1) by the TypeScript engine
  files: Files
  mtimes?: Record<string, string> // a file's modification time (ISO), e.g. S3 LastModified; else when written
  error?: { code: string; text: string }
}

/** A config file holding `table` and `format`. */
export function configFile(table: TableConfig, format: Record<string, unknown> = {}): string {
  const file = join(tempDir('lakesync-spark-settings-config-'), 'config.json')
  writeFileSync(file, JSON.stringify({ table, format }))
  return file
}

/** Writes `files` under `dir` (folders included), then sets the modification times `mtimes` names. */
export async function writeFiles(
  dir: string,
  files: Files,
  mtimes: Record<string, string> = {},
): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    if (name.endsWith('.parquet')) await toParquet(content, join(dir, name), 'snappy')
    else writeFileSync(join(dir, name), content)
    const mtime = mtimes[name]
    if (mtime !== undefined) utimesSync(join(dir, name), new Date(mtime), new Date(mtime))
  }
}

/** The TypeScript engine (the CLI, in-process). */
export const tsRun = (source: string, target: string, config: string) =>
  cli('run', '--source', source, '--target', target, '--config', config, '--as-of', AS_OF)

/** A case's `before` lineage (v1) by the TypeScript engine into `target`; the source then gains `files`. */
async function lineage(c: Case, source: string, target: string): Promise<void> {
  if (!c.before) return
  await writeFiles(source, c.before.files, c.mtimes)
  const r = await tsRun(source, target, configFile(c.before.table, c.format))
  expect(r.err).toBe('')
}

/**
 * Registers the cases: one Spark batch before all tests, one test per case comparing the engines. Returns each
 * case's directories and the same lineage by the TypeScript engine alone, for further checks.
 */
export function sparkCases(cases: Record<string, Case>) {
  const dirs = new Map<string, { source: string; spark: string; config: string }>()
  let results = new Map<string, SparkResult>()

  beforeAll(async () => {
    if (!existsSync(PYTHON))
      throw new Error('no .venv: run `bash scripts/setup-test-env.sh` (installs pyspark)')
    const runs: SparkRun[] = []
    for (const [id, c] of Object.entries(cases)) {
      const source = tempDir('lakesync-spark-settings-src-')
      const spark = tempDir('lakesync-spark-settings-')
      await lineage(c, source, spark)
      await writeFiles(source, c.files, c.mtimes)
      const config = configFile(c.table, c.format)
      dirs.set(id, { source, spark, config })
      runs.push({ id, source, target: spark, asOf: AS_OF, config })
    }
    results = await sparkBatch(runs)
  }, 900_000) // one Spark session for every run: minutes on a loaded machine

  /** The same lineage by the TypeScript engine alone: its target. */
  async function typescriptLineage(id: string) {
    const c = cases[id]!
    const target = tempDir('lakesync-spark-settings-ts-')
    await lineage(c, tempDir('lakesync-spark-settings-before-'), target)
    return { target, run: await tsRun(dirs.get(id)!.source, target, dirs.get(id)!.config) }
  }

  for (const [id, c] of Object.entries(cases)) {
    if (c.error) {
      it(`${id}: both engines stop with ${c.error.code} and the same message, and commit nothing`, async () => {
        const r = results.get(id)!
        expect(r).toMatchObject({ ok: false, code: c.error!.code })
        expect(r.error).toContain(c.error!.text)
        const ts = await typescriptLineage(id)
        expect(ts.run.code).toBe(1)
        expect(ts.run.err).toContain(r.error)
        const spark = dirs.get(id)!.spark
        if (c.before) {
          const log = await readCommitLog(new LocalStorage(spark), 'users')
          expect(log.committed.map((v) => v.engine.name)).toEqual(['lakesync'])
        } else expect(listTree(spark)).toEqual([])
      })
      continue
    }
    it(`${id}: Spark publishes what the TypeScript engine publishes`, async () => {
      const r = results.get(id)!
      expect(r.error ?? '').toBe('')
      expect(r.ok).toBe(true)
      const ts = await typescriptLineage(id)
      expect(ts.run.err).toBe('')
      const spark = dirs.get(id)!.spark
      await expectSameTables(spark, ts.target)
      const [a, b] = [await current(spark), await current(ts.target)]
      expect(comparable(a)).toEqual(comparable(b))
      expect(a.engine.name).toBe('lakesync-spark')
    })
  }

  return { dirs, typescriptLineage }
}
