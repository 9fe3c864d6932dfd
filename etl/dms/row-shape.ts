/**
 * Rows whose shape differs from the table config's: columns added or dropped at the source during CDC (DMS applies
 * Add/Drop/Rename Column DDL to an S3 target). The CSV and DMS Parquet readers ask here how to read a file whose
 * header (AddColumnName, or a Parquet schema) is not the expected one, how few fields a header-less row may have,
 * and what to tell the operator when a row fits neither.
 */
import { InputError, quoteValue } from '../errors.js'
import { typeName } from '../table/column-types.js'
import { keyColumns } from '../table/spec.js'
import type { TableSpec } from '../types.js'
import type { CsvLayout } from './layout.js'

/** How a file with its own header maps onto the table: a CsvLayout's fields, plus the columns it lacks. */
export interface FileShape {
  fieldColumn: Int32Array // per field of the file: the spec column it fills, or -1 (Op, timestamp, sequence)
  header: string[] // the file's names
  sequenceField: number // the field that orders changes, or -1
  missing: Int32Array // spec columns no field fills: NULL in every row (dropped at the source, or added later)
}

/** The snippet an operator adds to the table's columns for a column the config does not declare. */
export function addedColumnHint(name: string, type = '<its type>'): string {
  return `{"name": ${JSON.stringify(name)}, "type": ${JSON.stringify(type)}, "added": true}`
}

/**
 * Matches a file's column names to the table by name (AddColumnName headers, DMS Parquet schemas): a declared
 * column absent from the file reads NULL (dropped at the source, or written before it was added); a name the
 * config does not declare stops the run with what to add. The Op field, the key columns and the ordering field
 * must be there. `subsystem` prefixes the messages (`dms csv`, `dms parquet`).
 */
export function fileShape(
  names: string[],
  spec: TableSpec,
  layout: CsvLayout,
  file: string,
  subsystem: string,
): FileShape {
  const fail = (code: 'bad_header' | 'new_column', what: string, column?: number): never => {
    const loc = column === undefined ? { file } : { file, line: 1, column }
    throw new InputError(
      code,
      `${subsystem}: ${what} in ${file}${column === undefined ? '' : ` line 1 column ${column}`}`,
      loc,
    )
  }
  const expected = new Map(layout.header.map((n, f) => [n, layout.fieldColumn[f]!]))
  const seen = new Set(names)
  if (seen.size !== names.length)
    fail('bad_header', `a column appears twice in the header ${quoteValue(names.join(','))}`)
  // What every row needs first: the Op field, the key and the ordering field (renamed or dropped: a reload).
  if (layout.hasOp !== (names[0] === 'Op'))
    fail(
      'bad_header',
      `${layout.hasOp ? 'no Op column first' : 'an Op column'} (expected ${layout.header.join(',')})`,
    )
  const sequenceName = layout.sequenceField >= 0 ? layout.header[layout.sequenceField]! : null
  if (sequenceName !== null && !seen.has(sequenceName))
    fail(
      'bad_header',
      `no ${sequenceName} column, which orders the changes (expected ${layout.header.join(',')})`,
    )
  const keys = new Set(keyColumns(spec))
  for (const k of keys)
    if (!seen.has(spec.columns[k]!.name))
      fail(
        'bad_header',
        `no key column ${spec.columns[k]!.name} (expected ${layout.header.join(',')}; a renamed key needs a reload)`,
      )
  const fieldColumn = new Int32Array(names.length)
  names.forEach((name, f) => {
    const c = expected.get(name)
    if (c === undefined || (name === 'Op' && f !== 0))
      fail(
        'new_column',
        `column ${quoteValue(name)} is not in table ${spec.name}'s config (a column added at the source: add ${addedColumnHint(name)} at the end of its columns; a renamed one needs a reload)`,
        f + 1,
      )
    fieldColumn[f] = c!
  })
  const missing: number[] = []
  spec.columns.forEach((c, ci) => {
    if (!seen.has(c.name)) missing.push(ci)
  })
  return {
    fieldColumn,
    header: names,
    sequenceField: sequenceName === null ? -1 : names.indexOf(sequenceName),
    missing: Int32Array.from(missing),
  }
}

/**
 * The fewest fields a header-less row may have: rows written before trailing `added` columns existed lack those
 * fields. Only when the added columns' fields end the row (no timestamp or sequence field after them) can a short
 * row be told apart; otherwise every row must be whole.
 */
export function fewestFields(spec: TableSpec, layout: CsvLayout): number {
  let m = layout.fieldCount
  while (m > 0) {
    const c = layout.fieldColumn[m - 1]!
    if (c < 0 || spec.columns[c]!.added !== true) break
    m--
  }
  return m
}

/** Why a header-less row has more fields than the config, and what to add. */
export function tooManyFieldsHint(spec: TableSpec, field: number): string {
  const last = spec.columns[spec.columns.length - 1]!
  return `: field ${field + 1} is a column the config does not declare; if a column was added at the source, add ${addedColumnHint('<name>')} after ${last.name} (${typeName(last)}) in table ${spec.name}'s columns, or turn on headers (format.addColumnName, DMS AddColumnName=true)`
}

/** Why a header-less row has fewer fields than the config. */
export function tooFewFieldsHint(spec: TableSpec, layout: CsvLayout): string {
  const added = spec.columns.some((c) => c.added === true)
  const trailing = added && fewestFields(spec, layout) === layout.fieldCount
  return trailing
    ? '; rows written before an added column are read only when the added columns end the row: put the timestamp and sequence columns afterOp, or turn on headers (format.addColumnName)'
    : '; a column dropped or renamed at the source cannot be told apart without headers: turn on format.addColumnName (DMS AddColumnName=true) or reload the table'
}
