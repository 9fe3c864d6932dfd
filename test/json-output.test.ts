/**
 * `--json` on run, status, vacuum, skip and report: one JSON object on stdout, `{"tables": [...]}` with one entry per
 * table in the README's schemas, alongside the exit-code contract; `--quiet` prints nothing on success.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, cliRun } from './helpers/cli.js'
import { SEED_FILES, seedCopy, tempDir } from './helpers/fixtures.js'
import { committed, config, ORDERS, PREFS, put, root, run, USERS } from './helpers/three-tables.js'

const BAD = SEED_FILES[1]!

/** The seed with a bad date on line 3 of the first change file. */
function badSeed(): string {
  const dir = seedCopy()
  const text = readFileSync(join(dir, BAD), 'utf8').replace(
    'I,134,Ross Green,Seattle,2021-10-17',
    'I,134,Ross Green,Seattle,2021-13-17',
  )
  writeFileSync(join(dir, BAD), text)
  return dir
}

const parse = (out: string) => JSON.parse(out) as { tables: Record<string, unknown>[] }

describe('--json', () => {
  it('run: committed tables with their versions and applied files; a failed one with its error (exit 5)', async () => {
    const src = root()
    put(src, 'public/prefs/20211017-200000000.csv', ['U,2,{},maybe'])
    const r = await run(src, tempDir(), config([USERS, ORDERS, PREFS]), '--json')
    expect(r.code).toBe(5)
    const { tables } = parse(r.out)
    expect(tables.map((t) => [t.table, t.status, t.versions])).toEqual([
      ['users', 'committed', [1]],
      ['orders', 'committed', [1]],
      ['prefs', 'failed', []],
    ])
    expect(tables[1]!.applied).toEqual([{ file: 'LOAD00000001.csv', rows: 2, counts: null }])
    expect(tables[2]!.error).toEqual({
      code: 'bad_value',
      message: expect.stringContaining('bad boolean "maybe" for active'),
      file: expect.stringContaining('20211017-200000000.csv'),
      line: 1,
      column: expect.any(Number),
    })
    expect(r.err).toContain('lakesync run: table prefs:') // stderr still names it
  })

  it('run of one table: unchanged on a second run; a bad file is a failed entry and exit 1', async () => {
    const src = seedCopy()
    const lake = tempDir()
    expect(parse((await cliRun(src, lake, '--json')).out).tables[0]!.status).toBe('committed')
    const again = await cliRun(src, lake, '--json')
    expect(parse(again.out).tables).toEqual([
      { table: 'users', status: 'unchanged', versions: [], applied: [], error: null },
    ])
    const bad = await cliRun(badSeed(), tempDir(), '--json')
    expect(bad.code).toBe(1)
    const [entry] = parse(bad.out).tables
    expect(entry).toMatchObject({ table: 'users', status: 'failed', error: { code: 'bad_date', line: 3 } })
  })

  it('status, skip, vacuum and report: one entry per table', async () => {
    const src = badSeed()
    const lake = tempDir()
    expect((await cliRun(src, lake)).code).toBe(1)
    const status = await cli('status', '--source', src, '--target', lake, '--json')
    expect(status.code).toBe(1) // the next run would fail
    const [s] = parse(status.out).tables
    expect(s).toMatchObject({ table: 'users', version: null, error: { code: 'bad_date' } })
    expect(s!.pending).toEqual(SEED_FILES)

    const skipped = await cli(
      'skip',
      '--source',
      src,
      '--target',
      lake,
      BAD,
      '--reason',
      'bad date',
      '--json',
    )
    expect(skipped.code).toBe(0)
    expect(parse(skipped.out).tables[0]).toMatchObject({ table: 'users', already: false, reason: 'bad date' })
    expect((await cliRun(src, lake, '--quiet')).out).toBe('')
    const after = parse((await cli('status', '--source', src, '--target', lake, '--json')).out).tables[0]!
    expect(after).toMatchObject({ version: 2, pending: [], error: null })
    expect((after.skipped as { path: string }[]).map((k) => k.path)).toEqual([BAD])

    const vacuumed = parse((await cli('vacuum', '--target', lake, '--keep', '1', '--json')).out).tables[0]!
    expect(vacuumed).toMatchObject({ table: 'users', keptVersions: [2] })
    const out = join(tempDir(), 'report.html')
    const report = parse((await cli('report', '--target', lake, '--out', out, '--json')).out)
    expect(report.tables).toEqual([{ table: 'users', file: out, health: expect.any(Object) }])
    expect(committed(lake, 'users', 2)).toBe(true)
  })

  it('--verbose names every applied file with its rows and counts', async () => {
    const r = await cliRun(seedCopy(), tempDir(), '--verbose')
    expect(r.code).toBe(0)
    expect(r.out).toContain('    LOAD00000001.csv: ')
    expect(r.out).toMatch(new RegExp(`    ${SEED_FILES[1]!.replace('.', '\\.')}: \\d+ rows; inserts \\d+`))
  })
})
