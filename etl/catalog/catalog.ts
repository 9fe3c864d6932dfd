/**
 * Where readers find the current version: after a commit each table's location is switched to the new version's
 * folder. Adapters: none (local runs) and the Glue Data Catalog (etl/catalog/glue.ts), which Athena reads.
 */
import type { ColumnSpec } from '../types.js'

export interface CatalogTable {
  name: string // table name in the catalog database, e.g. users, users_features
  location: string // folder URL of the version, e.g. s3://final/lake/users/v=00000000000000000003/
  columns: ColumnSpec[] // published columns in order (int32 -> int, string -> string, date -> date, double -> double)
  version: number // the committed version the location belongs to (recorded as a table parameter)
  iceberg?: { tableLocation: string; metadataLocation: string } // an Iceberg table: its root and current metadata
}

export interface Catalog {
  /** Human-readable name for messages, e.g. glue://lakesync_db. */
  readonly name: string
  /** Creates the database and tables if absent and points each table at its location. Idempotent. */
  publish(tables: CatalogTable[]): Promise<void>
  /** The version each table currently points at (from its parameters), or null when the table is absent. */
  currentVersions(names: string[]): Promise<Map<string, number | null>>
}
