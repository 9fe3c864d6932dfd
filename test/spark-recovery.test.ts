/**
 * The Spark job (glue/lakesync_spark) on issue 19's file layouts and log records, against the TypeScript engine:
 * parallel full-load segments in both namings, a change file set aside by `lakesync skip`, and local-time change-file
 * names (datePartitionTimezone) through `lakesync run --engine spark`.
 */
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
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
const BIG_ROWS = 1_100_001 // row groups hold 1M rows: at a tiny target size, two data files
const SPLIT_CHANGE = 'U,5,renamed,City1,2021-01-01\nD,1100001,x,y,2021-01-01\n'

function largeSource(): string {
  const lines: string[] = []
  for (let i = 1; i <= BIG_ROWS; i++)
    lines.push(`${i},n${i % 997},City${i % 50},2021-0${1 + (i % 9)}-1${i % 10}`)
  return sourceDir({ 'LOAD00000001.csv': `${lines.join('\n')}\n` })
}
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
  // A version the TypeScript engine cut into two data files (over 1M rows at a tiny target), which Spark continues.
  const big = largeSource()
  const split = join(tempDir(), 'split.json')
  writeFileSync(split, JSON.stringify({ publish: { targetFileMiB: 0.001 } }))
  const lake = tempDir('lakesync-split-')
  const first = await cli(
    'run',
    '--source',
    big,
    '--target',
    lake,
    '--config',
    split,
    '--as-of',
    '2021-10-17',
  )
  if (first.code !== 0) throw new Error(first.err)
  writeFileSync(join(big, '20211018-000000001.csv'), SPLIT_CHANGE)
  dirs.set('several-files', { source: big, spark: lake })
  runs.push({ id: 'several-files', source: big, target: lake, asOf: '2021-10-17' })
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

  it('continues from a version the TypeScript engine wrote as several data files, as that engine does', async () => {
    expect(results.get('several-files')).toMatchObject({ ok: true, version: 2 })
    const { source, spark } = dirs.get('several-files')!
    const log = await readCommitLog(new LocalStorage(spark), 'users')
    expect(log.committed[0]!.outputs.users).toHaveLength(2)
    const ts = tempDir()
    const split = join(tempDir(), 'split.json')
    writeFileSync(split, JSON.stringify({ publish: { targetFileMiB: 0.001 } }))
    const run = (args: string[]) =>
      cli('run', '--source', source, '--target', ts, '--as-of', '2021-10-17', ...args)
    rmSync(join(source, '20211018-000000001.csv'))
    expect((await run(['--config', split])).code).toBe(0)
    writeFileSync(join(source, '20211018-000000001.csv'), SPLIT_CHANGE)
    expect((await run([])).code).toBe(0)
    const exported = async (lake: string) => {
      const out = join(tempDir(), 'users.csv')
      expect((await cli('export', '--target', lake, '--out', out)).code).toBe(0)
      return readFileSync(out, 'utf8')
    }
    const csv = await exported(spark)
    expect(csv).toContain('\n5,renamed,City1,2021-01-01\n')
    expect(csv.split('\n').filter((l) => l !== '')).toHaveLength(BIG_ROWS) // a header, one row deleted
    expect(csv).toBe(await exported(ts))
  })

  it('orders local-time change-file names (format.datePartitionTimezone) by UTC with --engine spark', async () => {
    const config = join(tempDir(), 'config.json')
    writeFileSync(config, JSON.stringify({ format: { datePartitionTimezone: 'America/New_York' } }))
    // 2021-11-07 01:45 EDT (05:45Z), then 01:10 EST (06:10Z): the name that sorts first was written last.
    const source = sourceDir({
      'LOAD00000001.csv': LOAD_A,
      '2021/11/07/20211107-014500000.csv': 'U,2,Bob,Houston,2021-11-07\n',
      '2021/11/07/20211107-011000000.csv': 'U,2,Bob,Waco,2021-11-07\n',
    })
    for (const [name, at] of [
      ['014500000', '2021-11-07T05:46:00Z'],
      ['011000000', '2021-11-07T06:11:00Z'],
    ] as const)
      utimesSync(join(source, `2021/11/07/20211107-${name}.csv`), new Date(at), new Date(at))
    const target = tempDir()
    const r = await cli(
      'run',
      '--source',
      source,
      '--target',
      target,
      '--config',
      config,
      '--engine',
      'spark',
    )
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const log = await readCommitLog(new LocalStorage(target), 'users')
    expect(log.current?.files.map((f) => f.path.slice(-22))).toEqual([
      'LOAD00000001.csv',
      '20211107-014500000.csv',
      '20211107-011000000.csv',
    ])
    expect(tableRows((await currentTables(target)).users)).toContainEqual(['2', 'Bob', 'Waco', '2021-11-07'])
  })
})
