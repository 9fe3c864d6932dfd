/** Routing SQS messages of S3 notifications to tables: decoding keys, ignoring what is not ours. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type LambdaConfig, loadLambdaConfig } from '../lambdas/config.js'
import { decodeS3Key, routeRecords } from '../lambdas/s3-events.js'
import { tempDir } from './helpers/fixtures.js'
import { S3_TEST_EVENT, s3Notification, sqsRecord } from './helpers/sqs-events.js'

const config: LambdaConfig = loadLambdaConfig({
  STAGING_BUCKET: 'staging',
  FINAL_BUCKET: 'final',
  LAKESYNC_TABLES: JSON.stringify({
    users: { stagingPrefix: 'dms/public/users' },
    orders: { stagingPrefix: 'dms/public/orders/' },
  }),
})

describe('S3 event routing', () => {
  it('decodes URL-encoded keys, + meaning space', () => {
    expect(decodeS3Key('dms/public/users/2021/10/17/my+file%2B1.csv')).toBe(
      'dms/public/users/2021/10/17/my file+1.csv',
    )
  })

  it('groups messages by the table whose prefix holds a key', () => {
    const routed = routeRecords(
      [
        sqsRecord('a', s3Notification('staging', 'dms/public/users/LOAD00000001.csv')),
        sqsRecord(
          'b',
          s3Notification('staging', 'dms/public/orders/20211017-000000000.csv', 'dms/public/users/x.csv'),
        ),
        sqsRecord('c', s3Notification('staging', 'dms%2Fpublic%2Fusers%2F20211017-000000000.csv')),
      ],
      config,
    )
    expect(Object.fromEntries(routed.byTable)).toEqual({ users: ['a', 'b', 'c'], orders: ['b'] })
    expect(routed.ignored).toEqual([])
  })

  it('ignores other buckets, other prefixes, test events and bodies that are not JSON', () => {
    const routed = routeRecords(
      [
        sqsRecord('other-bucket', s3Notification('elsewhere', 'dms/public/users/LOAD00000001.csv')),
        sqsRecord('other-prefix', s3Notification('staging', 'dms/public/usersx/LOAD00000001.csv')),
        sqsRecord('test', S3_TEST_EVENT),
        sqsRecord('garbage', 'not json'),
        sqsRecord('bad-encoding', s3Notification('staging', 'dms/public/users/%E0%A4%A')),
      ],
      config,
    )
    expect(routed.byTable.size).toBe(0)
    expect(routed.ignored.map((i) => i.messageId)).toEqual([
      'other-bucket',
      'other-prefix',
      'test',
      'garbage',
      'bad-encoding',
    ])
  })

  it('reports every configuration problem at once, naming the variable', () => {
    expect(() => loadLambdaConfig({ LAKESYNC_TABLES: '{' })).toThrow(
      /STAGING_BUCKET is not set; FINAL_BUCKET is not set; LAKESYNC_TABLES is not valid JSON/,
    )
    expect(() =>
      loadLambdaConfig({
        STAGING_BUCKET: 's',
        FINAL_BUCKET: 'f',
        LAKESYNC_TABLES: JSON.stringify({ a: { stagingPrefix: 'x/' }, b: { stagingPrefix: 'x/y/' } }),
      }),
    ).toThrow(/staging prefixes of b and a overlap/)
  })

  it('reads the tables from the bundled file the stack ships (LAKESYNC_TABLES_FILE), or names what is wrong', () => {
    const dir = tempDir()
    const file = join(dir, 'tables.json')
    writeFileSync(file, JSON.stringify({ users: { stagingPrefix: 'dms/public/users' } }))
    const base = { STAGING_BUCKET: 's', FINAL_BUCKET: 'f' }
    const config = loadLambdaConfig({ ...base, LAKESYNC_TABLES_FILE: file })
    expect(config.tables).toEqual([{ table: 'users', stagingPrefix: 'dms/public/users/', config: {} }])
    expect(() => loadLambdaConfig({ ...base, LAKESYNC_TABLES_FILE: join(dir, 'none.json') })).toThrow(
      /LAKESYNC_TABLES_FILE: cannot read .*none\.json/,
    )
    expect(() => loadLambdaConfig({ ...base, LAKESYNC_TABLES_FILE: file, LAKESYNC_TABLES: '{}' })).toThrow(
      /both set/,
    )
    expect(() => loadLambdaConfig(base)).toThrow(/LAKESYNC_TABLES_FILE \(or LAKESYNC_TABLES\) is not set/)
  })
})

describe('S3 event routing with PreserveTransactions', () => {
  const format = { preserveTransactions: true, cdcPath: 'cdc' }
  const txn: LambdaConfig = loadLambdaConfig({
    STAGING_BUCKET: 'staging',
    FINAL_BUCKET: 'final',
    LAKESYNC_TABLES: JSON.stringify({
      users: { stagingPrefix: 'dms/public/users/', config: { format } },
      orders: { stagingPrefix: 'dms/sales/orders/', config: { format } },
      plain: { stagingPrefix: 'other/public/plain/' },
    }),
  })

  it('sends a CDC_TXN file in <BucketFolder>/<cdcPath>/ to every table that reads transaction files', () => {
    const routed = routeRecords(
      [
        sqsRecord('txn', s3Notification('staging', 'dms/cdc/CDC_TXN-20201117153046033.csv')),
        sqsRecord('load', s3Notification('staging', 'dms/sales/orders/LOAD00000001.csv')),
        sqsRecord('elsewhere', s3Notification('staging', 'dms/cdcx/CDC_TXN-20201117153046033.csv')),
      ],
      txn,
    )
    expect(Object.fromEntries(routed.byTable)).toEqual({ users: ['txn'], orders: ['txn', 'load'] })
    expect(routed.ignored.map((i) => i.messageId)).toEqual(['elsewhere'])
  })

  it('derives the DMS root and the table folder from the staging prefix, and refuses a prefix that cannot say', () => {
    expect(txn.tables.map((t) => t.transactions)).toEqual([
      { root: 'dms/', folder: 'public/users', prefix: 'dms/cdc/' },
      { root: 'dms/', folder: 'sales/orders', prefix: 'dms/cdc/' },
      undefined,
    ])
    expect(() =>
      loadLambdaConfig({
        STAGING_BUCKET: 's',
        FINAL_BUCKET: 'f',
        LAKESYNC_TABLES: JSON.stringify({ users: { stagingPrefix: 'users/', config: { format } } }),
      }),
    ).toThrow(/format.preserveTransactions needs a stagingPrefix <BucketFolder>\/<schema>\/<table>\//)
  })
})
