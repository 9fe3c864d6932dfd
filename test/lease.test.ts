/**
 * Leases that prove life (docs/commit-protocol.md, "Leases"): the holder of a claim renews it while it works, so a
 * live holder keeps the table however long it takes and a dead one loses it within one lease; a holder whose lease
 * was taken over never commits; what dead runs leave behind is removed.
 */
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { claimVersion, readCommitLog } from '../etl/commit/log.js'
import { type RunResult, runPipeline } from '../etl/pipeline.js'
import { LocalStorage } from '../etl/storage/local.js'
import { vacuum } from '../etl/vacuum.js'
import { pendingClaim, publishedState } from './helpers/commit-records.js'
import { SEED, seedCopy, seedOptions, tempDir } from './helpers/fixtures.js'
import { PartitionedStorage } from './helpers/partitioned-storage.js'

// Short leases keep the tests quick; the heartbeat is a third of the lease, as by default.
const LEASE = { claimTtlMs: 600, heartbeatMs: 200 }

const states = async (target: LocalStorage) =>
  (await readCommitLog(target, 'users')).entries.map((e) => e.record.state)

async function cleanState() {
  const target = new LocalStorage(tempDir())
  await runPipeline(seedOptions(new LocalStorage(SEED), target))
  return publishedState(target)
}

describe('leases', () => {
  it('a live holder keeps its claim past many leases by renewing it, and another run leaves it alone', async () => {
    const source = new LocalStorage(seedCopy())
    const target = new LocalStorage(tempDir())
    let other: RunResult | undefined
    let claim: Record<string, unknown> | undefined
    const holder = await runPipeline(
      seedOptions(source, target, {
        ...LEASE,
        faults: async (step) => {
          if (step !== 'after-write') return
          await sleep(3 * LEASE.claimTtlMs) // three leases of work
          claim = (await readCommitLog(target, 'users')).head?.record as unknown as Record<string, unknown>
          other = await runPipeline(seedOptions(source, target))
        },
      }),
    )
    expect(claim?.state).toBe('pending')
    expect(Date.parse(claim?.heartbeatAt as string)).toBeGreaterThan(Date.parse(claim?.claimedAt as string))
    expect(other?.committed).toBe(false)
    expect(other?.busy?.runId).toBe(holder.records[0]?.runId)
    expect(other?.message).toContain('is being written by run')
    expect(holder.committed).toBe(true)
    expect(await states(target)).toEqual(['committed'])
  })

  it('a holder that lost its lease never commits: its renewals and its commit fail, the next run applies the files once', async () => {
    const clean = await cleanState()
    const source = new LocalStorage(seedCopy())
    const targetDir = tempDir()
    const partitioned = new PartitionedStorage(new LocalStorage(targetDir))
    const warnings: string[] = []
    let taker: RunResult | undefined
    const holder = await runPipeline(
      seedOptions(source, partitioned, {
        ...LEASE,
        onWarning: (m) => warnings.push(m),
        faults: async (step) => {
          if (step !== 'after-write') return
          // Cut off from storage, the holder cannot renew; its lease lapses and another run takes the table.
          partitioned.cut()
          await sleep(LEASE.claimTtlMs + 2 * LEASE.heartbeatMs)
          taker = await runPipeline(seedOptions(source, new LocalStorage(targetDir)))
          partitioned.heal()
        },
      }),
    )
    expect(partitioned.held).toBeGreaterThan(0) // renewals were attempted while cut off
    expect(taker?.committed).toBe(true)
    expect(taker?.version).toBe(2)
    expect(holder.committed).toBe(false)
    expect(warnings.join('\n')).toContain('the claim of version 1 was abandoned by another run')
    const target = new LocalStorage(targetDir)
    expect(await states(target)).toEqual(['abandoned', 'committed'])
    expect(await publishedState(target)).toEqual(clean)
  })

  it('a claim whose holder died is taken over once its lease ends', async () => {
    const source = new LocalStorage(seedCopy())
    const target = new LocalStorage(tempDir())
    await claimVersion(target, pendingClaim(1, 'dead-run', new Date(), LEASE.claimTtlMs))
    const early = await runPipeline(seedOptions(source, target))
    expect(early.busy?.runId).toBe('dead-run')
    await sleep(LEASE.claimTtlMs + 50)
    const warnings: string[] = []
    const later = await runPipeline(seedOptions(source, target, { onWarning: (m) => warnings.push(m) }))
    expect(later.committed).toBe(true)
    expect(warnings).toContain('abandoned the expired claim of version 1 by run dead-run')
    expect(await states(target)).toEqual(['abandoned', 'committed'])
  })

  it('vacuum abandons a lapsed claim before deleting its files, and keeps a live one', async () => {
    const target = new LocalStorage(tempDir())
    await runPipeline(seedOptions(new LocalStorage(SEED), target))
    const lapsed = pendingClaim(2, 'dead-run', new Date(Date.now() - 120_000))
    await claimVersion(target, lapsed)
    await target.write('users/v=00000000000000000002/part-00000.parquet', new Uint8Array([1]))
    const r = await vacuum(target, 'users', 3)
    expect(r.deleted).toEqual(['users/v=00000000000000000002/part-00000.parquet'])
    expect(await states(target)).toEqual(['committed', 'abandoned'])

    await claimVersion(target, pendingClaim(3, 'live-run', new Date()))
    await target.write('users/v=00000000000000000003/part-00000.parquet', new Uint8Array([1]))
    expect((await vacuum(target, 'users', 3)).deleted).toEqual([])
    expect(await states(target)).toEqual(['committed', 'abandoned', 'pending'])
  })

  it('temporary files of dead runs older than a lease are removed by the next run and by vacuum', async () => {
    const targetDir = tempDir()
    const target = new LocalStorage(targetDir)
    await runPipeline(seedOptions(new LocalStorage(SEED), target))
    const commits = join(targetDir, '_lakesync', 'users', 'commits')
    const version = join(targetDir, 'users', 'v=00000000000000000001')
    const old = new Date(Date.now() - 5 * 60_000)
    const put = (dir: string, name: string, at: Date) => {
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, name), 'partial')
      utimesSync(join(dir, name), at, at)
    }
    put(commits, '.lakesync-tmp-dead1', old)
    put(version, '.lakesync-tmp-dead2', old)
    put(commits, '.lakesync-tmp-young', new Date()) // a write in flight, or just finished dying: not yet
    const again = await runPipeline(seedOptions(new LocalStorage(SEED), target))
    expect(again.committed).toBe(false)
    expect(readdirSync(commits).filter((n) => n.startsWith('.lakesync-tmp-'))).toEqual([
      '.lakesync-tmp-young',
    ])
    expect(readdirSync(version).filter((n) => n.startsWith('.lakesync-tmp-'))).toEqual([])

    const r = await vacuum(target, 'users', 3, new Date(Date.now() + 5 * 60_000))
    expect(r.deletedTemporaries).toEqual(['_lakesync/users/commits/.lakesync-tmp-young'])
    expect(readdirSync(commits).filter((n) => n.startsWith('.lakesync-tmp-'))).toEqual([])
  })
})
