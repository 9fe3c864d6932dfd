/**
 * The Glue Data Catalog as the catalog: each published table is an external Parquet table whose location is
 * switched to the folder of the newly committed version, which is what Athena (and Spark, Trino) read. The committed
 * version is kept as the table parameter `lakesync_version`, so a run can tell whether the catalog is behind the
 * commit log (a run that died between committing and publishing) and publish again.
 */
import {
  type Column,
  CreateDatabaseCommand,
  CreateTableCommand,
  GetTableCommand,
  GlueClient,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue'
import { awsRegion } from '../storage/open.js'
import type { ColumnSpec } from '../types.js'
import type { Catalog, CatalogTable } from './catalog.js'

/** Hive type of each column type, as Athena expects it in the table schema (issue 16's table). */
export function hiveType(c: ColumnSpec): string {
  switch (c.type) {
    case 'int16':
      return 'smallint'
    case 'int32':
      return 'int'
    case 'int64':
      return 'bigint'
    case 'float32':
      return 'float'
    case 'float64':
    case 'double':
      return 'double'
    case 'decimal':
      return `decimal(${c.precision},${c.scale})`
    case 'boolean':
      return 'boolean'
    case 'binary':
      return 'binary'
    case 'date':
      return 'date'
    case 'timestamp':
    case 'timestamptz':
      return 'timestamp'
    case 'string':
    case 'json':
    case 'time':
      return 'string'
  }
}

const VERSION_PARAMETER = 'lakesync_version'

function errorName(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? (e as { name?: string }).name : undefined
}

/** Wraps an unexpected SDK error with the operation and the table it was about. */
function failure(what: string, e: unknown): Error {
  const message = typeof e === 'object' && e !== null ? (e as { message?: string }).message : String(e)
  return new Error(`glue: ${what}: ${errorName(e) ?? 'Error'}: ${message}`, { cause: e })
}

/**
 * The table definition Athena needs: an Iceberg table (`table_type=ICEBERG`, its `metadata_location` and the one it
 * replaces) or a folder of Parquet files. `previous` is the metadata location the table had.
 */
export function tableInput(table: CatalogTable, previous?: string): TableInput {
  const columns: Column[] = table.columns.map((c) => ({ Name: c.name, Type: hiveType(c) }))
  if (table.iceberg)
    return {
      Name: table.name,
      TableType: 'EXTERNAL_TABLE',
      Parameters: {
        table_type: 'ICEBERG',
        metadata_location: table.iceberg.metadataLocation,
        ...(previous && previous !== table.iceberg.metadataLocation
          ? { previous_metadata_location: previous }
          : {}),
        [VERSION_PARAMETER]: String(table.version),
      },
      StorageDescriptor: { Location: table.iceberg.tableLocation, Columns: columns },
    }
  return {
    Name: table.name,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', [VERSION_PARAMETER]: String(table.version) },
    StorageDescriptor: {
      Location: table.location,
      Columns: columns,
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    },
  }
}

export class GlueCatalog implements Catalog {
  readonly name: string

  constructor(
    private readonly client: GlueClient,
    private readonly database: string,
  ) {
    this.name = `glue://${database}`
  }

  async publish(tables: CatalogTable[]): Promise<void> {
    await this.ensureDatabase()
    for (const table of tables) await this.upsertTable(table)
  }

  async currentVersions(names: string[]): Promise<Map<string, number | null>> {
    const out = new Map<string, number | null>()
    for (const name of names) {
      try {
        const res = await this.client.send(new GetTableCommand({ DatabaseName: this.database, Name: name }))
        const v = res.Table?.Parameters?.[VERSION_PARAMETER]
        out.set(name, v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Number(v))
      } catch (e) {
        // Also what Glue answers when the database itself is missing: then no table exists either.
        if (errorName(e) === 'EntityNotFoundException') out.set(name, null)
        else throw failure(`GetTable ${this.database}.${name}`, e)
      }
    }
    return out
  }

  private async ensureDatabase(): Promise<void> {
    try {
      await this.client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: this.database } }))
    } catch (e) {
      if (errorName(e) !== 'AlreadyExistsException') throw failure(`CreateDatabase ${this.database}`, e)
    }
  }

  /**
   * Creates the table, or replaces its definition when it exists. Two publishers racing on a new table: the loser's
   * CreateTable fails with AlreadyExistsException and it updates instead. UpdateTable skips archiving the previous
   * definition: the commit log is the history, and Glue caps the archived versions kept per table.
   */
  private async upsertTable(table: CatalogTable): Promise<void> {
    const where = `${this.database}.${table.name}`
    for (let attempt = 0; attempt < 5; attempt++) {
      let current: { VersionId?: string; Parameters?: Record<string, string> } | undefined
      try {
        current = (
          await this.client.send(new GetTableCommand({ DatabaseName: this.database, Name: table.name }))
        ).Table
      } catch (e) {
        if (errorName(e) !== 'EntityNotFoundException') throw failure(`GetTable ${where}`, e)
      }
      if (!current) {
        try {
          await this.client.send(
            new CreateTableCommand({ DatabaseName: this.database, TableInput: tableInput(table) }),
          )
          return
        } catch (e) {
          if (errorName(e) !== 'AlreadyExistsException') throw failure(`CreateTable ${where}`, e)
          continue // created meanwhile: update it
        }
      }
      // Never move a table back: another writer may have published a newer version meanwhile.
      const published = Number(current.Parameters?.[VERSION_PARAMETER])
      if (Number.isFinite(published) && published > table.version) return
      if (published === table.version && !newerMetadata(table, current.Parameters?.metadata_location)) return
      try {
        // VersionId: Glue refuses the update if the table changed since it was read (optimistic concurrency).
        await this.client.send(
          new UpdateTableCommand({
            DatabaseName: this.database,
            TableInput: tableInput(table, current.Parameters?.metadata_location),
            SkipArchive: true,
            ...(current.VersionId ? { VersionId: current.VersionId } : {}),
          }),
        )
        return
      } catch (e) {
        if (errorName(e) === 'ConcurrentModificationException') continue // read again, decide again
        throw failure(`UpdateTable ${where}`, e)
      }
    }
    throw new Error(`glue: ${where} kept changing under this publish; run again`)
  }
}

/** `v<K>.metadata.json`'s K, or null for another name. */
function metadataNumber(location: string | undefined): number | null {
  const m = location === undefined ? null : /\/v(\d+)\.metadata\.json$/.exec(location)
  return m ? Number(m[1]) : null
}

/**
 * At the same version, an Iceberg table still moves to newer metadata of it (vacuum's, which expired snapshots);
 * never to older, and a Hive-style table has nothing to move.
 */
function newerMetadata(table: CatalogTable, current: string | undefined): boolean {
  if (!table.iceberg) return false
  const next = metadataNumber(table.iceberg.metadataLocation)
  const now = metadataNumber(current)
  return next !== null && (now === null || next > now)
}

let sharedGlue: GlueClient | undefined

/**
 * The Glue catalog `database`, on one shared client made on first use. Like the S3 client it takes everything
 * from the standard AWS environment; the SDK reads an endpoint override from AWS_ENDPOINT_URL_GLUE itself.
 */
export function openGlueCatalog(database: string): GlueCatalog {
  sharedGlue ??= new GlueClient({ region: awsRegion() })
  return new GlueCatalog(sharedGlue, database)
}
