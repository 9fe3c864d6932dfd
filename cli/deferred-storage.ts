/**
 * An s3:// location for the CLI, opened (and the AWS SDK loaded) on its first use: a local run never loads the SDK.
 * Loaded, its modules made the JS heap ~2x larger and a local 1M-row run ~5% slower, its garbage collections having
 * more to walk (docs/performance.md). The Lambda, which always uses S3, opens its storage directly.
 */
import { parseS3Url, s3Root } from '../etl/storage/s3-url.js'
import { readInPieces, type Storage, type StoredObject } from '../etl/storage/storage.js'

export class DeferredS3Storage implements Storage {
  readonly root: string
  private storage: Promise<Storage> | undefined

  /** Checks the URL now (a bad one is a usage error before any work). */
  constructor(private readonly location: string) {
    const { bucket, prefix } = parseS3Url(location)
    this.root = s3Root(bucket, prefix)
  }

  private s3(): Promise<Storage> {
    this.storage ??= import('../etl/storage/open.js').then(({ openStorage }) => openStorage(this.location))
    return this.storage
  }

  async list(prefix?: string): Promise<StoredObject[]> {
    return (await this.s3()).list(prefix)
  }
  async read(path: string): Promise<Uint8Array> {
    return (await this.s3()).read(path)
  }
  async readPieces(path: string, onPiece: (bytes: Uint8Array, end: number) => void): Promise<Uint8Array> {
    return readInPieces(await this.s3(), path, onPiece)
  }
  async readVersioned(path: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    return (await this.s3()).readVersioned(path)
  }
  async write(path: string, bytes: Uint8Array): Promise<void> {
    return (await this.s3()).write(path, bytes)
  }
  async createExclusive(path: string, bytes: Uint8Array): Promise<string | null> {
    return (await this.s3()).createExclusive(path, bytes)
  }
  async replaceIfMatch(path: string, bytes: Uint8Array, etag: string): Promise<string | null> {
    return (await this.s3()).replaceIfMatch(path, bytes, etag)
  }
  async remove(path: string): Promise<void> {
    return (await this.s3()).remove(path)
  }
}
