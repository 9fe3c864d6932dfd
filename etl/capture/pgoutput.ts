/**
 * Decoder of PostgreSQL's built-in logical decoding plugin `pgoutput` (protocol version 1, text tuples), as returned
 * by pg_logical_slot_peek_binary_changes: one message per row. Pure: bytes in, transactions out.
 *
 * Messages (PostgreSQL docs, "Logical Replication Message Formats"): Begin B, Commit C, Relation R, Insert I,
 * Update U, Delete D, Truncate T, Type Y, Origin O, Message M. Tuple columns are `n` (NULL), `u` (an unchanged
 * TOASTed value that is not sent) or `t` (text in the type's output format).
 */

export type TupleValue = string | null | typeof UNCHANGED_TOAST

/** An unchanged TOASTed value that pgoutput leaves out of an update's new tuple. */
export const UNCHANGED_TOAST: unique symbol = Symbol('unchanged-toast')

export interface Relation {
  id: number // the table's OID
  schema: string
  name: string
  replicaIdentity: string // d default, n nothing, f full, i index
  columns: { name: string; key: boolean; typeOid: number }[]
}

export type RowChange =
  | { kind: 'insert'; relation: Relation; new: TupleValue[] }
  | { kind: 'update'; relation: Relation; old: TupleValue[] | null; oldIsKey: boolean; new: TupleValue[] }
  | { kind: 'delete'; relation: Relation; old: TupleValue[]; oldIsKey: boolean }
  | { kind: 'truncate'; relations: Relation[] }

/** A committed transaction, as the slot hands it over. */
export interface Transaction {
  xid: number
  commitLsn: bigint // LSN of the commit record
  endLsn: bigint // end of the commit record: advancing the slot here consumes the transaction
  commitTime: bigint // µs since 2000-01-01 UTC
  changes: RowChange[]
}

/** `0/16B3748` to a number, and back. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text)
  if (!m) throw new Error(`pgoutput: not an LSN: ${JSON.stringify(text)}`)
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`)
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`
}

class Reader {
  private pos = 0
  private readonly view: DataView
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  }
  private need(n: number): void {
    if (this.pos + n > this.b.length)
      throw new Error(`pgoutput: message truncated at byte ${this.pos} (needs ${n} more)`)
  }
  byte(): number {
    this.need(1)
    return this.b[this.pos++]!
  }
  int16(): number {
    this.need(2)
    const v = this.view.getInt16(this.pos)
    this.pos += 2
    return v
  }
  int32(): number {
    this.need(4)
    const v = this.view.getInt32(this.pos)
    this.pos += 4
    return v
  }
  uint32(): number {
    this.need(4)
    const v = this.view.getUint32(this.pos)
    this.pos += 4
    return v
  }
  int64(): bigint {
    this.need(8)
    const v = this.view.getBigInt64(this.pos)
    this.pos += 8
    return v
  }
  string(): string {
    const end = this.b.indexOf(0, this.pos)
    if (end < 0) throw new Error('pgoutput: unterminated string')
    const s = new TextDecoder().decode(this.b.subarray(this.pos, end))
    this.pos = end + 1
    return s
  }
  bytes(n: number): Uint8Array {
    this.need(n)
    const v = this.b.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function tuple(r: Reader): TupleValue[] {
  const n = r.int16()
  const values: TupleValue[] = []
  for (let i = 0; i < n; i++) {
    const kind = String.fromCharCode(r.byte())
    if (kind === 'n') values.push(null)
    else if (kind === 'u') values.push(UNCHANGED_TOAST)
    else if (kind === 't') values.push(utf8.decode(r.bytes(r.int32())))
    else
      throw new Error(`pgoutput: unknown tuple column kind ${JSON.stringify(kind)} (binary mode is not used)`)
  }
  return values
}

/**
 * Groups a stream of pgoutput messages into transactions. Keeps the relations it has seen (a Relation message comes
 * before the first change of a table in each decoding session, and again after the table's definition changes).
 */
export class PgoutputDecoder {
  private readonly relations = new Map<number, Relation>()
  private open: Transaction | null = null

  private relation(id: number): Relation {
    const r = this.relations.get(id)
    if (!r) throw new Error(`pgoutput: change for relation ${id} before its Relation message`)
    return r
  }

  /** Feeds one message; returns the transaction it completes (on Commit), else null. */
  push(message: Uint8Array): Transaction | null {
    const r = new Reader(message)
    const type = String.fromCharCode(r.byte())
    switch (type) {
      case 'B': {
        const finalLsn = r.int64()
        const commitTime = r.int64()
        const xid = r.uint32()
        this.open = { xid, commitLsn: finalLsn, endLsn: 0n, commitTime, changes: [] }
        return null
      }
      case 'C': {
        const txn = this.current('Commit')
        r.byte() // flags
        txn.commitLsn = r.int64()
        txn.endLsn = r.int64()
        txn.commitTime = r.int64()
        this.open = null
        return txn
      }
      case 'R': {
        const id = r.uint32()
        const schema = r.string()
        const name = r.string()
        const replicaIdentity = String.fromCharCode(r.byte())
        const n = r.int16()
        const columns: Relation['columns'] = []
        for (let i = 0; i < n; i++) {
          const flags = r.byte()
          const colName = r.string()
          const typeOid = r.uint32()
          r.int32() // typmod
          columns.push({ name: colName, key: (flags & 1) === 1, typeOid })
        }
        this.relations.set(id, { id, schema, name, replicaIdentity, columns })
        return null
      }
      case 'I': {
        const relation = this.relation(r.uint32())
        if (String.fromCharCode(r.byte()) !== 'N') throw new Error('pgoutput: Insert without a new tuple')
        this.current('Insert').changes.push({ kind: 'insert', relation, new: tuple(r) })
        return null
      }
      case 'U': {
        const relation = this.relation(r.uint32())
        let marker = String.fromCharCode(r.byte())
        let old: TupleValue[] | null = null
        let oldIsKey = false
        if (marker === 'K' || marker === 'O') {
          oldIsKey = marker === 'K'
          old = tuple(r)
          marker = String.fromCharCode(r.byte())
        }
        if (marker !== 'N') throw new Error('pgoutput: Update without a new tuple')
        this.current('Update').changes.push({ kind: 'update', relation, old, oldIsKey, new: tuple(r) })
        return null
      }
      case 'D': {
        const relation = this.relation(r.uint32())
        const marker = String.fromCharCode(r.byte())
        if (marker !== 'K' && marker !== 'O') throw new Error('pgoutput: Delete without an old tuple')
        this.current('Delete').changes.push({
          kind: 'delete',
          relation,
          old: tuple(r),
          oldIsKey: marker === 'K',
        })
        return null
      }
      case 'T': {
        const n = r.int32()
        r.byte() // options: CASCADE, RESTART IDENTITY
        const relations: Relation[] = []
        for (let i = 0; i < n; i++) relations.push(this.relation(r.uint32()))
        this.current('Truncate').changes.push({ kind: 'truncate', relations })
        return null
      }
      case 'Y': // a custom type's name: values arrive as text anyway
      case 'O': // the origin of a replicated transaction
      case 'M': // a logical decoding message (only with the messages option)
        return null
      default:
        throw new Error(`pgoutput: unknown message type ${JSON.stringify(type)}`)
    }
  }

  private current(what: string): Transaction {
    if (!this.open) throw new Error(`pgoutput: ${what} outside a transaction`)
    return this.open
  }
}
