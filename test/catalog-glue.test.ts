/** The Glue catalog adapter against moto's Glue: what Athena will read after a publish. */
import { GetTableCommand } from '@aws-sdk/client-glue'
import { beforeEach, describe, expect, it } from 'vitest'
import type { CatalogTable } from '../etl/catalog/catalog.js'
import { GlueCatalog, openGlueCatalog } from '../etl/catalog/glue.js'
import { useMoto } from './helpers/moto.js'

const moto = useMoto()
const database = moto.database('lakesync')

const users = (version: number): CatalogTable => ({
  name: 'users',
  location: `s3://final/lake/users/v=${String(version).padStart(20, '0')}/`,
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'birth_date', type: 'date' },
  ],
  version,
})

const features = (version: number): CatalogTable => ({
  name: 'users_features',
  location: `s3://final/lake/users_features/v=${String(version).padStart(20, '0')}/`,
  columns: [
    { name: 'city', type: 'string' },
    { name: 'users', type: 'int32' },
    { name: 'mean_age', type: 'double' },
  ],
  version,
})

async function getTable(name: string) {
  const res = await moto.glue.send(new GetTableCommand({ DatabaseName: database, Name: name }))
  return res.Table!
}

describe('GlueCatalog', () => {
  beforeEach(async () => {
    await moto.reset()
  })

  it('gives every column type its Athena type', async () => {
    const columns: CatalogTable['columns'] = [
      { name: 'a', type: 'int16' },
      { name: 'b', type: 'int32' },
      { name: 'c', type: 'int64' },
      { name: 'd', type: 'float32' },
      { name: 'e', type: 'float64' },
      { name: 'f', type: 'decimal', precision: 38, scale: 10 },
      { name: 'g', type: 'boolean' },
      { name: 'h', type: 'string' },
      { name: 'i', type: 'json' },
      { name: 'j', type: 'binary' },
      { name: 'k', type: 'date' },
      { name: 'l', type: 'time' },
      { name: 'm', type: 'timestamp' },
      { name: 'n', type: 'timestamptz' },
    ]
    await openGlueCatalog(database).publish([
      { name: 'every_type', location: 's3://final/lake/every_type/v=1/', columns, version: 1 },
    ])
    const t = await getTable('every_type')
    expect(t.StorageDescriptor!.Columns!.map((c) => c.Type)).toEqual([
      'smallint',
      'int',
      'bigint',
      'float',
      'double',
      'decimal(38,10)',
      'boolean',
      'string',
      'string',
      'binary',
      'date',
      'string',
      'timestamp',
      'timestamp',
    ])
  })

  it('creates the database and external Parquet tables with Hive column types', async () => {
    const catalog = openGlueCatalog(database)
    expect(catalog.name).toBe(`glue://${database}`)
    await catalog.publish([users(1), features(1)])

    const t = await getTable('users')
    expect(t.DatabaseName).toBe(database)
    expect(t.TableType).toBe('EXTERNAL_TABLE')
    expect(t.Parameters).toEqual({ classification: 'parquet', EXTERNAL: 'TRUE', lakesync_version: '1' })
    expect(t.StorageDescriptor).toMatchObject({
      Location: users(1).location,
      Columns: [
        { Name: 'id', Type: 'int' },
        { Name: 'name', Type: 'string' },
        { Name: 'birth_date', Type: 'date' },
      ],
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    })
    const f = await getTable('users_features')
    expect(f.StorageDescriptor?.Columns).toEqual([
      { Name: 'city', Type: 'string' },
      { Name: 'users', Type: 'int' },
      { Name: 'mean_age', Type: 'double' },
    ])
    expect(await catalog.currentVersions(['users', 'users_features'])).toEqual(
      new Map([
        ['users', 1],
        ['users_features', 1],
      ]),
    )
  })

  it('switches the location and version on the next publish, and is idempotent', async () => {
    const catalog = new GlueCatalog(moto.glue, database)
    await catalog.publish([users(1), features(1)])
    await catalog.publish([users(2), features(2)])
    await catalog.publish([users(2), features(2)])

    const t = await getTable('users')
    expect(t.StorageDescriptor?.Location).toBe(users(2).location)
    expect(t.Parameters?.lakesync_version).toBe('2')
    expect((await getTable('users_features')).StorageDescriptor?.Location).toBe(features(2).location)
    expect(await catalog.currentVersions(['users', 'users_features'])).toEqual(
      new Map([
        ['users', 2],
        ['users_features', 2],
      ]),
    )
  })

  it('gives an existing table a column added to the config (issue 19) on the next publish', async () => {
    const catalog = new GlueCatalog(moto.glue, database)
    await catalog.publish([users(1)])
    const v2 = users(2)
    await catalog.publish([
      { ...v2, columns: [...v2.columns, { name: 'phone', type: 'string', added: true }] },
    ])
    const t = await getTable('users')
    expect(t.StorageDescriptor?.Columns?.map((c) => `${c.Name} ${c.Type}`)).toEqual([
      'id int',
      'name string',
      'birth_date date',
      'phone string',
    ])
    expect(t.StorageDescriptor?.Location).toBe(v2.location)
  })

  it('reports null for tables that are absent, with or without the database', async () => {
    const catalog = new GlueCatalog(moto.glue, database)
    expect(await catalog.currentVersions(['users'])).toEqual(new Map([['users', null]]))
    await catalog.publish([users(3)])
    expect(await catalog.currentVersions(['users', 'users_features'])).toEqual(
      new Map([
        ['users', 3],
        ['users_features', null],
      ]),
    )
  })

  it("follows an Iceberg table's newer metadata at the same version (vacuum's), never older metadata", async () => {
    const catalog = new GlueCatalog(moto.glue, database)
    const at = (version: number, k: number): CatalogTable => ({
      ...users(version),
      iceberg: {
        tableLocation: 's3://final/lake/users',
        metadataLocation: `s3://final/lake/users/metadata/v${k}.metadata.json`,
      },
    })
    const metadata = async () => (await getTable('users')).Parameters?.metadata_location
    await catalog.publish([at(2, 2)])
    await catalog.publish([at(2, 3)]) // vacuum expired a snapshot of version 2's table
    expect(await metadata()).toBe('s3://final/lake/users/metadata/v3.metadata.json')
    await catalog.publish([at(2, 2)]) // a slow publisher of the older metadata
    expect(await metadata()).toBe('s3://final/lake/users/metadata/v3.metadata.json')
    expect((await getTable('users')).Parameters?.previous_metadata_location).toBe(
      's3://final/lake/users/metadata/v2.metadata.json',
    )
  })

  it('publishes into an existing database', async () => {
    await new GlueCatalog(moto.glue, database).publish([users(1)])
    await new GlueCatalog(moto.glue, database).publish([features(4)])
    expect(await openGlueCatalog(database).currentVersions(['users', 'users_features'])).toEqual(
      new Map([
        ['users', 1],
        ['users_features', 4],
      ]),
    )
  })
})

describe('GlueCatalog optimistic updates (a Glue double: moto is not relied on to enforce VersionId)', () => {
  /** A Glue client double: one table, a VersionId bumped by each update, a concurrent writer that strikes once. */
  function double(opts: { publishedVersion: number; interfereOnce: boolean }) {
    const table = {
      VersionId: '1',
      Parameters: { lakesync_version: String(opts.publishedVersion), metadata_location: 'm1' },
    }
    const updates: { VersionId?: string; params: Record<string, string> }[] = []
    let interfere = opts.interfereOnce
    const client = {
      send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
        const name = cmd.constructor.name
        if (name === 'CreateDatabaseCommand')
          throw Object.assign(new Error('exists'), { name: 'AlreadyExistsException' })
        if (name === 'GetTableCommand') return { Table: structuredClone(table) }
        if (name === 'UpdateTableCommand') {
          if (interfere) {
            // Another writer updated the table between our read and our update.
            interfere = false
            table.VersionId = String(Number(table.VersionId) + 1)
          }
          if (cmd.input.VersionId !== table.VersionId)
            throw Object.assign(new Error('version changed'), { name: 'ConcurrentModificationException' })
          const input = cmd.input.TableInput as { Parameters: Record<string, string> }
          updates.push({ VersionId: cmd.input.VersionId as string, params: input.Parameters })
          table.VersionId = String(Number(table.VersionId) + 1)
          table.Parameters = { ...input.Parameters } as typeof table.Parameters
          return {}
        }
        throw new Error(`unexpected ${name}`)
      },
    }
    return { client, updates, table }
  }
  const iceberg = (version: number): CatalogTable => ({
    name: 'users',
    location: 'unused',
    columns: [{ name: 'id', type: 'int32' }],
    version,
    iceberg: { tableLocation: 's3://final/lake/users', metadataLocation: `m${version}` },
  })

  it('a table changed since it was read is read again, then updated with its new VersionId', async () => {
    const d = double({ publishedVersion: 1, interfereOnce: true })
    await new GlueCatalog(d.client as never, 'db').publish([iceberg(2)])
    expect(d.updates).toEqual([
      {
        VersionId: '2', // the first update, with VersionId 1, was refused
        params: {
          table_type: 'ICEBERG',
          metadata_location: 'm2',
          previous_metadata_location: 'm1',
          lakesync_version: '2',
        },
      },
    ])
  })

  it('a table already at a newer version is not moved back', async () => {
    const d = double({ publishedVersion: 5, interfereOnce: false })
    await new GlueCatalog(d.client as never, 'db').publish([iceberg(4)])
    expect(d.updates).toEqual([])
    expect(d.table.Parameters.lakesync_version).toBe('5')
  })
})
