/** Routing between the merge Lambda and the Glue job: both sides of each threshold, and the one-run-per-table rule. */
import type { GlueClient } from '@aws-sdk/client-glue'
import { describe, expect, it } from 'vitest'
import { DEFAULT_ROUTING, decideEngine } from '../etl/routing.js'
import { type LambdaConfig, loadLambdaConfig } from '../lambdas/config.js'
import { setGlueClient, startGlueRun } from '../lambdas/run-table.js'

const T = { maxLambdaRows: 1000, maxLambdaPendingBytes: 5000 }

describe('decideEngine', () => {
  it('keeps a table at the thresholds in the Lambda', () => {
    expect(decideEngine({ stateRows: 1000, pendingBytes: 5000, pendingFiles: 3 }, T).engine).toBe('lambda')
    expect(decideEngine({ stateRows: 0, pendingBytes: 0, pendingFiles: 0 }, T).engine).toBe('lambda')
  })
  it('sends a table past the row threshold to Glue', () => {
    const d = decideEngine({ stateRows: 1001, pendingBytes: 10, pendingFiles: 1 }, T)
    expect(d).toMatchObject({ engine: 'glue' })
    expect(d.reason).toContain('1001 rows')
  })
  it('sends a large pending input to Glue even on a small table', () => {
    expect(decideEngine({ stateRows: 0, pendingBytes: 5001, pendingFiles: 2 }, T).engine).toBe('glue')
  })
  it('keeps a table the Spark job cannot run in the Lambda, past the thresholds too', () => {
    const d = decideEngine(
      { stateRows: 5000, pendingBytes: 10, pendingFiles: 1, glueUnsupported: 'DMS Parquet input' },
      T,
    )
    expect(d).toMatchObject({ engine: 'lambda' })
    expect(d.reason).toContain('Glue cannot run it: DMS Parquet input')
  })
  it('has defaults and reads thresholds from the environment', () => {
    const env = {
      STAGING_BUCKET: 's',
      FINAL_BUCKET: 'f',
      LAKESYNC_TABLES: '{"users":{"stagingPrefix":"u/"}}',
    }
    expect(loadLambdaConfig(env).routing).toEqual(DEFAULT_ROUTING)
    expect(loadLambdaConfig(env).glueJobName).toBeUndefined()
    const c = loadLambdaConfig({
      ...env,
      GLUE_JOB_NAME: 'j',
      LAMBDA_MAX_ROWS: '7',
      LAMBDA_MAX_PENDING_BYTES: '9',
    })
    expect(c).toMatchObject({ glueJobName: 'j', routing: { maxLambdaRows: 7, maxLambdaPendingBytes: 9 } })
    expect(() => loadLambdaConfig({ ...env, LAMBDA_MAX_ROWS: 'lots' })).toThrow(/LAMBDA_MAX_ROWS/)
  })
})

describe('startGlueRun', () => {
  const config: LambdaConfig = {
    stagingBucket: 'staging',
    finalBucket: 'final',
    finalPrefix: 'lake/',
    glueDatabase: 'db',
    stagingExpiryDays: 30,
    vacuumKeep: 3,
    tables: [],
    glueJobName: 'lakesync-job',
    routing: T,
  }
  const route = { table: 'users', stagingPrefix: 'dms/users/', config: {} }
  const decision = { engine: 'glue' as const, reason: 'big' }

  function fakeGlue(runs: { Id: string; JobRunState: string; Arguments: Record<string, string> }[]) {
    const sent: { name: string; input: Record<string, unknown> }[] = []
    const client = {
      send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: cmd.constructor.name, input: cmd.input })
        if (cmd.constructor.name === 'GetJobRunsCommand') return { JobRuns: runs }
        return { JobRunId: 'jr_new' }
      },
    }
    setGlueClient(client as unknown as GlueClient)
    return sent
  }

  it('starts the job with the table, locations, as_of and the pending range', async () => {
    const sent = fakeGlue([{ Id: 'old', JobRunState: 'SUCCEEDED', Arguments: { '--table': 'users' } }])
    const r = await startGlueRun(config, route, 18917, decision, ['LOAD00000001.csv', '20211018-1.csv'])
    expect(r.committed).toBe(false)
    expect(r.message).toContain('jr_new')
    const start = sent.find((s) => s.name === 'StartJobRunCommand')!
    expect(start.input).toMatchObject({
      JobName: 'lakesync-job',
      Arguments: {
        '--table': 'users',
        '--source': 's3://staging/dms/users/',
        '--target': 's3://final/lake/',
        '--as-of': '2021-10-17',
        '--pending-from': 'LOAD00000001.csv',
        '--pending-to': '20211018-1.csv',
      },
    })
  })

  it('does not start a second run while one is running for the table', async () => {
    const sent = fakeGlue([{ Id: 'jr_1', JobRunState: 'RUNNING', Arguments: { '--table': 'users' } }])
    const r = await startGlueRun(config, route, 18917, decision, null)
    expect(r.message).toContain('jr_1 is already applying users')
    expect(sent.map((s) => s.name)).toEqual(['GetJobRunsCommand'])
  })

  it('starts one when only another table is running', async () => {
    const sent = fakeGlue([{ Id: 'jr_2', JobRunState: 'RUNNING', Arguments: { '--table': 'orders' } }])
    await startGlueRun(config, route, 18917, decision, null)
    expect(sent.map((s) => s.name)).toEqual(['GetJobRunsCommand', 'StartJobRunCommand'])
    setGlueClient(undefined)
  })
})
