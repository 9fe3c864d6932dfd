/** Storage on a local folder: the CLI default. Writes go through a temporary file and a rename or link. */
import { randomBytes } from 'node:crypto'
import { link, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import type { Storage, StoredObject } from './storage.js'

export class LocalStorage implements Storage {
  constructor(readonly root: string) {}

  async list(prefix = ''): Promise<StoredObject[]> {
    const out: StoredObject[] = []
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[]
      try {
        entries = await readdir(dir, { withFileTypes: true })
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
          return
        throw e
      }
      for (const ent of entries) {
        const full = join(dir, ent.name)
        if (ent.isDirectory()) await walk(full)
        else if (ent.isFile() && !ent.name.startsWith('.lakesync-tmp-')) {
          const path = relative(this.root, full).split(sep).join('/')
          if (path.startsWith(prefix)) out.push({ path, size: (await stat(full)).size })
        }
      }
    }
    await walk(join(this.root, prefix.slice(0, prefix.lastIndexOf('/') + 1)))
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }

  async read(path: string): Promise<Uint8Array> {
    return readFile(join(this.root, path))
  }

  private async temp(path: string, bytes: Uint8Array): Promise<string> {
    const full = join(this.root, path)
    await mkdir(dirname(full), { recursive: true })
    const tmp = join(dirname(full), `.lakesync-tmp-${randomBytes(6).toString('hex')}`)
    await writeFile(tmp, bytes, { flush: true })
    return tmp
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    const tmp = await this.temp(path, bytes)
    await rename(tmp, join(this.root, path))
  }

  async createExclusive(path: string, bytes: Uint8Array): Promise<boolean> {
    // link(2) fails with EEXIST if the name exists: an atomic create-if-absent of a complete file.
    const tmp = await this.temp(path, bytes)
    try {
      await link(tmp, join(this.root, path))
      return true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw e
    } finally {
      await unlink(tmp).catch(() => {})
    }
  }

  async remove(path: string): Promise<void> {
    await rm(join(this.root, path), { force: true })
  }
}
