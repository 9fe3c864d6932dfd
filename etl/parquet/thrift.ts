/**
 * A minimal Thrift compact-protocol encoder: just what Parquet's FileMetaData and PageHeader need (structs, lists,
 * i32/i64 varints, binary). Fields are written in the order given, which must be ascending field ids.
 */

export type ThriftValue =
  | { t: 'bool'; v: boolean } // compact protocol: the value is the field header's type (1 true, 2 false)
  | { t: 'i8'; v: number }
  | { t: 'i32'; v: number }
  | { t: 'i64'; v: number } // safe integers only: row counts and byte offsets
  | { t: 'binary'; v: Uint8Array | string }
  | { t: 'struct'; v: ThriftStruct }
  | { t: 'list'; elem: 'i32' | 'binary' | 'struct'; v: (number | string | Uint8Array | ThriftStruct)[] }

/** A struct: field id -> value; undefined fields are skipped. */
export type ThriftStruct = [number, ThriftValue | undefined][]

const TYPE = { i8: 3, i32: 5, i64: 6, binary: 8, list: 9, struct: 12 } as const

export class ThriftWriter {
  private bytes = new Uint8Array(256)
  length = 0

  private ensure(n: number): void {
    if (this.length + n <= this.bytes.length) return
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n))
    grown.set(this.bytes.subarray(0, this.length))
    this.bytes = grown
  }

  byte(b: number): void {
    this.ensure(1)
    this.bytes[this.length++] = b
  }

  /** Unsigned varint of a non-negative safe integer (up to 2^53). */
  varint(n: number): void {
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80)
      n = Math.floor(n / 0x80)
    }
    this.byte(n)
  }

  /** Zigzag varint of a safe integer. */
  zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1)
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length)
    this.bytes.set(b, this.length)
    this.length += b.length
  }

  binary(v: Uint8Array | string): void {
    const b = typeof v === 'string' ? new TextEncoder().encode(v) : v
    this.varint(b.length)
    this.raw(b)
  }

  struct(fields: ThriftStruct): void {
    let last = 0
    for (const [id, value] of fields) {
      if (value === undefined) continue
      const type = value.t === 'bool' ? (value.v ? 1 : 2) : TYPE[value.t]
      const delta = id - last
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type)
      else {
        this.byte(type)
        this.zigzag(id)
      }
      last = id
      this.value(value)
    }
    this.byte(0) // stop
  }

  private value(value: ThriftValue): void {
    switch (value.t) {
      case 'bool':
        return
      case 'i8':
        this.byte(value.v & 0xff)
        return
      case 'i32':
      case 'i64':
        this.zigzag(value.v)
        return
      case 'binary':
        this.binary(value.v)
        return
      case 'struct':
        this.struct(value.v)
        return
      case 'list': {
        const n = value.v.length
        const type = TYPE[value.elem]
        if (n < 15) this.byte((n << 4) | type)
        else {
          this.byte(0xf0 | type)
          this.varint(n)
        }
        for (const e of value.v) {
          if (value.elem === 'i32') this.zigzag(e as number)
          else if (value.elem === 'binary') this.binary(e as string | Uint8Array)
          else this.struct(e as ThriftStruct)
        }
        return
      }
    }
  }

  result(): Uint8Array {
    return this.bytes.subarray(0, this.length)
  }
}

export const i32 = (v: number): ThriftValue => ({ t: 'i32', v })
export const bool = (v: boolean): ThriftValue => ({ t: 'bool', v })
export const i8 = (v: number): ThriftValue => ({ t: 'i8', v })
export const i64 = (v: number): ThriftValue => ({ t: 'i64', v })
export const bin = (v: Uint8Array | string): ThriftValue => ({ t: 'binary', v })
export const struct = (v: ThriftStruct): ThriftValue => ({ t: 'struct', v })
