/**
 * A DMS source root of three tables of different shapes, as a DMS task writes it (`<schema>/<table>/`): the seed
 * users (features), sales.orders (composite key, decimal, timestamptz) and public.prefs (json, boolean), with the
 * `tables` config and the `lakesync run` over the root that the many-tables tests share.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { commitPath } from '../../etl/commit/layout.js'
import { cli } from './cli.js'
import { SEED, SEED_FILES, tempDir } from './fixtures.js'

export const USERS = {
  schema: 'public',
  name: 'users',
  columns: [
    { name: 'user_id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'last_login', type: 'date' },
  ],
  primaryKey: 'user_id',
  features: { id: 'user_id', name: 'name', city: 'city', lastLogin: 'last_login' },
}
export const ORDERS = {
  schema: 'sales',
  name: 'orders',
  columns: [
    { name: 'order_id', type: 'int64' },
    { name: 'line_no', type: 'int16' },
    { name: 'amount', type: 'decimal(12,2)' },
    { name: 'placed', type: 'timestamptz' },
  ],
  primaryKey: ['order_id', 'line_no'],
}
export const PREFS = {
  schema: 'public',
  name: 'prefs',
  columns: [
    { name: 'id', type: 'int64' },
    { name: 'settings', type: 'json' },
    { name: 'active', type: 'boolean' },
  ],
  primaryKey: 'id',
}

export function config(tables: unknown[], extra: Record<string, unknown> = {}): string {
  const file = join(tempDir(), 'lakesync.json')
  writeFileSync(file, JSON.stringify({ tables, ...extra }))
  return file
}

/** A DMS root: the seed users (without its later change files), orders and prefs. */
export function root(): string {
  const dir = tempDir('lakesync-root-')
  mkdirSync(join(dir, 'public', 'users'), { recursive: true })
  for (const f of SEED_FILES.slice(0, 2)) cpSync(join(SEED, f), join(dir, 'public', 'users', f))
  put(dir, 'sales/orders/LOAD00000001.csv', ['1,1,10.00,2021-10-17 10:00:00+00', '1,2,5.50,'])
  put(dir, 'public/prefs/LOAD00000001.csv', ['1,"{""theme"": ""dark""}",true', '2,[],false'])
  return dir
}

export function put(dir: string, path: string, lines: string[]): void {
  mkdirSync(join(dir, path, '..'), { recursive: true })
  writeFileSync(join(dir, path), `${lines.join('\n')}\n`)
}

export const run = (src: string, lake: string, cfg: string, ...more: string[]) =>
  cli('run', '--source', src, '--target', lake, '--config', cfg, '--as-of', '2021-10-17', ...more)

export const committed = (lake: string, table: string, version: number) =>
  existsSync(join(lake, commitPath(table, version)))
