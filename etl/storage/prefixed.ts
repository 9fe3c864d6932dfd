/**
 * A folder of another storage seen as a storage of its own: one table's `<schema>/<table>/` under a DMS source
 * root. Its first listing can be handed over from the root's one listing, so a run over many tables lists the root
 * once; later listings (a run re-lists after it commits) ask the root again.
 */
import type { Storage, StoredObject } from './storage.js'

export class PrefixedStorage implements Storage {
  readonly root: string
  private first: StoredObject[] | null

  constructor(
    private readonly inner: Storage,
    private readonly prefix: string, // `schema/table`, no slashes around
    listed: StoredObject[] | null = null, // the root's listing under prefix/, paths relative to the root
  ) {
    this.root = `${inner.root.replace(/\/+$/, '')}/${prefix}`
    this.first = listed ? listed.map((o) => ({ ...o, path: o.path.slice(prefix.length + 1) })) : null
  }

  private full(path: string): string {
    return `${this.prefix}/${path}`
  }

  async list(prefix = ''): Promise<StoredObject[]> {
    if (this.first !== null && prefix === '') {
      const listed = this.first
      this.first = null
      return listed
    }
    const strip = this.prefix.length + 1
    return (await this.inner.list(this.full(prefix))).map((o) => ({ ...o, path: o.path.slice(strip) }))
  }

  read(path: string): Promise<Uint8Array> {
    return this.inner.read(this.full(path))
  }

  readPieces(path: string, onPiece: (bytes: Uint8Array, end: number) => void): Promise<Uint8Array> {
    if (this.inner.readPieces) return this.inner.readPieces(this.full(path), onPiece)
    return this.inner.read(this.full(path)).then((bytes) => {
      onPiece(bytes, bytes.length)
      return bytes
    })
  }

  readVersioned(path: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    return this.inner.readVersioned(this.full(path))
  }

  write(path: string, bytes: Uint8Array): Promise<void> {
    return this.inner.write(this.full(path), bytes)
  }

  createExclusive(path: string, bytes: Uint8Array): Promise<string | null> {
    return this.inner.createExclusive(this.full(path), bytes)
  }

  replaceIfMatch(path: string, bytes: Uint8Array, etag: string): Promise<string | null> {
    return this.inner.replaceIfMatch(this.full(path), bytes, etag)
  }

  remove(path: string): Promise<void> {
    return this.inner.remove(this.full(path))
  }
}
