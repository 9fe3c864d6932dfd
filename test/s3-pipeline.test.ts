/**
 * The commit protocol on S3 with the Glue catalog, both on moto: the scenarios of commit-protocol.test.ts (races,
 * replays, drops, late files, reload, a fault at every step, expired claims, vanished files) through the real S3
 * adapter (conditional PutObject) and the real Glue adapter. Each scenario ends in the state of one clean run.
 */
import { GetTableCommand } from '@aws-sdk/client-glue'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openGlueCatalog } from '../etl/catalog/glue.js'
import { USERS_FEATURES_SPEC } from '../etl/city-features.js'
import { versionName } from '../etl/commit/layout.js'
import { claimVersion, readCommitLog } from '../etl/commit/log.js'
import { type FaultStep, runPipeline } from '../etl/pipeline.js'
import { LocalStorage } from '../etl/storage/local.js'
import { openStorage } from '../etl/storage/open.js'
import type { Storage } from '../etl/storage/storage.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import { type PublishedState, pendingClaim, publishedState } from './helpers/commit-records.js'
import { rejection, SEED, SEED_FILES, seedOptions, tempDir } from './helpers/fixtures.js'
import { useMoto } from './helpers/moto.js'
import {
  deleteObject,
  getObject,
  listPrefix,
  newBucket,
  putObject,
  uploadFolder,
} from './helpers/s3-source.js'

const moto = useMoto()
const ALL = [...SEED_FILES]
const FIRST = ALL.slice(0, 2)
const LATER = ALL.slice(2)

/** A bucket with the seed data (or some of its files) under `src/`, and the S3 storages of `src` and `lake`. */
async function seeded(files: readonly string[] = ALL) {
  const bucket = await newBucket(moto, 'pipe')
  await uploadFolder(moto, SEED, bucket, 'src', { only: files })
  return {
    bucket,
    source: openStorage(`s3://${bucket}/src`),
    target: openStorage(`s3://${bucket}/lake`),
  }
}

let clean: PublishedState

beforeAll(async () => {
  await moto.reset()
  const target = new LocalStorage(tempDir())
  await runPipeline(seedOptions(new LocalStorage(SEED), target))
  clean = await publishedState(target)
  // A clean run applies every seed file once, LOAD first, changes in timestamp order.
  expect(clean.applied).toEqual(ALL)
})

afterAll(async () => {
  await moto.reset()
})

describe('commit protocol on S3 (moto)', () => {
  it('4 concurrent runs: exactly one commits, the state of one clean run', async () => {
    const { bucket, source } = await seeded()
    const database = moto.database('race')
    // All four have read the source before any claims: they race for version 1 with conditional PutObjects.
    let arrived = 0
    let release = () => {}
    const allRead = new Promise<void>((resolve) => {
      release = resolve
    })
    const barrier = async (step: FaultStep) => {
      if (step !== 'after-read') return
      if (++arrived === 4) release()
      await allRead
    }
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        runPipeline(
          seedOptions(source, openStorage(`s3://${bucket}/lake`), {
            catalog: openGlueCatalog(database),
            faults: barrier,
          }),
        ),
      ),
    )
    expect(arrived).toBe(4)
    expect(results.filter((r) => r.committed)).toHaveLength(1)
    for (const r of results.filter((x) => !x.committed))
      expect(r.message).toMatch(/^up to date: version 1 |^version 1 is being written by run /)
    const target = openStorage(`s3://${bucket}/lake`)
    expect(await publishedState(target)).toEqual(clean)
    const log = await readCommitLog(target, 'users')
    expect(log.entries.map((e) => e.record.state)).toEqual(['committed'])
    expect(await glueVersions(database)).toEqual({ users: 1, users_features: 1 })
  })

  it('a replayed run, or an identical re-upload (PutObject of the same bytes), commits nothing', async () => {
    const { bucket, source, target } = await seeded()
    expect((await runPipeline(seedOptions(source, target))).committed).toBe(true)
    const again = await runPipeline(seedOptions(source, target))
    expect(again.committed).toBe(false)
    expect(again.message).toMatch(/^up to date/)
    for (const f of [FIRST[1]!, LATER[2]!]) {
      const key = `src/${f}`
      await putObject(moto, bucket, key, await getObject(moto, bucket, key))
    }
    const reuploaded = await runPipeline(seedOptions(source, target))
    expect(reuploaded.committed).toBe(false)
    expect(reuploaded.message).toMatch(/^up to date/)
    expect((await readCommitLog(target, 'users')).entries).toHaveLength(1)
    expect(await publishedState(target)).toEqual(clean)
  })

  it('files arriving in several drops are each applied once, in order', async () => {
    const { bucket, source, target } = await seeded(FIRST)
    expect((await runPipeline(seedOptions(source, target))).record?.files.map((f) => f.path)).toEqual(FIRST)
    for (const f of LATER) {
      await uploadFolder(moto, SEED, bucket, 'src', { only: [f] })
      const r = await runPipeline(seedOptions(source, target))
      expect(r.committed).toBe(true)
      expect(r.record?.files.map((x) => x.path)).toEqual([f])
    }
    expect(await publishedState(target)).toEqual(clean)
    expect((await readCommitLog(target, 'users')).committed).toHaveLength(1 + LATER.length)
  })

  it('a late change file stops the run with late_file, naming the S3 key and lakesync reload', async () => {
    const { bucket, source, target } = await seeded()
    await runPipeline(seedOptions(source, target))
    const before = await listPrefix(moto, bucket, 'lake')
    await putObject(moto, bucket, 'src/20211017-000000000.csv', 'U,1,Late Change,Austin,2021-10-01\n')
    const e = await rejection(runPipeline(seedOptions(source, target)))
    expect(e.code).toBe('late_file')
    expect(e.message).toContain(`s3://${bucket}/src/20211017-000000000.csv`)
    expect(e.message).toContain('lakesync reload')
    expect(e.location?.file).toBe(`s3://${bucket}/src/20211017-000000000.csv`)
    expect(await listPrefix(moto, bucket, 'lake')).toEqual(before)
  })

  it('a new LOAD file stops the run; reload rebuilds (a reload record) and equals a fresh run', async () => {
    const { bucket, source, target } = await seeded()
    await runPipeline(seedOptions(source, target))
    await putObject(moto, bucket, 'src/LOAD00000002.csv', '500,New Person,Austin,2021-10-16\n')
    const e = await rejection(runPipeline(seedOptions(source, target)))
    expect(e.code).toBe('late_file')
    expect(e.message).toContain(`s3://${bucket}/src/LOAD00000002.csv`)
    expect(e.message).toContain('lakesync reload')
    const reloaded = await runPipeline(seedOptions(source, target, { reload: true }))
    expect(reloaded.committed).toBe(true)
    expect(reloaded.version).toBe(2)
    expect(reloaded.record?.reload).toBe(true)
    expect(reloaded.record?.fullLoad).toBe(true)
    expect(reloaded.record?.files).toHaveLength(7)
    const fresh = openStorage(`s3://${bucket}/fresh`)
    await runPipeline(seedOptions(source, fresh))
    const a = await publishedState(target)
    const b = await publishedState(fresh)
    expect(a).toEqual(b)
    expect(a.users).toContain('500,New Person,Austin,2021-10-16')
    expect((await runPipeline(seedOptions(source, target))).committed).toBe(false)
  })

  it('an expired claim is abandoned; a live one makes the run return without committing', async () => {
    const { source, target } = await seeded()
    const claimedAt = new Date()
    const etag = await claimVersion(target, pendingClaim(1, 'crashed-run', claimedAt))
    expect(etag).not.toBeNull()
    const waiting = await runPipeline(seedOptions(source, target))
    expect(waiting.committed).toBe(false)
    expect(waiting.version).toBe(0)
    expect(waiting.message).toContain('version 1 is being written by run crashed-run')
    const warnings: string[] = []
    const later = await runPipeline(
      seedOptions(source, target, {
        now: () => new Date(claimedAt.getTime() + 61_000),
        onWarning: (m) => warnings.push(m),
      }),
    )
    expect(later.committed).toBe(true)
    expect(later.version).toBe(2)
    expect(warnings).toContain('abandoned the expired claim of version 1 by run crashed-run')
    const log = await readCommitLog(target, 'users')
    expect(log.entries.map((e) => e.record.state)).toEqual(['abandoned', 'committed'])
    expect(await publishedState(target)).toEqual(clean)
  })

  it('an applied staging file that vanishes early is missing_file; past the staging expiry it is not', async () => {
    const { bucket, source, target } = await seeded()
    await runPipeline(seedOptions(source, target))
    await deleteObject(moto, bucket, `src/${LATER[0]}`)
    const e = await rejection(runPipeline(seedOptions(source, target)))
    expect(e.code).toBe('missing_file')
    expect(e.message).toContain(`s3://${bucket}/src/${LATER[0]}`)
    expect(e.message).toContain('before the 30-day staging expiry')
    const expired = await runPipeline(
      seedOptions(source, target, { now: () => new Date(Date.now() + 31 * 86_400_000) }),
    )
    expect(expired.committed).toBe(false)
    expect(expired.message).toMatch(/^up to date/)
    const shorter = await runPipeline(
      seedOptions(source, target, { stagingExpiryDays: 2, now: () => new Date(Date.now() + 3 * 86_400_000) }),
    )
    expect(shorter.committed).toBe(false)
  })
})

/** The version each Glue table points at, checking that it is the Iceberg table at the lake's table root. */
async function glueVersions(database: string, lake?: string): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {}
  for (const name of [USERS_SPEC.name, USERS_FEATURES_SPEC.name]) {
    try {
      const t = (await moto.glue.send(new GetTableCommand({ DatabaseName: database, Name: name }))).Table
      const v = Number(t?.Parameters?.lakesync_version)
      if (lake !== undefined)
        expect([t?.StorageDescriptor?.Location, t?.Parameters?.table_type]).toEqual([
          `${lake}/${name}`,
          'ICEBERG',
        ])
      if (lake !== undefined)
        expect(t?.Parameters?.metadata_location).toMatch(
          new RegExp(`^${lake}/${name}/metadata/v\\d+\\.metadata\\.json$`),
        )
      out[name] = v
    } catch (e) {
      if ((e as { name?: string }).name !== 'EntityNotFoundException') throw e
      out[name] = null
    }
  }
  return out
}

describe('a failure at every step on S3 + Glue is converged by the next run', () => {
  const steps: FaultStep[] = [
    'after-read',
    'after-claim',
    'after-write-users',
    'after-write',
    'after-commit',
    'after-catalog',
  ]
  steps.forEach((step, i) => {
    it(`fails ${step}, then a clean run`, async () => {
      const { bucket, source } = await seeded()
      const lake = `s3://${bucket}/lake`
      const database = moto.database(`fault${i}`)
      const failing = runPipeline(
        seedOptions(source, openStorage(lake), {
          catalog: openGlueCatalog(database),
          faults: (s) => {
            if (s === step) throw new Error(`injected fault ${step}`)
          },
        }),
      )
      await expect(failing).rejects.toThrow(`injected fault ${step}`)
      const target = openStorage(lake)
      const log = await readCommitLog(target, 'users')
      const committedBefore = step === 'after-commit' || step === 'after-catalog' ? 1 : 0
      expect(log.committed).toHaveLength(committedBefore)
      // A claim given up by the failing run is abandoned at once, not left pending.
      expect(log.entries.map((e) => e.record.state)).toEqual(
        step === 'after-read' ? [] : committedBefore ? ['committed'] : ['abandoned'],
      )
      // Readers never see a version that is not committed.
      const first = await glueVersions(database, lake)
      expect(first).toEqual(
        step === 'after-catalog' ? { users: 1, users_features: 1 } : { users: null, users_features: null },
      )

      const next = await runPipeline(
        seedOptions(source, openStorage(lake), { catalog: openGlueCatalog(database) }),
      )
      expect(next.committed).toBe(committedBefore === 0)
      const after = await readCommitLog(target, 'users')
      expect(after.committed).toHaveLength(1)
      const state = await publishedState(target)
      expect(state).toEqual(clean)
      expect(new Set(state.applied).size).toBe(state.applied.length)
      const v = after.current!.version
      expect(v).toBe(step === 'after-read' || committedBefore ? 1 : 2)
      expect(await glueVersions(database, lake)).toEqual({ users: v, users_features: v })
    })
  })

  it('a failed upload of the users_features part commits nothing; the next run converges', async () => {
    const { bucket, source } = await seeded()
    const lake = `s3://${bucket}/lake`
    const database = moto.database('upload')
    const real = openStorage(lake)
    const failingUpload: Storage = {
      root: real.root,
      list: (p) => real.list(p),
      read: (p) => real.read(p),
      readVersioned: (p) => real.readVersioned(p),
      write: async (p, bytes) => {
        if (p.startsWith(`${USERS_FEATURES_SPEC.name}/`))
          throw new Error(`s3: PutObject ${real.root}/${p}: RequestTimeout: upload interrupted`)
        return real.write(p, bytes)
      },
      createExclusive: (p, b) => real.createExclusive(p, b),
      replaceIfMatch: (p, b, e) => real.replaceIfMatch(p, b, e),
      remove: (p) => real.remove(p),
    }
    await expect(
      runPipeline(seedOptions(source, failingUpload, { catalog: openGlueCatalog(database) })),
    ).rejects.toThrow('upload interrupted')
    const log = await readCommitLog(real, 'users')
    expect(log.entries.map((e) => e.record.state)).toEqual(['abandoned'])
    expect(await glueVersions(database)).toEqual({ users: null, users_features: null })
    // The users part of the abandoned version was written; nothing points at it.
    const keys = (await listPrefix(moto, bucket, 'lake')).map((o) => o.key)
    expect(keys).toContain(`lake/users/v=${versionName(1)}/part-00000.parquet`)
    expect(keys).not.toContain(`lake/users_features/v=${versionName(1)}/part-00000.parquet`)

    const next = await runPipeline(seedOptions(source, real, { catalog: openGlueCatalog(database) }))
    expect(next.committed).toBe(true)
    expect(next.version).toBe(2)
    expect(await publishedState(real)).toEqual(clean)
    expect(await glueVersions(database, lake)).toEqual({ users: 2, users_features: 2 })
  })
})
