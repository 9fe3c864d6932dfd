/**
 * `npm run e2e` inside the suite: a real PostgreSQL, the capture, moto's S3 + SQS + Glue and the real merge Lambda
 * handler (scripts/e2e.ts). The flow asserts itself (published users = SELECT * FROM the source, features = the
 * engine's features over the source, Glue at the current version) and throws otherwise; this test checks the
 * report on top: a full load, every op captured, and the crash tests actually ran.
 */
import { describe, expect, it } from 'vitest'
import { formatReport, runE2e } from '../scripts/e2e.js'
import { useMoto } from './helpers/moto.js'

describe('local end to end: PostgreSQL -> capture -> staging -> SQS -> handler -> final', () => {
  const moto = useMoto()

  it('publishes exactly the source table and its features, through an injected crash and a SIGKILL', async () => {
    await moto.reset()
    const lines: string[] = []
    try {
      const report = await runE2e({
        endpoint: moto.endpoint,
        names: {
          staging: moto.bucket('staging'),
          final: moto.bucket('final'),
          database: moto.database('lake'),
          queue: `lakesync-e2e-${moto.tag}`,
        },
        seed: 7,
        operations: 450,
        log: (line) => lines.push(line),
      })
      expect(report.rowsLoaded).toBe(101)
      expect(report.loadFiles).toBe(1)
      expect(report.changes.I).toBeGreaterThan(0)
      expect(report.changes.U).toBeGreaterThan(0)
      expect(report.changes.D).toBeGreaterThan(0)
      expect(report.killedAfterFiles).toBeGreaterThanOrEqual(1)
      expect(report.replayed).toBeGreaterThanOrEqual(1) // the injected crash, at least
      expect(report.sourceRows).toBeGreaterThan(100)
      expect(formatReport(report)).toContain('equal to SELECT * FROM cdc.users row for row')
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${lines.join('\n')}`, { cause: e })
    } finally {
      await moto.reset()
    }
  })
})
