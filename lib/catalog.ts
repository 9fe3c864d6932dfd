/**
 * The Glue database Athena queries. Its two tables (the replicated table and users_features) are created and
 * switched to each new version's folder by the merge function (etl/catalog/glue.ts), which records the published
 * version as a table parameter; tables owned by CloudFormation would be reset to a stale location on every update.
 */
import { Stack } from 'aws-cdk-lib'
import * as glue from 'aws-cdk-lib/aws-glue'
import { Construct } from 'constructs'
import { USERS_FEATURES_SPEC } from '../etl/city-features.js'

export const FEATURES_TABLE = USERS_FEATURES_SPEC.name

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
          'lakesync: the replicated table and its per-city features, as Parquet (one folder per version)',
        locationUri: props.locationUri,
      },
    })
  }
}
