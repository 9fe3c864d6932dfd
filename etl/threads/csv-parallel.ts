/**
 * Parses a large DMS CSV file on several threads: the bytes are cut into pieces at row boundaries, worker threads
 * parse all pieces but the first while the calling thread parses the first, and the pieces' columns are joined.
 *
 * The result and the errors are exactly parseDmsCsv's on the whole file:
 * - A cut is the byte after a line feed outside quoted fields. Whether a byte is inside a quoted field follows from
 *   the number of `"` before it (an opening and a closing quote per quoted field, escaped quotes in pairs), so the
 *   cuts need one indexOf per quote, not a parse. Only the first piece may hold a BOM or the header row.
 * - Lines count from 1 in each piece; a piece's rows and error are shifted by the lines of the pieces before it.
 * - The error reported is the first in file order: piece i's error wins over any later piece's, whichever failed
 *   first in time. Up to the first bad byte of the file every cut is a real row boundary (each `"` there opened,
 *   closed or escaped a quoted field: anything else is itself an error), so the piece holding it fails exactly
 *   where the serial parse does; cuts after it may be wrong, but pieces after it are never reported.
 */
import { Buffer } from 'node:buffer'
import { parseDmsCsv, parseDmsCsvPart } from '../dms/csv.js'
import type { CsvLayout } from '../dms/layout.js'
import { at, LakesyncError } from '../errors.js'
import { ensureBytes, ensureCapacity } from '../table/columns.js'
import { appendDictRows, BytesDictionary, expandDict } from '../table/dictionary.js'
import type { ColumnData, DmsFormat, ParsedFile, TableSpec } from '../types.js'
import { csvPieces } from './policy.js'
import { type ParsedChunk, runTask, warmPool, workerCount } from './worker-pool.js'

const QUOTE = 34
const LF = 10

export interface ParallelCsvOptions {
  pieces?: number // how many pieces to cut (default: one per worker plus the calling thread's)
  minPieceBytes?: number // no piece is cut smaller than this (default 64 KiB); tests use small values
}

/**
 * Byte offsets where pieces start, plus the end: [0, c1, ..., n], at most `pieces` pieces, each cut after a line
 * feed outside quoted fields: the first about `firstShare` of the bytes, the others of about equal size. Fewer when
 * rows are long or a quoted field never closes.
 */
export function rowCuts(bytes: Uint8Array, pieces: number, firstShare = 1 / pieces): number[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = b.length
  const cuts = [0]
  let pos = 0 // bytes before pos are classified
  let inQuote = false // whether pos is inside a quoted field
  for (let p = 1; p < pieces; p++) {
    const first = Math.floor(n * firstShare)
    const target = p === 1 ? first : first + Math.floor(((p - 1) * (n - first)) / (pieces - 1))
    if (target > pos) {
      const span = b.subarray(pos, target)
      for (let q = span.indexOf(QUOTE); q >= 0; q = span.indexOf(QUOTE, q + 1)) inQuote = !inQuote
      pos = target
    }
    // The first line feed from pos that is outside quotes.
    let cut = -1
    while (cut < 0) {
      if (inQuote) {
        const q = b.indexOf(QUOTE, pos)
        if (q < 0) break // unterminated: the rest is one piece (and the parse reports it)
        inQuote = false
        pos = q + 1
      } else {
        const lf = b.indexOf(LF, pos)
        if (lf < 0) break
        const q = b.subarray(pos, lf).indexOf(QUOTE)
        if (q < 0) cut = pos = lf + 1
        else {
          inQuote = true
          pos += q + 1
        }
      }
    }
    if (cut < 0 || cut >= n) break
    cuts.push(cut)
  }
  cuts.push(n)
  return cuts
}

/** `e` with its line moved down by `lines` (a piece's error, placed in the whole file); the message follows. */
function relocate(e: unknown, file: string, lines: number): unknown {
  if (lines === 0 || !(e instanceof LakesyncError) || e.location?.line === undefined) return e
  const old = e.location
  const loc = { ...old, file, line: old.line! + lines }
  const suffix = at(old)
  const message = e.message.endsWith(suffix) ? e.message.slice(0, -suffix.length) + at(loc) : e.message
  const Class = e.constructor as new (...a: ConstructorParameters<typeof LakesyncError>) => LakesyncError
  const moved = new Class(e.code, message, loc, { cause: e.cause })
  if (e.stack !== undefined) moved.stack = e.stack.replace(e.message, message)
  return moved
}

function copyOf(b: Uint8Array, s: number, e: number): Uint8Array {
  const out = new Uint8Array(e - s)
  out.set(b.subarray(s, e))
  return out
}

/** Appends `len` rows of a later piece's column `src` at row `at` of `dst` (capacity for the rows is there). */
function appendColumn(dst: ColumnData, src: ColumnData, at: number, len: number): void {
  if (dst.type === 'string' && src.type === 'string') {
    const base = dst.offsets[at]!
    const used = src.offsets[len]!
    ensureBytes(dst, base, used) // past 2 GiB: the serial parser's too_large error
    dst.bytes.set(src.bytes.subarray(0, used), base)
    dst.valid.set(src.valid.subarray(0, len), at)
    const to = dst.offsets
    const from = src.offsets
    for (let r = 1; r <= len; r++) to[at + r] = from[r]! + base
  } else if (dst.type === 'int32' && src.type === 'int32') {
    dst.values.set(src.values.subarray(0, len), at)
    dst.valid.set(src.valid.subarray(0, len), at)
  } else if (dst.type === 'int64' && src.type === 'int64') {
    dst.values.set(src.values.subarray(0, len), at)
    dst.valid.set(src.valid.subarray(0, len), at)
  } else if (dst.type === 'float64' && src.type === 'float64') {
    dst.values.set(src.values.subarray(0, len), at)
    dst.valid.set(src.valid.subarray(0, len), at)
  } else if (dst.type === 'bool' && src.type === 'bool') {
    dst.values.set(src.values.subarray(0, len), at)
    dst.valid.set(src.valid.subarray(0, len), at)
  } else if (dst.type === 'date' && src.type === 'date') dst.values.set(src.values.subarray(0, len), at)
  else throw new Error(`csv parallel: cannot join a parsed ${src.type} column to a ${dst.type} column`)
}

/** `a` (the front of a capacity-sized array) widened to `needed` elements, in place when the capacity allows. */
function withCapacity<T extends Int32Array | Uint8Array>(a: T, needed: number, make: (n: number) => T): T {
  const capacity = (a.buffer.byteLength - a.byteOffset) / a.BYTES_PER_ELEMENT
  if (capacity >= needed) {
    const View = a.constructor as new (b: ArrayBufferLike, offset: number, length: number) => T
    return new View(a.buffer, a.byteOffset, needed)
  }
  const grown = make(needed)
  grown.set(a)
  return grown
}

/**
 * The whole file's ParsedFile: the later pieces' rows appended to the first piece's columns, which this thread
 * built with room for the whole file (so only the workers' rows are copied; a fresh join cost ~0.4 s at 10M rows).
 */
function join(parts: ParsedChunk[], file: string, spec: TableSpec): ParsedFile {
  const first = parts[0]!.parsed
  const lengths = parts.map((p) => p.parsed.rows.length)
  const total = lengths.reduce((a, b) => a + b, 0)
  // A column that every piece dictionary-encoded is joined as codes (re-coded into the first piece's dictionary);
  // one that some piece could not encode (too many distinct values there) is joined as strings.
  const columns = first.rows.columns
  columns.forEach((c, ci) => {
    if (parts.every((p) => p.parsed.rows.columns[ci]!.type === c.type)) return
    parts.forEach((p, i) => {
      const col = p.parsed.rows.columns[ci]!
      if (col.type === 'dict') p.parsed.rows.columns[ci] = expandDict(col, lengths[i]!)
    })
  })
  ensureCapacity(columns, total)
  const lookups = columns.map((c) => (c.type === 'dict' ? BytesDictionary.of(c) : undefined))
  // ops and lines are the front of the first piece's capacity-sized arrays (parseDmsCsvPart).
  const ops = first.ops === null ? null : withCapacity(first.ops, total, (n) => new Uint8Array(n))
  const lines = withCapacity(first.lines, total, (n) => new Int32Array(n))
  const sequence = first.sequence
  let row = lengths[0]!
  let lineBase = parts[0]!.endLine - 1
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!.parsed
    const len = lengths[i]!
    p.rows.columns.forEach((c, ci) => {
      const dst = columns[ci]!
      if (dst.type === 'dict' && c.type === 'dict') appendDictRows(dst, lookups[ci]!, c, row, len)
      else appendColumn(dst, c, row, len)
    })
    if (ops !== null) ops.set(p.ops!.subarray(0, len), row)
    const src = p.lines
    for (let r = 0; r < len; r++) lines[row + r] = src[r]! + lineBase
    if (sequence !== undefined) for (const s of p.sequence!) sequence.push(s)
    row += len
    lineBase += parts[i]!.endLine - 1
  }
  return {
    file,
    rows: { spec, length: total, columns },
    ops,
    lines,
    ...(sequence !== undefined ? { sequence } : {}),
  }
}

/**
 * parseDmsCsv on several threads: the same ParsedFile, or the same error (the first in file order, with its file,
 * line and column). Small files, or a pool without workers and no `pieces` asked for, are parsed serially.
 */
export async function parseDmsCsvParallel(
  bytes: Uint8Array,
  file: string,
  spec: TableSpec,
  layout: CsvLayout,
  format: DmsFormat,
  opts: ParallelCsvOptions = {},
): Promise<ParsedFile> {
  const workers = workerCount()
  const k = csvPieces(bytes.length, opts.pieces, opts.minPieceBytes)
  if (k >= 2) warmPool() // a cold worker loads its modules while the pieces are cut and copied
  // Even pieces: measured at 1M rows, this thread and a worker parse at the same rate once both start, and both
  // start after the cut and the copy (this thread used to take a smaller share while it also hashed the files; the
  // hash now runs on the thread pool, read-dms-file.ts).
  const cuts = k >= 2 ? rowCuts(bytes, k) : [0, bytes.length]
  if (cuts.length <= 2) return parseDmsCsv(bytes, file, spec, layout, format)

  // Pieces 1.. go to the workers first (a copy each, moved to the worker), then this thread parses piece 0.
  const pending: Promise<ParsedChunk>[] = []
  for (let p = 1; p + 1 < cuts.length; p++) {
    // A copy to move to the worker (Buffer#slice would be a view: moving its memory would detach the caller's).
    const piece = workers > 0 ? copyOf(bytes, cuts[p]!, cuts[p + 1]!) : bytes.subarray(cuts[p]!, cuts[p + 1]!)
    const task = runTask(
      'parseCsvChunk',
      { bytes: piece, file, spec, layout, format, continuation: true, dictionary: true },
      workers > 0 ? [piece.buffer as ArrayBuffer] : [],
    )
    task.catch(() => {}) // read in file order below; a later piece's error must not surface as unhandled
    pending.push(task)
  }
  // Sized for the whole file, so join() appends the other pieces in place.
  const head = parseDmsCsvPart(bytes.subarray(0, cuts[1]!), file, spec, layout, format, false, bytes.length, {
    dictionary: true,
  })
  const parts: ParsedChunk[] = [head]
  let lines = parts[0]!.endLine - 1
  for (const task of pending) {
    let part: ParsedChunk
    try {
      part = await task
    } catch (e) {
      throw relocate(e, file, lines)
    }
    parts.push(part)
    lines += part.endLine - 1
  }
  return join(parts, file, spec)
}
