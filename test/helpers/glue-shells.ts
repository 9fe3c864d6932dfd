/** The Glue tables the CDK stack creates (lib/catalog.ts tableShell), made on moto as CloudFormation would. */
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  type GlueClient,
  type TableInput,
} from '@aws-sdk/client-glue'
import type { CfnTable } from 'aws-cdk-lib/aws-glue'
import { type TableFormat, tableShell } from '../../lib/catalog.js'

/** A shell as the Glue API takes it (CloudFormation's TableInput, in the SDK's casing). */
export function shellInput(name: string, lakeUri: string, format: TableFormat): TableInput {
  const s = tableShell(name, lakeUri, format)
  const sd = s.storageDescriptor as CfnTable.StorageDescriptorProperty
  const serde = sd.serdeInfo as CfnTable.SerdeInfoProperty | undefined
  return {
    Name: s.name,
    Description: s.description,
    TableType: s.tableType,
    Parameters: s.parameters as Record<string, string>,
    StorageDescriptor: {
      Location: sd.location,
      ...(sd.inputFormat ? { InputFormat: sd.inputFormat, OutputFormat: sd.outputFormat } : {}),
      ...(serde ? { SerdeInfo: { SerializationLibrary: serde.serializationLibrary } } : {}),
    },
  }
}

/** Creates the database and the stack's shells of `names` under `lakeUri` (ending in /). */
export async function createStackShells(
  glue: GlueClient,
  database: string,
  lakeUri: string,
  names: string[],
  format: TableFormat = 'iceberg',
): Promise<void> {
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database, LocationUri: lakeUri } }))
  for (const name of names)
    await glue.send(
      new CreateTableCommand({ DatabaseName: database, TableInput: shellInput(name, lakeUri, format) }),
    )
}
