/** An in-memory Storage for unit and property tests (integration tests use real folders and, later, moto S3). */
import type { Storage, StoredObject } from '../../etl/storage.js'

export class MemoryStorage implements Storage {
  readonly objects = new Map<string, Uint8Array>()
  constructor(readonly root = 'memory://') {}

  async list(prefix = ''): Promise<StoredObject[]> {
    return [...this.objects.entries()]
      .filter(([p]) => p.startsWith(prefix))
      .map(([path, b]) => ({ path, size: b.length }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }
  async read(path: string): Promise<Uint8Array> {
    const b = this.objects.get(path)
    if (!b) throw new Error(`memory storage: no object ${path}`)
    return b
  }
  async write(path: string, bytes: Uint8Array): Promise<void> {
    this.objects.set(path, bytes)
  }
  async createExclusive(path: string, bytes: Uint8Array): Promise<boolean> {
    if (this.objects.has(path)) return false
    this.objects.set(path, bytes)
    return true
  }
  async remove(path: string): Promise<void> {
    this.objects.delete(path)
  }
}
