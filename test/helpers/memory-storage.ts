/** An in-memory Storage for unit and property tests (integration tests use real folders and moto's S3). */
import { createHash } from 'node:crypto'
import type { Storage, StoredObject } from '../../etl/storage/storage.js'

const etagOf = (b: Uint8Array) => `"${createHash('md5').update(b).digest('hex')}"`

export class MemoryStorage implements Storage {
  readonly objects = new Map<string, Uint8Array>()
  constructor(readonly root = 'memory://') {}

  async list(prefix = ''): Promise<StoredObject[]> {
    return [...this.objects.entries()]
      .filter(([p]) => p.startsWith(prefix))
      .map(([path, b]) => ({ path, size: b.length, etag: etagOf(b) }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }
  async read(path: string): Promise<Uint8Array> {
    const b = this.objects.get(path)
    if (!b) throw new Error(`memory storage: no object ${path}`)
    return b
  }
  async readVersioned(path: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    const b = this.objects.get(path)
    return b ? { bytes: b, etag: etagOf(b) } : null
  }
  async write(path: string, bytes: Uint8Array): Promise<void> {
    this.objects.set(path, bytes)
  }
  async createExclusive(path: string, bytes: Uint8Array): Promise<string | null> {
    if (this.objects.has(path)) return null
    this.objects.set(path, bytes)
    return etagOf(bytes)
  }
  async replaceIfMatch(path: string, bytes: Uint8Array, etag: string): Promise<string | null> {
    const b = this.objects.get(path)
    if (!b || etagOf(b) !== etag) return null
    this.objects.set(path, bytes)
    return etagOf(bytes)
  }
  async remove(path: string): Promise<void> {
    this.objects.delete(path)
  }
}
