/**
 * Exactly once, in order, atomic: the commit protocol on a real folder. Races, replays, expired and stolen claims,
 * a fault at every step, reloads, changed and vanished files. Each scenario ends in the state of one clean serial run.
 */
import { cpSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Catalog, CatalogTable } from '../etl/catalog/catalog.js'
import { USERS_FEATURES_SPEC } from '../etl/city-features.js'
import { readVersionTable } from '../etl/commit/load-version.js'
import { claimVersion, readCommitLog } from '../etl/commit/log.js'
import { LakesyncError } from '../etl/errors.js'
import { type FaultStep, type RunOptions, runPipeline } from '../etl/pipeline.js'
import { tableToCsv } from '../etl/report/csv-export.js'
import { LocalStorage } from '../etl/storage/local.js'
import type { Storage } from '../etl/storage/storage.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import { cityMapFor, REPO, seedRunOptions, tempDir } from './helpers/fixtures.js'

const SEED = join(REPO, 'examples', 'pyspark-cdc', 'data')
const CITIES = cityMapFor({ dir: REPO })
const LATER = [
  '20211018-223933563.csv',
  '20211018-224657689.csv',
  '20211018-225235856.csv',
  '20211018-225959941.csv',
]

/** A catalog that remembers where each table points (the Glue adapter is tested against moto separately). */
class RecordingCatalog implements Catalog {
  readonly name = 'memory'
  readonly tables = new Map<string, CatalogTable>()
  async publish(tables: CatalogTable[]): Promise<void> {
    for (const t of tables) this.tables.set(t.name, t)
  }
  async currentVersions(names: string[]): Promise<Map<string, number | null>> {
    return new Map(names.map((n) => [n, this.tables.get(n)?.version ?? null]))
  }
}

function options(source: Storage, target: Storage, extra: Partial<RunOptions> = {}): RunOptions {
  return seedRunOptions(source, target, CITIES, extra)
}

function seedSource(files?: string[]): string {
  const dir = tempDir()
  cpSync(SEED, dir, { recursive: true })
  if (files) for (const f of LATER) if (!files.includes(f)) rmSync(join(dir, f))
  return dir
}

/** The published state: both tables as CSV, plus every file applied by the committed lineage (each once). */
async function state(target: string) {
  const storage = new LocalStorage(target)
  const log = await readCommitLog(storage, 'users')
  const current = log.current!
  const applied = log.committed.flatMap((r) => r.files.filter((f) => f.kind === 'change').map((f) => f.path))
  return {
    users: tableToCsv(await readVersionTable(storage, current, USERS_SPEC, 'users')),
    features: tableToCsv(await readVersionTable(storage, current, USERS_FEATURES_SPEC, 'users_features')),
    applied: applied.sort(),
  }
}

async function cleanRunState() {
  const target = tempDir()
  await runPipeline(options(new LocalStorage(SEED), new LocalStorage(target)))
  return state(target)
}

describe('commit protocol', () => {
  it('concurrent runs leave exactly the state of one serial run', async () => {
    const clean = await cleanRunState()
    const source = new LocalStorage(seedSource())
    const targetDir = tempDir()
    const results = await Promise.all(
      Array.from({ length: 4 }, () => runPipeline(options(source, new LocalStorage(targetDir)))),
    )
    expect(results.filter((r) => r.committed)).toHaveLength(1)
    expect(await state(targetDir)).toEqual(clean)
    expect((await readCommitLog(new LocalStorage(targetDir), 'users')).entries).toHaveLength(1)
  })

  it('a replayed run, or an identical re-upload, commits nothing', async () => {
    const sourceDir = seedSource()
    const targetDir = tempDir()
    await runPipeline(options(new LocalStorage(sourceDir), new LocalStorage(targetDir)))
    const again = await runPipeline(options(new LocalStorage(sourceDir), new LocalStorage(targetDir)))
    expect(again.committed).toBe(false)
    expect(again.message).toMatch(/^up to date/)
    // Same bytes written again (new mtime): re-hashed, found identical, not applied twice.
    const f = join(sourceDir, LATER[0]!)
    writeFileSync(f, readFileSync(f))
    utimesSync(f, new Date(), new Date(Date.now() + 5000))
    expect(
      (await runPipeline(options(new LocalStorage(sourceDir), new LocalStorage(targetDir)))).committed,
    ).toBe(false)
  })

  it('files that arrive in several drops are each applied once, in order', async () => {
    const clean = await cleanRunState()
    const sourceDir = seedSource([])
    const targetDir = tempDir()
    await runPipeline(options(new LocalStorage(sourceDir), new LocalStorage(targetDir)))
    for (const f of LATER) {
      cpSync(join(SEED, f), join(sourceDir, f))
      expect(
        (await runPipeline(options(new LocalStorage(sourceDir), new LocalStorage(targetDir)))).committed,
      ).toBe(true)
    }
    expect(await state(targetDir)).toEqual(clean)
  })

  it('waits for a live claim of another run, and takes over an expired one', async () => {
    const source = new LocalStorage(seedSource())
    const target = new LocalStorage(tempDir())
    const claimedAt = new Date()
    await claimVersion(target, {
      state: 'pending',
      version: 1,
      table: 'users',
      runId: 'crashed-run',
      claimedAt: claimedAt.toISOString(),
      expiresAt: new Date(claimedAt.getTime() + 60_000).toISOString(),
    })
    const waiting = await runPipeline(options(source, target))
    expect(waiting.committed).toBe(false)
    expect(waiting.message).toContain('is being written by run crashed-run')
    const later = await runPipeline(
      options(source, target, { now: () => new Date(claimedAt.getTime() + 61_000) }),
    )
    expect(later.committed).toBe(true)
    expect(later.version).toBe(2)
    const log = await readCommitLog(target, 'users')
    expect(log.entries.map((e) => e.record.state)).toEqual(['abandoned', 'committed'])
  })

  it('a slow run whose claim was taken over commits nothing and converges', async () => {
    const clean = await cleanRunState()
    const source = new LocalStorage(seedSource())
    const targetDir = tempDir()
    const target = new LocalStorage(targetDir)
    let thief: Awaited<ReturnType<typeof runPipeline>> | undefined
    const slow = await runPipeline(
      options(source, target, {
        claimTtlMs: 1, // its claim expires at once
        faults: async (step) => {
          // Between writing its files and committing, another run finds the claim expired and takes over.
          if (step === 'after-write' && !thief) thief = await runPipeline(options(source, target))
        },
      }),
    )
    expect(thief?.committed).toBe(true)
    expect(thief?.version).toBe(2)
    expect(slow.committed).toBe(false)
    const log = await readCommitLog(target, 'users')
    expect(log.entries.map((e) => e.record.state)).toEqual(['abandoned', 'committed'])
    expect(await state(targetDir)).toEqual(clean)
  })

  // Every FaultStep, in run order (a Record so that a new step cannot be left out of the matrix).
  const steps = Object.keys({
    'after-read': 0,
    'after-claim': 0,
    'after-write-users': 0,
    'after-write': 0,
    'after-write-snapshot': 0,
    'after-commit': 0,
    'after-catalog': 0,
  } satisfies Record<FaultStep, 0>) as FaultStep[]
  for (const step of steps) {
    it(`a run that fails ${step} is converged by the next run, catalog included`, async () => {
      const clean = await cleanRunState()
      const source = new LocalStorage(seedSource())
      const targetDir = tempDir()
      const catalog = new RecordingCatalog()
      const failing = runPipeline(
        options(source, new LocalStorage(targetDir), {
          catalog,
          faults: (s) => {
            if (s === step) throw new Error(`injected fault ${step}`)
          },
        }),
      )
      await expect(failing).rejects.toThrow(`injected fault ${step}`)
      const log = await readCommitLog(new LocalStorage(targetDir), 'users')
      const committedBefore = log.committed.length
      expect(committedBefore).toBe(step === 'after-commit' || step === 'after-catalog' ? 1 : 0)
      // Readers never see a version that is not committed.
      for (const t of catalog.tables.values())
        expect(log.committed.map((r) => r.version)).toContain(t.version)
      const next = await runPipeline(options(source, new LocalStorage(targetDir), { catalog }))
      expect(next.committed).toBe(committedBefore === 0)
      expect(await state(targetDir)).toEqual(clean)
      const current = (await readCommitLog(new LocalStorage(targetDir), 'users')).current!
      expect([...catalog.tables.values()].map((t) => t.version)).toEqual([current.version, current.version])
      expect(catalog.tables.get('users')!.location).toBe(
        `${targetDir}/users/v=${String(current.version).padStart(20, '0')}/`,
      )
    })
  }

  it('a new full load after applied changes stops the run; reload rebuilds from the source', async () => {
    const sourceDir = seedSource()
    const targetDir = tempDir()
    await runPipeline(options(new LocalStorage(sourceDir), new LocalStorage(targetDir)))
    writeFileSync(join(sourceDir, 'LOAD00000002.csv'), '500,New Person,Austin,2021-10-16\n')
    const err = await runPipeline(options(new LocalStorage(sourceDir), new LocalStorage(targetDir))).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(LakesyncError)
    expect((err as LakesyncError).code).toBe('late_file')
    expect((err as LakesyncError).message).toContain('lakesync reload')
    const reloaded = await runPipeline(
      options(new LocalStorage(sourceDir), new LocalStorage(targetDir), { reload: true }),
    )
    expect(reloaded.record?.reload).toBe(true)
    expect(reloaded.record?.files).toHaveLength(7)
    const fresh = tempDir()
    await runPipeline(options(new LocalStorage(sourceDir), new LocalStorage(fresh)))
    const a = await state(targetDir)
    const b = await state(fresh)
    expect([a.users, a.features]).toEqual([b.users, b.features])
    expect(
      (await runPipeline(options(new LocalStorage(sourceDir), new LocalStorage(targetDir)))).committed,
    ).toBe(false)
  })

  it('an applied file that vanishes early is an error; one past the staging expiry is not', async () => {
    const sourceDir = seedSource()
    const targetDir = tempDir()
    await runPipeline(options(new LocalStorage(sourceDir), new LocalStorage(targetDir)))
    rmSync(join(sourceDir, LATER[0]!))
    const err = await runPipeline(options(new LocalStorage(sourceDir), new LocalStorage(targetDir))).catch(
      (e: unknown) => e,
    )
    expect((err as LakesyncError).code).toBe('missing_file')
    expect((err as LakesyncError).message).toContain('before the 30-day staging expiry')
    const expired = await runPipeline(
      options(new LocalStorage(sourceDir), new LocalStorage(targetDir), {
        now: () => new Date(Date.now() + 31 * 86_400_000),
      }),
    )
    expect(expired.committed).toBe(false)
    expect(expired.message).toMatch(/^up to date/)
  })
})
