/** The lakesync CLI: run / export / show, help, exit codes, and the bad-input contract end to end. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cells, cli, cliOn, cliProcess, cliRun } from './helpers/cli.js'
import {
  discoverCases,
  FIXTURES,
  listTree,
  REPO,
  SEED,
  SEED_FILES,
  seedCopy,
  tempDir,
} from './helpers/fixtures.js'
import { queryObjects, sqlString } from './helpers/parquet.js'

/** The 10 sample rows of the seed README (examples/pyspark-cdc/SEED-README.txt), as printed there. */
const SEED_SAMPLE = cells(
  readFileSync(join(REPO, 'examples', 'pyspark-cdc', 'SEED-README.txt'), 'utf8'),
).filter(
  (row) => row.length === 8, // the features sample, not the 4- and 5-column tables above it
)

describe('lakesync run + show on the seed data', () => {
  it('reproduces the seed README sample rows exactly', async () => {
    expect(SEED_SAMPLE).toHaveLength(10)
    const target = tempDir()
    const run = await cliRun(SEED, target)
    expect(run.code).toBe(0)
    expect(run.out).toContain('committed version 1')
    const show = await cli('show', '--target', target, '--table', 'features', '--limit', '10')
    expect(show.code).toBe(0)
    expect(cells(show.out)).toEqual(SEED_SAMPLE)
    expect(show.out).toContain('|user_id|name')
    expect(show.out).toContain('only showing top 10 of 110 rows')
  })

  it('shows progress (rows/s and phases) on a terminal and stays quiet when piped', async () => {
    const onTty = await cliOn(true, 'run', '--source', SEED, '--target', tempDir(), '--as-of', '2021-10-17')
    expect(onTty.err).toMatch(/read \d+ rows \(\d+ rows\/s\)/)
    expect(onTty.err).toContain('computing features...')
    const piped = await cliRun(SEED, tempDir())
    expect(piped.err).toBe('')
  })

  it('reports the per-op counts and the cities without a state', async () => {
    const run = await cliRun(SEED, tempDir())
    expect(run.out).toContain(
      'inserts 7, replaces 0, updates 3, upserts-of-missing 0, deletes 0, deletes-of-missing 0',
    )
    expect(run.out).toMatch(
      /14 row\(s\) in 3 cities without a state: "New York", "Oklahoma city", "San Antonio"/,
    )
  })

  it('commits nothing when nothing is new and as_of is unchanged; a new as_of makes a new version', async () => {
    const target = tempDir()
    await cliRun(SEED, target)
    const again = await cliRun(SEED, target)
    expect(again.code).toBe(0)
    expect(again.out).toContain('up to date')
    expect(listTree(target).filter((p) => p.includes('commits'))).toHaveLength(1)
    const refresh = await cli('run', '--source', SEED, '--target', target, '--as-of', '2022-01-01')
    expect(refresh.out).toContain('committed version 2')
    const show = await cli('show', '--target', target, '--table', 'features', '--limit', '3')
    // Austin's newest login (2021-09-20) is 103 days before the new as_of: the rate drops to 0.0
    expect(cells(show.out).map((r) => r[6])).toEqual(['0.0', '0.0', '0.0'])
  })

  it('applies only the new change files on the next run (incremental equals one run)', async () => {
    const late = SEED_FILES.slice(2)
    const source = seedCopy({ without: late })
    const target = tempDir()
    expect((await cliRun(source, target)).code).toBe(0)
    for (const f of late) writeFileSync(join(source, f), readFileSync(join(SEED, f)))
    const second = await cliRun(source, target)
    expect(second.out).toContain('committed version 2')
    expect(second.out).toContain('4 file(s)')
    const oneRun = tempDir()
    await cliRun(SEED, oneRun)
    for (const table of ['users', 'features']) {
      const a = join(tempDir(), 'a.csv')
      const b = join(tempDir(), 'b.csv')
      await cli('export', '--target', target, '--table', table, '--format', 'csv', '--out', a)
      await cli('export', '--target', oneRun, '--table', table, '--format', 'csv', '--out', b)
      expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'))
    }
  })

  it('refuses a change file older than one already applied, and a changed applied file', async () => {
    const source = seedCopy()
    const target = tempDir()
    await cliRun(source, target)
    writeFileSync(join(source, '20211017-000000000.csv'), 'U,1,Late Change,Austin,2021-10-01\n')
    const late = await cliRun(source, target)
    expect(late.code).toBe(1)
    expect(late.err).toContain('20211017-000000000.csv is older than')
    rmSync(join(source, '20211017-000000000.csv'))
    writeFileSync(
      join(source, '20211018-223933563.csv'),
      'I,136,Monica Geller,New York,2021-10-11\nI,1000,X,Y,2021-01-01\n',
    )
    const changed = await cliRun(source, target)
    expect(changed.code).toBe(1)
    expect(changed.err).toContain('20211018-223933563.csv changed after it was applied')
    expect(changed.err).toContain('run lakesync reload')
  })
})

describe('lakesync export', () => {
  it('writes the features CSV byte for byte as the golden reference case', async () => {
    const target = tempDir()
    await cliRun(SEED, target)
    const out = join(tempDir(), 'nested', 'features.csv')
    const r = await cli('export', '--target', target, '--table', 'features', '--format', 'csv', '--out', out)
    expect(r.code).toBe(0)
    expect(readFileSync(out, 'utf8')).toBe(
      readFileSync(join(FIXTURES, 'reference', 'expected', 'users_features.csv'), 'utf8'),
    )
  })

  it('writes Parquet that DuckDB reads with the published types', async () => {
    const target = tempDir()
    await cliRun(SEED, target)
    const out = join(tempDir(), 'features.parquet')
    expect(
      (await cli('export', '--target', target, '--table', 'features', '--format', 'parquet', '--out', out))
        .code,
    ).toBe(0)
    const parquet = `read_parquet(${sqlString(out)})`
    const types = await queryObjects(`describe select * from ${parquet}`)
    expect(types.map((t) => `${t.column_name} ${t.column_type}`)).toEqual([
      'user_id INTEGER',
      'name VARCHAR',
      'city VARCHAR',
      'last_login DATE',
      'state VARCHAR',
      'last_login_rank_by_city INTEGER',
      'login_rate_last_3_months_by_city DOUBLE',
      'users_by_city INTEGER',
    ])
    const austin = await queryObjects(
      `select user_id, last_login::varchar d, last_login_rank_by_city r, login_rate_last_3_months_by_city rate from ${parquet} where city = 'Austin'`,
    )
    expect(austin).toEqual([
      { user_id: 73, d: '2019-10-03', r: 3, rate: 0.3333333333333333 },
      { user_id: 81, d: '2021-01-01', r: 2, rate: 0.3333333333333333 },
      { user_id: 11, d: '2021-09-20', r: 1, rate: 0.3333333333333333 },
    ])
  })

  it('fails clearly when the target has no version', async () => {
    const r = await cli(
      'export',
      '--target',
      tempDir(),
      '--table',
      'users',
      '--format',
      'csv',
      '--out',
      join(tempDir(), 'x.csv'),
    )
    expect(r.code).toBe(1)
    expect(r.err).toContain('has no committed version')
  })
})

describe('usage', () => {
  it('prints help for every command and exits 0', async () => {
    for (const cmd of ['run', 'export', 'show']) {
      const r = await cli(cmd, '--help')
      expect(r.code).toBe(0)
      expect(r.out).toContain(`Usage: lakesync ${cmd}`)
    }
    expect((await cli('--help')).out).toContain('Commands:')
  })

  it('exits 2 on unknown commands, unknown flags, missing flags and bad dates', async () => {
    expect((await cli('frobnicate')).code).toBe(2)
    expect((await cli('run', '--nope')).code).toBe(2)
    const missing = await cli('run', '--target', tempDir())
    expect(missing.code).toBe(2)
    expect(missing.err).toContain('--source is required')
    const badDate = await cli('run', '--source', SEED, '--target', tempDir(), '--as-of', '2021-02-30')
    expect(badDate.code).toBe(2)
    expect(badDate.err).toContain('--as-of "2021-02-30" is not a date')
  })

  it('rejects a config with unknown settings, naming the key', async () => {
    const cfg = join(tempDir(), 'c.json')
    writeFileSync(cfg, JSON.stringify({ format: { csvDelimeter: ';' } }))
    const r = await cli('run', '--source', SEED, '--target', tempDir(), '--config', cfg)
    expect(r.code).toBe(2) // a bad configuration is bad usage: nothing was read
    expect(r.err).toContain('unknown format setting "csvDelimeter"')
  })
})

describe('bad input through the CLI', () => {
  const errorCases = discoverCases().filter((c) => c.error)

  for (const c of errorCases) {
    it(`${c.name}: exit 1, one message naming the place, nothing committed`, async () => {
      const target = tempDir()
      const cities = c.cities ? ['--cities', join(c.dir, c.cities)] : []
      const r = await cli(
        'run',
        '--source',
        join(c.dir, 'source'),
        '--target',
        target,
        '--as-of',
        c.asOf,
        ...cities,
      )
      expect(r.code).toBe(1)
      expect(r.out).toBe('')
      expect(r.err.split('\n').filter((l) => l.startsWith('lakesync run:'))).toHaveLength(1)
      if (c.error?.file) expect(r.err).toContain(c.error.file.replace(/\.gz$/, ''))
      if (c.error?.line) expect(r.err).toContain(`line ${c.error.line}`)
      if (c.error?.column) expect(r.err).toContain(`column ${c.error.column}`)
      expect(listTree(target)).toEqual([])
    })
  }

  it('leaves an existing target exactly as it was when a later file is bad', async () => {
    const source = seedCopy()
    const target = tempDir()
    await cliRun(source, target)
    const before = listTree(target).map((p) => [p, readFileSync(join(target, p), 'hex')])
    writeFileSync(join(source, '20211019-000000000.csv'), 'U,1,Fine,Austin,2021-10-01\n')
    writeFileSync(join(source, '20211019-000000001.csv'), 'U,2,Bad,Austin,2021-13-01\n')
    const r = cliProcess('run', '--source', source, '--target', target, '--as-of', '2021-10-17')
    expect(r.code).toBe(1)
    expect(r.err).toBe(
      `lakesync run: dms csv: bad date "2021-13-01" for last_login (expected a real calendar date YYYY-MM-DD) in ${source}/20211019-000000001.csv line 1 column 5\n`,
    )
    expect(listTree(target).map((p) => [p, readFileSync(join(target, p), 'hex')])).toEqual(before)
  })
})
