/**
 * The engine's only view of the outside world: a flat namespace of objects under a root, addressed by `/`-separated
 * relative paths. Adapters: a local folder (storage-local.ts) and, later, an S3 prefix. Everything above this file
 * works on bytes and tables, so the CLI and the Lambda run the same code.
 */

export interface StoredObject {
  path: string // relative to the root, `/`-separated
  size: number // bytes
}

export interface Storage {
  /** Human-readable root (a folder path or s3:// URL) for messages. */
  readonly root: string
  /** Every object under `prefix` (recursively), sorted by path. A missing root lists as empty. */
  list(prefix?: string): Promise<StoredObject[]>
  /** The object's bytes; throws when it does not exist. */
  read(path: string): Promise<Uint8Array>
  /** Writes an object whole (readers never see a partial object); overwrites. */
  write(path: string, bytes: Uint8Array): Promise<void>
  /** Creates an object only if absent, atomically; false when it already existed (a lost race). */
  createExclusive(path: string, bytes: Uint8Array): Promise<boolean>
  /** Deletes an object if present. */
  remove(path: string): Promise<void>
}
