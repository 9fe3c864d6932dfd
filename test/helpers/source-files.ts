/** A DMS source folder written from a map of relative paths to file text, for tests that spell their files out. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { tempDir } from './fixtures.js'

export function sourceDir(files: Record<string, string>, dir = tempDir()): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}
