/**
 * The pages of a Parquet column chunk, read from their headers (thrift compact protocol): what no reader's API shows.
 * Enough of the protocol to walk a PageHeader: varints, zigzag, binary, nested structs and lists.
 */
import { parquetMetadata } from 'hyparquet'

class Reader {
  constructor(
    readonly b: Uint8Array,
    public at: number,
  ) {}
  byte(): number {
    return this.b[this.at++]!
  }
  varint(): number {
    let v = 0
    let shift = 0
    for (;;) {
      const x = this.byte()
      v += (x & 0x7f) * 2 ** shift
      if ((x & 0x80) === 0) return v
      shift += 7
    }
  }
  zigzag(): number {
    const v = this.varint()
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2
  }
  value(type: number): unknown {
    switch (type) {
      case 1:
        return true
      case 2:
        return false
      case 3:
        return this.byte()
      case 4:
      case 5:
      case 6:
        return this.zigzag()
      case 7:
        this.at += 8
        return 0
      case 8: {
        const n = this.varint()
        this.at += n
        return n
      }
      case 9:
      case 10: {
        const h = this.byte()
        let n = h >> 4
        if (n === 15) n = this.varint()
        for (let i = 0; i < n; i++) this.value(h & 0x0f)
        return n
      }
      case 12:
        return this.struct()
      default:
        throw new Error(`thrift type ${type}`)
    }
  }
  struct(): Map<number, unknown> {
    const out = new Map<number, unknown>()
    let id = 0
    for (;;) {
      const h = this.byte()
      if (h === 0) return out
      const delta = h >> 4
      id = delta === 0 ? this.zigzag() : id + delta
      out.set(id, this.value(h & 0x0f))
    }
  }
}

export interface PageInfo {
  type: 'data' | 'dictionary'
  rows: number // values in the page (nulls included) or dictionary entries
  uncompressed: number
}

/** The pages of column `column` in row group `group` of a Parquet file. */
export function columnPages(file: Uint8Array, group: number, column: number): PageInfo[] {
  const buffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer
  const meta = parquetMetadata(buffer).row_groups[group]!.columns[column]!.meta_data!
  const startAt = Number(meta.dictionary_page_offset ?? meta.data_page_offset)
  const end = startAt + Number(meta.total_compressed_size)
  const r = new Reader(file, startAt)
  const pages: PageInfo[] = []
  while (r.at < end) {
    const h = r.struct()
    const type = h.get(1) as number
    const compressed = h.get(3) as number
    const detail = (type === 2 ? h.get(7) : h.get(5)) as Map<number, unknown>
    pages.push({
      type: type === 2 ? 'dictionary' : 'data',
      rows: detail.get(1) as number,
      uncompressed: h.get(2) as number,
    })
    r.at += compressed
  }
  return pages
}
