/**
 * One table's source when DMS preserves transactions: the table's folder `<schema>/<table>/` of a DMS root (its full
 * load) and the root's `<cdcPath>/` folder (the CDC_TXN files of every table), seen as one storage rooted at the
 * table's folder. The CDC_TXN files are listed as `../../<cdcPath>/<name>`, their path from the table's folder, so
 * the commit log, `lakesync skip` and error messages (objectName) name them where they are.
 */
import { PrefixedStorage } from './prefixed.js'
import type { Storage, StoredObject } from './storage.js'

/** The source table whose rows a CDC_TXN file's `table_name` and `database_schema_name` fields pick. */
export interface TransactionTable {
  schema: string // database_schema_name
  name: string // table_name (the source name, not `publishAs`)
}

export class TransactionSource implements Storage {
  readonly root: string
  readonly table: TransactionTable
  private readonly folder: PrefixedStorage
  private readonly up: string // `../` per part of the folder: from the table's folder back to the root
  private first: StoredObject[] | null

  constructor(
    private readonly inner: Storage, // the DMS root (BucketFolder)
    folder: string, // `schema/table` under the root
    private readonly cdcPath: string, // format.cdcPath, under the root
    listed: StoredObject[] | null = null, // the root's listing under folder/ and cdcPath/, paths relative to the root
  ) {
    const parts = folder.split('/')
    this.table = { schema: parts[0]!, name: parts.slice(1).join('/') }
    this.up = '../'.repeat(parts.length)
    const own = listed?.filter((o) => o.path.startsWith(`${folder}/`)) ?? null
    this.folder = new PrefixedStorage(inner, folder, own)
    this.root = this.folder.root
    this.first = listed?.filter((o) => o.path.startsWith(`${cdcPath}/`)) ?? null
  }

  /** The storage and path an object of this view lives at. */
  private where(path: string): [Storage, string] {
    return path.startsWith(this.up) ? [this.inner, path.slice(this.up.length)] : [this.folder, path]
  }

  async list(prefix = ''): Promise<StoredObject[]> {
    if (prefix !== '') {
      const [store, p] = this.where(prefix)
      const listed = await store.list(p)
      return store === this.inner ? listed.map((o) => ({ ...o, path: this.up + o.path })) : listed
    }
    const transactions = this.first ?? (await this.inner.list(`${this.cdcPath}/`))
    this.first = null
    const own = await this.folder.list()
    return [...own, ...transactions.map((o) => ({ ...o, path: this.up + o.path }))]
  }

  read(path: string): Promise<Uint8Array> {
    const [store, p] = this.where(path)
    return store.read(p)
  }

  readPieces(path: string, onPiece: (bytes: Uint8Array, end: number) => void): Promise<Uint8Array> {
    const [store, p] = this.where(path)
    if (store.readPieces) return store.readPieces(p, onPiece)
    return store.read(p).then((bytes) => {
      onPiece(bytes, bytes.length)
      return bytes
    })
  }

  readVersioned(path: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    const [store, p] = this.where(path)
    return store.readVersioned(p)
  }

  write(path: string, bytes: Uint8Array): Promise<void> {
    const [store, p] = this.where(path)
    return store.write(p, bytes)
  }

  createExclusive(path: string, bytes: Uint8Array): Promise<string | null> {
    const [store, p] = this.where(path)
    return store.createExclusive(p, bytes)
  }

  replaceIfMatch(path: string, bytes: Uint8Array, etag: string): Promise<string | null> {
    const [store, p] = this.where(path)
    return store.replaceIfMatch(p, bytes, etag)
  }

  remove(path: string): Promise<void> {
    const [store, p] = this.where(path)
    return store.remove(p)
  }
}

/** The table whose CDC_TXN rows a source reads, or null for a source without transaction files. */
export function transactionTableOf(source: Storage): TransactionTable | null {
  return source instanceof TransactionSource ? source.table : null
}
