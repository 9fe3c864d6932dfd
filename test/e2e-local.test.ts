/**
 * `npm run e2e` inside the suite: a real PostgreSQL, the capture of three tables (the reference users with features;
 * orders with a composite key, numeric and timestamptz; settings with json and boolean), moto's S3 + SQS + Glue and the
 * real merge Lambda handler (scripts/e2e.ts). The flow asserts itself (each published table = its source table row for
 * row, features = the engine's features over the source, Glue at each current version, a change to one table commits
 * only it) and throws otherwise; this test checks the report on top: full loads, every op captured in every table,
 * and the crash tests actually ran.
 */
import { describe, expect, it } from 'vitest'
import { formatReport, runE2e } from '../scripts/e2e.js'
import { useMoto } from './helpers/moto.js'

describe('local end to end: PostgreSQL -> capture -> staging -> SQS -> handler -> final', () => {
  const moto = useMoto()

  it('publishes exactly the three source tables and the features, through an injected crash and a SIGKILL', async () => {
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
      expect(report.tables.map((t) => [t.name, t.rowsLoaded, t.loadFiles])).toEqual([
        ['users', 101, 1],
        ['orders', 60, 1],
        ['settings', 15, 1],
      ])
      for (const t of report.tables) {
        expect(t.changes.I, t.name).toBeGreaterThan(0)
        expect(t.changes.U, t.name).toBeGreaterThan(0)
        expect(t.changes.D, t.name).toBeGreaterThan(0)
        expect(t.sourceRows, t.name).toBeGreaterThan(10)
      }
      expect(report.tables[0]!.sourceRows).toBeGreaterThan(100)
      expect(report.killedAfterFiles).toBeGreaterThanOrEqual(1)
      expect(report.replayed).toBeGreaterThanOrEqual(1) // the injected crash, at least
      expect(report.oneTable.files).toHaveLength(1)
      expect(report.oneTable.files[0]).toMatch(/^sales\/orders\/\d{8}-\d{9}\.csv$/)
      const { versionsBefore: before, versionsAfter: after } = report.oneTable
      expect(after).toEqual({ ...before, orders: before.orders! + 1 })
      expect(formatReport(report)).toContain('equal to its source table row for row')
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${lines.join('\n')}`, { cause: e })
    } finally {
      await moto.reset()
    }
  })
})
