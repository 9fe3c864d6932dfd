/**
 * The DMS side of the file format contract. The S3 target endpoint's CSV settings and the replication task's table
 * mappings are derived from the same `DmsFormat` object the reader parses with, so what DMS writes and what lakesync
 * expects cannot drift apart.
 */
import type { CfnEndpoint } from 'aws-cdk-lib/aws-dms'
import type { DmsFormat } from '../etl/types.js'

export interface S3TargetTuning {
  cdcMaxBatchIntervalSeconds: number // CdcMaxBatchInterval: write a CDC file at least this often (seconds)
  cdcMinFileSizeKb: number // CdcMinFileSize: ...or as soon as this many kilobytes are buffered
  datePartitionEnabled: boolean // DatePartitionEnabled: CDC files under YYYY/MM/DD/ folders (the reader accepts both)
}

/** The CSV settings of the S3 target endpoint for `format` (CloudFormation's AWS::DMS::Endpoint S3Settings). */
export function dmsS3CsvSettings(format: DmsFormat, tuning: S3TargetTuning): CfnEndpoint.S3SettingsProperty {
  return {
    dataFormat: 'csv',
    compressionType: 'NONE',
    rfc4180: format.rfc4180, // true: fields holding the delimiter, quotes or line breaks are quoted
    csvRowDelimiter: format.csvRowDelimiter,
    csvDelimiter: format.csvDelimiter,
    includeOpForFullLoad: format.includeOpForFullLoad,
    addColumnName: format.addColumnName,
    cdcInsertsOnly: format.cdcInsertsOnly,
    cdcInsertsAndUpdates: format.cdcInsertsAndUpdates,
    ...(format.useCsvNoSupValue && format.csvNoSupValue !== null
      ? { useCsvNoSupValue: true, csvNoSupValue: format.csvNoSupValue }
      : {}),
    // Absent = DMS's default: NULL is written as an empty unquoted field, which is what `csvNullValue: null` reads.
    ...(format.csvNullValue !== null ? { csvNullValue: format.csvNullValue } : {}),
    ...(format.timestampColumnName !== null ? { timestampColumnName: format.timestampColumnName } : {}),
    cdcMaxBatchInterval: tuning.cdcMaxBatchIntervalSeconds,
    cdcMinFileSize: tuning.cdcMinFileSizeKb,
    datePartitionEnabled: tuning.datePartitionEnabled,
    // Every table's changes in CDC_TXN files under <BucketFolder>/<cdcPath>/, in transaction order.
    ...(format.preserveTransactions && format.cdcPath !== null
      ? { preserveTransactions: true, cdcPath: format.cdcPath }
      : {}),
    // CDC names in this zone's local time: the reader converts them back to UTC to order them.
    ...(format.datePartitionTimezone !== null ? { datePartitionTimezone: format.datePartitionTimezone } : {}),
  }
}

/** A table the task replicates. */
export interface DmsTable {
  schema: string
  table: string
}

/**
 * The replication task's table mappings: one selection rule per schema.table and, when the format orders changes
 * by a change-sequence column, one transformation rule per table that adds it ($AR_H_CHANGE_SEQ, appended as the
 * last column). Selections come first, in the order given; rule ids are 1, 2, ... and rule names (the docs ask
 * for alphanumeric values) are numbered the same way.
 */
export function dmsTableMappings(format: DmsFormat, tables: DmsTable[]): string {
  if (tables.length === 0) throw new Error('dmsTableMappings: no table to replicate')
  const locator = (t: DmsTable) => ({ 'schema-name': t.schema, 'table-name': t.table })
  const rules: Record<string, unknown>[] = tables.map((t, i) => ({
    'rule-type': 'selection',
    'rule-id': String(i + 1),
    'rule-name': `include-table-${i + 1}`,
    'object-locator': locator(t),
    'rule-action': 'include',
  }))
  const seq = format.changeSequenceColumnName
  if (seq !== null)
    tables.forEach((t, i) =>
      rules.push({
        'rule-type': 'transformation',
        'rule-id': String(rules.length + 1),
        'rule-name': `add-change-sequence-${i + 1}`,
        'rule-target': 'column',
        'object-locator': locator(t),
        'rule-action': 'add-column',
        value: seq,
        expression: '$AR_H_CHANGE_SEQ',
        'data-type': { type: 'string', length: 50 },
      }),
    )
  return JSON.stringify({ rules })
}

export interface LobSettings {
  lobMaxSizeKb: number // LobMaxSize: the largest text/json/bytea value, in KB (1..102400)
  fullLoadCommitRate: number // CommitRate: rows per full-load batch (memory = LobMaxSize x this x LOB columns)
}

/**
 * The task settings that keep LOB values whole (docs/dms-format.md, "LOBs"). PostgreSQL TEXT, JSON, JSONB, BYTEA
 * are LOBs to DMS; full LOB mode (and inline LOB mode) is not supported for an S3 target, so the task runs in
 * limited LOB mode with LobMaxSize from the stack, and the source endpoint sets FailTasksOnLobTruncation: a value
 * over the limit stops the task instead of reaching the lake cut. Unnamed settings keep DMS's defaults.
 */
export function dmsTaskSettings(lob: LobSettings): string {
  return JSON.stringify({
    TargetMetadata: {
      SupportLobs: true,
      FullLobMode: false,
      LimitedSizeLobMode: true,
      LobMaxSize: lob.lobMaxSizeKb,
      InlineLobMaxSize: 0,
    },
    FullLoadSettings: { CommitRate: lob.fullLoadCommitRate },
  })
}
