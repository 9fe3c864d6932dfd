/** A table's rows as text, the way CSV export formats each value (null for NULL): what tests compare with models. */
import { formatValue } from '../../etl/report/csv-export.js'
import type { Table } from '../../etl/types.js'

export function tableRows(t: Table): (string | null)[][] {
  return Array.from({ length: t.length }, (_, r) =>
    t.columns.map((c, i) => formatValue(t.spec.columns[i]!, c, r)),
  )
}
