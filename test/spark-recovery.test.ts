/**
 * The Spark job (glue/lakesync_spark) on issue 19's file layouts and log records, against the TypeScript engine:
 * parallel full-load segments in both namings, a change file set aside by `lakesync skip`, and the
 * datePartitionTimezone setting it refuses rather than misreads.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { readCommitLog } from '../etl/commit/log.js'
import { skipFile } from '../etl/commit/skip.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { LocalStorage } from '../etl/storage/local.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import { cli } from './helpers/cli.js'
import { currentTables, runEngine, SEED_CITIES, seedCopy, tempDir } from './helpers/fixtures.js'
import { sourceDir } from './helpers/source-files.js'
import { PYTHON, type SparkResult, type SparkRun, sparkBatch } from './helpers/spark.js'
import { tableRows } from './helpers/tables.js'

const LOAD_A = '1,Ann,Austin,2021-10-01\n2,Bob,Dallas,2021-10-02\n'
const LOAD_B = '10,Dee,Austin,2021-10-04\n'
const CHANGE = { '20211017-194324349.csv': 'U,2,Bob,Austin,2021-10-05\nI,11,Eve,Waco,2021-10-06\n' }
const SOURCES: Record<string, Record<string, string>> = {
  'segment-prefix': { 'SEGMENT2_LOAD00000001.csv': LOAD_B, 'SEGMENT1_LOAD00000001.csv': LOAD_A, ...CHANGE },
  'segment-folders': {
    'custom_segment2/LOAD00000001.csv': LOAD_B,
    'custom_segment1/LOAD00000001.csv': LOAD_A,
    ...CHANGE,
  },
  'segment-duplicate-key': {
    'SEGMENT1_LOAD00000001.csv': LOAD_A,
    'SEGMENT2_LOAD00000001.csv': '2,Al,Waco,2021-10-03\n',
  },
}
const BAD = '20211017-194324349.csv'
const dirs = new Map<string, { source: string; spark: string }>()
let results: Map<string, SparkResult>

beforeAll(async () => {
  if (!existsSync(PYTHON))
    throw new Error('no .venv: run `bash scripts/setup-test-env.sh` (installs pyspark)')
  const runs: SparkRun[] = []
  for (const [id, files] of Object.entries(SOURCES)) {
    dirs.set(id, { source: sourceDir(files), spark: tempDir('lakesync-spark-') })
    runs.push({ id, source: dirs.get(id)!.source, target: dirs.get(id)!.spark, asOf: '2021-10-17' })
  }
  // A bad first change file, set aside by the TypeScript skip before Spark runs.
  const source = seedCopy()
  writeFileSync(
    join(source, BAD),
    readFileSync(join(source, BAD), 'utf8').replace('2021-10-17', '2021-10-32'),
  )
  const spark = tempDir('lakesync-spark-')
  await skipFile(new LocalStorage(source), {
    target: new LocalStorage(spark),
    spec: USERS_SPEC,
    format: DEFAULT_DMS_FORMAT,
    path: BAD,
    by: 'ops',
    reason: 'bad date',
  })
  dirs.set('skipped', { source, spark })
  runs.push({ id: 'skipped', source, target: spark, asOf: '2021-10-17' })
  results = await sparkBatch(runs)
}, 900_000) // one Spark session: minutes on a loaded machine

describe('Spark job: parallel loads, skipped files and refused settings', () => {
  it.each(['segment-prefix', 'segment-folders'])(
    '%s: Spark publishes what the TypeScript engine publishes',
    async (id) => {
      expect(results.get(id)).toMatchObject({ ok: true })
      const { source, spark } = dirs.get(id)!
      const { target: ts } = await runEngine(source, '2021-10-17', SEED_CITIES)
      expect(tableRows((await currentTables(spark)).users)).toEqual(
        tableRows((await currentTables(ts)).users),
      )
      const files = async (t: string) =>
        (await readCommitLog(new LocalStorage(t), 'users')).current?.files.map((f) => f.path)
      expect(await files(spark)).toEqual(await files(ts))
    },
  )

  it('one key in two segments: Spark fails with duplicate_key naming both files', () => {
    const r = results.get('segment-duplicate-key')!
    expect(r).toMatchObject({ ok: false, code: 'duplicate_key' })
    expect(r.error).toContain('SEGMENT1_LOAD00000001.csv')
    expect(r.error).toContain('SEGMENT2_LOAD00000001.csv')
  })

  it('a skipped file: Spark applies the files after it, without it, as the TypeScript engine does', async () => {
    expect(results.get('skipped')).toMatchObject({ ok: true })
    const { source, spark } = dirs.get('skipped')!
    const log = await readCommitLog(new LocalStorage(spark), 'users')
    expect(log.current?.files.map((f) => f.path)).not.toContain(BAD)
    expect(log.current?.files).toHaveLength(5)
    const ts = tempDir()
    await skipFile(new LocalStorage(source), {
      target: new LocalStorage(ts),
      spec: USERS_SPEC,
      format: DEFAULT_DMS_FORMAT,
      path: BAD,
      by: 'ops',
      reason: 'bad date',
    })
    await runEngine(source, '2021-10-17', SEED_CITIES, ts)
    expect(tableRows((await currentTables(spark)).users)).toEqual(tableRows((await currentTables(ts)).users))
  })

  it('refuses format.datePartitionTimezone with a clear error before Spark starts', async () => {
    const config = join(tempDir(), 'config.json')
    writeFileSync(config, JSON.stringify({ format: { datePartitionTimezone: 'America/New_York' } }))
    const r = await cli(
      'run',
      '--source',
      seedCopy(),
      '--target',
      tempDir(),
      '--config',
      config,
      '--engine',
      'spark',
    )
    expect(r.code).toBe(2)
    expect(r.err).toContain('datePartitionTimezone is not supported by the Spark engine')
  })
})
