/**
 * cdk-nag 3 (AWS Solutions pack) over the whole app, for the reference deployment and the three-table one: zero
 * unacknowledged findings, every acknowledgement has a written reason and answers a real finding, and the check does
 * catch a non-compliant resource.
 */
import { App, Stack, Validations } from 'aws-cdk-lib'
import * as s3 from 'aws-cdk-lib/aws-s3'
import { AwsSolutionsChecks } from 'cdk-nag'
import type { IConstruct } from 'constructs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LakesyncApp } from '../../lib/app.js'
import { buildApp, outdir, removeOutdirs } from './synth.js'
import { THREE_TABLES_CONTEXT } from './tables.js'

const KEY = Validations.ACKNOWLEDGED_RULES_METADATA_KEY

/** Every acknowledgement in the tree: construct path, rule id (without the `Annotation::` prefix) and reason. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  )
}

describe.each([
  ['the users table', {}, ['dms/public/users/', 'lake/users/', 'lake/_lakesync/users/']],
  ['three tables', THREE_TABLES_CONTEXT, ['dms/sales/orders/', 'lake/events/', 'lake/_lakesync/orders/']],
  [
    'three tables with PreserveTransactions',
    {
      ...THREE_TABLES_CONTEXT,
      'lakesync:dmsFormat': JSON.stringify({ preserveTransactions: true, cdcPath: 'cdc' }),
    },
    ['dms/cdc/', 'dms/sales/orders/', 'lake/_lakesync/orders/'],
  ],
])('cdk-nag AwsSolutions (%s)', (_name, context: Record<string, unknown>, prefixes: string[]) => {
  let built: LakesyncApp

  beforeAll(() => {
    built = buildApp(context, true) // the same plugin bin/lakesync.ts registers
  })

  it('synthesizes with the plugin registered (any unacknowledged finding would fail the synth)', () => {
    expect(() => built.app.synth()).not.toThrow()
    const report = new AwsSolutionsChecks().validateScope(built.app)
    expect(report.violations.map((v) => v.ruleName)).toEqual([])
    expect(report.success).toBe(true)
  })

  it('acknowledges only real findings, each with a specific reason', () => {
    const ours = acknowledgements(built.app).filter((a) => a.id.startsWith('AwsSolutions-'))
    expect(ours.length).toBeGreaterThan(0)
    for (const a of ours) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(60)
    // The object grants are acknowledged one table prefix at a time, never for a whole bucket or lake.
    for (const prefix of prefixes)
      expect(
        ours.some((a) => a.id.includes(`/${prefix}*]`)),
        prefix,
      ).toBe(true)
    expect(ours.some((a) => a.id.endsWith('/lake/*]'))).toBe(false)
    // Without the acknowledgements, exactly the acknowledged findings appear: none is stale or a blanket.
    const fresh = buildApp(context, false)
    fresh.app.synth()
    for (const c of fresh.app.node.findAll())
      for (const m of c.node.metadata) if (m.type === KEY) (m as { type: string }).type = 'disabled-for-test'
    const findings = new AwsSolutionsChecks()
      .validateScope(fresh.app)
      .violations.flatMap((v) => v.violatingResources.map(() => v.ruleName))
    expect(findings.sort()).toEqual(ours.map((a) => a.id).sort())
  })
})

describe('cdk-nag AwsSolutions', () => {
  it('reports a non-compliant bucket in a throwaway stack, and fails its synth', () => {
    const app = new App({ outdir: outdir() })
    const stack = new Stack(app, 'Throwaway')
    new s3.Bucket(stack, 'Open', { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY })
    const report = new AwsSolutionsChecks().validateScope(app)
    const rules = report.violations.map((v) => v.ruleName)
    expect(rules.length).toBeGreaterThan(0)
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']))
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/)
  })
})

afterAll(removeOutdirs)
