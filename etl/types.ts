/** Shared types of the engine. One comment per field; defaults live in the modules that apply them. */

/**
 * Column types, by their config names (issue 16's table; etl/table/column-types.ts holds what each one means:
 * storage, Parquet, Glue, text forms). `double` is for computed feature columns only (never NULL).
 */
export type ColumnType =
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'decimal'
  | 'boolean'
  | 'string'
  | 'json'
  | 'binary'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'double'

export interface ColumnSpec {
  name: string // column name, as in the source table and the published Parquet
  type: ColumnType // value type; decides parsing, storage and the Parquet physical type
  precision?: number // decimal only: 1..38 digits
  scale?: number // decimal only: 0..precision fraction digits
  nullable?: boolean // false: a NULL in an I or U row is an input error (NOT NULL at the source); default true
  added?: boolean // added at the source during CDC (trailing columns only): rows written before it read NULL
}

/** The columns the per-city features use (a table's `features` config section; the README's Features). */
export interface FeatureColumns {
  id: string // breaks rank ties and keys the features table (int32)
  name: string // carried into the features table (string)
  city: string // groups the users (string)
  lastLogin: string // ranked and counted in the 90-day window (date)
}

/** The shape of a replicated table. The merge engine is keyed by `primaryKey`, whatever the table. */
export interface TableSpec {
  features?: FeatureColumns // compute the per-city features into `<name>_features`; absent: mirror only
  name: string // table name; also the output folder and the commit-log folder
  columns: ColumnSpec[] // in source order (the order DMS writes them); a column's Parquet field id is its position + 1
  primaryKey: string[] // the key columns, in key order: never NULL, never float, binary or json
}

/**
 * The AWS DMS S3-target settings that decide the layout of a CSV file. One object configures both the reader and
 * (later) the DMS endpoint in the CDK stack, so the two cannot drift apart.
 */
export interface DmsFormat {
  includeOpForFullLoad: boolean // IncludeOpForFullLoad: LOAD rows start with an Op column (always I)
  addColumnName: boolean // AddColumnName: every file starts with a header row of column names
  timestampColumnName: string | null // TimestampColumnName: an extra commit-timestamp column, or null for none
  timestampColumnPosition: 'afterOp' | 'last' // where that column sits (DMS documents no order, so it is a setting)
  csvDelimiter: string // CsvDelimiter: one character
  csvNullValue: string | null // CsvNullValue: an unquoted field equal to it is NULL; null = empty unquoted field is NULL
  changeSequenceColumnName: string | null // a column added by a DMS transformation rule ($AR_H_CHANGE_SEQ), or null
  changeSequencePosition: 'afterOp' | 'last' // where that column sits (after Op and the timestamp, or last)
  orderChangesBy: 'file' | 'timestamp' | 'changeSequence' // file/row order, or the timestamp or change-sequence column
  datePartitionTimezone: string | null // DatePartitionTimezone: CDC names in this IANA zone's local time; null = UTC
  cdcInsertsOnly: boolean // CdcInsertsOnly: change files hold only I rows (no Op field without includeOpForFullLoad)
  cdcInsertsAndUpdates: boolean // CdcInsertsAndUpdates: change files hold I and U rows (same Op rule)
  useCsvNoSupValue: boolean // UseCsvNoSupValue: columns missing from the supplemental log are written as csvNoSupValue
  csvNoSupValue: string | null // CsvNoSupValue: that text; on a U row the column keeps its previous value
  rfc4180: boolean // Rfc4180: fields may be quoted ("" inside); false: every byte between delimiters is the value
  csvRowDelimiter: string // CsvRowDelimiter: "\n" (CRLF also read), "\r\n", or one other ASCII character
  preserveTransactions: boolean // PreserveTransactions: every table's changes in CDC_TXN-*.csv files, in cdcPath
  cdcPath: string | null // CdcPath: the folder of those files under the DMS root (BucketFolder); null when off
}

/** JS strings with NULL as null: the form conversions to and from other libraries use. */
export type StringValues = (string | null)[]

/** Sentinel for a NULL date. Real dates (years 0000-9999) are far inside the int32 range. */
export const NULL_DATE = -0x80000000

/**
 * A string column as UTF-8 bytes back to back (Arrow's layout): row i is bytes[offsets[i], offsets[i + 1]), and
 * valid[i] = 1 when it is present (a NULL row has an empty range). Strings stay bytes from the CSV reader to the
 * Parquet writer: at 10M rows, one JS string per name made garbage collection the largest cost of a run
 * (docs/performance.md).
 */
export interface StringColumn {
  type: 'string'
  bytes: Uint8Array // may be longer than offsets[length] (capacity)
  offsets: Int32Array // length + 1 entries (or more: capacity), offsets[0] = 0
  valid: Uint8Array // 1 = present
}

/**
 * A string column stored as codes into a dictionary: row i is entry codes[i], or NULL when codes[i] = -1. Columns
 * whose values repeat (city; names, when they do) are kept this way once merged (etl/table/dictionary.ts), and the
 * features' city and state are built this way: the merge, the features step, the snapshot and the Parquet writer
 * then move 4-byte codes instead of hashing or copying text.
 */
export interface DictColumn {
  type: 'dict'
  codes: Int32Array // may be longer than the table (capacity)
  entries: StringColumn // the distinct values (all present); may have capacity beyond `size`
  size: number // number of entries
}

/**
 * Columnar storage of one column (which ColumnType is stored how: etl/table/column-types.ts storageOf).
 * int32, int64, float64, bool: values plus a validity byte per row (1 = present); date: days since epoch with
 * NULL_DATE for NULL; string: bytes and offsets (text as UTF-8, binary as is, wide decimals as 16-byte big-endian
 * two's complement).
 */
export type ColumnData =
  | Int32Column
  | Int64Column
  | Float64Column
  | BoolColumn
  | { type: 'date'; values: Int32Array }
  | StringColumn
  | DictColumn
  | { type: 'double'; values: Float64Array } // computed features only; never NULL

/** int16, int32. */
export interface Int32Column {
  type: 'int32'
  values: Int32Array
  valid: Uint8Array
}

/** int64; time (µs since midnight); timestamp, timestamptz (µs since 1970-01-01 UTC); decimal p ≤ 18 (unscaled). */
export interface Int64Column {
  type: 'int64'
  values: BigInt64Array
  valid: Uint8Array
}

/** float32 (held as the double of the float32), float64. */
export interface Float64Column {
  type: 'float64'
  values: Float64Array
  valid: Uint8Array
}

/** boolean: values 0 or 1. */
export interface BoolColumn {
  type: 'bool'
  values: Uint8Array
  valid: Uint8Array
}

/** A table in memory: columns in spec order, all of length `length` (typed arrays may be longer: capacity). */
export interface Table {
  spec: TableSpec
  length: number // number of rows
  columns: ColumnData[] // one per spec column, same order
}

/** Op codes of a change row. */
export const OP_INSERT = 1
export const OP_UPDATE = 2
export const OP_DELETE = 3
export type OpCode = typeof OP_INSERT | typeof OP_UPDATE | typeof OP_DELETE

/** The rows of one parsed DMS file, columnar. For a D row the non-key values are NULL (they are not read). */
export interface ParsedFile {
  file: string // file name relative to the source root
  rows: Table // the row values, in file order
  ops: Uint8Array | null // OpCode per row; null for full-load files without an Op column
  lines: Int32Array // physical line where each row starts (for errors found after parsing)
  sequence?: string[] // per-row ordering value when the DmsFormat orders changes by a column
  kept?: KeptValues // U rows whose columns held CsvNoSupValue; absent when none did
}

/** The columns of U rows that keep their previous value (DMS CsvNoSupValue: not in the supplemental log). */
export interface KeptValues {
  rows: (Uint8Array | null)[] // per spec column: 1 per row that keeps the column's value; null when no row does
  field: Int32Array // per spec column: its 1-based field number in the file (for errors)
}

/** Per-file counts of what each change did, each relative to the table just before that row. */
export interface OpCounts {
  inserts: number // I on a missing key
  replaces: number // I on a present key
  updates: number // U on a present key
  upsertsOfMissing: number // U on a missing key
  deletes: number // D on a present key
  deletesOfMissing: number // D on a missing key
}

/** Per-city features of the users table, row-aligned with the sorted features table. */
export interface FeatureSummary {
  rows: number // rows in the features table
  cities: number // distinct (aliased) cities, NULL counted as one
  rowsWithoutState: number // rows whose city has no state in the map (NULL city included)
  citiesWithoutState: (string | null)[] // those cities, sorted
}
