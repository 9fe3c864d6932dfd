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
    rfc4180: true, // quote fields holding the delimiter, quotes or line breaks: the reader is an RFC 4180 parser
    csvRowDelimiter: '\n',
    csvDelimiter: format.csvDelimiter,
    includeOpForFullLoad: format.includeOpForFullLoad,
    addColumnName: format.addColumnName,
    // Absent = DMS's default: NULL is written as an empty unquoted field, which is what `csvNullValue: null` reads.
    ...(format.csvNullValue !== null ? { csvNullValue: format.csvNullValue } : {}),
    ...(format.timestampColumnName !== null ? { timestampColumnName: format.timestampColumnName } : {}),
    cdcMaxBatchInterval: tuning.cdcMaxBatchIntervalSeconds,
    cdcMinFileSize: tuning.cdcMinFileSizeKb,
    datePartitionEnabled: tuning.datePartitionEnabled,
  }
}

/**
 * The replication task's table mappings: one selection rule for schema.table and, when the format orders changes by
 * a change-sequence column, the transformation rule that adds it ($AR_H_CHANGE_SEQ, appended as the last column).
 */
export function dmsTableMappings(format: DmsFormat, schema: string, table: string): string {
  const locator = { 'schema-name': schema, 'table-name': table }
  const rules: Record<string, unknown>[] = [
    {
      'rule-type': 'selection',
      'rule-id': '1',
      'rule-name': 'include-table',
      'object-locator': locator,
      'rule-action': 'include',
    },
  ]
  const seq = format.changeSequenceColumnName
  if (seq !== null)
    rules.push({
      'rule-type': 'transformation',
      'rule-id': '2',
      'rule-name': 'add-change-sequence',
      'rule-target': 'column',
      'object-locator': locator,
      'rule-action': 'add-column',
      value: seq,
      expression: '$AR_H_CHANGE_SEQ',
      'data-type': { type: 'string', length: 50 },
    })
  return JSON.stringify({ rules })
}
