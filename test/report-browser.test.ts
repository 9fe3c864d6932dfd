/**
 * The report as a person sees it: `npm run demo`'s page (scripts/demo.mjs with the built CLI) opened from a file://
 * URL in Debian's headless Chromium, driven by playwright-core (never a browser download). Every request other than
 * file: is blocked and recorded, to prove the page needs no network. Checks the headline numbers, the chart bars
 * and the sortable table, and keeps a full-page screenshot at test-output/report.png.
 *
 * Chromium comes from scripts/install-chromium.sh, which scripts/setup-test-env.sh (run by `npm test`) calls.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO } from './helpers/fixtures.js'

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = join(REPO, 'test-output', 'report.png')

let context: BrowserContext | undefined
let page: Page
let userDataDir = ''
let report = ''
const blocked: string[] = []
const pageErrors: string[] = []

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: run scripts/setup-test-env.sh (it installs Debian's chromium package as root)`,
    )
  const demo = spawnSync(process.execPath, [join(REPO, 'scripts', 'demo.mjs')], { encoding: 'utf8' })
  if (demo.status !== 0)
    throw new Error(`npm run demo failed (${demo.status}):\n${demo.stdout}\n${demo.stderr}`)
  const printed = /^Report: (\S+)/m.exec(demo.stdout)?.[1]
  if (!printed) throw new Error(`the demo printed no report path:\n${demo.stdout}`)
  report = printed
  expect(existsSync(report)).toBe(true)

  // A fresh profile (--user-data-dir) per run, so nothing from an earlier run or a user's browser leaks in.
  userDataDir = mkdtempSync(join(tmpdir(), 'lakesync-chromium-'))
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
  })
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith('file:')) return route.continue()
    blocked.push(url)
    return route.abort()
  })
  page = await context.newPage()
  page.on('pageerror', (e) => pageErrors.push(e.message))
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text())
  })
  await page.goto(pathToFileURL(report).href, { waitUntil: 'load' })
})

afterAll(async () => {
  await context?.close()
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true })
})

const text = (testid: string) => page.getByTestId(testid).first().textContent()
const firstColumn = () =>
  page.$$eval('#cities tbody tr', (rows) => rows.map((r) => r.children[0]?.textContent ?? ''))

describe('the demo report in headless Chromium', () => {
  it('was printed by the demo and opens with no network request and no script error', async () => {
    expect(report).toBe(join(REPO, '.lakesync-demo', 'report.html'))
    expect(await page.title()).toBe('lakesync report: users')
    expect(blocked).toEqual([])
    expect(pageErrors).toEqual([])
  })

  it('renders the headline numbers', async () => {
    expect(await text('health')).toMatch(/healthy/i)
    expect(await text('current-version')).toBe('1')
    expect(await text('as-of')).toBe('2021-10-17')
    expect(await text('users')).toBe('110')
    expect(await text('cities')).toBe('28')
    expect(await text('login-rate')).toBe('50.0%')
    expect(await text('rows-without-state')).toBe('14')
    expect(await text('last-applied')).toBe('20211018-225959941.csv')
    expect(await text('lag')).toMatch(/days ago/)
    expect(await text('pending')).toBe('0') // the demo passes --source
  })

  it('draws the charts with their bars', async () => {
    const values = (chart: string) =>
      page.$$eval(`svg[data-chart="${chart}"] rect[data-value]`, (rects) =>
        rects.map((r) => Number(r.getAttribute('data-value'))),
      )
    expect(await page.locator('rect[data-value]').count()).toBeGreaterThan(0)
    expect(await values('users-by-city')).toEqual([8, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5, 4])
    const ranks = await values('rank-histogram')
    expect(ranks.length).toBe(8)
    expect(ranks.reduce((a, b) => a + b, 0)).toBe(110)
    expect(await values('cities-without-state')).toEqual([7, 4, 3])
    expect((await values('commits')).sort()).toEqual([3, 7])
    expect(await values('login-rate-by-city')).toHaveLength(12)
    // The bars are drawn, not just present: each visible bar has a width on screen.
    const box = await page.locator('svg[data-chart="users-by-city"] rect[data-value]').first().boundingBox()
    expect(box?.width ?? 0).toBeGreaterThan(50)
  })

  it('sorts the city table by the clicked column', async () => {
    const before = await firstColumn()
    expect(before).toHaveLength(28)
    expect(before[0]).toBe('Phoenix') // users descending
    await page.locator('#cities th', { hasText: 'city' }).click()
    const asc = await firstColumn()
    expect(asc).not.toEqual(before)
    expect(asc).toEqual([...before].sort())
    expect(await page.locator('#cities th', { hasText: 'city' }).getAttribute('aria-sort')).toBe('ascending')
    await page.locator('#cities th', { hasText: 'city' }).click()
    expect(await firstColumn()).toEqual([...before].sort().reverse())
    await page.locator('#cities th', { hasText: '90-day login rate' }).click()
    const rates = await page.$$eval('#cities tbody tr', (rows) =>
      rows.map((r) => Number(r.children[4]?.getAttribute('data-sort'))),
    )
    expect(rates).toEqual([...rates].sort((a, b) => b - a))
    // Back to the first order for the screenshot.
    await page.locator('#cities th', { hasText: /^users/ }).click()
    expect(await firstColumn()).toEqual(before)
  })

  it('keeps a screenshot as a test artifact', async () => {
    mkdirSync(join(REPO, 'test-output'), { recursive: true })
    await page.mouse.move(0, 0) // no hover highlight in the picture
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(existsSync(SCREENSHOT)).toBe(true)
  })
})
