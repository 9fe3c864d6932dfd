/**
 * The built CLI (dist/cli/main.js) as a child process against moto: run with --glue-database, show, status, and a
 * bad file. The child reaches moto through the standard AWS variables that useMoto() set in this worker's
 * process.env, which cliProcess (spawnSync without an env option) passes on.
 */
import { GetTableCommand } from '@aws-sdk/client-glue'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cells, cliProcess } from './helpers/cli.js'
import { SEED } from './helpers/fixtures.js'
import { useMoto } from './helpers/moto.js'
import { listPrefix, newBucket, putObject, uploadFolder } from './helpers/s3-source.js'

const moto = useMoto()

let bucket = ''
let src = ''
let lake = ''
let database = ''

beforeAll(async () => {
  await moto.reset()
  bucket = await newBucket(moto, 'cli')
  src = `s3://${bucket}/dms/public/users`
  lake = `s3://${bucket}/lake`
  database = moto.database('cli')
  await uploadFolder(moto, SEED, bucket, 'dms/public/users')
})

afterAll(async () => {
  await moto.reset()
})

/** `lakesync run` from the uploaded seed into the lake, publishing to the Glue database. */
const runToLake = () =>
  cliProcess('run', '--source', src, '--target', lake, '--as-of', '2021-10-17', '--glue-database', database)

describe('lakesync (child process) on S3 + Glue', () => {
  it('the child sees the moto endpoint through the inherited environment', () => {
    expect(process.env.AWS_ENDPOINT_URL_S3).toBe(moto.endpoint)
    expect(process.env.AWS_ENDPOINT_URL_GLUE).toBe(moto.endpoint)
  })

  it('run commits version 1 and publishes both tables to Glue', async () => {
    const r = runToLake()
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toContain('committed version 1')
    expect(r.out).toContain(
      'inserts 7, replaces 0, updates 3, upserts-of-missing 0, deletes 0, deletes-of-missing 0',
    )
    for (const name of ['users', 'users_features']) {
      const t = (await moto.glue.send(new GetTableCommand({ DatabaseName: database, Name: name }))).Table
      expect(t?.Parameters?.lakesync_version).toBe('1')
      // An Iceberg table: its root, and the metadata of its first snapshot.
      expect(t?.StorageDescriptor?.Location).toBe(`${lake}/${name}`)
      expect(t?.Parameters?.table_type).toBe('ICEBERG')
      expect(t?.Parameters?.metadata_location).toBe(`${lake}/${name}/metadata/v1.metadata.json`)
    }
    const again = runToLake()
    expect(again.code).toBe(0)
    expect(again.out).toContain('up to date')
  })

  it('show prints the Austin rows of the features table', () => {
    const r = cliProcess('show', '--target', lake, '--table', 'features', '--limit', '10')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const austin = cells(r.out).filter((row) => row[2] === 'Austin')
    expect(austin.map((row) => [row[0], row[3], row[5], row[6]])).toEqual([
      ['73', '2019-10-03', '3', '0.3333333333333333'],
      ['81', '2021-01-01', '2', '0.3333333333333333'],
      ['11', '2021-09-20', '1', '0.3333333333333333'],
    ])
    expect(r.out).toContain('only showing top 10 of 110 rows')
  })

  it('status reports the current version and no pending files', () => {
    const r = cliProcess('status', '--source', src, '--target', lake)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toContain(`table users in ${lake}`)
    expect(r.out).toMatch(/^current version 1 \(as_of 2021-10-17, committed .*, 110 rows\)$/m)
    expect(r.out).toContain('last applied file: 20211018-225959941.csv')
    expect(r.out).toContain('pending files: 0')
    expect(r.out).toContain('last error: none')
  })

  it('a bad file: exit 1 naming the S3 key, the target unchanged, status shows it pending', async () => {
    const before = await listPrefix(moto, bucket, 'lake')
    const key = 'dms/public/users/2021/10/19/20211019-000000001.csv'
    await putObject(moto, bucket, key, 'U,2,Bad,Austin,2021-13-01\n')
    const r = runToLake()
    expect(r.code).toBe(1)
    expect(r.out).toBe('')
    expect(r.err).toBe(
      `lakesync run: dms csv: bad date "2021-13-01" for last_login (expected a real calendar date YYYY-MM-DD) in s3://${bucket}/${key} line 1 column 5\n`,
    )
    expect(await listPrefix(moto, bucket, 'lake')).toEqual(before)
    const status = cliProcess('status', '--source', src, '--target', lake)
    expect(status.out).toContain('current version 1 ')
    expect(status.out).toContain('pending files: 1: 2021/10/19/20211019-000000001.csv')
    expect(status.code).toBe(1)
    expect(status.out).toContain(`last error: bad_date: dms csv: bad date "2021-13-01"`)
    expect(status.out).toContain(`in s3://${bucket}/${key} line 1 column 5`)
  })
})
