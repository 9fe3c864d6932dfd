/**
 * `lakesync report`'s numbers: every figure derived for the page equals the published users_features table and the
 * commit log of the run it reports on; health from the log alone and with the source (pending files, the next
 * run's error, the last failure); the HTML holds those numbers and references nothing outside itself; the command
 * works on a folder and on an S3 target (moto).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { versionName } from '../etl/commit/layout.js'
import { readCommitLog } from '../etl/commit/log.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { type ReportData, readReportData } from '../etl/report/data.js'
import { escapeHtml, reportHtml } from '../etl/report/html.js'
import { LocalStorage } from '../etl/storage/local.js'
import { stringAt } from '../etl/table/columns.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import type { Table } from '../etl/types.js'
import { cli, cliRun } from './helpers/cli.js'
import {
  currentTables,
  runEngine,
  SEED,
  SEED_CITIES,
  SEED_FILES,
  seedCopy,
  tempDir,
} from './helpers/fixtures.js'
import { useMoto } from './helpers/moto.js'
import { newBucket, uploadFolder } from './helpers/s3-source.js'

const NOW = new Date('2021-10-20T00:00:00.000Z')
const LAST_CHANGE = '20211018-225959941.csv'

let target = ''
let data: ReportData
let features: Table

function column(t: Table, name: string) {
  const i = t.spec.columns.findIndex((c) => c.name === name)
  return t.columns[i]!
}

beforeAll(async () => {
  ;({ target } = await runEngine(SEED, '2021-10-17', SEED_CITIES))
  data = await readReportData(new LocalStorage(target), USERS_SPEC, { now: NOW })
  features = (await currentTables(target)).features
})

describe('report data: features from the published users_features table', () => {
  it('has one row per city whose users, rate and state are the published ones', () => {
    const f = data.features!
    expect(f.rows).toBe(110)
    expect(f.rows).toBe(features.length)
    const city = column(features, 'city')
    const state = column(features, 'state')
    const rate = column(features, 'login_rate_last_3_months_by_city')
    const n = column(features, 'users_by_city')
    if (city.type !== 'string' || state.type !== 'string' || rate.type !== 'double' || n.type !== 'int32')
      throw new Error('unexpected column types')
    const expected = new Map<string | null, { users: number; rate: number; state: string | null }>()
    for (let r = 0; r < features.length; r++)
      expected.set(stringAt(city, r), {
        users: n.values[r]!,
        rate: rate.values[r]!,
        state: stringAt(state, r),
      })
    expect(f.cities).toHaveLength(expected.size)
    for (const c of f.cities) {
      const e = expected.get(c.city)
      expect(e, String(c.city)).toBeDefined()
      expect(c.users).toBe(e!.users)
      expect(c.rate).toBe(e!.rate)
      expect(c.state).toBe(e!.state)
      expect(c.active).toBe(Math.round(e!.rate * e!.users))
    }
    expect(f.cities.reduce((s, c) => s + c.users, 0)).toBe(110)
  })

  it('matches the reference numbers (Austin, Phoenix, New York)', () => {
    const byName = new Map(data.features!.cities.map((c) => [c.city, c]))
    expect(byName.get('Austin')).toEqual({
      city: 'Austin',
      state: 'Minnesota',
      users: 3,
      rate: 0.3333333333333333,
      active: 1,
    })
    expect(byName.get('Phoenix')).toMatchObject({ users: 8, rate: 0.625, state: 'Arizona', active: 5 })
    expect(byName.get('New York')).toMatchObject({ users: 7, rate: 0.7142857142857143, state: null })
    // Users descending, then name: the top of the chart.
    expect(data.features!.cities.slice(0, 3).map((c) => c.city)).toEqual([
      'Phoenix',
      'New York',
      'San Francisco',
    ])
    expect(data.features!.cities).toHaveLength(28)
  })

  it('counts the cities without a state and their rows, as the commit log summarizes them', async () => {
    const f = data.features!
    expect(f.citiesWithoutState).toEqual([
      { city: 'New York', rows: 7 },
      { city: 'Oklahoma city', rows: 4 },
      { city: 'San Antonio', rows: 3 },
    ])
    expect(f.rowsWithoutState).toBe(14)
    const current = (await readCommitLog(new LocalStorage(target), 'users')).current!
    expect(f.rowsWithoutState).toBe(current.features!.rowsWithoutState)
    expect(f.citiesWithoutState.map((c) => c.city).sort()).toEqual(current.features!.citiesWithoutState)
    expect(f.cities.length).toBe(current.features!.cities)
  })

  it('builds the rank histogram from last_login_rank_by_city', () => {
    const rank = column(features, 'last_login_rank_by_city')
    if (rank.type !== 'int32') throw new Error('rank is int32')
    const counts = new Map<number, number>()
    for (let r = 0; r < features.length; r++)
      counts.set(rank.values[r]!, (counts.get(rank.values[r]!) ?? 0) + 1)
    const h = data.features!.rankHistogram
    expect(h.map((b) => b.rank)).toEqual([...counts.keys()].sort((a, b) => a - b))
    for (const b of h) expect(b.rows).toBe(counts.get(b.rank!))
    expect(h.reduce((s, b) => s + b.rows, 0)).toBe(110)
    expect(h[0]).toEqual({ rank: 1, rows: 32 })
  })

  it('computes the overall 90-day login rate from the per-city rates', () => {
    const f = data.features!
    expect(f.activeUsers).toBe(55)
    expect(f.loginRate).toBe(0.5)
  })
})

describe('report data: health and commits from the commit log', () => {
  it('reports the current version, as_of, the last applied file and its age', async () => {
    const current = (await readCommitLog(new LocalStorage(target), 'users')).current!
    const h = data.health
    expect(h).toMatchObject({
      level: 'healthy',
      currentVersion: 1,
      asOf: '2021-10-17',
      committedAt: current.committedAt,
      users: 110,
      lastApplied: LAST_CHANGE,
      lastFailure: null,
      withSource: false,
      pending: null,
      error: null,
      versions: { committed: 1, abandoned: 0, pending: 0 },
    })
    expect(h.lagMs).toBe(NOW.getTime() - Date.UTC(2021, 9, 18, 22, 59, 59, 941))
  })

  it('lists each commit with its per-op counts, files and run time', async () => {
    const current = (await readCommitLog(new LocalStorage(target), 'users')).current!
    expect(data.commits).toHaveLength(1)
    const c = data.commits[0]!
    expect(c).toMatchObject({
      version: 1,
      state: 'committed',
      asOf: '2021-10-17',
      files: 6,
      changeFiles: 5,
      users: 110,
      fullLoad: true,
      counts: { inserts: 7, replaces: 0, updates: 3, upsertsOfMissing: 0, deletes: 0, deletesOfMissing: 0 },
    })
    expect(c.counts).toEqual(current.counts)
    expect(c.runMs).toBe(current.timingsMs.total)
    expect(c.at).toBe(current.committedAt)
  })

  it('with the source: no pending file and no error when up to date', async () => {
    const d = await readReportData(new LocalStorage(target), USERS_SPEC, {
      now: NOW,
      source: { storage: new LocalStorage(SEED), format: DEFAULT_DMS_FORMAT },
    })
    expect(d.health).toMatchObject({ level: 'healthy', withSource: true, pending: [], error: null })
    expect(d.source).toBe(SEED)
  })

  it('with the source: pending files, then the error the next run would stop on', async () => {
    const source = seedCopy({ only: SEED_FILES.slice(0, 2) })
    const t = (await runEngine(source, '2021-10-17', SEED_CITIES)).target
    copyFileSync(join(SEED, '20211018-223933563.csv'), join(source, '20211018-223933563.csv'))
    const opts = { now: NOW, source: { storage: new LocalStorage(source), format: DEFAULT_DMS_FORMAT } }
    let d = await readReportData(new LocalStorage(t), USERS_SPEC, opts)
    expect(d.health).toMatchObject({
      level: 'pending',
      lastApplied: '20211017-194324349.csv',
      pending: ['20211018-223933563.csv'],
      error: null,
    })
    expect(d.features!.rows).toBe(106)
    writeFileSync(join(source, '20211019-000000000.csv'), 'X,1,a,b,2021-01-01\n')
    d = await readReportData(new LocalStorage(t), USERS_SPEC, opts)
    expect(d.health.level).toBe('failing')
    expect(d.health.error?.code).toBe('unknown_op')
    expect(d.health.error?.message).toContain('20211019-000000000.csv')
    expect(reportHtml(d)).toContain('data-testid="next-error">unknown_op<')
  })

  it("reports the newest abandoned version's reason as the last failure, from the log alone", async () => {
    const t = (await runEngine(SEED, '2021-10-17', SEED_CITIES)).target
    const dir = join(t, '_lakesync', 'users', 'commits')
    mkdirSync(dir, { recursive: true })
    const reason = 'run failed after claiming: disk full'
    writeFileSync(
      join(dir, `${versionName(2)}.json`),
      JSON.stringify({
        state: 'abandoned',
        version: 2,
        table: 'users',
        runId: 'r2',
        abandonedAt: '2021-10-19T10:00:00.000Z',
        reason,
      }),
    )
    const d = await readReportData(new LocalStorage(t), USERS_SPEC, { now: NOW })
    expect(d.health).toMatchObject({
      level: 'failing',
      currentVersion: 1,
      lastFailure: { version: 2, at: '2021-10-19T10:00:00.000Z', reason },
      versions: { committed: 1, abandoned: 1, pending: 0 },
    })
    expect(d.commits.map((c) => [c.version, c.state, c.detail])).toEqual([
      [1, 'committed', ''],
      [2, 'abandoned', reason],
    ])
    const html = reportHtml(d)
    expect(html).toContain(`data-testid="last-failure">${reason}<`)
    expect(html).toContain('data-testid="health">failing<')
  })

  it('an empty target: no version, no features, still a page', async () => {
    const d = await readReportData(new LocalStorage(tempDir()), USERS_SPEC, { now: NOW })
    expect(d.health).toMatchObject({ level: 'empty', currentVersion: null, lastApplied: null, lagMs: null })
    expect(d.features).toBeNull()
    expect(d.commits).toEqual([])
    expect(reportHtml(d)).toContain('data-testid="current-version">none<')
  })
})

describe('report HTML', () => {
  const bars = (html: string, chart: string) => {
    const svg = new RegExp(`<svg[^>]*data-chart="${chart}"[^>]*>(.*?)</svg>`, 's').exec(html)?.[1] ?? ''
    return [...svg.matchAll(/<rect [^>]*data-value="([^"]+)"/g)].map((m) => Number(m[1]))
  }

  it('holds the derived numbers: headline values and one bar per value', () => {
    const html = reportHtml(data)
    const headline = (id: string) => new RegExp(`data-testid="${id}">([^<]*)<`).exec(html)?.[1]
    expect(headline('current-version')).toBe('1')
    expect(headline('as-of')).toBe('2021-10-17')
    expect(headline('users')).toBe('110')
    expect(headline('cities')).toBe('28')
    expect(headline('login-rate')).toBe('50.0%')
    expect(headline('rows-without-state')).toBe('14')
    expect(headline('last-applied')).toBe(LAST_CHANGE)
    expect(headline('health')).toBe('healthy')
    expect(bars(html, 'users-by-city')).toEqual(data.features!.cities.slice(0, 12).map((c) => c.users))
    expect(bars(html, 'login-rate-by-city')[0]).toBe(0.625)
    expect(bars(html, 'rank-histogram')).toEqual(data.features!.rankHistogram.map((b) => b.rows))
    expect(bars(html, 'cities-without-state')).toEqual([7, 4, 3])
    expect(bars(html, 'commits').sort()).toEqual([3, 7]) // inserts 7, updates 3; zero ops draw no bar
    expect(bars(html, 'run-time')).toEqual([data.commits[0]!.runMs])
    // The sortable table has every city.
    const body = /<table class="sortable".*?<tbody>(.*?)<\/tbody>/s.exec(html)?.[1] ?? ''
    expect([...body.matchAll(/<tr>/g)]).toHaveLength(28)
  })

  it('references nothing outside itself: no http(s) URL, no src or href, a CSP that forbids fetching', () => {
    const html = reportHtml(data)
    expect(html).not.toMatch(/https?:\/\//i)
    expect(html).not.toMatch(/\s(src|href)=/i)
    expect(html).not.toMatch(/@import|url\(/i)
    expect(html).toContain(`content="default-src 'none'`)
  })

  it('escapes what comes from the data', () => {
    expect(escapeHtml(`<script>"x" & 'y'</script>`)).toBe(
      '&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;',
    )
    const html = reportHtml({ ...data, target: '<b>lake</b>' })
    expect(html).toContain('&lt;b&gt;lake&lt;/b&gt;')
    expect(html).not.toContain('<b>lake</b>')
  })
})

describe('lakesync report (CLI)', () => {
  it('writes the page for a folder target, with and without --source', async () => {
    const out = join(tempDir(), 'sub', 'report.html')
    let r = await cli('report', '--target', target, '--out', out)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toContain(`wrote ${out}: healthy; version 1 as_of 2021-10-17, 110 users`)
    const html = readFileSync(out, 'utf8')
    expect(html).toContain('data-testid="users">110<')
    expect(html).toContain('data-testid="pending">n/a<')
    r = await cli('report', '--target', target, '--source', SEED, '--out', out)
    expect(r.code).toBe(0)
    expect(readFileSync(out, 'utf8')).toContain('data-testid="pending">0<')
  })

  it('needs --target and --out', async () => {
    let r = await cli('report', '--out', join(tempDir(), 'r.html'))
    expect(r.code).toBe(2)
    expect(r.err).toContain('--target is required')
    r = await cli('report', '--target', target)
    expect(r.code).toBe(2)
    expect(r.err).toContain('--out is required')
  })

  describe('on S3 (moto)', () => {
    const moto = useMoto()
    afterAll(async () => {
      await moto.reset()
    })

    it('reads the log and the features from an S3 target', async () => {
      const bucket = await newBucket(moto, 'report')
      await uploadFolder(moto, SEED, bucket, 'dms/users')
      const src = `s3://${bucket}/dms/users`
      const lake = `s3://${bucket}/lake`
      expect((await cliRun(src, lake)).code).toBe(0)
      const out = join(tempDir(), 'report.html')
      const r = await cli('report', '--target', lake, '--source', src, '--out', out)
      expect(r.err).toBe('')
      expect(r.code).toBe(0)
      const html = readFileSync(out, 'utf8')
      expect(html).toContain(`data-testid="target">${lake}<`)
      expect(html).toContain('data-testid="users">110<')
      expect(html).toContain('data-testid="pending">0<')
      expect(html).toContain('data-testid="rows-without-state">14<')
      expect(html).not.toMatch(/https?:\/\//i)
    })
  })
})
