/**
 * Where each field of a DMS file's row goes: the Op column, the timestamp and change-sequence columns DMS may add,
 * and the table's columns, as the DmsFormat settings place them. The CSV reader, the Parquet reader of DMS files
 * and the capture's DMS writer all follow it.
 */
import type { DmsFormat, TableSpec } from '../types.js'
import { changeRowsWithoutOp } from './format.js'

/** Which field of a row holds what, for one kind of DMS file under one DmsFormat. */
export interface CsvLayout {
  fieldCount: number // fields per row
  hasOp: boolean // field 0 is the DMS Op column
  loadOnly: boolean // an Op column in a full-load file, where only I is valid
  fieldColumn: Int32Array // per field: index of the spec column it fills, or -1 (Op, timestamp, sequence)
  header: string[] // the header row DMS writes with AddColumnName
  sequenceField: number // field whose text orders changes (DmsFormat.orderChangesBy), or -1
}

/**
 * The layout of a LOAD or change file: [Op] [timestamp, sequence if afterOp] columns... [timestamp, sequence if last].
 * Only change files capture the ordering field: full-load rows are a set and carry no order.
 */
export function csvLayout(spec: TableSpec, format: DmsFormat, kind: 'load' | 'change'): CsvLayout {
  // CdcInsertsOnly/CdcInsertsAndUpdates without IncludeOpForFullLoad: change rows carry no Op either.
  const hasOp = kind === 'change' ? !changeRowsWithoutOp(format) : format.includeOpForFullLoad
  const header: string[] = []
  const fieldColumn: number[] = []
  const extra = (name: string | null, position: 'afterOp' | 'last', where: 'afterOp' | 'last') => {
    if (name === null || position !== where) return
    header.push(name)
    fieldColumn.push(-1)
  }
  if (hasOp) {
    header.push('Op')
    fieldColumn.push(-1)
  }
  for (const where of ['afterOp', 'last'] as const) {
    if (where === 'last')
      spec.columns.forEach((c, i) => {
        header.push(c.name)
        fieldColumn.push(i)
      })
    extra(format.timestampColumnName, format.timestampColumnPosition, where)
    extra(format.changeSequenceColumnName, format.changeSequencePosition, where)
  }
  const orderName =
    format.orderChangesBy === 'timestamp'
      ? format.timestampColumnName
      : format.orderChangesBy === 'changeSequence'
        ? format.changeSequenceColumnName
        : null
  const sequenceField = kind === 'change' && orderName !== null ? header.indexOf(orderName) : -1
  return {
    fieldCount: header.length,
    hasOp,
    loadOnly: kind === 'load',
    fieldColumn: Int32Array.from(fieldColumn),
    header,
    sequenceField,
  }
}
