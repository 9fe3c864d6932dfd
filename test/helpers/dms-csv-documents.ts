/**
 * Random DMS CSV documents for property tests of the reader (fast-check), and a parse's outcome as plain values:
 * what "the same result" means when two ways of parsing are compared.
 */
import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { DEFAULT_DMS_FORMAT } from '../../etl/dms/format.js'
import { csvLayout } from '../../etl/dms/layout.js'
import { LakesyncError } from '../../etl/errors.js'
import { USERS_SPEC } from '../../etl/table/spec.js'
import type { DmsFormat, ParsedFile } from '../../etl/types.js'
import { enc } from './bytes.js'
import { csvCell } from './dms-writer.js'

/** A parse's result as `view` shows it, or its error: class name, code, message and location. */
export type Outcome =
  | { ok: unknown }
  | { error: { name: string; code: string; message: string; location: unknown } }

function failed(e: unknown): Outcome {
  if (!(e instanceof LakesyncError)) throw e
  return { error: { name: e.name, code: e.code, message: e.message, location: e.location } }
}

export function outcome<T>(parse: () => T, view: (result: T) => unknown): Outcome {
  try {
    return { ok: view(parse()) }
  } catch (e) {
    return failed(e)
  }
}

export async function outcomeAsync<T>(
  parse: () => Promise<T>,
  view: (result: T) => unknown,
): Promise<Outcome> {
  try {
    return { ok: view(await parse()) }
  } catch (e) {
    return failed(e)
  }
}

/** A ParsedFile as plain values, capacity left out: what "the same result" means. */
export function plain(p: ParsedFile): unknown {
  const n = p.rows.length
  const columns = p.rows.columns.map((c) => {
    const out: unknown[] = []
    for (let r = 0; r < n; r++) {
      if (c.type === 'string')
        out.push(
          c.valid[r] === 1
            ? Buffer.from(c.bytes.subarray(c.offsets[r]!, c.offsets[r + 1]!)).toString('hex')
            : null,
        )
      else if (c.type === 'dict') {
        // A repetitive column comes back dictionary-encoded: its values must be the serial parser's.
        const e = c.entries
        const code = c.codes[r]!
        out.push(
          code < 0
            ? null
            : Buffer.from(e.bytes.subarray(e.offsets[code]!, e.offsets[code + 1]!)).toString('hex'),
        )
      } else if (c.type === 'int32') out.push(c.valid[r] === 1 ? c.values[r] : null)
      else if (c.type === 'date') out.push(c.values[r])
      else throw new Error(`unexpected column ${c.type}`)
    }
    return out
  })
  return {
    file: p.file,
    length: n,
    columns,
    ops: p.ops === null ? null : [...p.ops.subarray(0, n)],
    lines: [...p.lines.subarray(0, n)],
    sequence: p.sequence,
  }
}

/** A ParsedFile's values and, for its dictionary columns, the codes and dictionary size (not only the values). */
export function parsedWithCodes(p: ParsedFile): unknown {
  return {
    values: plain(p),
    dicts: p.rows.columns.map((c) =>
      c.type === 'dict' ? { codes: [...c.codes.subarray(0, p.rows.length)], size: c.size } : c.type,
    ),
  }
}

// ---- generators --------------------------------------------------------------------------------------------------

export const text = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('a,b', 'say "hi"', '""', 'x\ny', 'line\r\nend', 'Zürich', '😀', 'Ａcity', ' ', 'NULL'),
)
export const nullable = <T>(a: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 5, arbitrary: a })
export const dateText = fc
  .integer({ min: 0, max: 20000 })
  .map((d) => new Date(d * 86_400_000).toISOString().slice(0, 10))

export interface UserRow {
  id: number
  name: string | null
  city: string | null
  date: string | null
  quote: boolean // quote the name and date even when they need no quotes
}

export const userRow: fc.Arbitrary<UserRow> = fc.record({
  id: fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }),
  name: nullable(text),
  city: nullable(text),
  date: nullable(dateText),
  quote: fc.boolean(),
})
export const op = fc.constantFrom('I', 'U', 'D')
export const lineEnd = fc.constantFrom('\n', '\r\n')

export const formats = fc.record({
  addColumnName: fc.boolean(),
  timestamp: fc.boolean(),
  bom: fc.boolean(),
  finalNewline: fc.boolean(),
})

/** A valid DMS CSV document of `kind` from generated rows. */
export function document(
  kind: 'load' | 'change',
  rows: { r: UserRow; op: string; eol: string }[],
  f: { addColumnName: boolean; timestamp: boolean; bom: boolean; finalNewline: boolean },
): { bytes: Uint8Array; format: DmsFormat } {
  const format: DmsFormat = {
    ...DEFAULT_DMS_FORMAT,
    addColumnName: f.addColumnName,
    ...(f.timestamp && kind === 'change'
      ? { timestampColumnName: 'ts', orderChangesBy: 'timestamp' as const }
      : {}),
  }
  const layout = csvLayout(USERS_SPEC, format, kind)
  let s = f.bom ? '\ufeff' : ''
  if (f.addColumnName) s += `${layout.header.join(',')}\n`
  rows.forEach(({ r, op, eol }, i) => {
    const fields: string[] = []
    if (kind === 'change') fields.push(op)
    if (f.timestamp && kind === 'change')
      fields.push(`2021-10-17 19:43:${String(i % 60).padStart(2, '0')}.${i}`)
    fields.push(String(r.id), csvCell(r.name, r.quote), csvCell(r.city), csvCell(r.date, r.quote))
    s += fields.join(',')
    if (i < rows.length - 1 || f.finalNewline) s += eol
  })
  return { bytes: enc(s), format }
}

export const rowsArb = fc.array(fc.record({ r: userRow, op, eol: lineEnd }), { maxLength: 40 })
