/**
 * Names of a capture's source tables and slots, parsed and checked (pure: the CLI uses them before it loads the
 * PostgreSQL client).
 */
import { ConfigError } from '../errors.js'
import type { SourceTable } from './changes.js'

const SLOT_NAME = /^[a-z0-9_]{1,63}$/

/** Parses `schema.table` (or `table`, in schema public); double quotes keep case and dots. */
export function parseTableName(text: string, flag = '--table'): SourceTable {
  const parts: string[] = []
  let i = 0
  while (i <= text.length) {
    if (text[i] === '"') {
      let v = ''
      i++
      for (;;) {
        if (i >= text.length) throw new ConfigError('bad_usage', `${flag} ${text}: unterminated quote`)
        if (text[i] === '"' && text[i + 1] === '"') {
          v += '"'
          i += 2
        } else if (text[i] === '"') {
          i++
          break
        } else v += text[i++]
      }
      parts.push(v)
    } else {
      const end = text.indexOf('.', i)
      const v = text.slice(i, end < 0 ? text.length : end)
      parts.push(v.toLowerCase())
      i = end < 0 ? text.length : end
    }
    if (i >= text.length) break
    if (text[i] !== '.') throw new ConfigError('bad_usage', `${flag} ${text}: expected schema.table`)
    i++
  }
  if (parts.length === 1) parts.unshift('public')
  if (parts.length !== 2 || parts.some((p) => p === ''))
    throw new ConfigError('bad_usage', `${flag} ${JSON.stringify(text)}: expected schema.table`)
  return { schema: parts[0]!, name: parts[1]! }
}

/** The default slot (and publication) name for a table: lakesync_<schema>_<table>, folded to [a-z0-9_]. */
export function defaultSlotName(table: SourceTable): string {
  return `lakesync_${table.schema}_${table.name}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 63)
}

export function checkSlotName(name: string): string {
  if (!SLOT_NAME.test(name))
    throw new ConfigError(
      'bad_usage',
      `--slot ${JSON.stringify(name)}: a replication slot name is 1-63 lowercase letters, digits and underscores`,
    )
  return name
}
