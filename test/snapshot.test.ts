/**
 * The snapshot (etl/commit/snapshot.ts, etl/commit/load-version.ts): a verified cache of the current version's users table.
 * Encoding round-trips any table; decoding rejects every corruption it relies on; a run loads the previous version
 * from it instead of the Parquet and publishes byte-identical outputs; a bad or missing snapshot is a warning and the
 * Parquet is read; a crash after writing it leaves the previous version current; vacuum removes it with its version.
 */
import { createHash } from 'node:crypto'
import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { snapshotPath } from '../etl/commit/layout.js'
import { sha256 } from '../etl/commit/load-version.js'
import { type CommitRecord, readCommitLog } from '../etl/commit/log.js'
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_FORMAT } from '../etl/commit/snapshot.js'
import { parseDateString } from '../etl/dms/values.js'
import { LakesyncError } from '../etl/errors.js'
import { type RunOptions, runPipeline } from '../etl/pipeline.js'
import { LocalStorage } from '../etl/storage/local.js'
import type { Storage, StoredObject } from '../etl/storage/storage.js'
import { appendText, dictAt, ensureCapacity, newColumn, stringValues } from '../etl/table/columns.js'
import { BytesDictionary } from '../etl/table/dictionary.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import type { ColumnData, ColumnType, DictColumn, StringColumn, Table, TableSpec } from '../etl/types.js'
import { NULL_DATE } from '../etl/types.js'
import { vacuum } from '../etl/vacuum.js'
import { dec, enc } from './helpers/bytes.js'
import { listTree, SEED_FILES, seedCopy, seedOptions, tempDir } from './helpers/fixtures.js'

const FILE = '_lakesync/t/snapshots/v=00000000000000000001.lsnap'

// ---------------------------------------------------------------------------------------------------------------
// Random tables: any mix of column types, NULLs, empty and non-ASCII strings, 0 rows, capacity beyond the length.

type Value = number | string | null
interface Generated {
  spec: TableSpec
  rows: Value[][] // per column
  length: number
  slack: number // extra capacity given to the builders
  dictionary: boolean // hold string columns as dictionary columns (codes + entries)
}

const TYPES = ['int32', 'string', 'date', 'double'] as const satisfies readonly ColumnType[]
const arbitraryOf: Record<(typeof TYPES)[number], fc.Arbitrary<Value>> = {
  int32: fc.option(fc.integer(), { nil: null }),
  date: fc.option(fc.integer({ min: -719528, max: 2932896 }), { nil: null }),
  double: fc.double(), // never NULL; NaN, -0 and infinities included
  string: fc.oneof(
    fc.constant(null),
    fc.constant(''),
    fc.string({ maxLength: 8 }),
    fc.string({ unit: 'grapheme', maxLength: 6 }),
    fc.constantFrom('Zürich', 'Ａcity', '😀', 'a\u0000b', 'x'.repeat(40)),
  ),
}

const generated: fc.Arbitrary<Generated> = fc
  .record({
    types: fc.array(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 5 }),
    length: fc.oneof(fc.constant(0), fc.nat({ max: 40 })),
    slack: fc.nat({ max: 50 }),
    dictionary: fc.boolean(),
  })
  .chain(({ types, length, slack, dictionary }) =>
    fc
      .tuple(...types.map((t) => fc.array(arbitraryOf[t], { minLength: length, maxLength: length })))
      .map((rows) => ({
        spec: { name: 't', columns: types.map((type, i) => ({ name: `c${i}`, type })), primaryKey: ['c0'] },
        rows,
        length,
        slack,
        dictionary,
      })),
  )

/** Builds the table the way the engine's builders do: typed arrays with capacity beyond the row count. */
function build(g: Generated): Table {
  const columns = g.spec.columns.map((c) => newColumn(c, 0))
  ensureCapacity(columns, g.length + g.slack)
  g.spec.columns.forEach((_, c) => {
    const col = columns[c]!
    for (let r = 0; r < g.length; r++) {
      const v = g.rows[c]![r]!
      if (col.type === 'string') appendText(col, r, v as string | null)
      else if (col.type === 'double') col.values[r] = v as number
      else if (col.type === 'date') col.values[r] = v === null ? NULL_DATE : (v as number)
      else if (col.type === 'int32' && v !== null) {
        col.values[r] = v as number
        col.valid[r] = 1
      }
    }
  })
  const dictOf = (c: StringColumn): DictColumn => {
    const d = new BytesDictionary()
    const codes = new Int32Array(g.length + g.slack).fill(7) // capacity beyond the rows, never written
    for (let r = 0; r < g.length; r++)
      codes[r] = c.valid[r] === 1 ? d.codeOf(c.bytes, c.offsets[r]!, c.offsets[r + 1]!) : -1
    return { type: 'dict', codes, entries: d.values, size: d.size }
  }
  return {
    spec: g.spec,
    length: g.length,
    columns: columns.map((c) => (c.type === 'string' && g.dictionary ? dictOf(c) : c)),
  }
}

/** The first `length` rows of a column as plain values (what a table means, whatever its capacity). */
function values(c: ColumnData, length: number): Value[] {
  switch (c.type) {
    case 'string':
      return stringValues(c, length)
    case 'dict':
      return Array.from({ length }, (_, r) => dictAt(c, r))
    case 'int32':
      return Array.from({ length }, (_, r) => (c.valid[r] === 1 ? c.values[r]! : null))
    case 'date':
      return Array.from({ length }, (_, r) => (c.values[r] === NULL_DATE ? null : c.values[r]!))
    case 'double':
      return Array.from(c.values.subarray(0, length))
    default:
      throw new Error(`unexpected column ${(c as { type: string }).type}`)
  }
}

/** The header of an encoded snapshot, parsed (to aim corruptions at one buffer). */
function header(bytes: Uint8Array) {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)
  const json = JSON.parse(dec(bytes.subarray(12, 12 + n))) as {
    format: number
    columns: { name: string; type: string; buffers: Record<string, { offset: number; length: number }> }[]
  }
  return { json, data: Math.ceil((12 + n) / 8) * 8 }
}

/** The same snapshot with another header (the data section moved to stay 8-byte aligned). */
function withHeader(bytes: Uint8Array, edit: (h: ReturnType<typeof header>['json']) => void): Uint8Array {
  const { json, data } = header(bytes)
  edit(json)
  const text = enc(JSON.stringify(json))
  const start = Math.ceil((12 + text.length) / 8) * 8
  const out = new Uint8Array(start + bytes.length - data)
  out.set(bytes.subarray(0, 8))
  new DataView(out.buffer).setUint32(8, text.length, true)
  out.set(text, 12)
  out.set(bytes.subarray(data), start)
  return out
}

function corruptCode(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(LakesyncError)
    expect((e as Error).message).toContain(FILE)
    return (e as LakesyncError).code
  }
  throw new Error('decoded a corrupt snapshot')
}

const STRINGS: TableSpec = {
  name: 't',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 's', type: 'string' },
  ],
  primaryKey: ['id'],
}

/** A table of ids 1, 2, ... and `strings`, held as text or as a dictionary column. */
function stringsTable(
  strings: (string | null)[] = ['ab', null, '', 'Zürich'],
  { dictionary = false, slack = 3 } = {},
): Table {
  const ids = strings.map((_, i) => i + 1)
  return build({ spec: STRINGS, rows: [ids, strings], length: strings.length, slack, dictionary })
}

describe('snapshot encoding', () => {
  it('round-trips any table: values, NULLs, empty and non-ASCII strings, 0 rows, capacity beyond the length', () => {
    fc.assert(
      fc.property(generated, (g) => {
        const table = build(g)
        const bytes = encodeSnapshot(table)
        const back = decodeSnapshot(bytes, g.spec, FILE)
        expect(back.length).toBe(g.length)
        expect(back.spec).toBe(g.spec)
        back.columns.forEach((c, i) => {
          expect(c.type).toBe(table.columns[i]!.type)
          // Exactly the rows, no capacity; doubles bit for bit (NaN, -0).
          if (c.type === 'string') {
            expect(c.offsets.length).toBe(g.length + 1)
            expect(c.valid.length).toBe(g.length)
            expect(c.bytes.length).toBe(c.offsets[g.length])
          } else if (c.type === 'dict') expect(c.codes.length).toBe(g.length)
          else expect((c as { values: ArrayLike<number> }).values.length).toBe(g.length)
          // toEqual compares numbers with Object.is: NaN equals NaN, -0 differs from 0.
          expect(values(c, g.length)).toEqual(g.rows[i])
          expect(values(c, g.length)).toEqual(values(table.columns[i]!, g.length))
        })
        // Deterministic: the decoded table encodes to the same bytes.
        expect(encodeSnapshot(back)).toEqual(bytes)
      }),
      { numRuns: 300 },
    )
  })

  it('decodes aligned bytes as views (no copy) and misaligned bytes by copying', () => {
    const bytes = encodeSnapshot(stringsTable())
    const aligned = decodeSnapshot(bytes, STRINGS, FILE)
    for (const c of aligned.columns)
      for (const a of Object.values(c).filter((x) => ArrayBuffer.isView(x)))
        expect((a as Uint8Array).buffer).toBe(bytes.buffer)
    const shifted = new Uint8Array(bytes.length + 1)
    shifted.set(bytes, 1)
    const odd = shifted.subarray(1)
    const copied = decodeSnapshot(odd, STRINGS, FILE)
    expect((copied.columns[1] as { bytes: Uint8Array }).bytes.buffer).not.toBe(shifted.buffer)
    expect(values(copied.columns[1]!, 4)).toEqual(['ab', null, '', 'Zürich'])
    expect(values(copied.columns[0]!, 4)).toEqual([1, 2, 3, 4])
  })

  it('starts every buffer at an 8-byte aligned offset of the file', () => {
    fc.assert(
      fc.property(generated, (g) => {
        const bytes = encodeSnapshot(build(g))
        const { json, data } = header(bytes)
        expect(data % 8).toBe(0)
        expect(json.format).toBe(SNAPSHOT_FORMAT)
        for (const c of json.columns) for (const b of Object.values(c.buffers)) expect(b.offset % 8).toBe(0)
      }),
      { numRuns: 50 },
    )
  })
})

describe('snapshot decoding rejects corruption with corrupt_state', () => {
  it('a truncated snapshot, cut anywhere', () => {
    fc.assert(
      fc.property(generated, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (g, at) => {
        const bytes = encodeSnapshot(build(g))
        const cut = Math.floor(at * bytes.length)
        expect(corruptCode(() => decodeSnapshot(bytes.slice(0, cut), g.spec, FILE))).toBe('corrupt_state')
      }),
      { numRuns: 200 },
    )
  })

  it('bad magic, header length, JSON, format, table, columns or types', () => {
    const bytes = encodeSnapshot(stringsTable())
    const bad = (f: (b: Uint8Array) => Uint8Array | undefined, spec = STRINGS) => {
      const b = bytes.slice()
      return corruptCode(() => decodeSnapshot(f(b) ?? b, spec, FILE))
    }
    expect(
      bad((b) => {
        b[3] = 0x21
        return b
      }),
    ).toBe('corrupt_state')
    expect(
      bad((b) => {
        new DataView(b.buffer).setUint32(8, 0xffffff00, true)
        return b
      }),
    ).toBe('corrupt_state')
    expect(
      bad((b) => {
        b[12] = 0x5b // '[': not the header object any more
        return b
      }),
    ).toBe('corrupt_state')
    expect(
      bad((b) =>
        withHeader(b, (h) => {
          h.format = 2
        }),
      ),
    ).toBe('corrupt_state')
    expect(bad((b) => b, { ...STRINGS, name: 'other' })).toBe('corrupt_state')
    expect(bad((b) => b, { ...STRINGS, columns: [STRINGS.columns[0]!, { name: 's', type: 'date' }] })).toBe(
      'corrupt_state',
    )
    expect(bad((b) => b, { ...STRINGS, columns: [STRINGS.columns[0]!] })).toBe('corrupt_state')
    expect(
      bad((b) =>
        withHeader(b, (h) => {
          h.columns[1]!.name = 'other'
        }),
      ),
    ).toBe('corrupt_state')
  })

  it('buffers out of bounds, misaligned, of the wrong size or overlapping', () => {
    const bytes = encodeSnapshot(stringsTable())
    const edit = (f: (h: ReturnType<typeof header>['json']) => void) =>
      corruptCode(() => decodeSnapshot(withHeader(bytes, f), STRINGS, FILE))
    expect(
      edit((h) => {
        h.columns[1]!.buffers.bytes!.offset += 1 << 20
      }),
    ).toBe('corrupt_state')
    expect(
      edit((h) => {
        h.columns[0]!.buffers.values!.offset += 4
      }),
    ).toBe('corrupt_state')
    expect(
      edit((h) => {
        h.columns[0]!.buffers.values!.length -= 4
      }),
    ).toBe('corrupt_state')
    expect(
      edit((h) => {
        h.columns[1]!.buffers.valid = { ...h.columns[0]!.buffers.valid! }
      }),
    ).toBe('corrupt_state')
    expect(
      edit((h) => {
        delete h.columns[1]!.buffers.offsets
      }),
    ).toBe('corrupt_state')
  })

  it('dictionary codes outside the entries, and entries that repeat', () => {
    const bytes = encodeSnapshot(stringsTable(['ab', null, 'ab', 'Zürich'], { dictionary: true, slack: 0 }))
    expect(decodeSnapshot(bytes, STRINGS, FILE).columns[1]!.type).toBe('dict')
    const { json, data } = header(bytes)
    const codesAt = data + json.columns[1]!.buffers.codes!.offset
    const withCode = (row: number, code: number) => {
      const b = bytes.slice()
      new DataView(b.buffer).setInt32(codesAt + 4 * row, code, true)
      return corruptCode(() => decodeSnapshot(b, STRINGS, FILE))
    }
    // Entries 'ab', 'Zürich': codes 0, -1, 0, 1.
    expect(withCode(0, 2)).toBe('corrupt_state')
    expect(withCode(1, -2)).toBe('corrupt_state')
    const ok = bytes.slice()
    new DataView(ok.buffer).setInt32(codesAt + 12, 0, true) // a valid code: decodes, row 3 now 'ab'
    const col = decodeSnapshot(ok, STRINGS, FILE).columns[1]!
    expect(values(col, 4)).toEqual(['ab', null, 'ab', 'ab'])
    // Entries 'ab' and 'cd': rewriting 'cd' to 'ab' makes two equal entries.
    const two = encodeSnapshot(stringsTable(['ab', 'cd'], { dictionary: true, slack: 0 }))
    const h = header(two)
    const at = h.data + h.json.columns[1]!.buffers.entryBytes!.offset
    two[at + 2] = 0x61
    two[at + 3] = 0x62
    expect(corruptCode(() => decodeSnapshot(two, STRINGS, FILE))).toBe('corrupt_state')
  })

  it('string offsets that go backwards, start above 0, pass the bytes or stop short of them; bad validity', () => {
    const bytes = encodeSnapshot(stringsTable())
    const { json, data } = header(bytes)
    const offsetsAt = data + json.columns[1]!.buffers.offsets!.offset
    const validAt = data + json.columns[1]!.buffers.valid!.offset
    const setOffset = (i: number, v: number) => {
      const b = bytes.slice()
      new DataView(b.buffer).setInt32(offsetsAt + 4 * i, v, true)
      return corruptCode(() => decodeSnapshot(b, STRINGS, FILE))
    }
    // The strings are 'ab', NULL, '', 'Zürich': offsets 0, 2, 2, 2, 9.
    expect(setOffset(1, 3)).toBe('corrupt_state') // row 1 (NULL) gets a byte; also not monotonic at row 2
    expect(setOffset(2, 1)).toBe('corrupt_state') // backwards
    expect(setOffset(0, 1)).toBe('corrupt_state') // first offset not 0
    expect(setOffset(4, 8)).toBe('corrupt_state') // last offset short of the bytes
    expect(setOffset(4, 100)).toBe('corrupt_state') // past the bytes
    expect(setOffset(3, -5)).toBe('corrupt_state')
    const b = bytes.slice()
    b[validAt] = 2
    expect(corruptCode(() => decodeSnapshot(b, STRINGS, FILE))).toBe('corrupt_state')
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The pipeline on a local folder.

const FIRST = SEED_FILES.slice(0, 2)
const v = (n: number) => String(n).padStart(20, '0')

/** A local folder that remembers every path read from it. */
class SpyStorage implements Storage {
  readonly reads: string[] = []
  private readonly inner: LocalStorage
  constructor(readonly root: string) {
    this.inner = new LocalStorage(root)
  }
  list(prefix?: string): Promise<StoredObject[]> {
    return this.inner.list(prefix)
  }
  read(path: string): Promise<Uint8Array> {
    this.reads.push(path)
    return this.inner.read(path)
  }
  readVersioned(path: string) {
    this.reads.push(path)
    return this.inner.readVersioned(path)
  }
  write(path: string, bytes: Uint8Array) {
    return this.inner.write(path, bytes)
  }
  createExclusive(path: string, bytes: Uint8Array) {
    return this.inner.createExclusive(path, bytes)
  }
  replaceIfMatch(path: string, bytes: Uint8Array, etag: string) {
    return this.inner.replaceIfMatch(path, bytes, etag)
  }
  remove(path: string) {
    return this.inner.remove(path)
  }
}

async function run(source: string, target: Storage, extra: Partial<RunOptions> = {}) {
  const warnings: string[] = []
  const result = await runPipeline(
    seedOptions(new LocalStorage(source), target, { onWarning: (m) => warnings.push(m), ...extra }),
  )
  return { result, warnings }
}

/** A target with version 1 committed from the first files; the full source applies the rest as version 2. */
async function committedV1(): Promise<string> {
  const target = tempDir()
  const { result } = await run(seedCopy({ only: FIRST }), new LocalStorage(target))
  expect(result.version).toBe(1)
  return target
}

function copyOf(dir: string): string {
  const copy = tempDir()
  cpSync(dir, copy, { recursive: true })
  return copy
}

const recordPath = (target: string, n: number) =>
  join(target, '_lakesync', 'users', 'commits', `${v(n)}.json`)
const readRecord = (target: string, n: number) =>
  JSON.parse(readFileSync(recordPath(target, n), 'utf8')) as CommitRecord
const writeRecord = (target: string, r: CommitRecord) =>
  writeFileSync(recordPath(target, r.version), `${JSON.stringify(r, null, 2)}\n`)

/** The published bytes of a version: both Parquet files and the snapshot. */
function outputs(target: string, n: number): Buffer[] {
  return [
    readFileSync(join(target, 'users', `v=${v(n)}`, 'part-00000.parquet')),
    readFileSync(join(target, 'users_features', `v=${v(n)}`, 'part-00000.parquet')),
    readFileSync(join(target, snapshotPath('users', n))),
  ]
}

describe('snapshot in the pipeline', () => {
  it('each commit lists its snapshot, which decodes to the published users table', async () => {
    const target = await committedV1()
    const record = readRecord(target, 1)
    const bytes = readFileSync(join(target, snapshotPath('users', 1)))
    expect(record.snapshot).toEqual({
      path: snapshotPath('users', 1),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      size: bytes.length,
      format: SNAPSHOT_FORMAT,
    })
    expect(record.snapshot!.path).toBe(`_lakesync/users/snapshots/v=${v(1)}.lsnap`)
    expect(record.timingsMs.snapshot).toBeGreaterThanOrEqual(0)
    const table = decodeSnapshot(bytes, USERS_SPEC, record.snapshot!.path)
    expect(table.length).toBe(record.rows.users)
  })

  it('the next run loads the previous version from the snapshot, with outputs identical to the Parquet path', async () => {
    const base = await committedV1()
    const full = seedCopy()
    const snap = snapshotPath('users', 1)
    const parquet = `users/v=${v(1)}/part-00000.parquet`

    // Snapshot path: the snapshot is read, no Parquet at all.
    const viaSnapshot = copyOf(base)
    const spy = new SpyStorage(viaSnapshot)
    const a = await run(full, spy)
    expect(a.result.version).toBe(2)
    expect(a.warnings).toEqual([])
    expect(spy.reads).toContain(snap)
    expect(spy.reads.filter((p) => p.endsWith('.parquet'))).toEqual([])

    // The same run from the Parquet, four ways: snapshot deleted, corrupted, undecodable, or never written.
    const variants: [string, (t: string) => void, RegExp | null][] = [
      [
        'deleted',
        (t) => rmSync(join(t, snap)),
        /^snapshot \S+ is missing \(commit 1 lists it\); reading \S+ instead$/,
      ],
      [
        'corrupted',
        (t) => {
          const b = readFileSync(join(t, snap))
          b[b.length >> 1]! ^= 0xff
          writeFileSync(join(t, snap), b)
        },
        /^snapshot \S+ does not match commit 1 \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\); reading \S+ instead$/,
      ],
      [
        'undecodable',
        (t) => {
          // Bytes that hash as the record says but are no snapshot: the decoder, not the hash, catches them.
          const b = readFileSync(join(t, snap))
          b[0] = 0x58
          writeFileSync(join(t, snap), b)
          const r = readRecord(t, 1)
          writeRecord(t, {
            ...r,
            snapshot: { ...r.snapshot!, sha256: createHash('sha256').update(b).digest('hex') },
          })
        },
        /^snapshot \S+ cannot be decoded \(.*LSNAP001.*\); reading \S+ instead$/,
      ],
      [
        'never written (Spark or older lakesync)',
        (t) => {
          const { snapshot: _, ...r } = readRecord(t, 1)
          writeRecord(t, r as CommitRecord)
          rmSync(join(t, snap))
        },
        null,
      ],
    ]
    for (const [what, damage, warning] of variants) {
      const target = copyOf(base)
      damage(target)
      const s = new SpyStorage(target)
      const b = await run(full, s)
      expect(b.result.version, what).toBe(2)
      if (warning) {
        expect(b.warnings, what).toHaveLength(1)
        expect(b.warnings[0], what).toMatch(warning)
        expect(b.warnings[0], what).toContain(snap)
        expect(b.warnings[0], what).toContain(parquet)
      } else expect(b.warnings, what).toEqual([])
      expect(s.reads, what).toContain(parquet)
      // Byte-identical publication, and the same new snapshot.
      expect(outputs(target, 2), what).toEqual(outputs(viaSnapshot, 2))
      expect(readRecord(target, 2).snapshot, what).toEqual(readRecord(viaSnapshot, 2).snapshot)
    }
  })

  it('a run that fails after writing the snapshot leaves the previous version current; the next run succeeds', async () => {
    const base = await committedV1()
    const full = seedCopy()
    const clean = copyOf(base)
    await run(full, new LocalStorage(clean))

    const target = copyOf(base)
    const failing = run(full, new LocalStorage(target), {
      faults: (step) => {
        if (step === 'after-write-snapshot') throw new Error('injected fault after-write-snapshot')
      },
    })
    await expect(failing).rejects.toThrow('injected fault after-write-snapshot')
    const log = await readCommitLog(new LocalStorage(target), 'users')
    expect(log.current?.version).toBe(1)
    expect(log.entries.map((e) => e.record.state)).toEqual(['committed', 'abandoned'])
    // Its snapshot is an orphan that no commit lists.
    expect(listTree(target)).toContain(snapshotPath('users', 2))

    const spy = new SpyStorage(target)
    const next = await run(full, spy)
    expect(next.result.version).toBe(3)
    expect(next.warnings).toEqual([])
    expect(spy.reads).toContain(snapshotPath('users', 1)) // from version 1's snapshot, not the orphan
    expect(spy.reads).not.toContain(snapshotPath('users', 2))
    const [users, features, snapshot] = outputs(target, 3)
    expect([users, features, snapshot]).toEqual(outputs(clean, 2))
  })

  it('vacuum removes the snapshots of the versions it removes, orphans included, and keeps the rest', async () => {
    const target = await committedV1()
    const full = seedCopy()
    await expect(
      run(full, new LocalStorage(target), {
        faults: (step) => {
          if (step === 'after-write-snapshot') throw new Error('crash')
        },
      }),
    ).rejects.toThrow('crash')
    for (const day of ['2021-10-18', '2021-10-19', '2021-10-20'])
      await run(full, new LocalStorage(target), { asOf: parseDateString(day)! })
    const snaps = () => listTree(target).filter((p) => p.endsWith('.lsnap'))
    expect(snaps()).toEqual([1, 2, 3, 4, 5].map((n) => snapshotPath('users', n))) // 2 is the orphan
    const r = await vacuum(new LocalStorage(target), 'users', 2)
    expect(r.keptVersions).toEqual([4, 5])
    expect(r.deletedSnapshots).toEqual([1, 2, 3].map((n) => snapshotPath('users', n)))
    expect(snaps()).toEqual([4, 5].map((n) => snapshotPath('users', n)))
    expect(r.deleted.every((p) => p.endsWith('.parquet'))).toBe(true)
    // The current version still loads from its snapshot.
    writeFileSync(join(full, '20211021-000000000.csv'), 'U,1,Snap Shot,Austin,2021-10-20\n')
    const spy = new SpyStorage(target)
    const next = await run(full, spy, { asOf: parseDateString('2021-10-20')! })
    expect(next.result.version).toBe(6)
    expect(next.warnings).toEqual([])
    expect(spy.reads).toContain(snapshotPath('users', 5))
    expect(spy.reads.filter((p) => p.endsWith('.parquet'))).toEqual([])
  })
})

describe('a snapshot over 2 GiB (a wide table of millions of rows)', () => {
  it('is hashed in pieces: the same SHA-256 as in one piece', () => {
    const bytes = enc('0123456789'.repeat(1000))
    const whole = createHash('sha256').update(bytes).digest('hex')
    for (const piece of [1, 7, 4096, 10_000, 1 << 30]) expect(sha256(bytes, piece)).toBe(whole)
    expect(sha256(new Uint8Array(0), 7)).toBe(createHash('sha256').digest('hex'))
  })

  it('is read back from a folder lake (readFile alone stops at 2 GiB)', async () => {
    const dir = tempDir()
    const size = 2 ** 31 + 16
    writeFileSync(join(dir, 'big.lsnap'), '')
    truncateSync(join(dir, 'big.lsnap'), size) // sparse: no 2 GiB written to disk
    const bytes = await new LocalStorage(dir).read('big.lsnap')
    expect(bytes.length).toBe(size)
    expect(bytes[size - 1]).toBe(0)
    rmSync(join(dir, 'big.lsnap'))
  })
})
