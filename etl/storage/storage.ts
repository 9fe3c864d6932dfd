/**
 * The engine's only view of the outside world: a flat namespace of objects under a root, addressed by `/`-separated
 * relative paths. Adapters: a local folder (etl/storage/local.ts) and an S3 prefix (etl/storage/s3.ts). Everything above
 * this file works on bytes and tables, so the CLI and the Lambda run the same code.
 *
 * The commit protocol needs two conditional writes, which S3 has natively (PutObject with If-None-Match: * and
 * If-Match: <etag>, answered 412 when the condition fails) and the local adapter emulates.
 */

export interface StoredObject {
  path: string // relative to the root, `/`-separated
  size: number // bytes
  etag?: string // S3: the object's ETag as S3 returns it (quotes included); local: not listed
  mtimeMs?: number // last modification, ms since epoch (local: file mtime; S3: LastModified)
}

export interface Storage {
  /** Human-readable root (a folder path or s3:// URL) for messages. */
  readonly root: string
  /** Every object under `prefix` (recursively), sorted by path. A missing root lists as empty. */
  list(prefix?: string): Promise<StoredObject[]>
  /** The object's bytes; throws when it does not exist. */
  read(path: string): Promise<Uint8Array>
  /**
   * The object's bytes, as `read`, handed to `onPiece` as they arrive so that the caller works while the rest is
   * read: `bytes` holds the object from its start (sized for all of it) and its first `end` bytes are in; the last
   * call has all of it (an empty object is one empty piece). A throw from `onPiece` stops the read and rejects
   * with it. Optional: readInPieces falls back to `read` and one piece.
   */
  readPieces?(path: string, onPiece: (bytes: Uint8Array, end: number) => void): Promise<Uint8Array>
  /** The object's bytes and current ETag, or null when it does not exist (for compare-and-swap). */
  readVersioned(path: string): Promise<{ bytes: Uint8Array; etag: string } | null>
  /** Writes an object whole (readers never see a partial object); overwrites. */
  write(path: string, bytes: Uint8Array): Promise<void>
  /** Creates an object only if absent, atomically: its new ETag, or null when it already existed (a lost race). */
  createExclusive(path: string, bytes: Uint8Array): Promise<string | null>
  /** Replaces an object only if its ETag is still `etag`: the new ETag, or null when it changed or vanished. */
  replaceIfMatch(path: string, bytes: Uint8Array, etag: string): Promise<string | null>
  /** Deletes an object if present. */
  remove(path: string): Promise<void>
  /**
   * Deletes the temporary files of writes that never finished (their process died) under `prefix`, last modified
   * before `before`: their paths. Optional: only a store that writes through temporary files (local) has any.
   */
  removeTemporaries?(prefix: string, before: Date): Promise<string[]>
}

/**
 * The full name of an object for messages: `s3://bucket/prefix/key` or `/folder/file`. A path may climb out of the
 * root with leading `../` (a table's CDC_TXN files sit beside its folder, etl/storage/transaction-source.ts).
 */
export function objectName(storage: Pick<Storage, 'root'>, path: string): string {
  let root = storage.root.replace(/\/+$/, '')
  let rest = path
  while (rest.startsWith('../') && root.lastIndexOf('/') > root.indexOf('//') + 1) {
    root = root.slice(0, root.lastIndexOf('/'))
    rest = rest.slice(3)
  }
  return `${root}/${rest}`
}

/** `storage.readPieces`, or `read` and one piece where the adapter has no incremental read. */
export async function readInPieces(
  storage: Storage,
  path: string,
  onPiece: (bytes: Uint8Array, end: number) => void,
): Promise<Uint8Array> {
  if (storage.readPieces) return storage.readPieces(path, onPiece)
  const bytes = await storage.read(path)
  onPiece(bytes, bytes.length)
  return bytes
}
