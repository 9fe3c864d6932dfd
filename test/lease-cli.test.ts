/**
 * Leases on the real command (the built CLI, killed, frozen and paused by LAKESYNC_FAULT_AT): a dead holder holds
 * the table for one lease at most, a live one for as long as it works; a second run says who holds the table and
 * exits 3, or with --wait runs after it; a frozen holder that lost its lease commits nothing when it wakes.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { readCommitLog } from '../etl/commit/log.js'
import { runPipeline } from '../etl/pipeline.js'
import { LocalStorage } from '../etl/storage/local.js'
import { cliChild } from './helpers/cli.js'
import { publishedState } from './helpers/commit-records.js'
import { SEED, seedCopy, seedOptions, tempDir } from './helpers/fixtures.js'

const CLAIM_1 = join('_lakesync', 'users', 'commits', '00000000000000000001.json')

/** `lakesync run` (or another command) of the built CLI on the seed data, as of its day unless given. */
function lakesync(
  env: NodeJS.ProcessEnv,
  command: string,
  source: string,
  target: string,
  ...flags: string[]
) {
  const asOf = flags.includes('--as-of') ? [] : ['--as-of', '2021-10-17']
  return cliChild(env, command, '--source', source, '--target', target, ...asOf, ...flags)
}

/** Resolves once `check` holds (looked at every 20 ms); fails the test after `ms`. */
async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await sleep(20)
  }
}

/** The run id in the claim of version 1. */
const holderOf = (target: string) => JSON.parse(readFileSync(join(target, CLAIM_1), 'utf8')).runId as string

/** A process frozen by SIGSTOP (state T in /proc). */
const stopped = (pid: number) => /^\d+ \(.*\) T /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))

async function cleanState() {
  const target = new LocalStorage(tempDir())
  await runPipeline(seedOptions(new LocalStorage(SEED), target))
  return publishedState(target)
}

const states = async (target: string) =>
  (await readCommitLog(new LocalStorage(target), 'users')).entries.map((e) => [
    e.record.state,
    'runId' in e.record ? e.record.runId : null,
  ])

describe('leases on the command line', () => {
  it('a holder SIGKILLed with a 5 s lease: the next run exits 3 naming it, status presumes it dead once the lease ends, and its files are applied within 10 s', async () => {
    const clean = await cleanState()
    const source = seedCopy()
    const target = tempDir()
    const killed = await lakesync(
      { LAKESYNC_FAULT_AT: 'after-claim:kill' },
      'run',
      source,
      target,
      '--lease-seconds',
      '5',
    ).done
    const killedAt = Date.now()
    expect(killed.signal).toBe('SIGKILL')
    const holder = holderOf(target)

    const busy = await lakesync({}, 'run', source, target).done
    expect(busy.code).toBe(3)
    expect(busy.err).toContain(`table users is held by run ${holder}`)
    const held = await cliChild({}, 'status', '--source', source, '--target', target).done
    expect(held.out).toContain(`lease: version 1 held by run ${holder}`)

    await sleep(Math.max(0, killedAt + 5_200 - Date.now()))
    const dead = await cliChild({}, 'status', '--source', source, '--target', target).done
    expect(dead.code).toBe(0)
    expect(dead.out).toMatch(
      new RegExp(`lease: version 1 claimed by run ${holder} .*holder presumed dead since`),
    )

    const next = await lakesync({}, 'run', source, target).done
    expect(next.code).toBe(0)
    expect(Date.now() - killedAt).toBeLessThan(10_000)
    expect((await states(target)).map(([s]) => s)).toEqual(['abandoned', 'committed'])
    expect(await publishedState(new LocalStorage(target))).toEqual(clean)
  }, 30_000)

  it('a live holder keeps the table past its lease: a second run exits 3 naming it, and --wait runs after it', async () => {
    const source = seedCopy()
    const target = tempDir()
    // Paused for twice its 2 s lease, alive: its heartbeats keep the lease.
    const holder = lakesync(
      { LAKESYNC_FAULT_AT: 'after-write:pause=4000' },
      'run',
      source,
      target,
      '--lease-seconds',
      '2',
    )
    await until(() => existsSync(join(target, CLAIM_1)))
    const holderId = holderOf(target)

    const busy = await lakesync({}, 'run', source, target).done
    expect(busy.code).toBe(3)
    expect(busy.err).toContain(`table users is held by run ${holderId}`)
    const status = await cliChild({}, 'status', '--source', source, '--target', target).done
    expect(status.out).toContain(`lease: version 1 held by run ${holderId}`)

    // The next day's refresh waits for the holder, then commits its own version.
    const waiter = await lakesync({}, 'run', source, target, '--wait', '--as-of', '2021-10-18').done
    expect(waiter.err).toContain(`waiting for table users: version 1 held by run ${holderId}`)
    expect(waiter.code).toBe(0)
    expect((await holder.done).code).toBe(0)
    const log = await states(target)
    expect(log.map(([s]) => s)).toEqual(['committed', 'committed'])
    expect(log[0]![1]).toBe(holderId)
    expect(log[1]![1]).not.toBe(holderId)
  }, 30_000)

  it('a frozen holder whose lease was taken over commits nothing when it wakes', async () => {
    const clean = await cleanState()
    const source = seedCopy()
    const target = tempDir()
    const holder = lakesync(
      { LAKESYNC_FAULT_AT: 'after-write:stop' },
      'run',
      source,
      target,
      '--lease-seconds',
      '2',
    )
    await until(() => existsSync(join(target, CLAIM_1)) && stopped(holder.child.pid!))
    const holderId = holderOf(target)
    await sleep(2_500) // its lease lapses: no heartbeat from a frozen process

    const taker = await lakesync({}, 'run', source, target).done
    expect(taker.code).toBe(0)
    holder.child.kill('SIGCONT')
    const woken = await holder.done
    expect(woken.code).toBe(0)
    expect(woken.err).toContain('the claim of version 1 was abandoned by another run')
    const log = await states(target)
    expect(log).toEqual([
      ['abandoned', holderId],
      ['committed', expect.not.stringMatching(holderId)],
    ])
    expect(await publishedState(new LocalStorage(target))).toEqual(clean)
  }, 30_000)
})
