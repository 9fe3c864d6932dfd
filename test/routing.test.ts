/**
 * Routing between the merge Lambda and the Glue job: both sides of each threshold, and the one-run-per-table rule.
 * StartJobRun runs against moto (test/helpers/moto.ts); see below for the one part it cannot fake.
 */

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CreateJobCommand,
  DeleteJobCommand,
  GetJobRunsCommand,
  GetTableCommand,
  type GlueClient,
} from '@aws-sdk/client-glue'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCommitLog } from '../etl/commit/log.js'
import { resolveRunConfig } from '../etl/config/run-config.js'
import { parseDmsFormat } from '../etl/dms/format.js'
import { parseDateString } from '../etl/dms/values.js'
import { newestMetadata } from '../etl/iceberg/publish.js'
import { runPipeline } from '../etl/pipeline.js'
import { openStorage } from '../etl/storage/open.js'
import { type LambdaConfig, loadLambdaConfig } from '../lambdas/config.js'
import { DEFAULT_ROUTING, decideEngine, sparkGap } from '../lambdas/routing.js'
import { runTable, setGlueClient, startGlueRun } from '../lambdas/run-table.js'
import { SEED, SEED_FILES, seedOptions, tempDir } from './helpers/fixtures.js'
import { useMoto } from './helpers/moto.js'
import { python } from './helpers/spark.js'

const T = { maxLambdaRows: 1000, maxLambdaPendingBytes: 5000, maxLambdaStateBytes: 8000 }

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
  it('sends a wide table to Glue by the bytes it holds in memory, before its row count says so', () => {
    const d = decideEngine({ stateRows: 10, stateBytes: 8001, pendingBytes: 10, pendingFiles: 1 }, T)
    expect(d).toMatchObject({ engine: 'glue' })
    expect(d.reason).toContain('8001 bytes in memory')
    expect(
      decideEngine({ stateRows: 10, stateBytes: 8000, pendingBytes: 10, pendingFiles: 1 }, T).engine,
    ).toBe('lambda')
    // A version without a snapshot (a Spark commit) is judged by its rows.
    expect(
      decideEngine({ stateRows: 10, stateBytes: null, pendingBytes: 10, pendingFiles: 1 }, T).engine,
    ).toBe('lambda')
  })
  it('sends a large pending input to Glue even on a small table', () => {
    expect(decideEngine({ stateRows: 0, pendingBytes: 5001, pendingFiles: 2 }, T).engine).toBe('glue')
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
      LAMBDA_MAX_STATE_BYTES: '11',
    })
    expect(c).toMatchObject({
      glueJobName: 'j',
      routing: { maxLambdaRows: 7, maxLambdaPendingBytes: 9, maxLambdaStateBytes: 11 },
    })
    expect(() => loadLambdaConfig({ ...env, LAMBDA_MAX_STATE_BYTES: '-1' })).toThrow(/LAMBDA_MAX_STATE_BYTES/)
    expect(() => loadLambdaConfig({ ...env, LAMBDA_MAX_ROWS: 'lots' })).toThrow(/LAMBDA_MAX_ROWS/)
  })
})

describe('a table whose config the Spark engine refuses', () => {
  const table = (added: boolean) => ({
    name: 'notes',
    columns: [
      { name: 'id', type: 'int32' },
      { name: 'note', type: 'string', ...(added ? { added: true } : {}) },
    ],
    primaryKey: ['id'],
  })
  const CONFIGS: Record<string, Record<string, unknown>> = {
    plain: { table: table(false) },
    datePartitionTimezone: { table: table(false), format: { datePartitionTimezone: 'Europe/Paris' } },
    csvNoSupValue: { table: table(false), format: { useCsvNoSupValue: true, csvNoSupValue: 'NOSUP' } },
    csvRowDelimiter: { table: table(false), format: { csvRowDelimiter: '|' } },
    added: { table: table(true) },
    preserveTransactions: { table: table(false), format: { preserveTransactions: true, cdcPath: 'cdc' } },
  }

  it('stays on the Lambda past the thresholds, saying why', () => {
    const d = decideEngine({ stateRows: 1001, pendingBytes: 10, pendingFiles: 1, sparkGap: 'format.x' }, T)
    expect(d).toMatchObject({ engine: 'lambda', oversize: true })
    expect(d.reason).toContain('the Spark engine does not read format.x: kept on the Lambda')
    expect(
      decideEngine({ stateRows: 10, pendingBytes: 10, pendingFiles: 1, sparkGap: 'format.x' }, T),
    ).not.toHaveProperty('oversize')
  })

  it('is exactly what the Spark job refuses by name (glue/lakesync_spark)', async () => {
    const dir = tempDir()
    const files = Object.entries(CONFIGS).map(([name, raw]) => {
      const file = join(dir, `${name}.json`)
      writeFileSync(file, JSON.stringify(raw))
      return file
    })
    const probe = [
      'import sys; sys.path.insert(0, "glue")',
      'from lakesync_spark.job import load_config',
      'from lakesync_spark.dms import DEFAULT_FORMAT',
      'from lakesync_spark.settings import check_format',
      'for f in sys.argv[1:]:',
      '    try:',
      '        spec, fmt, _, _ = load_config(f, None, "data"); check_format(fmt, DEFAULT_FORMAT)',
      '        print("reads")',
      '    except Exception as e:',
      '        print("refuses " + getattr(e, "code", type(e).__name__))',
    ].join('\n')
    const out = await python(['-c', probe, ...files])
    expect(out.code, out.stderr).toBe(0)
    const spark = out.stdout.trim().split('\n')
    const ours = Object.values(CONFIGS).map((raw) =>
      sparkGap(parseDmsFormat(raw.format ?? {})) === null ? 'reads' : 'refuses bad_config',
    )
    expect(ours).toEqual(spark)
    // The rest is read by both engines (test/spark-settings.test.ts, test/spark-settings-cdc.test.ts).
    expect(ours).toEqual(['reads', 'reads', 'reads', 'reads', 'reads', 'refuses bad_config'])
  })
})

describe('startGlueRun against moto', () => {
  const moto = useMoto()
  const jobName = moto.bucket('lakesync-job')
  const config: LambdaConfig = {
    stagingBucket: moto.bucket('staging'),
    finalBucket: moto.bucket('final'),
    finalPrefix: 'lake/',
    glueDatabase: moto.database('db'),
    stagingExpiryDays: 30,
    vacuumKeep: 3,
    tables: [],
    glueJobName: jobName,
    routing: T,
    leaseMs: 60_000,
    queueUrl: undefined,
    maxReceiveCount: undefined,
  }
  const route = { table: 'users', stagingPrefix: 'dms/users/', config: {} }
  const decision = { engine: 'glue' as const, reason: 'big' }

  beforeAll(async () => {
    await moto.glue.send(
      new CreateJobCommand({
        Name: jobName,
        Role: 'arn:aws:iam::123456789012:role/lakesync-glue',
        Command: { Name: 'glueetl', ScriptLocation: 's3://scripts/glue_entry.py', PythonVersion: '3' },
        ExecutionProperty: { MaxConcurrentRuns: 100 },
      }),
    )
    setGlueClient(undefined) // glue() builds a real client, pointed at moto by useMoto()'s environment
  })
  afterAll(async () => {
    setGlueClient(undefined)
    await moto.glue.send(new DeleteJobCommand({ JobName: jobName }))
    await moto.reset()
  })

  it('publishes what the Spark job committed before routing, and starts no job with nothing to do', async () => {
    await moto.s3.send(new CreateBucketCommand({ Bucket: config.stagingBucket }))
    await moto.s3.send(new CreateBucketCommand({ Bucket: config.finalBucket }))
    const [first, next] = [SEED_FILES[0]!, SEED_FILES[1]!]
    const put = (name: string) =>
      moto.s3.send(
        new PutObjectCommand({
          Bucket: config.stagingBucket,
          Key: `${route.stagingPrefix}${name}`,
          Body: readFileSync(join(SEED, name)),
        }),
      )
    await put(first)
    const target = openStorage(`s3://${config.finalBucket}/lake/`)
    // A commit without Iceberg metadata or a Glue switch, as the Spark job leaves an Iceberg table.
    await runPipeline(
      seedOptions(openStorage(`s3://${config.stagingBucket}/${route.stagingPrefix}`), target, {
        tableFormat: 'hive',
      }),
    )
    const committed = (await readCommitLog(target, 'users')).current!
    const jobRuns = async () =>
      ((await moto.glue.send(new GetJobRunsCommand({ JobName: jobName }))).JobRuns ?? []).length
    const before = await jobRuns()
    const run = {
      route,
      runConfig: await resolveRunConfig({}, 'test', '.'),
      asOf: parseDateString(committed.asOf)!,
      engineVersion: 'test',
      onWarning: () => {},
    }
    const big = { ...config, routing: { ...T, maxLambdaRows: 0 } } // every table goes to Glue
    const r = await runTable(big, run)
    expect(r.message).toContain('no glue job started')
    expect(await jobRuns()).toBe(before)
    expect((await newestMetadata(target, 'users'))?.metadata['current-snapshot-id']).toBe(committed.version)
    const glueTable = await moto.glue.send(
      new GetTableCommand({ DatabaseName: config.glueDatabase!, Name: 'users' }),
    )
    expect(glueTable.Table?.Parameters?.metadata_location).toMatch(
      /\/lake\/users\/metadata\/v\d+\.metadata\.json$/,
    )
    // A file to apply: the job starts.
    await put(next)
    expect((await runTable(big, run)).message).toContain(`started glue job ${jobName}`)
    expect(await jobRuns()).toBe(before + 1)
  })

  it('starts the job with the table, locations, as_of and the pending range', async () => {
    const r = await startGlueRun(config, route, 18917, decision, ['LOAD00000001.csv', '20211018-1.csv'])
    expect(r.committed).toBe(false)
    const id = /run (jr_\w+) for users/.exec(r.message)?.[1]
    expect(id, r.message).toBeDefined()
    const runs = (await moto.glue.send(new GetJobRunsCommand({ JobName: jobName }))).JobRuns ?? []
    const run = runs.find((x) => x.Id === id)
    expect(run?.Arguments).toEqual({
      '--table': 'users',
      '--source': `s3://${config.stagingBucket}/dms/users/`,
      '--target': `s3://${config.finalBucket}/lake/`,
      '--as-of': '2021-10-17',
      '--config': '{}',
      '--pending-from': 'LOAD00000001.csv',
      '--pending-to': '20211018-1.csv',
      '--glue-database': config.glueDatabase,
    })
  })
})

// moto's Glue job runs are ManagedState models whose default progression is "immediate": the first read (the very
// GetJobRuns startGlueRun sends) reports SUCCEEDED, so a run cannot be kept RUNNING without changing the state
// manager's settings, which are server-wide and would affect the other test files sharing the one moto server. The
// two cases that need a RUNNING run therefore use this minimal fake of GetJobRuns/StartJobRun.
describe('startGlueRun with a run in progress (fake GetJobRuns)', () => {
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
    leaseMs: 60_000,
    queueUrl: undefined,
    maxReceiveCount: undefined,
  }
  const route = { table: 'users', stagingPrefix: 'dms/users/', config: {} }
  const decision = { engine: 'glue' as const, reason: 'big' }

  function fakeGlue(runs: { Id: string; JobRunState: string; Arguments: Record<string, string> }[]) {
    const sent: string[] = []
    const client = {
      send: async (cmd: { constructor: { name: string } }) => {
        sent.push(cmd.constructor.name)
        return cmd.constructor.name === 'GetJobRunsCommand' ? { JobRuns: runs } : { JobRunId: 'jr_new' }
      },
    }
    setGlueClient(client as unknown as GlueClient)
    return sent
  }
  afterAll(() => setGlueClient(undefined))

  it('does not start a second run while one is running for the table', async () => {
    const sent = fakeGlue([{ Id: 'jr_1', JobRunState: 'RUNNING', Arguments: { '--table': 'users' } }])
    const r = await startGlueRun(config, route, 18917, decision, null)
    expect(r.message).toContain('jr_1 is already applying users')
    expect(sent).toEqual(['GetJobRunsCommand'])
  })

  it('starts one when only another table is running', async () => {
    const sent = fakeGlue([{ Id: 'jr_2', JobRunState: 'RUNNING', Arguments: { '--table': 'orders' } }])
    await startGlueRun(config, route, 18917, decision, null)
    expect(sent).toEqual(['GetJobRunsCommand', 'StartJobRunCommand'])
  })
})
