/**
 * The Spark engine's lease (glue/lakesync_spark/lease.py), as the TypeScript engine's (test/lease.test.ts): a job
 * that holds a claim renews it past many leases, and one whose claim another run abandoned knows it has lost it and
 * has no ETag to commit on. Plain Python (no Spark): test/helpers/spark_lease_probe.py drives it on a local folder.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO, tempDir } from './helpers/fixtures.js'
import { PYTHON } from './helpers/spark.js'

describe('Spark engine lease', () => {
  it('renews its claim while it works, and loses it to a run that abandoned it', () => {
    const r = spawnSync(PYTHON, [join(REPO, 'test', 'helpers', 'spark_lease_probe.py'), tempDir()], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: join(REPO, 'glue') },
    })
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout) as {
      renewed: Record<string, unknown>
      lost: boolean
      release: string | null
      warnings: string[]
    }
    expect(out.renewed.state).toBe('pending')
    expect(out.renewed.leaseMs).toBe(600)
    // Renewed after three leases: its expiry is a lease after its last heartbeat, well past the first expiry.
    const beat = Date.parse(out.renewed.heartbeatAt as string)
    expect(Date.parse(out.renewed.expiresAt as string) - beat).toBe(600)
    expect(beat - Date.parse(out.renewed.claimedAt as string)).toBeGreaterThan(1200)
    expect(out.lost).toBe(true)
    expect(out.release).toBeNull()
    expect(out.warnings).toEqual([])
  })
})
