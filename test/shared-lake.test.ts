/**
 * Several tables in one lake: each publishes to its own folders, and nothing one table does (run, reload, vacuum)
 * changes or removes a committed file of another.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cells, cli } from './helpers/cli.js'
import { listTree, SEED_FILES, seedCopy, tempDir } from './helpers/fixtures.js'

const LATER = SEED_FILES.slice(3)

/** SHA-256 of every file under `dir`, by relative path. */
function hashes(dir: string): Map<string, string> {
  return new Map(
    listTree(dir).map((p) => [
      p,
      createHash('sha256')
        .update(readFileSync(join(dir, p)))
        .digest('hex'),
    ]),
  )
}

/** A config for a table shaped like users under another name. */
function configFor(name: string): string {
  const file = join(tempDir(), `${name}.json`)
  const columns = [
    { name: 'user_id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'last_login', type: 'date' },
  ]
  writeFileSync(
    file,
    JSON.stringify({
      table: {
        name,
        columns,
        primaryKey: 'user_id',
        features: { id: 'user_id', name: 'name', city: 'city', lastLogin: 'last_login' },
      },
    }),
  )
  return file
}

const run = (...args: string[]) => cli('run', '--as-of', '2021-10-17', ...args)

describe('tables sharing one lake', () => {
  it("no table's run, reload or vacuum changes a committed file of another", async () => {
    const lake = tempDir()
    const users = seedCopy({ without: LATER })
    expect((await run('--source', users, '--target', lake)).code).toBe(0)
    const committed = hashes(lake)

    const tables = [
      { name: 'users2', source: seedCopy({ without: LATER.slice(1) }), config: configFor('users2') },
      { name: 'users3', source: seedCopy(), config: configFor('users3') },
    ]
    for (const t of tables) {
      expect((await run('--source', t.source, '--target', lake, '--config', t.config)).code).toBe(0)
      expect(
        existsSync(join(lake, `${t.name}_features`, 'v=00000000000000000001', 'part-00000.parquet')),
      ).toBe(true)
    }
    // users2 gets a second version, then keeps only it: users' version 1 stays whole.
    expect(
      (await cli('reload', '--source', tables[0]!.source, '--target', lake, '--config', tables[0]!.config))
        .code,
    ).toBe(0)
    expect((await cli('vacuum', '--target', lake, '--config', tables[0]!.config, '--keep', '1')).code).toBe(0)

    const after = hashes(lake)
    for (const [path, sha] of committed) expect({ path, sha: after.get(path) }).toEqual({ path, sha })

    // Each table's features are its own: users has fewer changes applied than users3.
    const show = async (config?: string) => {
      const r = await cli(
        'show',
        '--target',
        lake,
        '--table',
        'features',
        '--limit',
        '100',
        ...(config ? ['--config', config] : []),
      )
      expect(r.code).toBe(0)
      return cells(r.out)
    }
    const usersFeatures = await show()
    const users3Features = await show(tables[1]!.config)
    expect(usersFeatures).not.toEqual(users3Features)
    expect(await show()).toEqual(usersFeatures)
  })
})
