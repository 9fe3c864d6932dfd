/**
 * Errors are typed values with context. Every error that stops a run is a LakesyncError with a stable `code`
 * (tests and callers match on it) and, for input errors, the file, line and column it points at.
 * Messages start with the subsystem (`dms csv:`, `dms files:`, `commit:`) and quote the offending value.
 */

export type ErrorCode =
  // CSV content
  | 'unknown_op'
  | 'field_count'
  | 'bad_int'
  | 'bad_date'
  | 'bad_value' // a value that is not of its column's declared type
  | 'null_value' // NULL in a column declared not nullable
  | 'null_key'
  | 'unterminated_quote'
  | 'bad_quote'
  | 'blank_line'
  | 'invalid_utf8'
  | 'bad_header'
  | 'bad_line_end'
  | 'bad_sequence'
  | 'nosup_value' // CsvNoSupValue where no previous value can be kept (key column, I row, U of a missing key)
  | 'new_column' // a field or header column the table config does not declare (a column added at the source)
  // files
  | 'truncated_gzip'
  | 'duplicate_key'
  | 'bad_file_name'
  | 'duplicate_file'
  | 'no_full_load'
  | 'late_file'
  | 'changed_file'
  | 'missing_file'
  | 'ambiguous_file_time' // a local-time CDC name in the hour repeated at a DST change, undecidable
  // configuration and usage
  | 'bad_config'
  | 'bad_usage'
  | 'no_version'
  // target state
  | 'commit_conflict'
  | 'corrupt_state'
  | 'not_skippable' // lakesync skip/unskip refused: no such change file, already applied, or depended on
  | 'too_large' // a table beyond what one process holds (route it to Spark)

/** Where in an input file an error points (all 1-based). */
export interface InputLocation {
  file: string // the file as the operator finds it: s3://bucket/prefix/key or a local path (relative without a root)
  line?: number // physical line where the offending field starts
  column?: number // field index within the row
}

export class LakesyncError extends Error {
  override name = 'LakesyncError'
  readonly code: ErrorCode
  readonly location: InputLocation | undefined

  constructor(code: ErrorCode, message: string, location?: InputLocation, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.location = location
  }
}

/** Bad data in a DMS file: always carries the file, and line/column when they exist. */
export class InputError extends LakesyncError {
  override name = 'InputError'
}

/** Bad configuration, table spec or command-line usage. */
export class ConfigError extends LakesyncError {
  override name = 'ConfigError'
}

/** The target's state disagrees with what the run expects (a lost race, a corrupt commit record). */
export class StateError extends LakesyncError {
  override name = 'StateError'
}

/** Formats ` in FILE line L column C` for messages. */
export function at(loc: InputLocation): string {
  let s = ` in ${loc.file}`
  if (loc.line !== undefined) s += ` line ${loc.line}`
  if (loc.column !== undefined) s += ` column ${loc.column}`
  return s
}

/** Quotes a value for an error message, shortened so a huge field does not flood the terminal. */
export function quoteValue(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value
  return JSON.stringify(shown)
}
