/**
 * The snapshot: a table's columns as raw typed-array buffers, so the next run loads the previous version at memory
 * speed instead of decoding its Parquet. Pure (no I/O); etl/commit/load-version.ts writes, verifies and reads it.
 *
 * Layout (all integers little-endian):
 *
 *   0   "LSNAP001"                 magic, 8 ASCII bytes
 *   8   u32 header length H        bytes of JSON that follow
 *   12  header                     UTF-8 JSON (SnapshotHeader)
 *   D   data                       D = the first multiple of 8 at or after 12 + H
 *
 * Every buffer's offset in the header is relative to D and a multiple of 8, so each buffer starts 8-byte aligned in
 * the file, and decoding makes typed-array views on the bytes read (zero copy) when they sit 8-byte aligned in
 * memory. Per column (by its storage kind, etl/table/column-types.ts), in order: int32 `values` (i32 x rows) and
 * `valid` (u8 x rows); int64 and float64 `values` (8 bytes x rows) and `valid`; bool `values` (u8, 0 or 1) and
 * `valid`; date `values` (i32 x rows);
 * double `values` (f64 x rows); string `offsets` (i32 x rows + 1), `valid` (u8 x rows) and `bytes` (UTF-8,
 * offsets[rows] bytes); a string column held as a dictionary column (`"encoding": "dict"` in the header) `codes`
 * (i32 x rows, -1 = NULL), `entryOffsets` (i32 x entries + 1) and `entryBytes`. Only the first `rows` rows are
 * written (builders have capacity beyond).
 *
 * The snapshot is a cache, not the state of record: the commit record carries its SHA-256, and a snapshot that does
 * not match, or that this code cannot decode, is ignored in favour of the version's Parquet.
 */

import { StateError } from '../errors.js'
import { type StorageKind, storageOf, typeName } from '../table/column-types.js'
import { BytesDictionary } from '../table/dictionary.js'
import type { ColumnData, StringColumn, Table, TableSpec } from '../types.js'

export const SNAPSHOT_FORMAT = 1
const MAGIC = 'LSNAP001'
const PREAMBLE = 12 // magic + header length
const MAX_HEADER = 1 << 24 // far above any real header (a few hundred bytes per column)

interface BufferRef {
  offset: number // bytes from the start of the data section; a multiple of 8
  length: number // bytes
}

interface SnapshotHeader {
  format: number // SNAPSHOT_FORMAT
  table: string // TableSpec.name
  rows: number
  columns: {
    name: string
    type: string // the config type name (typeName: `decimal(12,2)`)
    encoding?: 'dict' // a string column held as dictionary codes (DictColumn)
    entries?: number // its number of entries
    buffers: Record<string, BufferRef>
  }[] // spec order
}

/** The buffers of one column, in file order, as bytes (views on the column's first `rows` rows). */
function columnBuffers(c: ColumnData, rows: number): [string, Uint8Array][] {
  const u8 = (a: Int32Array | Float64Array | Uint8Array | BigInt64Array, n: number) =>
    new Uint8Array(a.buffer, a.byteOffset, n * a.BYTES_PER_ELEMENT)
  const need = (have: number, want: number, what: string) => {
    if (have < want) throw new Error(`snapshot: a ${c.type} column's ${what} holds ${have} < ${want} entries`)
  }
  switch (c.type) {
    case 'int32':
    case 'int64':
    case 'float64':
    case 'bool':
      need(c.values.length, rows, 'values')
      need(c.valid.length, rows, 'valid')
      return [
        ['values', u8(c.values, rows)],
        ['valid', u8(c.valid, rows)],
      ]
    case 'date':
      need(c.values.length, rows, 'values')
      return [['values', u8(c.values, rows)]]
    case 'double':
      need(c.values.length, rows, 'values')
      return [['values', u8(c.values, rows)]]
    case 'string': {
      need(c.offsets.length, rows + 1, 'offsets')
      need(c.valid.length, rows, 'valid')
      const used = c.offsets[rows]!
      need(c.bytes.length, used, 'bytes')
      return [
        ['offsets', u8(c.offsets, rows + 1)],
        ['valid', u8(c.valid, rows)],
        ['bytes', c.bytes.subarray(0, used)],
      ]
    }
    case 'dict': {
      need(c.codes.length, rows, 'codes')
      const e = c.entries
      return [
        ['codes', u8(c.codes, rows)],
        ['entryOffsets', u8(e.offsets, c.size + 1)],
        ['entryBytes', e.bytes.subarray(0, e.offsets[c.size]!)],
      ]
    }
  }
}

const align8 = (n: number) => Math.ceil(n / 8) * 8 // not `& ~7`: offsets may pass 2^31

/** The first `table.length` rows of every column, in one allocation. */
export function encodeSnapshot(table: Table): Uint8Array {
  const rows = table.length
  const buffers = table.spec.columns.map((col, i) => {
    const c = table.columns[i]
    const kind = storageOf(col)
    if (c?.type !== kind && !(c?.type === 'dict' && kind === 'string'))
      throw new Error(
        `snapshot: column ${col.name} is stored as ${kind} in the spec but ${c?.type} in the table`,
      )
    return columnBuffers(c, rows)
  })
  let at = 0
  const header: SnapshotHeader = {
    format: SNAPSHOT_FORMAT,
    table: table.spec.name,
    rows,
    columns: table.spec.columns.map((col, i) => {
      const refs: Record<string, BufferRef> = {}
      for (const [name, b] of buffers[i]!) {
        refs[name] = { offset: at, length: b.length }
        at = align8(at + b.length)
      }
      const c = table.columns[i]!
      return {
        name: col.name,
        type: typeName(col),
        ...(c.type === 'dict' ? { encoding: 'dict' as const, entries: c.size } : {}),
        buffers: refs,
      }
    }),
  }
  const json = new TextEncoder().encode(JSON.stringify(header))
  const data = align8(PREAMBLE + json.length)
  let end = data
  for (const c of header.columns) for (const r of Object.values(c.buffers)) end = data + r.offset + r.length
  const out = new Uint8Array(end) // zero-filled: the padding is deterministic
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i)
  new DataView(out.buffer).setUint32(8, json.length, true)
  out.set(json, PREAMBLE)
  header.columns.forEach((c, i) => {
    for (const [name, b] of buffers[i]!) out.set(b, data + c.buffers[name]!.offset)
  })
  return out
}

/** Expected buffers of a storage kind: name, element size, and entries given the row count. */
const LAYOUT: Record<StorageKind, [string, number, (rows: number) => number | null][]> = {
  int32: [
    ['values', 4, (n) => n],
    ['valid', 1, (n) => n],
  ],
  int64: [
    ['values', 8, (n) => n],
    ['valid', 1, (n) => n],
  ],
  float64: [
    ['values', 8, (n) => n],
    ['valid', 1, (n) => n],
  ],
  bool: [
    ['values', 1, (n) => n],
    ['valid', 1, (n) => n],
  ],
  date: [['values', 4, (n) => n]],
  double: [['values', 8, (n) => n]],
  string: [
    ['offsets', 4, (n) => n + 1],
    ['valid', 1, (n) => n],
    ['bytes', 1, () => null], // any length: checked against the offsets
  ],
}

/**
 * The table in a snapshot, checked against `spec`. Columns are views on `bytes` when it is 8-byte aligned (the
 * caller gives the bytes up), copies otherwise. Throws StateError('corrupt_state') naming `file` on any mismatch.
 */
export function decodeSnapshot(bytes: Uint8Array, spec: TableSpec, file: string): Table {
  const corrupt = (why: string): never => {
    throw new StateError('corrupt_state', `snapshot: ${file} ${why}`)
  }
  if (bytes.length < PREAMBLE) corrupt(`is ${bytes.length} bytes, shorter than a snapshot's preamble`)
  for (let i = 0; i < MAGIC.length; i++)
    if (bytes[i] !== MAGIC.charCodeAt(i)) corrupt(`does not start with ${MAGIC} (not a lakesync snapshot)`)
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true)
  if (headerLength > MAX_HEADER || PREAMBLE + headerLength > bytes.length)
    corrupt(`declares a ${headerLength}-byte header but holds ${bytes.length} bytes`)
  let header: SnapshotHeader
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLength)),
    )
  } catch (e) {
    throw new StateError(
      'corrupt_state',
      `snapshot: ${file} has a header that is not valid JSON`,
      undefined,
      {
        cause: e,
      },
    )
  }
  if (typeof header !== 'object' || header === null) corrupt('has a header that is not an object')
  if (header.format !== SNAPSHOT_FORMAT)
    corrupt(`has format ${JSON.stringify(header.format)}; this lakesync reads format ${SNAPSHOT_FORMAT}`)
  if (header.table !== spec.name)
    corrupt(`is of table ${JSON.stringify(header.table)}, expected ${spec.name}`)
  const rows = header.rows
  if (!Number.isSafeInteger(rows) || rows < 0 || rows > 0x7fffffff)
    corrupt(`has row count ${JSON.stringify(rows)}`)
  const have = Array.isArray(header.columns) ? header.columns : []
  const describe = (cols: { name: unknown; type: unknown }[]) =>
    cols.map((c) => `${c?.name} ${c?.type}`).join(', ')
  if (
    have.length !== spec.columns.length ||
    spec.columns.some((c, i) => have[i]?.name !== c.name || have[i]?.type !== typeName(c))
  )
    corrupt(
      `has columns (${describe(have)}), expected (${describe(spec.columns.map((c) => ({ name: c.name, type: typeName(c) })))})`,
    )

  // Views need 8-byte alignment in memory: copy once into a fresh buffer when the bytes read are not.
  const src = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice()
  const data = align8(PREAMBLE + headerLength)
  const size = src.length - data
  const ranges: [number, number][] = []
  const region = (
    c: SnapshotHeader['columns'][number],
    name: string,
    element: number,
    entries: number | null,
  ) => {
    const r = c.buffers?.[name]
    const where = `column ${c.name} buffer ${name}`
    if (typeof r !== 'object' || r === null) return corrupt(`has no ${where}`)
    const { offset, length } = r
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset % 8 !== 0
    )
      corrupt(`has ${where} at offset ${JSON.stringify(offset)} length ${JSON.stringify(length)}`)
    if (entries !== null && length !== entries * element)
      corrupt(`has ${where} of ${length} bytes, expected ${entries * element} for ${rows} rows`)
    if (offset + length > size)
      corrupt(`is truncated: ${where} ends at byte ${data + offset + length} of ${src.length}`)
    ranges.push([offset, offset + length])
    return src.byteOffset + data + offset
  }
  const columns = spec.columns.map((col, i): ColumnData => {
    const c = have[i]!
    const kind = storageOf(col)
    if (c.encoding === 'dict' && kind === 'string') {
      const size = c.entries
      if (!Number.isSafeInteger(size) || size! < 0 || size! > rows)
        corrupt(`column ${col.name} has ${JSON.stringify(size)} dictionary entries for ${rows} rows`)
      const n = size!
      const codesAt = region(c, 'codes', 4, rows)
      const offsetsAt = region(c, 'entryOffsets', 4, n + 1)
      const bytesAt = region(c, 'entryBytes', 1, null)
      const codes = new Int32Array(src.buffer, codesAt, rows)
      for (let r = 0; r < rows; r++)
        if (codes[r]! < -1 || codes[r]! >= n)
          corrupt(`column ${col.name} row ${r}: code ${codes[r]} outside -1..${n - 1}`)
      const offsets = new Int32Array(src.buffer, offsetsAt, n + 1)
      const text = new Uint8Array(src.buffer, bytesAt, c.buffers.entryBytes!.length)
      const valid = new Uint8Array(n).fill(1)
      checkOffsets(offsets, valid, text.length, n, `${col.name} (dictionary)`, corrupt)
      const entries: StringColumn = { type: 'string', bytes: text, offsets, valid }
      // Entries must be distinct: the next merge looks values up by their bytes.
      const distinct = new BytesDictionary()
      for (let e = 0; e < n; e++)
        if (distinct.codeOf(text, offsets[e]!, offsets[e + 1]!) !== e)
          corrupt(`column ${col.name}: dictionary entry ${e} repeats an earlier one`)
      return { type: 'dict', codes, entries, size: n }
    }
    if (c.encoding !== undefined) corrupt(`column ${col.name} has encoding ${JSON.stringify(c.encoding)}`)
    const [a, b, d] = LAYOUT[kind].map(([name, element, entries]) => ({
      at: region(c, name, element, entries(rows)),
      length: c.buffers[name]!.length,
    }))
    switch (kind) {
      case 'int32':
        return {
          type: 'int32',
          values: new Int32Array(src.buffer, a!.at, rows),
          valid: checkValid(new Uint8Array(src.buffer, b!.at, rows), col.name, corrupt),
        }
      case 'int64':
        return {
          type: 'int64',
          values: new BigInt64Array(src.buffer, a!.at, rows),
          valid: checkValid(new Uint8Array(src.buffer, b!.at, rows), col.name, corrupt),
        }
      case 'float64':
        return {
          type: 'float64',
          values: new Float64Array(src.buffer, a!.at, rows),
          valid: checkValid(new Uint8Array(src.buffer, b!.at, rows), col.name, corrupt),
        }
      case 'bool':
        return {
          type: 'bool',
          values: checkValid(new Uint8Array(src.buffer, a!.at, rows), col.name, corrupt),
          valid: checkValid(new Uint8Array(src.buffer, b!.at, rows), col.name, corrupt),
        }
      case 'date':
        return { type: 'date', values: new Int32Array(src.buffer, a!.at, rows) }
      case 'double':
        return { type: 'double', values: new Float64Array(src.buffer, a!.at, rows) }
      case 'string': {
        const offsets = new Int32Array(src.buffer, a!.at, rows + 1)
        const valid = checkValid(new Uint8Array(src.buffer, b!.at, rows), col.name, corrupt)
        const text = new Uint8Array(src.buffer, d!.at, d!.length)
        checkOffsets(offsets, valid, text.length, rows, col.name, corrupt)
        return { type: 'string', bytes: text, offsets, valid }
      }
    }
  })
  ranges.sort((x, y) => x[0] - y[0])
  for (let i = 1; i < ranges.length; i++)
    if (ranges[i]![0] < ranges[i - 1]![1]) corrupt('has overlapping buffers')
  return { spec, length: rows, columns }
}

function checkValid(valid: Uint8Array, column: string, corrupt: (why: string) => never): Uint8Array {
  for (let i = 0; i < valid.length; i++)
    if (valid[i]! > 1) corrupt(`column ${column} row ${i}: validity byte ${valid[i]}, expected 0 or 1`)
  return valid
}

/** offsets[0] = 0, non-decreasing, ending at the byte count; a NULL row has an empty range. */
function checkOffsets(
  offsets: Int32Array,
  valid: Uint8Array,
  size: number,
  rows: number,
  column: string,
  corrupt: (why: string) => never,
): void {
  if (offsets[0] !== 0) corrupt(`column ${column}: the first offset is ${offsets[0]}, expected 0`)
  let prev = 0
  for (let i = 1; i <= rows; i++) {
    const o = offsets[i]!
    if (o < prev) corrupt(`column ${column} row ${i - 1}: offset ${o} is below the previous ${prev}`)
    if (o !== prev && valid[i - 1] === 0)
      corrupt(`column ${column} row ${i - 1}: a NULL with ${o - prev} bytes`)
    prev = o
  }
  if (prev !== size)
    corrupt(`column ${column}: the last offset is ${prev}, but the column holds ${size} bytes`)
}
