/**
 * Storage on a local folder: the CLI default. Whole-object writes go through a temporary file and a rename;
 * create-if-absent is link(2), which fails atomically when the name exists; compare-and-swap holds a lock file
 * (created with O_EXCL) around the compare and the rename. The ETag of a local object is the SHA-256 of its bytes.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import type { Storage, StoredObject } from './storage.js'

const TMP = '.lakesync-tmp-'
/**
 * readPieces reads this much at a time: the first piece is ready after a few ms instead of after the whole file,
 * and each later one is read on libuv's thread pool while the caller
 * parses the one before (docs/performance.md).
 */
const PIECE_BYTES = 4 << 20
const LOCK_STALE_MS = 30_000

function etagOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Every regular file under `dir` (none when it is missing), depth first, by readdir order. */
async function walkFiles(dir: string, visit: (full: string, name: string) => Promise<void>): Promise<void> {
  let entries: Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return
    throw e
  }
  for (const ent of entries) {
    const full = join(dir, ent.name)
    if (ent.isDirectory()) await walkFiles(full, visit)
    else if (ent.isFile()) await visit(full, ent.name)
  }
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code
}

export class LocalStorage implements Storage {
  /** @param pieceBytes readPieces' piece size (tests use small ones) */
  constructor(
    readonly root: string,
    private readonly pieceBytes = PIECE_BYTES,
  ) {}

  async list(prefix = ''): Promise<StoredObject[]> {
    const out: StoredObject[] = []
    await walkFiles(join(this.root, prefix.slice(0, prefix.lastIndexOf('/') + 1)), async (full, name) => {
      if (name.startsWith(TMP)) return
      const path = relative(this.root, full).split(sep).join('/')
      if (!path.startsWith(prefix)) return
      // Gone since readdir (a lock file of a compare-and-swap, an object vacuum removed): not listed.
      const s = await stat(full).catch((e: unknown) => {
        if (errno(e) === 'ENOENT') return null
        throw e
      })
      if (s !== null) out.push({ path, size: s.size, mtimeMs: s.mtimeMs })
    })
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }

  async read(path: string): Promise<Uint8Array> {
    try {
      return await readFile(join(this.root, path))
    } catch (e) {
      // readFile stops at 2 GiB; a larger file (a wide table's snapshot) is read into one buffer piece by piece.
      if (errno(e) === 'ERR_FS_FILE_TOO_LARGE') return this.readPieces(path, () => {})
      throw e
    }
  }

  /** The file as it was when opened (as readFile reads it): its size then, in pieces. */
  async readPieces(path: string, onPiece: (bytes: Uint8Array, end: number) => void): Promise<Uint8Array> {
    const file = await open(join(this.root, path), 'r')
    let pending: Promise<{ bytesRead: number }> | undefined
    try {
      const buf = Buffer.allocUnsafeSlow((await file.stat()).size)
      let end = 0
      const readMore = () => file.read(buf, end, Math.min(this.pieceBytes, buf.length - end), end)
      pending = buf.length > 0 ? readMore() : undefined
      while (pending) {
        const { bytesRead } = await pending
        pending = undefined
        if (bytesRead === 0) break // shorter than it was when opened
        end += bytesRead
        if (end < buf.length) pending = readMore() // the next piece is read on the thread pool meanwhile
        onPiece(buf, end)
      }
      if (end === 0) onPiece(buf, 0) // an empty file is one empty piece
      return buf.subarray(0, end)
    } catch (e) {
      await pending?.catch(() => {}) // never close the file under a read in flight
      throw e
    } finally {
      await file.close()
    }
  }

  async readVersioned(path: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    try {
      const bytes = await readFile(join(this.root, path))
      return { bytes, etag: etagOf(bytes) }
    } catch (e) {
      if (errno(e) === 'ENOENT') return null
      throw e
    }
  }

  private async temp(path: string, bytes: Uint8Array): Promise<string> {
    const full = join(this.root, path)
    await mkdir(dirname(full), { recursive: true })
    const tmp = join(dirname(full), `${TMP}${randomBytes(6).toString('hex')}`)
    await writeFile(tmp, bytes, { flush: true })
    return tmp
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    const tmp = await this.temp(path, bytes)
    await rename(tmp, join(this.root, path))
  }

  async createExclusive(path: string, bytes: Uint8Array): Promise<string | null> {
    const tmp = await this.temp(path, bytes)
    try {
      await link(tmp, join(this.root, path))
      return etagOf(bytes)
    } catch (e) {
      if (errno(e) === 'EEXIST') return null
      throw e
    } finally {
      await unlink(tmp).catch(() => {})
    }
  }

  async replaceIfMatch(path: string, bytes: Uint8Array, etag: string): Promise<string | null> {
    const full = join(this.root, path)
    const lock = `${full}.lock`
    await mkdir(dirname(full), { recursive: true })
    const tmp = await this.temp(path, bytes)
    try {
      await this.acquire(lock)
      try {
        const current = await this.readVersioned(path)
        if (current === null || current.etag !== etag) return null
        await rename(tmp, full)
        return etagOf(bytes)
      } finally {
        await unlink(lock).catch(() => {})
      }
    } finally {
      await unlink(tmp).catch(() => {})
    }
  }

  /** Takes the lock file; breaks a lock older than LOCK_STALE_MS (its holder died inside the tiny critical section). */
  private async acquire(lock: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await writeFile(lock, String(process.pid), { flag: 'wx' })
        return
      } catch (e) {
        if (errno(e) !== 'EEXIST') throw e
        const age = await stat(lock).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        )
        if (age > LOCK_STALE_MS) await unlink(lock).catch(() => {})
        else await new Promise((r) => setTimeout(r, Math.min(50, 2 ** attempt)))
      }
    }
  }

  async remove(path: string): Promise<void> {
    await rm(join(this.root, path), { force: true })
  }

  /** The `.lakesync-tmp-*` files a killed write left (a live write's file is younger: its mtime moves as it writes). */
  async removeTemporaries(prefix: string, before: Date): Promise<string[]> {
    const removed: string[] = []
    await walkFiles(join(this.root, prefix), async (full, name) => {
      if (!name.startsWith(TMP)) return
      const s = await stat(full).catch(() => null) // gone meanwhile: its write finished
      if (s === null || s.mtimeMs >= before.getTime()) return
      await rm(full, { force: true })
      removed.push(relative(this.root, full).split(sep).join('/'))
    })
    return removed.sort()
  }
}
