/**
 * The capture engine without a database: the DMS writer against the real reader, the pgoutput decoder on
 * hand-encoded messages, change rows, batching, and runCapture's exactly-once rules over an in-memory slot.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseDuration, parseSize, pickCaptureTables } from '../cli/commands/capture.js'
import {
  batchTables,
  batchTransactions,
  decodeMessages,
  replayedPrefix,
  type SlotMessage,
} from '../etl/capture/batches.js'
import {
  type ChangeSource,
  runCapture,
  runCaptureTables,
  type TablesCaptureOptions,
} from '../etl/capture/capture.js'
import { CaptureStreamError, splitTransaction, tableKey, transactionRows } from '../etl/capture/changes.js'
import {
  changeFileName,
  changeSequence,
  csvField,
  DmsRowWriter,
  formatCommitTime,
  loadFileName,
  PG_EPOCH_MS,
} from '../etl/capture/dms-writer.js'
import { formatLsn, parseLsn, type Transaction } from '../etl/capture/pgoutput.js'
import { checkSlotName, defaultSlotName, parseTableName } from '../etl/capture/postgres.js'
import { resolveRunConfig } from '../etl/config/run-config.js'
import { parseDmsCsv } from '../etl/dms/csv.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { csvLayout } from '../etl/dms/layout.js'
import { PrefixedStorage } from '../etl/storage/prefixed.js'
import { parseTableSpec, USERS_SPEC } from '../etl/table/spec.js'
import type { DmsFormat } from '../etl/types.js'
import { dec, enc } from './helpers/bytes.js'
import { MemoryStorage } from './helpers/memory-storage.js'
import { tableRows } from './helpers/tables.js'

const TABLE = { schema: 'cdc', name: 'users' }

// --- a pgoutput encoder (protocol 1), the inverse of the decoder under test ---------------------------------------

type Cell = string | null | 'TOAST'
class Msg {
  private parts: number[] = []
  byte(c: string | number) {
    this.parts.push(typeof c === 'string' ? c.charCodeAt(0) : c)
    return this
  }
  int16(v: number) {
    this.parts.push((v >> 8) & 0xff, v & 0xff)
    return this
  }
  int32(v: number) {
    this.parts.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff)
    return this
  }
  int64(v: bigint) {
    for (let i = 7; i >= 0; i--) this.parts.push(Number((v >> BigInt(i * 8)) & 0xffn))
    return this
  }
  str(s: string) {
    this.parts.push(...enc(s), 0)
    return this
  }
  tuple(cells: Cell[]) {
    this.int16(cells.length)
    for (const c of cells) {
      if (c === null) this.byte('n')
      else if (c === 'TOAST') this.byte('u')
      else {
        const b = enc(c)
        this.byte('t').int32(b.length)
        this.parts.push(...b)
      }
    }
    return this
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts)
  }
}

const REL = 16384
const COLUMNS = ['user_id', 'name', 'city', 'last_login']
function relation(id = REL, schema = 'cdc', name = 'users', columns = COLUMNS, identity = 'd'): Uint8Array {
  const m = new Msg().byte('R').int32(id).str(schema).str(name).byte(identity).int16(columns.length)
  columns.forEach((c, i) => {
    m.byte(i === 0 ? 1 : 0)
      .str(c)
      .int32(i === 0 ? 23 : 25)
      .int32(-1)
  })
  return m.done()
}
const US = 1_000_000n
function begin(xid: number, commitUs: bigint) {
  return new Msg().byte('B').int64(0n).int64(commitUs).int32(xid).done()
}
function commit(endLsn: bigint, commitUs: bigint) {
  return new Msg()
    .byte('C')
    .byte(0)
    .int64(endLsn - 8n)
    .int64(endLsn)
    .int64(commitUs)
    .done()
}
const insert = (cells: Cell[], rel = REL) => new Msg().byte('I').int32(rel).byte('N').tuple(cells).done()
const update = (cells: Cell[], old?: { kind: 'K' | 'O'; cells: Cell[] }) => {
  const m = new Msg().byte('U').int32(REL)
  if (old) m.byte(old.kind).tuple(old.cells)
  return m.byte('N').tuple(cells).done()
}
const del = (kind: 'K' | 'O', cells: Cell[]) => new Msg().byte('D').int32(REL).byte(kind).tuple(cells).done()
const truncate = () => new Msg().byte('T').int32(1).byte(0).int32(REL).done()

/** One transaction's messages: B, R (first in a session), the changes, C. */
function txn(
  xid: number,
  endLsn: bigint,
  changes: Uint8Array[],
  commitUs = 700_000_000n * US,
): SlotMessage[] {
  return [begin(xid, commitUs), relation(), ...changes, commit(endLsn, commitUs)].map((data) => ({
    lsn: endLsn,
    data,
  }))
}

// --- an in-memory slot --------------------------------------------------------------------------------------------

class FakeSlot implements ChangeSource {
  readonly description = 'cdc.users (fake slot)'
  exists = false
  confirmed = 0n
  txns: SlotMessage[][] = []
  rows: (string | null)[][] = []
  peeks = 0
  advances: bigint[] = []

  async open() {
    return { resume: this.exists }
  }
  async fullLoad(onRows: (rows: (string | null)[][]) => Promise<void>) {
    for (let i = 0; i < this.rows.length; i += 2) await onRows(this.rows.slice(i, i + 2))
    this.exists = true // only after every row was handed over
  }
  async peek(max: number) {
    this.peeks++
    const out: SlotMessage[] = []
    for (const t of this.txns) {
      if (t.at(-1)!.lsn <= this.confirmed) continue
      if (out.length >= max) break
      out.push(...t)
    }
    return out
  }
  async advance(lsn: bigint) {
    this.advances.push(lsn)
    this.confirmed = lsn
  }
  async close() {}
  commit(changes: Uint8Array[], commitUs?: bigint) {
    const end = 1000n + BigInt(this.txns.length) * 100n
    this.txns.push(txn(1000 + this.txns.length, end, changes, commitUs))
  }
}

function capture(slot: FakeSlot, out: MemoryStorage, extra: Partial<Parameters<typeof runCapture>[0]> = {}) {
  let clock = Date.UTC(2021, 9, 17, 19, 43, 24, 349)
  return runCapture({
    source: slot,
    out,
    table: TABLE,
    spec: USERS_SPEC,
    format: DEFAULT_DMS_FORMAT,
    once: true,
    now: () => clock++,
    ...extra,
  })
}

// --- tests --------------------------------------------------------------------------------------------------------

describe('DMS writer', () => {
  it('quotes only what needs it and tells NULL from the empty string', () => {
    const f = DEFAULT_DMS_FORMAT
    expect([null, '', 'a', 'a,b', 'say "hi"', 'x\ny', 'x\r'].map((v) => csvField(v, f))).toEqual([
      '',
      '""',
      'a',
      '"a,b"',
      '"say ""hi"""',
      '"x\ny"',
      '"x\r"',
    ])
    const g: DmsFormat = { ...f, csvNullValue: 'NULL', csvDelimiter: ';' }
    expect([null, 'NULL', 'a,b', 'a;b'].map((v) => csvField(v, g))).toEqual([
      'NULL',
      '"NULL"',
      'a,b',
      '"a;b"',
    ])
  })

  it('lays out Op, timestamp, sequence and header as the reader expects', () => {
    const format: DmsFormat = {
      ...DEFAULT_DMS_FORMAT,
      addColumnName: true,
      includeOpForFullLoad: true,
      timestampColumnName: 'ts',
      changeSequenceColumnName: 'seq',
      changeSequencePosition: 'last',
    }
    const w = new DmsRowWriter(USERS_SPEC, format, 'change')
    expect(w.header()).toBe('Op,ts,user_id,name,city,last_login,seq\n')
    expect(w.row({ op: 'U', values: ['1', 'A', null, '2021-10-17'], commitTime: 'T', sequence: '42' })).toBe(
      'U,T,1,A,,2021-10-17,42\n',
    )
    expect(new DmsRowWriter(USERS_SPEC, format, 'load').row({ op: 'I', values: ['1', 'A', 'B', null] })).toBe(
      'I,,1,A,B,,\n',
    )
    expect(
      new DmsRowWriter(USERS_SPEC, DEFAULT_DMS_FORMAT, 'load').row({
        op: 'I',
        values: ['1', 'A', 'B', null],
      }),
    ).toBe('1,A,B,\n')
  })

  it('round-trips any values and format through the real reader', () => {
    const value = fc.option(
      fc.oneof(fc.string(), fc.constantFrom('', 'NULL', ',', ';', '"', '\n', '\r\n', 'é')),
      {
        nil: null,
      },
    )
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('I', 'U', 'D' as const), fc.integer(), value, value), {
          maxLength: 20,
        }),
        fc.record({
          csvDelimiter: fc.constantFrom(',', ';', '|', '\t'),
          csvNullValue: fc.constantFrom(null, 'NULL', '\\N'),
          addColumnName: fc.boolean(),
        }),
        fc.constantFrom('load' as const, 'change' as const),
        (rows, settings, kind) => {
          const format = { ...DEFAULT_DMS_FORMAT, ...settings }
          const w = new DmsRowWriter(USERS_SPEC, format, kind)
          const input = rows.map(([op, id, name, city]) => ({
            op: kind === 'load' ? ('I' as const) : op,
            values: [String(id), name, city, '2021-10-17'],
          }))
          const bytes = enc(w.header() + input.map((r) => w.row(r)).join(''))
          const parsed = parseDmsCsv(bytes, 'f', USERS_SPEC, csvLayout(USERS_SPEC, format, kind), format)
          const read = tableRows(parsed.rows)
          expect(read.length).toBe(input.length)
          input.forEach((r, i) => {
            const got = read[i]!
            if (r.op === 'D') expect(got[0]).toBe(r.values[0])
            else expect(got).toEqual(r.values)
          })
        },
      ),
      { numRuns: 300 },
    )
  })

  it('names files as DMS does', () => {
    expect(loadFileName(1)).toBe('LOAD00000001.csv')
    expect(loadFileName(26)).toBe('LOAD0000001A.csv')
    expect(changeFileName(Date.UTC(2021, 9, 17, 19, 43, 24, 349))).toBe('20211017-194324349.csv')
    expect(formatCommitTime(BigInt(Date.UTC(2021, 9, 17, 19, 43, 24) - PG_EPOCH_MS) * 1000n + 349_123n)).toBe(
      '2021-10-17 19:43:24.349123',
    )
    expect(changeSequence(0x16b3748n, 3)).toBe('000000000000238037200000000003')
  })
})

describe('pgoutput decoder and change rows', () => {
  it('parses and formats LSNs', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n)
    expect(formatLsn(parseLsn('1A/FF000010'))).toBe('1A/FF000010')
    expect(() => parseLsn('nope')).toThrow(/not an LSN/)
  })

  it('turns inserts, updates and deletes into DMS rows', () => {
    const [t] = decodeMessages(
      txn(7, 5000n, [
        insert(['1', 'Ann', null, '2021-10-17']),
        update(['1', 'Ann', 'Austin', '2021-10-18']),
        update(['2', 'Bob', 'Boston', null], { kind: 'K', cells: ['1', null, null, null] }), // key change
        del('K', ['2', null, null, null]),
      ]),
    )
    expect(t!.endLsn).toBe(5000n)
    expect(t!.xid).toBe(7)
    const rows = transactionRows(t!, TABLE, USERS_SPEC)
    expect(rows.map((r) => [r.op, ...r.values])).toEqual([
      ['I', '1', 'Ann', null, '2021-10-17'],
      ['U', '1', 'Ann', 'Austin', '2021-10-18'],
      ['D', '1', null, null, null],
      ['U', '2', 'Bob', 'Boston', null],
      ['D', '2', null, null, null],
    ])
    expect(rows.map((r) => r.sequence)).toEqual([0, 1, 2, 3, 4].map((n) => changeSequence(5000n, n)))
    expect(rows[0]!.commitTime).toBe(formatCommitTime(700_000_000n * US))
  })

  it('carries the before image under REPLICA IDENTITY FULL, and fills unchanged TOAST from it', () => {
    const [t] = decodeMessages(
      txn(8, 6000n, [
        update(['1', 'TOAST', 'Austin', null], { kind: 'O', cells: ['1', 'Long name', 'Boston', null] }),
        del('O', ['1', 'Long name', 'Austin', null]),
      ]),
    )
    expect(transactionRows(t!, TABLE, USERS_SPEC).map((r) => [r.op, ...r.values])).toEqual([
      ['U', '1', 'Long name', 'Austin', null],
      ['D', '1', 'Long name', 'Austin', null],
    ])
  })

  it('stops on what it cannot write faithfully: unchanged TOAST without a before image, truncate, drift', () => {
    const rows = (changes: Uint8Array[]) =>
      transactionRows(decodeMessages(txn(9, 7000n, changes))[0]!, TABLE, USERS_SPEC)
    expect(() => rows([update(['1', 'TOAST', 'Austin', null])])).toThrow(/REPLICA IDENTITY FULL/)
    expect(() => rows([truncate()])).toThrow(CaptureStreamError)
    expect(() => rows([truncate()])).toThrow(/truncated.*lakesync reload/)
    const drift = [
      begin(1, 0n),
      relation(REL, 'cdc', 'users', [...COLUMNS, 'email']),
      insert(['1', 'A', 'B', null, 'x']),
      commit(8000n, 0n),
    ].map((data) => ({ lsn: 8000n, data }))
    expect(() => transactionRows(decodeMessages(drift)[0]!, TABLE, USERS_SPEC)).toThrow(/schema drift/)
  })

  it('skips other tables of the publication and rejects malformed messages', () => {
    const other = [
      begin(1, 0n),
      relation(99, 'cdc', 'other'),
      insert(['1', 'A', 'B', null], 99),
      commit(9000n, 0n),
    ]
    const [t] = decodeMessages(other.map((data) => ({ lsn: 9000n, data })))
    expect(transactionRows(t!, TABLE, USERS_SPEC)).toEqual([])
    expect(() => decodeMessages([{ lsn: 1n, data: insert(['1']) }])).toThrow(/before its Relation/)
    expect(() => decodeMessages([{ lsn: 1n, data: Uint8Array.of(66, 0, 0) }])).toThrow(/truncated/)
    expect(() => decodeMessages([{ lsn: 1n, data: Uint8Array.of(90) }])).toThrow(/unknown message type/)
  })
})

describe('batching and replay detection', () => {
  const txns: Transaction[] = decodeMessages([
    ...txn(1, 100n, [insert(['1', 'A', 'X', null])]),
    ...txn(2, 200n, [insert(['2', 'B', 'Y', null]), insert(['3', 'C', 'Z', null])]),
    ...txn(3, 300n, []),
    ...txn(4, 400n, [del('K', ['1', null, null, null])]),
  ])
  const writer = new DmsRowWriter(USERS_SPEC, DEFAULT_DMS_FORMAT, 'change')

  it('cuts files between transactions at the size bound', () => {
    const all = batchTransactions(txns, writer, TABLE, 1 << 20)
    expect(all).toHaveLength(1)
    expect(all[0]!.text).toBe('I,1,A,X,\nI,2,B,Y,\nI,3,C,Z,\nD,1,,,\n')
    expect(all[0]!.endLsn).toBe(400n)
    const small = batchTransactions(txns, writer, TABLE, 9)
    expect(small.map((b) => [b.text, b.endLsn])).toEqual([
      ['I,1,A,X,\n', 100n],
      ['I,2,B,Y,\nI,3,C,Z,\n', 200n],
      ['D,1,,,\n', 400n],
    ])
  })

  it('recognises a written file as a prefix of the slot, at a transaction boundary only', () => {
    expect(replayedPrefix(enc('I,1,A,X,\nI,2,B,Y,\nI,3,C,Z,\n'), txns, writer, TABLE)).toEqual({
      endLsn: 200n,
      exhausted: false,
    })
    expect(replayedPrefix(enc('I,1,A,X,\nI,2,B,Y,\n'), txns, writer, TABLE).endLsn).toBeNull() // mid-transaction
    expect(replayedPrefix(enc('I,9,Q,Q,\n'), txns, writer, TABLE).endLsn).toBeNull()
    expect(replayedPrefix(enc('I,1,A,X,\nI,2,B,Y,\nI,3,C,Z,\nD,1,,,\nmore'), txns, writer, TABLE)).toEqual({
      endLsn: null,
      exhausted: true,
    })
  })
})

describe('runCapture over an in-memory slot', () => {
  function seeded(): FakeSlot {
    const slot = new FakeSlot()
    slot.rows = [
      ['0', 'Herman', 'Oklahoma city', '2020-10-10'],
      ['1', 'Lisa', 'Columbus', null],
      ['2', 'Terrell, Jr.', '', '2017-01-01'],
    ]
    return slot
  }

  it('takes the full load, then writes change files named by time and acknowledges each', async () => {
    const slot = seeded()
    const out = new MemoryStorage()
    const first = await capture(slot, out, { fileSize: 50 })
    expect(first.loaded).toBe(true)
    expect(first.loadRows).toBe(3)
    expect(first.loadFiles).toEqual(['LOAD00000001.csv', 'LOAD00000002.csv'])
    expect(dec(out.objects.get('LOAD00000001.csv')!)).toBe(
      '0,Herman,Oklahoma city,2020-10-10\n1,Lisa,Columbus,\n',
    )
    expect(dec(out.objects.get('LOAD00000002.csv')!)).toBe('2,"Terrell, Jr.","",2017-01-01\n')
    slot.commit([insert(['3', 'Ann', 'Austin', null])])
    slot.commit([update(['0', 'Herman', 'Tulsa', null]), del('K', ['1', null, null, null])])
    const second = await capture(slot, out)
    expect(second.loaded).toBe(false)
    expect(second.changeFiles).toEqual(['20211017-194324349.csv'])
    expect(second.counts).toEqual({ I: 1, U: 1, D: 1 })
    expect(dec(out.objects.get('20211017-194324349.csv')!)).toBe(
      'I,3,Ann,Austin,\nU,0,Herman,Tulsa,\nD,1,,,\n',
    )
    expect(slot.confirmed).toBe(1100n)
    // Nothing new: no file, no advance.
    expect((await capture(slot, out)).changeFiles).toEqual([])
  })

  it('a crash between writing a file and acknowledging it does not write the changes twice', async () => {
    const slot = seeded()
    const out = new MemoryStorage()
    await capture(slot, out)
    slot.commit([insert(['3', 'Ann', 'Austin', null])])
    slot.commit([insert(['4', 'Bo', 'Boston', null])])
    await expect(
      capture(slot, out, {
        faults: (step) => {
          if (step === 'after-change-file') throw new Error('crash')
        },
      }),
    ).rejects.toThrow('crash')
    expect(slot.confirmed).toBe(0n) // written, not acknowledged
    slot.commit([insert(['5', 'Cy', 'Chicago', null])]) // more arrived meanwhile
    const restart = await capture(slot, out)
    expect(restart.replayed).toEqual(['20211017-194324349.csv'])
    expect(restart.counts).toEqual({ I: 1, U: 0, D: 0 })
    const changes = [...out.objects.keys()].filter((k) => !k.startsWith('LOAD')).sort()
    expect(changes.map((k) => dec(out.objects.get(k)!))).toEqual([
      'I,3,Ann,Austin,\nI,4,Bo,Boston,\n',
      'I,5,Cy,Chicago,\n',
    ])
    expect(changes[1]! > changes[0]!).toBe(true)
  })

  it('a crash after the acknowledgement replays nothing', async () => {
    const slot = seeded()
    const out = new MemoryStorage()
    await capture(slot, out)
    slot.commit([insert(['3', 'Ann', 'Austin', null])])
    await expect(
      capture(slot, out, {
        faults: (step) => {
          if (step === 'after-advance') throw new Error('crash')
        },
      }),
    ).rejects.toThrow('crash')
    slot.commit([insert(['4', 'Bo', 'Boston', null])])
    const restart = await capture(slot, out)
    expect(restart.replayed).toEqual([])
    expect(restart.counts.I).toBe(1)
  })

  it('a crash during the full load leaves no slot; the next start loads again and replaces the parts', async () => {
    const slot = seeded()
    const out = new MemoryStorage()
    await expect(
      capture(slot, out, {
        fileSize: 10,
        faults: (step) => {
          if (step === 'after-load-file') throw new Error('crash')
        },
      }),
    ).rejects.toThrow('crash')
    expect(slot.exists).toBe(false)
    expect([...out.objects.keys()]).toEqual(['LOAD00000001.csv'])
    out.objects.set('LOAD00000009.csv', enc('9,stale,,\n')) // from an even earlier attempt
    const events: string[] = []
    const again = await capture(slot, out, { onEvent: (e) => events.push(e.type) })
    expect(again.loadFiles).toEqual(['LOAD00000001.csv'])
    expect([...out.objects.keys()]).toEqual(['LOAD00000001.csv'])
    expect(events).toContain('warning')
    expect(slot.exists).toBe(true)
  })

  it('an empty table still gets a LOAD file', async () => {
    const slot = new FakeSlot()
    const out = new MemoryStorage()
    expect((await capture(slot, out)).loadFiles).toEqual(['LOAD00000001.csv'])
    expect(out.objects.get('LOAD00000001.csv')!.length).toBe(0)
  })

  it('refuses to start a new stream over change files whose slot is gone', async () => {
    const slot = seeded()
    const out = new MemoryStorage()
    out.objects.set('20211017-000000000.csv', enc('I,1,A,B,\n'))
    await expect(capture(slot, out)).rejects.toThrow(/no replication slot.*lakesync reload/)
  })

  it('keeps file names increasing when the clock goes back', async () => {
    const slot = seeded()
    slot.exists = true
    const out = new MemoryStorage()
    out.objects.set('LOAD00000001.csv', new Uint8Array())
    out.objects.set('20991231-235959999.csv', enc('I,1,A,B,\n'))
    slot.commit([insert(['3', 'Ann', 'Austin', null])])
    const r = await capture(slot, out)
    expect(r.changeFiles).toEqual(['21000101-000000000.csv'])
  })

  it('reads a backlog in several peeks and stops on the abort signal', async () => {
    const slot = seeded()
    slot.exists = true
    const out = new MemoryStorage()
    for (let i = 0; i < 10; i++) slot.commit([insert([String(100 + i), 'N', 'C', null])])
    const r = await capture(slot, out, { maxChanges: 8 })
    expect(r.counts.I).toBe(10)
    expect(slot.peeks).toBeGreaterThan(2)
    // Without --once it polls until stopped.
    const stop = new AbortController()
    const running = capture(slot, out, { once: false, intervalMs: 5, signal: stop.signal })
    await new Promise((r) => setTimeout(r, 30))
    slot.commit([insert(['200', 'Late', 'C', null])])
    await new Promise((r) => setTimeout(r, 30))
    stop.abort()
    expect((await running).counts.I).toBe(1)
  })
})

// --- several tables through one slot ------------------------------------------------------------------------------

const ORDERS = { schema: 'sales', name: 'orders' }
const ORDERS_REL = 16385
const ORDERS_SPEC = parseTableSpec({
  name: 'orders',
  columns: [
    { name: 'order_id', type: 'int64' },
    { name: 'line_no', type: 'int16' },
    { name: 'amount', type: 'decimal(12,2)' },
  ],
  primaryKey: ['order_id', 'line_no'],
})
const ordersRelation = () => relation(ORDERS_REL, 'sales', 'orders', ['order_id', 'line_no', 'amount'])
const order = (cells: Cell[]) => insert(cells, ORDERS_REL)
const orderDeleted = (cells: Cell[]) => new Msg().byte('D').int32(ORDERS_REL).byte('K').tuple(cells).done()

/** A slot publishing cdc.users and sales.orders; its full load hands over each table's rows, then finishes. */
class TwoTableSlot extends FakeSlot {
  loads: (string | null)[][][] = [[], []]
  durableWith: string[] = [] // what the staging held when the slot became durable

  constructor(private readonly root: MemoryStorage) {
    super()
  }
  override async fullLoad(
    onRows: (rows: (string | null)[][], table?: number) => Promise<void>,
    finish?: () => Promise<void>,
  ) {
    for (const [t, rows] of this.loads.entries()) if (rows.length > 0) await onRows(rows, t)
    await finish?.()
    this.durableWith = [...this.root.objects.keys()].sort()
    this.exists = true
  }
  override commit(changes: Uint8Array[], commitUs = 700_000_000n * US) {
    const end = 1000n + BigInt(this.txns.length) * 100n
    const xid = 1000 + this.txns.length
    this.txns.push(
      [begin(xid, commitUs), relation(), ordersRelation(), ...changes, commit(end, commitUs)].map((data) => ({
        lsn: end,
        data,
      })),
    )
  }
}

describe('runCaptureTables over an in-memory slot', () => {
  function setup() {
    const root = new MemoryStorage()
    const slot = new TwoTableSlot(root)
    slot.loads = [[['0', 'Herman', 'Tulsa', null]], []]
    const tables = [
      { table: TABLE, spec: USERS_SPEC, out: new PrefixedStorage(root, 'cdc/users') },
      { table: ORDERS, spec: ORDERS_SPEC, out: new PrefixedStorage(root, 'sales/orders') },
    ]
    const capture = (extra: Partial<TablesCaptureOptions> = {}) => {
      let clock = Date.UTC(2021, 9, 17, 19, 43, 24, 349)
      return runCaptureTables({
        source: slot,
        tables,
        format: DEFAULT_DMS_FORMAT,
        once: true,
        now: () => clock++,
        ...extra,
      })
    }
    const changes = () =>
      [...root.objects.keys()]
        .filter((k) => !k.includes('LOAD'))
        .sort()
        .map((k) => [k, dec(root.objects.get(k)!)])
    return { root, slot, capture, changes }
  }

  it('loads every table before the slot is durable, then writes each batch as one file per table, under one name', async () => {
    const { root, slot, capture, changes } = setup()
    const first = await capture()
    expect(first.loaded).toBe(true)
    expect(first.tables.map((t) => [t.loadRows, t.loadFiles])).toEqual([
      [1, ['LOAD00000001.csv']],
      [0, ['LOAD00000001.csv']],
    ])
    expect(slot.durableWith).toEqual(['cdc/users/LOAD00000001.csv', 'sales/orders/LOAD00000001.csv'])
    expect(dec(root.objects.get('sales/orders/LOAD00000001.csv')!)).toBe('') // an empty table: an empty load
    slot.commit([insert(['1', 'Ann', 'Austin', null]), order(['7', '1', '9.50'])])
    slot.commit([orderDeleted(['7', '1', null])])
    slot.commit([insert(['2', 'Bo', null, null])])
    const second = await capture()
    expect(second.tables.map((t) => t.counts)).toEqual([
      { I: 2, U: 0, D: 0 },
      { I: 1, U: 0, D: 1 },
    ])
    expect(changes()).toEqual([
      ['cdc/users/20211017-194324349.csv', 'I,1,Ann,Austin,\nI,2,Bo,,\n'],
      ['sales/orders/20211017-194324349.csv', 'I,7,1,9.50\nD,7,1,\n'],
    ])
    expect(slot.confirmed).toBe(1200n)
    // A change to one table: a file in its folder only, named after every earlier file.
    slot.commit([order(['8', '2', '-1.00'])])
    const third = await capture()
    expect(third.tables.map((t) => t.changeFiles)).toEqual([[], ['20211017-194324350.csv']])
    expect(changes().map(([k]) => k)).toEqual([
      'cdc/users/20211017-194324349.csv',
      'sales/orders/20211017-194324349.csv',
      'sales/orders/20211017-194324350.csv',
    ])
  })

  it('a crash between the files of one batch: the written one is recognised, the other written once', async () => {
    const { slot, capture, changes } = setup()
    await capture()
    slot.commit([insert(['1', 'Ann', 'Austin', null]), order(['7', '1', '9.50'])])
    await expect(
      capture({
        faults: (step) => {
          if (step === 'after-change-file') throw new Error('crash')
        },
      }),
    ).rejects.toThrow('crash')
    expect(changes()).toEqual([['cdc/users/20211017-194324349.csv', 'I,1,Ann,Austin,\n']])
    slot.commit([insert(['2', 'Bo', null, null])])
    const restart = await capture()
    expect(restart.tables.map((t) => [t.replayed, t.changeFiles])).toEqual([
      [['20211017-194324349.csv'], ['20211017-194324350.csv']],
      [[], ['20211017-194324350.csv']],
    ])
    expect(changes()).toEqual([
      ['cdc/users/20211017-194324349.csv', 'I,1,Ann,Austin,\n'],
      ['cdc/users/20211017-194324350.csv', 'I,2,Bo,,\n'],
      ['sales/orders/20211017-194324350.csv', 'I,7,1,9.50\n'],
    ])
    expect(slot.confirmed).toBe(1100n)
  })

  it('a crash after every file of a batch, before the acknowledgement: nothing is written again', async () => {
    const { slot, capture, changes } = setup()
    await capture()
    slot.commit([insert(['1', 'Ann', 'Austin', null]), order(['7', '1', '9.50'])])
    let files = 0
    await expect(
      capture({
        faults: (step) => {
          if (step === 'after-change-file' && ++files === 2) throw new Error('crash')
        },
      }),
    ).rejects.toThrow('crash')
    expect(slot.confirmed).toBe(0n)
    const restart = await capture()
    expect(restart.tables.map((t) => [t.replayed.length, t.changeFiles.length])).toEqual([
      [1, 0],
      [1, 0],
    ])
    expect(changes()).toHaveLength(2)
    expect(slot.confirmed).toBe(1000n)
  })

  it('an acknowledged batch is not taken for a replay because one table repeats its rows', async () => {
    const { slot, capture, changes } = setup()
    await capture()
    slot.commit([insert(['1', 'Ann', 'Austin', null]), order(['7', '1', '9.50'])])
    await capture()
    // The same users row again (as bytes), but orders moved on: the batch above was acknowledged.
    slot.commit([insert(['1', 'Ann', 'Austin', null]), order(['8', '1', '9.50'])])
    const next = await capture()
    expect(next.tables.map((t) => t.replayed)).toEqual([[], []])
    expect(changes().map(([, text]) => text)).toEqual([
      'I,1,Ann,Austin,\n',
      'I,1,Ann,Austin,\n',
      'I,7,1,9.50\n',
      'I,8,1,9.50\n',
    ])
  })

  it("splits transactions per table and cuts batches once one table's file is full", () => {
    const slot = new TwoTableSlot(new MemoryStorage())
    slot.commit([insert(['1', 'A', 'X', null]), order(['7', '1', '1.00']), insert(['2', 'B', 'Y', null])])
    slot.commit([order(['7', '2', '2.00'])])
    slot.commit([insert(['3', 'C', 'Z', null])])
    const txns = decodeMessages(slot.txns.flat())
    const parts = splitTransaction(txns[0]!, new Map([[tableKey(ORDERS), 5]]))
    expect([...parts.keys()]).toEqual([5])
    expect(parts.get(5)!.changes).toHaveLength(1)
    const tables = [
      { table: TABLE, writer: new DmsRowWriter(USERS_SPEC, DEFAULT_DMS_FORMAT, 'change') },
      { table: ORDERS, writer: new DmsRowWriter(ORDERS_SPEC, DEFAULT_DMS_FORMAT, 'change') },
    ]
    const texts = (fileSize: number) =>
      batchTables(txns, tables, fileSize).map((b) => [b.files.map((f) => f?.text ?? null), b.endLsn])
    expect(texts(1 << 20)).toEqual([[['I,1,A,X,\nI,2,B,Y,\nI,3,C,Z,\n', 'I,7,1,1.00\nI,7,2,2.00\n'], 1200n]])
    // 20 bytes: after the second transaction the orders file (22 bytes) is full, the users file (18) is not; the
    // batch is cut for both.
    expect(texts(20)).toEqual([
      [['I,1,A,X,\nI,2,B,Y,\n', 'I,7,1,1.00\nI,7,2,2.00\n'], 1100n],
      [['I,3,C,Z,\n', null], 1200n],
    ])
  })
})

describe('capture command helpers', () => {
  it('parses table names, slot names, durations and sizes', () => {
    expect(parseTableName('cdc.users')).toEqual({ schema: 'cdc', name: 'users' })
    expect(parseTableName('Users')).toEqual({ schema: 'public', name: 'users' })
    expect(parseTableName('"My Schema"."A.b"')).toEqual({ schema: 'My Schema', name: 'A.b' })
    expect(() => parseTableName('a.b.c')).toThrow(/schema.table/)
    expect(defaultSlotName({ schema: 'cdc', name: 'Users-1' })).toBe('lakesync_cdc_users_1')
    expect(() => checkSlotName('Bad Name')).toThrow(/slot/)
    expect([parseDuration('500ms', '--interval'), parseDuration('2', 'x'), parseDuration('1m', 'x')]).toEqual(
      [500, 2000, 60_000],
    )
    expect(() => parseDuration('soon', '--interval')).toThrow(/duration/)
    expect([parseSize('2KB', 'x'), parseSize('32MB', 'x'), parseSize('100', 'x')]).toEqual([
      2048,
      32 << 20,
      100,
    ])
    expect(() => parseSize('0', '--file-size')).toThrow(/size/)
  })

  it('picks the tables of a "tables" config that --tables names', async () => {
    const spec = (name: string) => ({ name, columns: [{ name: 'id', type: 'int32' }], primaryKey: 'id' })
    const config = await resolveRunConfig(
      {
        tables: [
          { schema: 'public', ...spec('users') },
          { schema: 'sales', ...spec('orders') },
          { schema: 'sales', ...spec('users'), publishAs: 'sales_users' },
        ],
      },
      'test',
      '.',
    )
    const picked = (flag?: string) =>
      pickCaptureTables(config, flag).map((t) => `${t.folder} as ${t.spec.name}`)
    expect(picked()).toEqual([
      'public/users as users',
      'sales/orders as orders',
      'sales/users as sales_users',
    ])
    expect(picked('sales.users, public.users')).toEqual([
      'public/users as users',
      'sales/users as sales_users',
    ])
    expect(picked('orders,sales_users')).toEqual(['sales/orders as orders', 'sales/users as sales_users'])
    expect(picked('SALES.Orders')).toEqual(['sales/orders as orders'])
    expect(picked('"Sales"."Orders"')).toEqual(['sales/orders as orders'])
    expect(() => picked('users')).toThrow(/"users" names several tables of the config/)
    expect(() => picked('public.nope')).toThrow(
      /"public.nope" is not a table of the config \(tables: public.users, sales.orders, sales.users\)/,
    )
    expect(() => picked(',')).toThrow(/--tables needs/)
  })
})
