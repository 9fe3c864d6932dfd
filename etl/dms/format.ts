import { ConfigError } from '../errors.js'
import type { DmsFormat } from '../types.js'
import { isTimeZone } from './time-zone.js'

/** Defaults match the seed data: no header, no Op in LOAD files, `,`, NULL as an empty unquoted field. */
export const DEFAULT_DMS_FORMAT: DmsFormat = {
  includeOpForFullLoad: false,
  addColumnName: false,
  timestampColumnName: null,
  timestampColumnPosition: 'afterOp',
  csvDelimiter: ',',
  csvNullValue: null,
  changeSequenceColumnName: null,
  changeSequencePosition: 'last',
  orderChangesBy: 'file',
  datePartitionTimezone: null,
  cdcInsertsOnly: false,
  cdcInsertsAndUpdates: false,
  useCsvNoSupValue: false,
  csvNoSupValue: null,
  rfc4180: true,
  csvRowDelimiter: '\n',
  preserveTransactions: false,
  cdcPath: null,
}

/** Merges a partial format from a config file over the defaults, rejecting unknown keys and bad values. */
export function parseDmsFormat(value: unknown): DmsFormat {
  if (value === undefined) return DEFAULT_DMS_FORMAT
  if (typeof value !== 'object' || value === null)
    throw new ConfigError('bad_config', 'config: format must be an object')
  const v = value as Record<string, unknown>
  for (const k of Object.keys(v))
    if (!(k in DEFAULT_DMS_FORMAT))
      throw new ConfigError(
        'bad_config',
        `config: unknown format setting ${JSON.stringify(k)} (known: ${Object.keys(DEFAULT_DMS_FORMAT).join(', ')})`,
      )
  const f: DmsFormat = { ...DEFAULT_DMS_FORMAT, ...(v as Partial<DmsFormat>) }
  for (const k of [
    'includeOpForFullLoad',
    'addColumnName',
    'cdcInsertsOnly',
    'cdcInsertsAndUpdates',
    'useCsvNoSupValue',
    'rfc4180',
    'preserveTransactions',
  ] as const)
    if (typeof f[k] !== 'boolean')
      throw new ConfigError('bad_config', `config: format.${k} must be true or false`)
  if (
    f.timestampColumnName !== null &&
    (typeof f.timestampColumnName !== 'string' || f.timestampColumnName === '')
  )
    throw new ConfigError(
      'bad_config',
      'config: format.timestampColumnName must be a non-empty string or null',
    )
  if (f.timestampColumnPosition !== 'afterOp' && f.timestampColumnPosition !== 'last')
    throw new ConfigError('bad_config', 'config: format.timestampColumnPosition must be "afterOp" or "last"')
  const d = f.csvDelimiter
  if (
    typeof d !== 'string' ||
    d.length !== 1 ||
    d === '"' ||
    d === '\n' ||
    d === '\r' ||
    d.charCodeAt(0) > 127
  )
    throw new ConfigError(
      'bad_config',
      `config: format.csvDelimiter must be one ASCII character other than a quote or line break, got ${JSON.stringify(d)}`,
    )
  if (f.csvNullValue !== null && typeof f.csvNullValue !== 'string')
    throw new ConfigError('bad_config', 'config: format.csvNullValue must be a string or null')
  if (typeof f.csvNullValue === 'string' && (/["\r\n]/.test(f.csvNullValue) || f.csvNullValue.includes(d)))
    throw new ConfigError(
      'bad_config',
      'config: format.csvNullValue must not contain the delimiter, a quote or a line break',
    )
  if (
    f.changeSequenceColumnName !== null &&
    (typeof f.changeSequenceColumnName !== 'string' || f.changeSequenceColumnName === '')
  )
    throw new ConfigError(
      'bad_config',
      'config: format.changeSequenceColumnName must be a non-empty string or null',
    )
  if (f.changeSequencePosition !== 'afterOp' && f.changeSequencePosition !== 'last')
    throw new ConfigError('bad_config', 'config: format.changeSequencePosition must be "afterOp" or "last"')
  if (!['file', 'timestamp', 'changeSequence'].includes(f.orderChangesBy))
    throw new ConfigError(
      'bad_config',
      'config: format.orderChangesBy must be "file", "timestamp" or "changeSequence"',
    )
  if (f.orderChangesBy === 'timestamp' && f.timestampColumnName === null)
    throw new ConfigError(
      'bad_config',
      'config: format.orderChangesBy "timestamp" needs format.timestampColumnName',
    )
  if (f.orderChangesBy === 'changeSequence' && f.changeSequenceColumnName === null)
    throw new ConfigError(
      'bad_config',
      'config: format.orderChangesBy "changeSequence" needs format.changeSequenceColumnName',
    )
  if (f.datePartitionTimezone !== null && !isTimeZone(f.datePartitionTimezone))
    throw new ConfigError(
      'bad_config',
      `config: format.datePartitionTimezone must be an IANA time zone in Area/Location form (e.g. "Europe/Paris") or null, got ${JSON.stringify(f.datePartitionTimezone)}`,
    )
  checkCdcSettings(f)
  checkTransactionSettings(f)
  return f
}

/** The settings of issue 19: which rows change files hold, the NOSUP text, quoting and the row delimiter. */
function checkCdcSettings(f: DmsFormat): void {
  if (f.cdcInsertsOnly && f.cdcInsertsAndUpdates)
    throw new ConfigError(
      'bad_config',
      'config: format.cdcInsertsOnly and format.cdcInsertsAndUpdates cannot both be true (DMS refuses both on one endpoint)',
    )
  const r = f.csvRowDelimiter
  if (
    typeof r !== 'string' ||
    !(r === '\n' || r === '\r\n' || (r.length === 1 && r.charCodeAt(0) < 128 && r !== '"' && r !== '\r')) ||
    r === f.csvDelimiter
  )
    throw new ConfigError(
      'bad_config',
      `config: format.csvRowDelimiter must be "\\n", "\\r\\n" or one ASCII character other than a quote, a carriage return and the csvDelimiter, got ${JSON.stringify(r)}`,
    )
  const v = f.csvNoSupValue
  if (v !== null && (typeof v !== 'string' || v === ''))
    throw new ConfigError('bad_config', 'config: format.csvNoSupValue must be a non-empty string or null')
  if (typeof v === 'string' && (/["\r\n]/.test(v) || v.includes(f.csvDelimiter) || v.includes(r)))
    throw new ConfigError(
      'bad_config',
      'config: format.csvNoSupValue must not contain the delimiter, a quote or a line break',
    )
  if (v !== null && v === f.csvNullValue)
    throw new ConfigError(
      'bad_config',
      'config: format.csvNoSupValue must differ from format.csvNullValue (a field could not be told NULL or kept)',
    )
}

/** The folder name rule of format.cdcPath: relative, `/`-separated plain names (no `.`, `..` or empty parts). */
const CDC_PATH = /^[A-Za-z0-9_=+-][A-Za-z0-9_.=+-]*(\/[A-Za-z0-9_=+-][A-Za-z0-9_.=+-]*)*$/

/**
 * PreserveTransactions + CdcPath [S3T "Capturing data changes (CDC) including transaction order", API-S3]: DMS
 * requires CdcPath with it, and refuses it with AddColumnName and DatePartitionEnabled. Settings that would move
 * fields in a transaction row, where the docs show none (`operation,table_name,database_schema_name,field_value,...`),
 * are refused rather than guessed.
 */
function checkTransactionSettings(f: DmsFormat): void {
  const fail = (what: string): never => {
    throw new ConfigError('bad_config', `config: ${what} (docs/dms-format.md, PreserveTransactions)`)
  }
  const p = f.cdcPath
  if (p !== null && (typeof p !== 'string' || !CDC_PATH.test(p)))
    fail(
      `format.cdcPath must be a folder under the DMS root such as "cdc" or "changes/txn" (no leading or trailing /, no . or .. parts), got ${JSON.stringify(p)}`,
    )
  if (!f.preserveTransactions) {
    if (p !== null) fail('format.cdcPath is read only with format.preserveTransactions true')
    return
  }
  if (p === null)
    fail('format.preserveTransactions needs format.cdcPath, the folder DMS writes CDC_TXN files to')
  if (f.addColumnName)
    fail('format.addColumnName cannot be used with format.preserveTransactions (DMS refuses both)')
  if (f.datePartitionTimezone !== null)
    fail(
      'format.datePartitionTimezone cannot be used with format.preserveTransactions (DMS refuses DatePartitionEnabled with it)',
    )
  if (f.timestampColumnName !== null || f.changeSequenceColumnName !== null || f.orderChangesBy !== 'file')
    fail(
      'format.timestampColumnName, format.changeSequenceColumnName and format.orderChangesBy are not read with format.preserveTransactions: the docs show no such field in a transaction row, whose order is the transaction order',
    )
  if (changeRowsWithoutOp(f))
    fail(
      'format.cdcInsertsOnly or format.cdcInsertsAndUpdates without format.includeOpForFullLoad is not read with format.preserveTransactions: the docs show a transaction row always starting with its operation, and are silent on whether DMS drops it there',
    )
}

/** Whether change files carry no Op field: DMS drops it with CdcInsertsOnly/AndUpdates unless IncludeOpForFullLoad. */
export function changeRowsWithoutOp(f: DmsFormat): boolean {
  return (f.cdcInsertsOnly || f.cdcInsertsAndUpdates) && !f.includeOpForFullLoad
}

/** The NOSUP text that marks a kept column in a change row, or null when DMS writes NULL for those columns. */
export function noSupText(f: DmsFormat): string | null {
  return f.useCsvNoSupValue ? f.csvNoSupValue : null
}

/**
 * Orders two values of the ordering column: digit strings (DMS's $AR_H_CHANGE_SEQ) numerically, anything else (the
 * fixed-width `yyyy-MM-dd HH:mm:ss.ffffff` commit timestamp) as text.
 */
export function compareSequence(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b) && a.length !== b.length) {
    const x = a.replace(/^0+/, '')
    const y = b.replace(/^0+/, '')
    if (x.length !== y.length) return x.length - y.length
    return x < y ? -1 : x > y ? 1 : 0
  }
  return a < b ? -1 : a > b ? 1 : 0
}
