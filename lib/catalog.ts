/**
 * The Glue database Athena queries. Its tables (each replicated table, and `<name>_features` for a table with
 * features) are created from the table's config types (etl/catalog/glue.ts, hiveType) and switched to each new
 * version's folder by the merge function, which records the published version as a table parameter. They are not
 * CloudFormation resources: a stack update would reset a table to a stale location, and a deployment that already
 * has the tables (made by the function) would fail to create them.
 */
import { Stack } from 'aws-cdk-lib'
import * as glue from 'aws-cdk-lib/aws-glue'
import { Construct } from 'constructs'

export interface CatalogProps {
  databaseName: string
  locationUri: string // s3://final-bucket/prefix
}

export class Catalog extends Construct {
  readonly database: glue.CfnDatabase
  readonly databaseName: string

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id)
    this.databaseName = props.databaseName
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Stack.of(this).account,
      databaseInput: {
        name: props.databaseName,
        description:
          'lakesync: the replicated tables and their per-city features, as Parquet (one folder per version)',
        locationUri: props.locationUri,
      },
    })
  }
}
