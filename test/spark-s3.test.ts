/**
 * The Spark job's S3 path (what runs on Glue) against the moto server: s3:// source and target read and written by
 * local Spark through Hadoop's S3A (glue/run_local.py fetches its jars once), the commit log through boto3's
 * conditional PutObject, and the Glue catalog switch through boto3's Glue client, all pointed at moto by the
 * standard variables useMoto() sets. Checked against the TypeScript engine running on the same S3 sources: the
 * published tables (read back by etl/ from both targets), the commit records, the Glue tables, the conditional
 * writes, and a mixed lineage TypeScript v1 -> Spark v2 -> TypeScript v3. All Spark work runs in ONE Spark session.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { GetTableCommand } from '@aws-sdk/client-glue'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openGlueCatalog } from '../etl/catalog/glue.js'
import { versionName } from '../etl/commit/layout.js'
import { type CommitRecord, claimVersion, readCommitLog } from '../etl/commit/log.js'
import { parseDateString } from '../etl/dms/values.js'
import { runPipeline } from '../etl/pipeline.js'
import { publishCommitted } from '../etl/publish.js'
import { openStorage } from '../etl/storage/open.js'
import { comparableRecord, currentRecord, pendingClaim, publishedState } from './helpers/commit-records.js'
import {
  cityMapFor,
  discoverCases,
  SEED,
  SEED_CITIES,
  SEED_FILES,
  seedRunOptions,
  tempDir,
} from './helpers/fixtures.js'
import { useMoto } from './helpers/moto.js'
import { listPrefix, newBucket, uploadFolder } from './helpers/s3-source.js'
import { PYTHON, python, type SparkResult, type SparkRun, sparkBatch } from './helpers/spark.js'

const moto = useMoto()
const STAGES = [SEED_FILES.slice(0, 2), SEED_FILES.slice(2, 4), SEED_FILES.slice(4)]
const GOLDEN = ['date-partitions', 'gzip', 'quoted-fields', 'unicode']
const FAILING = 'error-invalid-utf8'
const cases = new Map(discoverCases().map((c) => [c.name, c]))

/** The TypeScript engine on S3, publishing to the Glue catalog when a database is given. */
/**
 * A TypeScript run beside the Spark ones. Hive-style tables: the Spark route publishes the version folders to Glue and
 * no Iceberg metadata yet (README, Iceberg), so the two engines are compared like for like.
 */
async function tsRun(source: string, target: string, asOf: string, cities: Map<string, string>, db?: string) {
  return runPipeline(
    seedRunOptions(openStorage(source), openStorage(target), cities, {
      asOf: parseDateString(asOf)!,
      tableFormat: 'hive',
      ...(db ? { catalog: openGlueCatalog(db) } : {}),
    }),
  )
}

const comparable = (r: CommitRecord) => comparableRecord(r, 's3')

async function glueTable(db: string, name: string) {
  const t = (await moto.glue.send(new GetTableCommand({ DatabaseName: db, Name: name }))).Table!
  return { location: t.StorageDescriptor?.Location, version: t.Parameters?.lakesync_version }
}

let src = ''
let spark = ''
let ts = ''
const DB = { spark: '', ts: '', mixed: '', iceberg: '' }
let results = new Map<string, SparkResult>()
let probe: Record<string, unknown> = {}
let liveClaimBefore: { key: string; etag: string; size: number }[] = []

beforeAll(async () => {
  if (!existsSync(PYTHON)) throw new Error('no .venv: run `bash scripts/setup-test-env.sh`')
  await moto.reset()
  src = await newBucket(moto, 'spark-src')
  spark = await newBucket(moto, 'spark-lake')
  ts = await newBucket(moto, 'ts-lake')
  DB.spark = moto.database('spark')
  DB.ts = moto.database('ts')
  DB.mixed = moto.database('mixed')
  const runs: SparkRun[] = []
  // The Spark job switches Glue only for Hive-style tables (an Iceberg table's entry follows its metadata).
  const hive = join(tempDir(), 'hive.json')
  writeFileSync(hive, JSON.stringify({ publish: { tableFormat: 'hive' } }))
  for (const name of [...GOLDEN, FAILING]) {
    const c = cases.get(name)!
    await uploadFolder(moto, join(c.dir, 'source'), src, name)
    runs.push({
      id: name,
      source: `s3://${src}/${name}`,
      target: `s3://${spark}/${name}`,
      asOf: c.asOf,
      ...(c.cities ? { cities: join(c.dir, c.cities) } : {}),
    })
  }
  await uploadFolder(moto, SEED, src, 'seed', { only: STAGES.flat() })
  runs.push({
    id: 'seed',
    source: `s3://${src}/seed`,
    target: `s3://${spark}/seed`,
    asOf: '2021-10-17',
    config: hive,
    glueDatabase: DB.spark,
  })

  // An Iceberg table (the default format) run by Spark with a Glue database: the job leaves the catalog alone.
  DB.iceberg = moto.database('iceberg')
  await uploadFolder(moto, SEED, src, 'iceberg', { only: STAGES[0] })
  runs.push({
    id: 'iceberg',
    source: `s3://${src}/iceberg`,
    target: `s3://${spark}/iceberg`,
    asOf: '2021-10-17',
    glueDatabase: DB.iceberg,
  })

  // Mixed: TypeScript v1 now (and into an all-TypeScript target), Spark v2 in the batch, TypeScript v3 in the test.
  await uploadFolder(moto, SEED, src, 'mixed', { only: STAGES[0] })
  await tsRun(`s3://${src}/mixed`, `s3://${spark}/mixed`, '2021-10-17', SEED_CITIES, DB.mixed)
  await tsRun(`s3://${src}/mixed`, `s3://${ts}/mixed`, '2021-10-17', SEED_CITIES)
  await uploadFolder(moto, SEED, src, 'mixed', { only: STAGES[1] })
  runs.push({
    id: 'mixed-2',
    source: `s3://${src}/mixed`,
    target: `s3://${spark}/mixed`,
    asOf: '2021-10-17',
    config: hive,
    glueDatabase: DB.mixed,
  })

  // Claims: TypeScript v1, then a claim of v2 by a run that died (expired) or is still running (live).
  for (const which of ['expired', 'live'] as const) {
    await uploadFolder(moto, SEED, src, which, { only: STAGES[0] })
    const target = openStorage(`s3://${spark}/${which}`)
    await tsRun(`s3://${src}/${which}`, target.root, '2021-10-17', SEED_CITIES)
    const claimedAt = Date.now() - (which === 'expired' ? 60 * 60_000 : 0)
    const etag = await claimVersion(
      target,
      pendingClaim(2, `other-${which}`, new Date(claimedAt), 16 * 60_000),
    )
    expect(etag).not.toBeNull()
    await uploadFolder(moto, SEED, src, which, { only: STAGES[1] })
    runs.push({ id: which, source: `s3://${src}/${which}`, target: target.root, asOf: '2021-10-17' })
  }
  liveClaimBefore = await listPrefix(moto, spark, 'live')

  // The S3 adapter's conditional writes, on their own (boto3 only, no Spark).
  const probeScript = `
import json, sys
sys.path.insert(0, 'glue')
from lakesync_spark.storage import S3Storage
s = S3Storage('s3://${spark}/probe')
first = s.create_exclusive('k.json', b'one')
again = s.create_exclusive('k.json', b'two')
stale = s.replace_if_match('k.json', b'three', '"0123456789abcdef0123456789abcdef"')
swapped = s.replace_if_match('k.json', b'four', first)
after_stale = s.replace_if_match('k.json', b'five', first)
print(json.dumps({"first": first, "again": again, "stale": stale, "swapped": swapped, "afterStale": after_stale,
                  "body": s.read('k.json').decode()}))
`
  const p = await python(['-c', probeScript])
  if (p.code !== 0) throw new Error(`storage probe failed:\n${p.stderr}`)
  probe = JSON.parse(p.stdout) as Record<string, unknown>

  const t0 = Date.now()
  results = await sparkBatch(runs)
  console.log(`spark-s3: ${runs.length} Spark runs on S3 in one session: ${Date.now() - t0} ms`)
}, 600_000) // one Spark session for every run: minutes on a loaded machine

afterAll(async () => {
  await moto.reset()
})

describe('Spark job on S3 (moto)', () => {
  for (const name of [...GOLDEN, 'seed']) {
    it(`${name}: s3:// in and out, the TypeScript engine's tables, commit record and Glue tables`, async () => {
      const r = results.get(name)!
      expect(r.error ?? '').toBe('')
      expect(r).toMatchObject({ ok: true, version: 1 })
      const c = cases.get(name)
      const asOf = c?.asOf ?? '2021-10-17'
      const cities = c ? cityMapFor(c) : SEED_CITIES
      const db = name === 'seed' ? DB.ts : undefined
      await tsRun(`s3://${src}/${name}`, `s3://${ts}/${name}`, asOf, cities, db)
      const [a, b] = [openStorage(`s3://${spark}/${name}`), openStorage(`s3://${ts}/${name}`)]
      expect(await publishedState(a)).toEqual(await publishedState(b))
      const [ra, rb] = [await currentRecord(a), await currentRecord(b)]
      expect(ra.engine.name).toBe('lakesync-spark')
      expect(comparable(ra)).toEqual({ ...comparable(rb), source: `s3://${src}/${name}` })
      expect(ra.files.every((f) => f.etag?.startsWith('"') && typeof f.mtimeMs === 'number')).toBe(true)
      // Only the published layout: no S3A directory markers, staging folders or _SUCCESS files.
      expect((await listPrefix(moto, spark, name)).map((o) => o.key)).toEqual(
        [
          `${name}/_lakesync/users/commits/${versionName(1)}.json`,
          `${name}/users/v=${versionName(1)}/part-00000.parquet`,
          `${name}/users_features/v=${versionName(1)}/part-00000.parquet`,
        ].sort(),
      )
    })
  }

  it('publishes both tables to the Glue catalog as the TypeScript engine does', async () => {
    for (const table of ['users', 'users_features']) {
      expect(await glueTable(DB.spark, table)).toEqual({
        location: `s3://${spark}/seed/${table}/v=${versionName(1)}/`,
        version: '1',
      })
    }
    // The TypeScript engine's run of the same source (the seed test above) published the same, but for the bucket.
    for (const table of ['users', 'users_features'])
      expect(await glueTable(DB.ts, table)).toEqual({
        location: `s3://${ts}/seed/${table}/v=${versionName(1)}/`,
        version: '1',
      })
    const get = async (db: string) =>
      (await moto.glue.send(new GetTableCommand({ DatabaseName: db, Name: 'users_features' }))).Table!
    const [a, b] = [await get(DB.spark), await get(DB.ts)]
    expect(a.StorageDescriptor?.Columns).toEqual(b.StorageDescriptor?.Columns)
    expect(a.Parameters).toEqual(b.Parameters)
    expect(a.TableType).toEqual(b.TableType)
  })

  it('leaves an Iceberg table to the TypeScript publisher: its metadata, then the Glue Iceberg table that follows it', async () => {
    expect(results.get('iceberg')).toMatchObject({ ok: true, version: 1 })
    const target = openStorage(`s3://${spark}/iceberg`)
    const catalog = openGlueCatalog(DB.iceberg)
    expect(await catalog.currentVersions(['users'])).toEqual(new Map([['users', null]]))
    const spec = seedRunOptions(target, target, SEED_CITIES).spec
    await publishCommitted({ target, spec, catalog })
    const t = (await moto.glue.send(new GetTableCommand({ DatabaseName: DB.iceberg, Name: 'users' }))).Table!
    expect(t.Parameters?.table_type).toBe('ICEBERG')
    expect(t.Parameters?.metadata_location).toBe(`s3://${spark}/iceberg/users/metadata/v1.metadata.json`)
    const hint = await target.read('users/metadata/version-hint.text')
    expect(new TextDecoder().decode(hint)).toBe('1')
  })

  it(`${FAILING}: fails with the same error and writes nothing to S3`, async () => {
    const r = results.get(FAILING)!
    expect(r).toMatchObject({ ok: false, code: cases.get(FAILING)!.error!.code })
    expect(await listPrefix(moto, spark, FAILING)).toEqual([])
  })

  it('mixed lineage on S3: TypeScript v1, Spark v2, TypeScript v3 equal an all-TypeScript run', async () => {
    expect(results.get('mixed-2')).toMatchObject({ ok: true, version: 2 })
    const mixed = openStorage(`s3://${spark}/mixed`)
    const allTs = openStorage(`s3://${ts}/mixed`)
    await tsRun(`s3://${src}/mixed`, allTs.root, '2021-10-17', SEED_CITIES)
    expect(await publishedState(mixed)).toEqual(await publishedState(allTs))
    for (const table of ['users', 'users_features'])
      expect(await glueTable(DB.mixed, table)).toMatchObject({ version: '2' })
    await uploadFolder(moto, SEED, src, 'mixed', { only: STAGES[2] })
    const third = await tsRun(`s3://${src}/mixed`, mixed.root, '2021-10-17', SEED_CITIES, DB.mixed)
    await tsRun(`s3://${src}/mixed`, allTs.root, '2021-10-17', SEED_CITIES)
    expect(third.record?.version).toBe(3)
    expect(await publishedState(mixed)).toEqual(await publishedState(allTs))
    const log = await readCommitLog(mixed, 'users')
    expect(log.committed.map((r) => r.engine.name)).toEqual(['lakesync', 'lakesync-spark', 'lakesync'])
    const all = await readCommitLog(allTs, 'users')
    const strip = (r: CommitRecord) => ({ ...comparable(r), source: '' })
    expect(log.committed.map(strip)).toEqual(all.committed.map(strip))
    expect(await glueTable(DB.mixed, 'users')).toEqual({
      location: `${mixed.root}/users/v=${versionName(3)}/`,
      version: '3',
    })
  })

  it('conditional writes: If-None-Match refuses an existing key, If-Match a stale ETag', () => {
    expect(probe.first).toMatch(/^"[0-9a-f]{32}"$/)
    expect(probe.again).toBeNull() // create_exclusive on an existing key: 412, nothing written
    expect(probe.stale).toBeNull() // replace_if_match with a wrong ETag: 412
    expect(probe.swapped).toMatch(/^"[0-9a-f]{32}"$/)
    expect(probe.afterStale).toBeNull() // the first ETag is stale once swapped
    expect(probe.body).toBe('four')
  })

  it('abandons an expired claim by If-Match and claims the next version by If-None-Match', async () => {
    const r = results.get('expired')!
    expect(r.error ?? '').toBe('')
    expect(r).toMatchObject({ ok: true, version: 3 })
    const log = await readCommitLog(openStorage(`s3://${spark}/expired`), 'users')
    expect(log.entries.map((e) => [e.record.version, e.record.state])).toEqual([
      [1, 'committed'],
      [2, 'abandoned'],
      [3, 'committed'],
    ])
    expect(log.entries[1]!.record).toMatchObject({ runId: 'other-expired' })
    expect(log.current?.engine.name).toBe('lakesync-spark')
  })

  it('leaves a live claim alone and writes nothing', async () => {
    const r = results.get('live')!
    expect(r).toMatchObject({ ok: true, version: 1 })
    expect(r.message).toContain('being written by run other-live')
    expect(await listPrefix(moto, spark, 'live')).toEqual(liveClaimBefore)
  })
})
