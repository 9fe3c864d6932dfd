/** lakesync status, vacuum and reload from the command line. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, cliRun } from './helpers/cli.js'
import { listTree, SEED, seedCopy, tempDir } from './helpers/fixtures.js'

/** `lakesync status` after a run of the seed data, with one more change file holding `row` pending. */
async function statusWithPending(row: string) {
  const source = seedCopy()
  const target = tempDir()
  await cliRun(source, target)
  writeFileSync(join(source, '20211019-000000000.csv'), row)
  return cli('status', '--source', source, '--target', target)
}

describe('lakesync status', () => {
  it('shows the current version, last applied file with its lag, pending files and no error', async () => {
    const r = await statusWithPending('U,1,A,Austin,2021-10-01\n')
    expect(r.code).toBe(0)
    expect(r.out).toContain('current version 1 (as_of 2021-10-17')
    expect(r.out).toMatch(/last applied file: 20211018-225959941.csv \(lag \d+ days\)/)
    expect(r.out).toContain('pending files: 1: 20211019-000000000.csv')
    expect(r.out).toContain('last error: none')
    expect(r.out).toMatch(/ {5}1 {2}committed {2}2021-10-17 .* 6 file\(s\) {2}110 rows; I 7 R 0 U 3/)
  })

  it('names the error the next run would stop on, and exits 1', async () => {
    const r = await statusWithPending('X,1,A,Austin,2021-10-01\n')
    expect(r.code).toBe(1)
    expect(r.out).toContain('last error: unknown_op: dms csv: unknown Op "X"')
    expect(r.out).toContain('20211019-000000000.csv line 1 column 1')
  })
})

describe('lakesync vacuum', () => {
  it('keeps the newest N versions and never the commit records', async () => {
    const target = tempDir()
    for (const day of ['2021-10-17', '2021-10-18', '2021-10-19', '2021-10-20'])
      expect((await cli('run', '--source', SEED, '--target', target, '--as-of', day)).code).toBe(0)
    const r = await cli('vacuum', '--target', target, '--keep', '2')
    expect(r.code).toBe(0)
    expect(r.out).toBe('deleted 4 file(s) and 2 snapshot(s); kept versions 3, 4\n')
    const files = listTree(target)
    expect(files.filter((f) => f.endsWith('.parquet'))).toEqual([
      'users/v=00000000000000000003/part-00000.parquet',
      'users/v=00000000000000000004/part-00000.parquet',
      'users_features/v=00000000000000000003/part-00000.parquet',
      'users_features/v=00000000000000000004/part-00000.parquet',
    ])
    expect(files.filter((f) => f.endsWith('.lsnap'))).toEqual([
      '_lakesync/users/snapshots/v=00000000000000000003.lsnap',
      '_lakesync/users/snapshots/v=00000000000000000004.lsnap',
    ])
    expect(files.filter((f) => f.includes('/commits/'))).toHaveLength(4)
    expect((await cli('show', '--target', target, '--limit', '1')).code).toBe(0)
    expect((await cli('vacuum', '--target', target, '--keep', '0')).code).toBe(2)
  })
})

describe('lakesync reload', () => {
  it('rebuilds from every file in the source after DMS reloaded the table', async () => {
    const source = seedCopy()
    const target = tempDir()
    await cliRun(source, target)
    writeFileSync(join(source, 'LOAD00000002.csv'), '900,New Load,Austin,2021-10-16\n')
    const stuck = await cliRun(source, target)
    expect(stuck.code).toBe(1)
    expect(stuck.err).toContain('run lakesync reload')
    const r = await cli('reload', '--source', source, '--target', target, '--as-of', '2021-10-17')
    expect(r.code).toBe(0)
    expect(r.out).toContain('committed version 2')
    expect((await cli('show', '--target', target, '--limit', '200')).out).toContain('|900    |New Load')
  })
})
