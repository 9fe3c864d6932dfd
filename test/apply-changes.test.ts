/**
 * The merge (etl/apply-changes.ts) on a table keyed by text, against a Map model: the base may be in key order or
 * not, appended rows live in a tail of their own, and the live rows come out in UTF-8 key order with the last
 * change per key (issue 2's rules). The users table's int32 key is covered by test/pipeline-model.test.ts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyChangeFile, finishMerge, startFromFullLoad } from '../etl/apply-changes.js'
import { parseDmsCsv } from '../etl/dms/csv.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { csvLayout } from '../etl/dms/layout.js'
import { compareUtf8 } from '../etl/table/sort.js'
import type { TableSpec } from '../etl/types.js'
import { enc } from './helpers/bytes.js'
import { csvCell } from './helpers/dms-writer.js'
import { tableRows } from './helpers/tables.js'

const SPEC: TableSpec = {
  name: 'items',
  columns: [
    { name: 'sku', type: 'string' },
    { name: 'qty', type: 'int32' },
    { name: 'note', type: 'string' },
  ],
  primaryKey: ['sku'],
}

type Item = [string, number | null, string | null]
const sku = fc.constantFrom('a', 'b', 'ab', 'B', 'é', 'z', 'Ａ', '😀', 'a,b', '"q"', '')
const item = fc.tuple(
  sku,
  fc.option(fc.integer({ min: -9, max: 99 })),
  fc.option(fc.constantFrom('x', 'y', 'long note')),
)
const op = fc.constantFrom('I', 'U', 'D')

describe('merge on a text key', () => {
  it('equals a Map model, whatever the order of the full load', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(item, { selector: (r) => r[0], maxLength: 8 }),
        fc.array(fc.array(fc.tuple(op, item), { maxLength: 10 }), { maxLength: 3 }),
        (load, files) => {
          const format = DEFAULT_DMS_FORMAT
          const line = (r: Item) => `${csvCell(r[0], true)},${csvCell(r[1])},${csvCell(r[2], true)}\n`
          const loaded = parseDmsCsv(
            enc(load.map(line).join('')),
            'LOAD00000001.csv',
            SPEC,
            csvLayout(SPEC, format, 'load'),
            format,
            { dictionary: true },
          )
          const state = startFromFullLoad(SPEC, [loaded])
          const model = new Map<string, Item>(load.map((r) => [r[0], r]))
          files.forEach((changes, f) => {
            const text = changes.map(([o, r]) => `${o},${line(r)}`).join('')
            const parsed = parseDmsCsv(
              enc(text),
              `c${f}.csv`,
              SPEC,
              csvLayout(SPEC, format, 'change'),
              format,
            )
            applyChangeFile(state, parsed)
            for (const [o, r] of changes) {
              if (o === 'D') model.delete(r[0])
              else model.set(r[0], r)
            }
          })
          const got = tableRows(finishMerge(state))
          const want = [...model.values()]
            .sort((a, b) => compareUtf8(a[0], b[0]))
            .map((r) => [r[0], r[1] === null ? null : String(r[1]), r[2]])
          expect(got).toEqual(want)
        },
      ),
      { numRuns: 300 },
    )
  })
})
