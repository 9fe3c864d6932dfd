/**
 * A storage a test can cut off from a run: while cut, the run's conditional writes (claim renewals, the commit swap)
 * hang until healed, as over a network partition; everything else passes through. Other runs use the inner storage.
 */
import type { Storage, StoredObject } from '../../etl/storage/storage.js'

export class PartitionedStorage implements Storage {
  readonly root: string
  private gate: Promise<void> | null = null
  private open: () => void = () => {}
  held = 0 // conditional writes that waited on the cut

  constructor(private readonly inner: Storage) {
    this.root = inner.root
  }

  /** From now on, conditional writes wait for heal(). */
  cut(): void {
    this.gate ??= new Promise((resolve) => {
      this.open = resolve
    })
  }

  /** Lets the waiting writes through, in the order they were made. */
  heal(): void {
    this.gate = null
    this.open()
  }

  private async pass(): Promise<void> {
    if (!this.gate) return
    this.held++
    await this.gate
  }

  list(prefix?: string): Promise<StoredObject[]> {
    return this.inner.list(prefix)
  }
  read(path: string): Promise<Uint8Array> {
    return this.inner.read(path)
  }
  readVersioned(path: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    return this.inner.readVersioned(path)
  }
  write(path: string, bytes: Uint8Array): Promise<void> {
    return this.inner.write(path, bytes)
  }
  createExclusive(path: string, bytes: Uint8Array): Promise<string | null> {
    return this.inner.createExclusive(path, bytes)
  }
  async replaceIfMatch(path: string, bytes: Uint8Array, etag: string): Promise<string | null> {
    await this.pass()
    return this.inner.replaceIfMatch(path, bytes, etag)
  }
  remove(path: string): Promise<void> {
    return this.inner.remove(path)
  }
}
