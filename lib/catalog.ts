/**
 * The Glue database Athena queries and one table per published table (each replicated table, and
 * `<name>_features` for a table with features): an Iceberg table (`table_type=ICEBERG`) by default, a Hive-style
 * Parquet table with `tableFormat: hive`. CloudFormation creates each table as a shell that never changes; the merge
 * function fills it at every commit (etl/catalog/glue.ts: the columns from the config types, `metadata_location`, or
 * the version folder of a Hive-style table), with Glue's optimistic VersionId check.
 *
 * The shell holds only what never changes (name, type, root), so a stack update has nothing to update and never
 * overwrites what the function published. Were it to be replaced anyway (a changed root), the shell points at
 * nothing stale: an Iceberg shell has no metadata location (queries fail rather than read old data) and a Hive
 * shell reads the never-written `v=0/`; the periodic sweep sees the table behind its commit log and republishes it.
 */
import { Stack } from 'aws-cdk-lib'
import * as glue from 'aws-cdk-lib/aws-glue'
import { Construct } from 'constructs'

export type TableFormat = 'iceberg' | 'hive'

export interface CatalogProps {
  databaseName: string
  locationUri: string // s3://final-bucket/prefix (ending in /)
  tables: string[] // the published table names (catalogTables of each replicated table)
  tableFormat: TableFormat
}

/** The never-changing part of a catalog table, as CloudFormation creates it. */
export function tableShell(
  name: string,
  locationUri: string,
  format: TableFormat,
): glue.CfnTable.TableInputProperty {
  const root = `${locationUri}${name}`
  if (format === 'iceberg')
    return {
      name,
      description: `lakesync: ${name} as an Iceberg v2 table (metadata under ${root}/metadata/)`,
      tableType: 'EXTERNAL_TABLE',
      parameters: { table_type: 'ICEBERG' },
      storageDescriptor: { location: root },
    }
  return {
    name,
    description: `lakesync: ${name} as Parquet, one folder per version (the function switches the location)`,
    tableType: 'EXTERNAL_TABLE',
    parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
    storageDescriptor: {
      location: `${root}/v=0/`, // versions count from 1: an unswitched shell reads no rows, never every version
      inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    },
  }
}

export class Catalog extends Construct {
  readonly database: glue.CfnDatabase
  readonly databaseName: string
  readonly tables: glue.CfnTable[]

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id)
    this.databaseName = props.databaseName
    const catalogId = Stack.of(this).account
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId,
      databaseInput: {
        name: props.databaseName,
        description:
          props.tableFormat === 'iceberg'
            ? 'lakesync: the replicated tables and their per-city features, as Iceberg v2 tables'
            : 'lakesync: the replicated tables and their per-city features, as Parquet (one folder per version)',
        locationUri: props.locationUri,
      },
    })
    this.tables = props.tables.map((name) => {
      const table = new glue.CfnTable(this, `Table-${name}`, {
        catalogId,
        databaseName: props.databaseName,
        tableInput: tableShell(name, props.locationUri, props.tableFormat),
      })
      table.addDependency(this.database)
      return table
    })
  }
}
