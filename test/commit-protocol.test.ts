/**
 * Exactly once, in order, atomic: the commit protocol on a real folder. Races, replays, expired and stolen claims,
 * a fault at every step, reloads, changed and vanished files. Each scenario ends in the state of one clean serial run.
 */
import { cpSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Catalog, CatalogTable } from '../etl/catalog/catalog.js'
import { claimVersion, readCommitLog } from '../etl/commit/log.js'
import { type FaultStep, runPipeline } from '../etl/pipeline.js'
import { LocalStorage } from '../etl/storage/local.js'
import { pendingClaim, publishedState } from './helpers/commit-records.js'
import { rejection, SEED, SEED_FILES, seedCopy, seedOptions, tempDir } from './helpers/fixtures.js'

const LATER = SEED_FILES.slice(2)

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

/** The snapshot an Iceberg reader sees through version-hint.text (null before the first publish). */
async function icebergCurrent(targetDir: string, table: string): Promise<number | null> {
  let hint: string
  try {
    hint = readFileSync(join(targetDir, table, 'metadata', 'version-hint.text'), 'utf8')
  } catch {
    return null
  }
  const meta = JSON.parse(readFileSync(join(targetDir, table, 'metadata', `v${hint}.metadata.json`), 'utf8'))
  return meta['current-snapshot-id'] as number
}

/** The published state of a target folder: both tables as CSV, and the files its lineage applied, in order. */
const state = (target: string) => publishedState(new LocalStorage(target))

async function cleanRunState() {
  const target = tempDir()
  await runPipeline(seedOptions(new LocalStorage(SEED), new LocalStorage(target)))
  return state(target)
}

describe('commit protocol', () => {
  it('concurrent runs leave exactly the state of one serial run', async () => {
    const clean = await cleanRunState()
    const source = new LocalStorage(seedCopy())
    const targetDir = tempDir()
    const results = await Promise.all(
      Array.from({ length: 4 }, () => runPipeline(seedOptions(source, new LocalStorage(targetDir)))),
    )
    expect(results.filter((r) => r.committed)).toHaveLength(1)
    expect(await state(targetDir)).toEqual(clean)
    expect((await readCommitLog(new LocalStorage(targetDir), 'users')).entries).toHaveLength(1)
  })

  it('a replayed run, or an identical re-upload, commits nothing', async () => {
    const sourceDir = seedCopy()
    const targetDir = tempDir()
    await runPipeline(seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir)))
    const again = await runPipeline(seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir)))
    expect(again.committed).toBe(false)
    expect(again.message).toMatch(/^up to date/)
    // Same bytes written again (new mtime): re-hashed, found identical, not applied twice.
    const f = join(sourceDir, LATER[0]!)
    writeFileSync(f, readFileSync(f))
    utimesSync(f, new Date(), new Date(Date.now() + 5000))
    expect(
      (await runPipeline(seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir)))).committed,
    ).toBe(false)
  })

  it('files that arrive in several drops are each applied once, in order', async () => {
    const clean = await cleanRunState()
    const sourceDir = seedCopy({ without: LATER })
    const targetDir = tempDir()
    await runPipeline(seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir)))
    for (const f of LATER) {
      cpSync(join(SEED, f), join(sourceDir, f))
      expect(
        (await runPipeline(seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir)))).committed,
      ).toBe(true)
    }
    expect(await state(targetDir)).toEqual(clean)
  })

  it('waits for a live claim of another run, and takes over an expired one', async () => {
    const source = new LocalStorage(seedCopy())
    const target = new LocalStorage(tempDir())
    const claimedAt = new Date()
    await claimVersion(target, pendingClaim(1, 'crashed-run', claimedAt))
    const waiting = await runPipeline(seedOptions(source, target))
    expect(waiting.committed).toBe(false)
    expect(waiting.message).toContain('is being written by run crashed-run')
    const later = await runPipeline(
      seedOptions(source, target, { now: () => new Date(claimedAt.getTime() + 61_000) }),
    )
    expect(later.committed).toBe(true)
    expect(later.version).toBe(2)
    const log = await readCommitLog(target, 'users')
    expect(log.entries.map((e) => e.record.state)).toEqual(['abandoned', 'committed'])
  })

  it('a slow run whose claim was taken over commits nothing and converges', async () => {
    const clean = await cleanRunState()
    const source = new LocalStorage(seedCopy())
    const targetDir = tempDir()
    const target = new LocalStorage(targetDir)
    let thief: Awaited<ReturnType<typeof runPipeline>> | undefined
    const slow = await runPipeline(
      seedOptions(source, target, {
        claimTtlMs: 1, // its claim expires at once
        faults: async (step) => {
          // Between writing its files and committing, another run finds the claim expired and takes over.
          if (step === 'after-write' && !thief) thief = await runPipeline(seedOptions(source, target))
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
    'after-iceberg-manifests': 0,
    'after-iceberg-metadata': 0,
    'after-iceberg': 0,
    'after-catalog': 0,
  } satisfies Record<FaultStep, 0>) as FaultStep[]
  const committedAt = (step: FaultStep) =>
    [
      'after-commit',
      'after-iceberg-manifests',
      'after-iceberg-metadata',
      'after-iceberg',
      'after-catalog',
    ].includes(step)
  for (const step of steps) {
    it(`a run that fails ${step} is converged by the next run, catalog included`, async () => {
      const clean = await cleanRunState()
      const source = new LocalStorage(seedCopy())
      const targetDir = tempDir()
      const catalog = new RecordingCatalog()
      const failing = runPipeline(
        seedOptions(source, new LocalStorage(targetDir), {
          catalog,
          faults: (s) => {
            if (s === step) throw new Error(`injected fault ${step}`)
          },
        }),
      )
      await expect(failing).rejects.toThrow(`injected fault ${step}`)
      const log = await readCommitLog(new LocalStorage(targetDir), 'users')
      const committedBefore = log.committed.length
      expect(committedBefore).toBe(committedAt(step) ? 1 : 0)
      // Readers never see a version that is not committed: not through the catalog, not through Iceberg.
      for (const t of catalog.tables.values())
        expect(log.committed.map((r) => r.version)).toContain(t.version)
      for (const table of ['users', 'users_features']) {
        const visible = await icebergCurrent(targetDir, table)
        if (visible !== null) expect(log.committed.map((r) => r.version)).toContain(visible)
      }
      const next = await runPipeline(seedOptions(source, new LocalStorage(targetDir), { catalog }))
      expect(next.committed).toBe(committedBefore === 0)
      expect(await state(targetDir)).toEqual(clean)
      const current = (await readCommitLog(new LocalStorage(targetDir), 'users')).current!
      expect([...catalog.tables.values()].map((t) => t.version)).toEqual([current.version, current.version])
      expect(catalog.tables.get('users')!.location).toBe(
        `${targetDir}/users/v=${String(current.version).padStart(20, '0')}/`,
      )
      for (const table of ['users', 'users_features'])
        expect(await icebergCurrent(targetDir, table)).toBe(current.version)
    })
  }

  it('a new full load after applied changes stops the run; reload rebuilds from the source', async () => {
    const sourceDir = seedCopy()
    const targetDir = tempDir()
    await runPipeline(seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir)))
    writeFileSync(join(sourceDir, 'LOAD00000002.csv'), '500,New Person,Austin,2021-10-16\n')
    const err = await rejection(
      runPipeline(seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir))),
    )
    expect(err.code).toBe('late_file')
    expect(err.message).toContain('lakesync reload')
    const reloaded = await runPipeline(
      seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir), { reload: true }),
    )
    expect(reloaded.record?.reload).toBe(true)
    expect(reloaded.record?.files).toHaveLength(7)
    const fresh = tempDir()
    await runPipeline(seedOptions(new LocalStorage(sourceDir), new LocalStorage(fresh)))
    const a = await state(targetDir)
    const b = await state(fresh)
    expect([a.users, a.features]).toEqual([b.users, b.features])
    expect(
      (await runPipeline(seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir)))).committed,
    ).toBe(false)
  })

  it('an applied file that vanishes early is an error; one past the staging expiry is not', async () => {
    const sourceDir = seedCopy()
    const targetDir = tempDir()
    await runPipeline(seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir)))
    rmSync(join(sourceDir, LATER[0]!))
    const err = await rejection(
      runPipeline(seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir))),
    )
    expect(err.code).toBe('missing_file')
    expect(err.message).toContain('before the 30-day staging expiry')
    const expired = await runPipeline(
      seedOptions(new LocalStorage(sourceDir), new LocalStorage(targetDir), {
        now: () => new Date(Date.now() + 31 * 86_400_000),
      }),
    )
    expect(expired.committed).toBe(false)
    expect(expired.message).toMatch(/^up to date/)
  })
})
