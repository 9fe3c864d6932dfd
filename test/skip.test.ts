/**
 * Operator recovery (issue 19): `lakesync skip` sets a bad change file aside in the commit log, the next run applies
 * the files after it, `status` and `report` name it with the rows it held, and `lakesync unskip` takes it back while
 * no committed version depends on it. The skip is a log record written with put-if-absent: a crash leaves it whole
 * or absent.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { claimVersion, readCommitLog } from '../etl/commit/log.js'
import { LocalStorage } from '../etl/storage/local.js'
import { cli, cliProcess, cliRun } from './helpers/cli.js'
import { pendingClaim } from './helpers/commit-records.js'
import { SEED_FILES, seedCopy, tempDir } from './helpers/fixtures.js'
import { sourceDir } from './helpers/source-files.js'

const BAD = '20211017-194324349.csv' // the first change file, given one bad date below
const AFTER = SEED_FILES.slice(2) // the change files after it

/** The seed files with one bad value in the first change file (3 of its 6 rows are fine before it). */
function badSource(): string {
  const dir = seedCopy()
  const text = readFileSync(join(dir, BAD), 'utf8').replace(
    'I,134,Ross Green,Seattle,2021-10-17',
    'I,134,Ross Green,Seattle,2021-13-17',
  )
  writeFileSync(join(dir, BAD), text)
  return dir
}

/** How many committed versions applied each source file, from the commit log. */
async function appliedCounts(target: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for (const r of (await readCommitLog(new LocalStorage(target), 'users')).committed)
    for (const f of r.files) counts.set(f.path, (counts.get(f.path) ?? 0) + 1)
  return counts
}

const skip = (source: string, target: string, ...more: string[]) =>
  cli('skip', '--source', source, '--target', target, BAD, '--reason', 'bad date in row 3', ...more)

describe('lakesync skip', () => {
  it('sets a bad change file aside; the next run applies every other file exactly once', async () => {
    const [source, target] = [badSource(), tempDir()]
    const first = await cliRun(source, target)
    expect(first.code).toBe(1)
    expect(first.err).toContain('bad date "2021-13-17"')
    expect(first.err).toContain(BAD)

    const s = await skip(source, target, '--by', 'ops@example.com')
    expect(s.code).toBe(0)
    expect(s.out).toContain(`set aside ${BAD}`)
    const log = await readCommitLog(new LocalStorage(target), 'users')
    const record = log.entries.at(-1)!.record
    expect(record).toMatchObject({
      state: 'skipped',
      version: 1,
      by: 'ops@example.com',
      reason: 'bad date in row 3',
      file: { path: BAD, rows: 6, size: readFileSync(join(source, BAD)).length },
    })
    expect(record.state === 'skipped' && record.file.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(record.state === 'skipped' && record.file.readError).toContain('2021-13-17')

    const run = await cliRun(source, target)
    expect(run.code).toBe(0)
    const counts = await appliedCounts(target)
    expect(counts.get(BAD)).toBeUndefined()
    for (const f of [SEED_FILES[0], ...AFTER]) expect(counts.get(f)).toBe(1)
    expect((await cliRun(source, target)).out).toContain('up to date')
    expect(await appliedCounts(target)).toEqual(counts)
  })

  it('lets later files through the late-file check once applied files come after it', async () => {
    const source = seedCopy({ without: [BAD] })
    const target = tempDir()
    expect((await cliRun(source, target)).code).toBe(0)
    // The bad file arrives late: older than every applied change file, the run stops with late_file...
    writeFileSync(join(source, BAD), 'U,6,Mindy George,Los Angeles,2021-10-15\n')
    const late = await cliRun(source, target)
    expect(late.err).toContain('applying it now would reorder changes')
    expect(late.err).toContain(`or lakesync skip ${BAD} to set it aside`)
    // ...until it is set aside.
    expect((await skip(source, target)).code).toBe(0)
    const run = await cliRun(source, target)
    expect(run.code).toBe(0)
    expect(run.out).toContain('up to date')
  })

  it('shows the skipped file and its rows in status and report', async () => {
    const [source, target] = [badSource(), tempDir()]
    await skip(source, target, '--by', 'ana')
    await cliRun(source, target)
    const status = await cli('status', '--source', source, '--target', target)
    expect(status.code).toBe(0)
    expect(status.out).toContain('skipped files: 1')
    expect(status.out).toMatch(
      new RegExp(`${BAD}: 6 rows, set aside in version 1 by ana at .*: bad date in row 3`),
    )
    expect(status.out).toContain('last error: none')
    const out = join(tempDir(), 'report.html')
    expect((await cli('report', '--source', source, '--target', target, '--out', out)).code).toBe(0)
    const html = readFileSync(out, 'utf8')
    expect(html).toContain(`<span data-testid="skipped-file">${BAD}</span> (6 rows, by ana`)
  })

  it('refuses a file that is not there, a full-load file and a file already applied', async () => {
    const [source, target] = [seedCopy(), tempDir()]
    const refusal = async (file: string, text: string) => {
      const r = await cli('skip', '--source', source, '--target', target, file, '--reason', 'x')
      expect(r.code).toBe(1)
      expect(r.err).toContain(text)
    }
    await refusal('20991231-000000000.csv', 'there is no file')
    await refusal('LOAD00000001.csv', 'not a change file')
    await cliRun(source, target)
    await refusal(BAD, 'was applied by version 1')
    expect((await cli('skip', '--source', source, '--target', target, BAD)).code).toBe(2) // no --reason
  })

  it('waits for a run that holds a live claim (exit 3), and takes over an expired one', async () => {
    const [source, target] = [badSource(), tempDir()]
    const lake = new LocalStorage(target)
    await claimVersion(lake, pendingClaim(1, 'run-a', new Date()))
    const busy = await skip(source, target)
    expect(busy.code).toBe(3)
    expect(busy.err).toContain('version 1 is being written by run run-a')
    const other = tempDir()
    await claimVersion(new LocalStorage(other), pendingClaim(1, 'run-b', new Date(Date.now() - 3_600_000)))
    expect((await skip(source, other)).code).toBe(0)
    const states = (await readCommitLog(new LocalStorage(other), 'users')).entries.map((e) => e.record.state)
    expect(states).toEqual(['abandoned', 'skipped'])
  })

  it('is idempotent: the same file set aside twice is one record', async () => {
    const [source, target] = [badSource(), tempDir()]
    expect((await skip(source, target)).code).toBe(0)
    const again = await skip(source, target)
    expect(again.code).toBe(0)
    expect(again.out).toContain('already set aside')
    expect((await readCommitLog(new LocalStorage(target), 'users')).entries).toHaveLength(1)
  })

  it("needs --table when the config has several tables, and takes FILE inside that table's folder", async () => {
    const root = sourceDir({
      'app/a/LOAD00000001.csv': '1,x\n',
      'app/a/20211017-000000000.csv': 'I,2,y\nI,3\n',
      'app/a/20211018-000000000.csv': 'I,4,z\n',
      'app/b/LOAD00000001.csv': '1,x\n',
    })
    const columns = [
      { name: 'id', type: 'int32' },
      { name: 'v', type: 'string' },
    ]
    const config = join(tempDir(), 'config.json')
    writeFileSync(
      config,
      JSON.stringify({
        tables: [
          { name: 'a', schema: 'app', columns, primaryKey: 'id' },
          { name: 'b', schema: 'app', columns, primaryKey: 'id' },
        ],
      }),
    )
    const target = tempDir()
    const args = [
      '--source',
      root,
      '--target',
      target,
      '--config',
      config,
      '20211017-000000000.csv',
      '--reason',
      'short row',
    ]
    const noTable = await cli('skip', ...args)
    expect(noTable.code).toBe(2)
    expect(noTable.err).toContain('--table')
    expect((await cli('skip', ...args, '--table', 'a')).code).toBe(0)
    expect(
      (await cli('run', '--source', root, '--target', target, '--config', config, '--as-of', '2021-10-17'))
        .code,
    ).toBe(0)
    const log = await readCommitLog(new LocalStorage(target), 'a')
    expect(log.current?.files.map((f) => f.path)).toEqual(['LOAD00000001.csv', '20211018-000000000.csv'])
  })
})

describe('lakesync unskip', () => {
  it('takes a skip back before any later file was applied: the next run applies the file', async () => {
    const source = seedCopy()
    const target = tempDir()
    await skip(source, target)
    const u = await cli('unskip', '--target', target, BAD, '--reason', 'file was fine')
    expect(u.code).toBe(0)
    expect(u.out).toContain(`took back ${BAD}`)
    expect((await cliRun(source, target)).code).toBe(0)
    const counts = await appliedCounts(target)
    for (const f of SEED_FILES) expect(counts.get(f)).toBe(1)
    expect((await cli('status', '--source', source, '--target', target)).out).toContain('skipped files: 0')
  })

  it('refuses once a committed version applied a file after it', async () => {
    const [source, target] = [badSource(), tempDir()]
    await skip(source, target)
    await cliRun(source, target)
    const u = await cli('unskip', '--target', target, BAD)
    expect(u.code).toBe(1)
    expect(u.err).toContain(`version 2 read ${AFTER[0]}, which comes after ${BAD}`)
    expect(u.err).toContain('lakesync reload')
    expect((await cli('unskip', '--target', target, AFTER[0]!)).err).toContain('is not set aside')
  })
})

describe('a crash during skip', () => {
  beforeAll(() => {
    // The kill cases run the built command (dist/), as an operator would.
    expect(cliProcess('--version').code).toBe(0)
  })
  afterEach(() => {
    delete process.env.LAKESYNC_FAULT_AT
  })

  it.each([
    ['skip-after-read', 'not done'],
    ['skip-after-write', 'done'],
  ])(
    'killed at %s leaves the skip %s, and a run afterwards applies each file exactly once',
    async (step, outcome) => {
      const [source, target] = [badSource(), tempDir()]
      process.env.LAKESYNC_FAULT_AT = `${step}:kill`
      const killed = cliProcess('skip', '--source', source, '--target', target, BAD, '--reason', 'bad date')
      delete process.env.LAKESYNC_FAULT_AT
      expect(killed.code).toBe(-1) // died by the signal
      const entries = (await readCommitLog(new LocalStorage(target), 'users')).entries
      expect(entries.map((e) => e.record.state)).toEqual(outcome === 'done' ? ['skipped'] : [])
      // A retry completes it (or finds it done); the run then applies every other file once.
      expect((await skip(source, target)).code).toBe(0)
      expect((await readCommitLog(new LocalStorage(target), 'users')).entries).toHaveLength(1)
      expect((await cliRun(source, target)).code).toBe(0)
      const counts = await appliedCounts(target)
      expect(counts.get(BAD)).toBeUndefined()
      for (const f of [SEED_FILES[0], ...AFTER]) expect(counts.get(f)).toBe(1)
    },
  )
})
