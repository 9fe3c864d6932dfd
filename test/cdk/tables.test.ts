/**
 * The stack with a list of tables (`lakesync:tables`), synthesized for real: users (features), sales.orders (composite
 * key, decimal, timestamptz) and events (json, boolean). One DMS task selects all three in limited LOB mode that fails
 * instead of truncating; one queue and one function take them all, its tables file has one entry per table (accepted
 * by the function's own config loader), and every grant is scoped to a table's prefixes and catalog tables.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Match, type Template } from 'aws-cdk-lib/assertions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hiveType } from '../../etl/catalog/glue.js'
import { featuresSpecFor } from '../../etl/city-features.js'
import type { RunConfig } from '../../etl/config/run-config.js'
import { DEFAULT_DMS_FORMAT } from '../../etl/dms/format.js'
import { loadLambdaConfig, resolveTableConfigs } from '../../lambdas/config.js'
import { paramsFromContext, stackTables } from '../../lib/config.js'
import { type Json, removeOutdirs, synthTemplate, synthWithTables } from './synth.js'
import { THREE_TABLES, THREE_TABLES_CONTEXT } from './tables.js'

const MERGE = { Properties: { Description: Match.stringLikeRegexp('^lakesync: applies DMS files') } }
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])

const only = (t: Template, type: string, props: Json = {}): [string, Json] => {
  const found = Object.entries(t.findResources(type, props))
  expect(found, `${type} ${JSON.stringify(props)}`).toHaveLength(1)
  return found[0] as [string, Json]
}

/** The statements of the role policies whose logical id starts with `prefix` (ProcessingRole, GlueJobRole). */
function statementsOf(t: Template, prefix: string): Json[] {
  return Object.entries(t.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith(prefix))
    .flatMap(([, r]: [string, Json]) => r.Properties.PolicyDocument.Statement as Json[])
}

/** What a role may do on a bucket: per statement, its actions, object ARN suffixes and list prefixes. */
function onBucket(statements: Json[], bucketId: string) {
  return statements
    .filter((s) => JSON.stringify(s.Resource).includes(`"${bucketId}"`))
    .map((s) => ({
      actions: list<string>(s.Action).sort(),
      objects: list<Json>(s.Resource)
        .filter((r) => r['Fn::Join'])
        .map((r) => r['Fn::Join'][1][1])
        .sort(),
      prefixes: (s.Condition?.StringLike?.['s3:prefix'] as string[] | undefined)?.slice().sort(),
    }))
}

const STAGING = ['dms/public/events/', 'dms/public/users/', 'dms/sales/orders/']
const LAKE = [
  'lake/_lakesync/events/',
  'lake/_lakesync/orders/',
  'lake/_lakesync/users/',
  'lake/events/',
  'lake/orders/',
  'lake/users/',
  'lake/users_features/',
]

describe('lakesync stack with three tables', () => {
  let t: Template
  let env: Record<string, Json>
  let tablesJson: Json // the function's tables file
  let ids: { staging: string; final: string; queue: string; merge: string }

  beforeAll(() => {
    ;({ template: t, tables: tablesJson } = synthWithTables(THREE_TABLES_CONTEXT))
    const bucketId = (id: string) =>
      Object.keys(t.findResources('AWS::S3::Bucket')).find((k) => k.includes(id))!
    const [queue] = only(t, 'AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } })
    const [merge, fn] = only(t, 'AWS::Lambda::Function', MERGE)
    env = fn.Properties.Environment.Variables
    ids = { staging: bucketId('Staging'), final: bucketId('Final'), queue, merge }
  })

  it('replicates the three tables with one DMS task whose table mappings select each schema.table', () => {
    t.resourceCountIs('AWS::DMS::ReplicationTask', 1)
    t.resourceCountIs('AWS::DMS::ReplicationInstance', 1)
    t.resourceCountIs('AWS::DMS::Endpoint', 2)
    const [, task] = only(t, 'AWS::DMS::ReplicationTask')
    const rules: Json[] = JSON.parse(task.Properties.TableMappings).rules
    expect(rules.map((r) => [r['rule-type'], r['rule-action'], r['object-locator']])).toEqual([
      ['selection', 'include', { 'schema-name': 'public', 'table-name': 'users' }],
      ['selection', 'include', { 'schema-name': 'sales', 'table-name': 'orders' }],
      ['selection', 'include', { 'schema-name': 'public', 'table-name': 'events' }],
    ])
    expect(new Set(rules.map((r) => r['rule-id'])).size).toBe(3)
    expect(new Set(rules.map((r) => r['rule-name'])).size).toBe(3)
    // DMS writes each to its own folder under the one BucketFolder.
    const [, target] = only(t, 'AWS::DMS::Endpoint', { Properties: { EndpointType: 'target' } })
    expect(target.Properties.S3Settings.BucketFolder).toBe('dms')
  })

  it('keeps LOB values (json, bytea, text) whole: limited LOB mode, and truncation fails the task', () => {
    const [, task] = only(t, 'AWS::DMS::ReplicationTask')
    const settings = JSON.parse(task.Properties.ReplicationTaskSettings)
    // Full LOB mode (and inline LOB mode) is not supported for an S3 target (docs/dms-format.md).
    expect(settings.TargetMetadata).toEqual({
      SupportLobs: true,
      FullLobMode: false,
      LimitedSizeLobMode: true,
      LobMaxSize: 1024,
      InlineLobMaxSize: 0,
    })
    expect(settings.FullLoadSettings).toEqual({ CommitRate: 10_000 })
    t.hasResourceProperties('AWS::DMS::Endpoint', {
      EndpointType: 'source',
      PostgreSqlSettings: Match.objectLike({ FailTasksOnLobTruncation: true }),
    })
  })

  it('has one queue, one merge function, one daily schedule and one sweep for all the tables', () => {
    t.resourceCountIs('AWS::SQS::Queue', 2) // the queue and its dead-letter queue
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1)
    t.resourceCountIs('AWS::Events::Rule', 2) // the daily refresh and the sweep
    t.resourceCountIs('AWS::Glue::Job', 1)
    only(t, 'AWS::Lambda::Function', MERGE)
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
      FunctionName: { Ref: ids.merge },
    })
    // The scheduled event runs every configured table (lambdas/merge.ts): users gets its features for the new date.
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(15 0 * * ? *)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [ids.merge, 'Arn'] } })],
    })
    const daily = Object.values(t.findResources('AWS::Events::Rule')).find(
      (r: Json) => r.Properties.ScheduleExpression === 'cron(15 0 * * ? *)',
    ) as Json
    expect(daily.Properties.Targets[0]).not.toHaveProperty('Input') // the plain scheduled event
  })

  it('notifies the one queue for each table folder, and expires each table folder', () => {
    const [, notifications] = only(t, 'Custom::S3BucketNotifications')
    expect(notifications.Properties.BucketName).toEqual({ Ref: ids.staging })
    const configs: Json[] = notifications.Properties.NotificationConfiguration.QueueConfigurations
    expect(configs.map((c) => c.Filter.Key.FilterRules)).toEqual(
      ['dms/public/users/', 'dms/sales/orders/', 'dms/public/events/'].map((Value) => [
        { Name: 'prefix', Value },
      ]),
    )
    for (const c of configs) expect(c.QueueArn).toEqual({ 'Fn::GetAtt': [ids.queue, 'Arn'] })
    const rules: Json[] = t.toJSON().Resources[ids.staging].Properties.LifecycleConfiguration.Rules
    const expiring = rules.filter((r) => r.ExpirationInDays !== undefined)
    expect(expiring.map((r) => r.Prefix).sort()).toEqual(STAGING)
    for (const r of expiring) expect(String(r.ExpirationInDays)).toBe(env.STAGING_EXPIRY_DAYS)
  })

  it('bundles a tables file with one entry per table: its staging prefix and its columns, key and features', () => {
    expect(env.LAKESYNC_TABLES_FILE).toBe('/var/task/tables.json')
    expect(env).not.toHaveProperty('LAKESYNC_TABLES')
    const tables = tablesJson
    expect(Object.keys(tables)).toEqual(['users', 'orders', 'events'])
    expect(tables.users.stagingPrefix).toBe('dms/public/users/')
    expect(tables.orders.stagingPrefix).toBe('dms/sales/orders/')
    expect(tables.events.stagingPrefix).toBe('dms/public/events/')
    for (const [i, name] of ['users', 'orders', 'events'].entries()) {
      const { schema: _schema, ...table } = THREE_TABLES[i]!
      expect(tables[name].config).toEqual({
        format: DEFAULT_DMS_FORMAT,
        table,
        publish: { tableFormat: 'iceberg' },
      })
    }
    expect(tables.orders.config.table).not.toHaveProperty('features')
    expect(tables.events.config.table).not.toHaveProperty('features')
  })

  it("is accepted by the function's own config loader, which routes and resolves each table", async () => {
    const config = loadLambdaConfig({
      ...Object.fromEntries(
        Object.entries(env).filter(([k, v]) => typeof v === 'string' && k !== 'LAKESYNC_TABLES_FILE'),
      ),
      LAKESYNC_TABLES: JSON.stringify(tablesJson),
      STAGING_BUCKET: 'staging',
      FINAL_BUCKET: 'final',
    })
    expect(config.tables.map((r) => [r.table, r.stagingPrefix])).toEqual([
      ['users', 'dms/public/users/'],
      ['orders', 'dms/sales/orders/'],
      ['events', 'dms/public/events/'],
    ])
    const resolved = resolveTableConfigs(config)
    const specs = new Map<string, RunConfig>()
    for (const [name, rc] of resolved) specs.set(name, await rc)
    expect(specs.get('orders')!.table.primaryKey).toEqual(['order_id', 'line_no'])
    expect(specs.get('users')!.table.features).toBeDefined()
    expect(specs.get('events')!.table.features).toBeUndefined()
  })

  it('lets the function and the Glue job publish each table, and users_features only, with the config types', async () => {
    // The stack makes one Iceberg shell per published table (lib/catalog.ts); the function fills in the config types.
    const shells = (Object.values(t.findResources('AWS::Glue::Table')) as Json[]).map(
      (r) => r.Properties.TableInput,
    )
    t.resourceCountIs('AWS::Glue::Database', 1)
    const config = loadLambdaConfig({
      STAGING_BUCKET: 's',
      FINAL_BUCKET: 'f',
      LAKESYNC_TABLES: JSON.stringify(tablesJson),
    })
    const published = new Map<string, string[]>() // Glue table -> its column types, as the function publishes them
    for (const [, rc] of resolveTableConfigs(config)) {
      const spec = (await rc).table
      for (const s of [spec, ...(spec.features ? [featuresSpecFor(spec)] : [])])
        published.set(
          s.name,
          s.columns.map((c) => `${c.name} ${hiveType(c)}`),
        )
    }
    expect([...published.keys()].sort()).toEqual(['events', 'orders', 'users', 'users_features'])
    expect(shells.map((i) => i.Name).sort()).toEqual([...published.keys()].sort())
    for (const i of shells) expect(i.Parameters.table_type).toBe('ICEBERG')
    expect(published.get('orders')).toEqual([
      'order_id bigint',
      'line_no smallint',
      'amount decimal(12,2)',
      'placed_at timestamp',
    ])
    expect(published.get('events')).toEqual(['event_id string', 'payload string', 'processed boolean'])
    for (const role of ['ProcessingRole', 'GlueJobRole']) {
      const glue = statementsOf(t, role).find((s) => list<string>(s.Action).includes('glue:UpdateTable'))!
      const arns = list<Json>(glue.Resource).map((r) => (r['Fn::Join'][1] as Json[]).at(-1))
      expect(arns.sort(), role).toEqual(
        [
          ':catalog',
          ':database/lakesync',
          ...[...published.keys()].map((n) => `:table/lakesync/${n}`),
        ].sort(),
      )
    }
  })

  it('scopes the S3 grants of the function and the Glue job to each table prefix', () => {
    for (const role of ['ProcessingRole', 'GlueJobRole']) {
      const statements = statementsOf(t, role)
      expect(onBucket(statements, ids.staging), role).toEqual([
        { actions: ['s3:ListBucket'], objects: [], prefixes: STAGING.map((p) => `${p}*`) },
        { actions: ['s3:GetObject'], objects: STAGING.map((p) => `/${p}*`), prefixes: undefined },
      ])
      expect(onBucket(statements, ids.final), role).toEqual([
        { actions: ['s3:ListBucket'], objects: [], prefixes: LAKE.map((p) => `${p}*`) },
        {
          actions: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
          objects: LAKE.map((p) => `/${p}*`),
          prefixes: undefined,
        },
      ])
    }
    // Nothing lake-wide, nothing on a features table orders or events do not have.
    const all = JSON.stringify(t.toJSON().Resources)
    expect(all).not.toContain('"/lake/*"')
    expect(all).not.toContain('orders_features')
    expect(all).not.toContain('events_features')
  })

  it('outputs the DMS root, the tables and a query of users_features', () => {
    t.hasOutput('Tables', { Value: 'public.users, sales.orders, public.events' })
    t.hasOutput('StagingUri', {
      Value: { 'Fn::Join': ['', ['s3://', { Ref: ids.staging }, '/dms/']] },
    })
    t.hasOutput('AthenaQuery', { Value: Match.stringLikeRegexp('FROM "lakesync"."users_features"') })
  })
})

describe('lakesync stack with three tables and PreserveTransactions', () => {
  const format = { ...DEFAULT_DMS_FORMAT, preserveTransactions: true, cdcPath: 'cdc' }
  let t: Template
  let tablesJson: Json
  let staging: string

  beforeAll(() => {
    ;({ template: t, tables: tablesJson } = synthWithTables({
      ...THREE_TABLES_CONTEXT,
      'lakesync:dmsFormat': JSON.stringify(format),
    }))
    staging = Object.keys(t.findResources('AWS::S3::Bucket')).find((k) => k.includes('Staging'))!
  })

  it('sets PreserveTransactions and CdcPath on the S3 target endpoint, from the format the function reads', () => {
    const [, target] = only(t, 'AWS::DMS::Endpoint', { Properties: { EndpointType: 'target' } })
    expect(target.Properties.S3Settings).toMatchObject({
      BucketFolder: 'dms',
      PreserveTransactions: true,
      CdcPath: 'cdc',
      DatePartitionEnabled: false,
      AddColumnName: false,
    })
    for (const name of ['users', 'orders', 'events']) expect(tablesJson[name].config.format).toEqual(format)
  })

  it('notifies the queue for the CDC_TXN folder too, expires it, and lets the function (not the Glue job) read it', () => {
    const [, notifications] = only(t, 'Custom::S3BucketNotifications')
    const configs: Json[] = notifications.Properties.NotificationConfiguration.QueueConfigurations
    expect(configs.map((c) => c.Filter.Key.FilterRules[0].Value)).toEqual([
      'dms/public/users/',
      'dms/sales/orders/',
      'dms/public/events/',
      'dms/cdc/',
    ])
    const rules: Json[] = t.toJSON().Resources[staging].Properties.LifecycleConfiguration.Rules
    expect(rules.filter((r) => r.ExpirationInDays !== undefined).map((r) => r.Prefix)).toContain('dms/cdc/')
    const withCdc = [...STAGING, 'dms/cdc/'].sort()
    expect(onBucket(statementsOf(t, 'ProcessingRole'), staging)).toEqual([
      { actions: ['s3:ListBucket'], objects: [], prefixes: withCdc.map((p) => `${p}*`) },
      { actions: ['s3:GetObject'], objects: withCdc.map((p) => `/${p}*`), prefixes: undefined },
    ])
    // The Spark job refuses CDC_TXN files by name, and the function never hands it such a table.
    expect(onBucket(statementsOf(t, 'GlueJobRole'), staging)[1]!.objects).toEqual(
      STAGING.map((p) => `/${p}*`),
    )
  })

  it('is routed by the function: a CDC_TXN drop concerns every table', () => {
    const config = loadLambdaConfig({
      LAKESYNC_TABLES: JSON.stringify(tablesJson),
      STAGING_BUCKET: 'staging',
      FINAL_BUCKET: 'final',
    })
    expect(config.tables.map((r) => r.transactions?.prefix)).toEqual(['dms/cdc/', 'dms/cdc/', 'dms/cdc/'])
  })

  it('refuses DatePartitionEnabled with it, as DMS does', () => {
    const ctx = (o: Record<string, unknown>) => (k: string) => o[k]
    expect(() =>
      paramsFromContext(
        ctx({ 'lakesync:dmsFormat': JSON.stringify(format), 'lakesync:datePartitionEnabled': 'true' }),
      ),
    ).toThrow(/datePartitionEnabled cannot be used with dmsFormat.preserveTransactions/)
  })
})

describe('lakesync stack tables parameter', () => {
  const ctx = (o: Record<string, unknown>) => (k: string) => o[k]
  const orders = THREE_TABLES[1]!
  let dir: string

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lakesync-tables-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('takes the tables as a JSON array (cdk.json), a JSON string (-c) or a {"tables": [...]} config', () => {
    for (const v of [THREE_TABLES, JSON.stringify(THREE_TABLES), { tables: THREE_TABLES }]) {
      const p = paramsFromContext(ctx({ 'lakesync:tables': v }))
      expect(stackTables(p).map((t) => `${t.schema}.${t.name}`)).toEqual([
        'public.users',
        'sales.orders',
        'public.events',
      ])
    }
  })

  it('reads a tables file, as `lakesync schema` prints it, with a format equal to the stack one', () => {
    const file = join(dir, 'lakesync.json')
    writeFileSync(file, JSON.stringify({ tables: [orders], format: DEFAULT_DMS_FORMAT }))
    const p = paramsFromContext(ctx({ 'lakesync:tablesFile': file }))
    expect(stackTables(p).map((t) => t.name)).toEqual(['orders'])
    writeFileSync(file, JSON.stringify({ tables: [orders], format: { csvDelimiter: '|' } }))
    expect(() => paramsFromContext(ctx({ 'lakesync:tablesFile': file }))).toThrow(/lakesync:dmsFormat/)
    writeFileSync(file, JSON.stringify({ tables: [orders], cities: 'mine.csv' }))
    expect(() => paramsFromContext(ctx({ 'lakesync:tablesFile': file }))).toThrow(/"cities"/)
    expect(() =>
      paramsFromContext(ctx({ 'lakesync:tablesFile': file, 'lakesync:tables': [orders] })),
    ).toThrow(/tables and tablesFile/)
    expect(() => paramsFromContext(ctx({ 'lakesync:tablesFile': join(dir, 'none.json') }))).toThrow(
      /cannot read/,
    )
  })

  it('takes a schema and its tables: entries without a schema use schemaName', () => {
    const { schema: _s, ...bare } = orders
    const p = paramsFromContext(ctx({ 'lakesync:schemaName': 'sales', 'lakesync:tables': [bare] }))
    expect(stackTables(p).map((t) => `${t.schema}.${t.sourceName}`)).toEqual(['sales.orders'])
  })

  it('publishes a table under publishAs, read from its source folder', () => {
    const { template: t, tables } = synthWithTables({
      'lakesync:tables': [orders, { ...orders, schema: 'archive', publishAs: 'orders_archive' }],
    })
    expect(Object.keys(tables)).toEqual(['orders', 'orders_archive'])
    expect(tables.orders_archive.stagingPrefix).toBe('dms/archive/orders/')
    expect(tables.orders_archive.config.table.name).toBe('orders_archive')
    const [, task] = only(t, 'AWS::DMS::ReplicationTask')
    expect(JSON.parse(task.Properties.TableMappings).rules.map((r: Json) => r['object-locator'])).toEqual([
      { 'schema-name': 'sales', 'table-name': 'orders' },
      { 'schema-name': 'archive', 'table-name': 'orders' },
    ])
  })

  it('adds the change-sequence column to every table, and sets the LOB size and commit rate', () => {
    const t = synthTemplate({
      ...THREE_TABLES_CONTEXT,
      'lakesync:dmsFormat': JSON.stringify({
        ...DEFAULT_DMS_FORMAT,
        changeSequenceColumnName: 'change_seq',
        orderChangesBy: 'changeSequence',
      }),
      'lakesync:dmsLobMaxSizeKb': '16384',
      'lakesync:dmsFullLoadCommitRate': '1000',
    })
    const [, task] = only(t, 'AWS::DMS::ReplicationTask')
    const rules: Json[] = JSON.parse(task.Properties.TableMappings).rules
    expect(rules.filter((r) => r['rule-action'] === 'add-column').map((r) => r['object-locator'])).toEqual(
      rules.filter((r) => r['rule-type'] === 'selection').map((r) => r['object-locator']),
    )
    expect(new Set(rules.map((r) => r['rule-id'])).size).toBe(6)
    const settings = JSON.parse(task.Properties.ReplicationTaskSettings)
    expect(settings.TargetMetadata.LobMaxSize).toBe(16_384)
    expect(settings.FullLoadSettings.CommitRate).toBe(1000)
  })

  it('rejects bad tables, naming the entry', () => {
    const bad =
      (tables: unknown, extra: Record<string, unknown> = {}) =>
      () =>
        paramsFromContext(ctx({ 'lakesync:tables': tables, ...extra }))
    expect(bad([{ ...orders, columns: [{ name: 'x', type: 'money' }] }])).toThrow(/tables\[0\]\.columns\[0\]/)
    expect(bad([orders, { ...orders, schema: 'archive' }])).toThrow(
      /sales\.orders and archive\.orders both publish as orders/,
    )
    expect(bad([orders, orders])).toThrow(/sales\.orders is listed twice/)
    expect(bad([{ ...orders, name: 'Orders' }])).toThrow(/lower case/)
    expect(bad([{ ...orders, schema: 'a/b' }])).toThrow(/tables\[0\]\.schema/)
    expect(bad([{ ...orders, extra: 1 }])).toThrow(/unknown key "extra"/)
    expect(bad([])).toThrow(/non-empty/)
    expect(bad('[not json')).toThrow(/lakesync:tables is not valid JSON/)
    expect(bad([orders], { 'lakesync:tableName': 'orders' })).toThrow(/tableName/)
    expect(() => paramsFromContext(ctx({ 'lakesync:tableName': 'orders' }))).toThrow(/reference users/)
    expect(() => paramsFromContext(ctx({ 'lakesync:dmsLobMaxSizeKb': '204800' }))).toThrow(/dmsLobMaxSizeKb/)
  })

  it("takes 200 tables: their configs are bundled, not in the function's 4 KB environment", () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ ...orders, name: `orders_${i}` }))
    const { template: t, tables } = synthWithTables({ 'lakesync:tables': many })
    expect(Object.keys(tables)).toHaveLength(200)
    expect(tables.orders_199.stagingPrefix).toBe('dms/sales/orders_199/')
    const [, fn] = only(t, 'AWS::Lambda::Function', MERGE)
    expect(JSON.stringify(fn.Properties.Environment.Variables).length).toBeLessThan(1024)
  })
})

afterAll(removeOutdirs)
