/**
 * The report page: ReportData in, one self-contained HTML string out. Inline CSS, inline SVG charts and a few lines
 * of inline JS (the sortable city table); no external asset, font or script, and a Content-Security-Policy that
 * forbids fetching any, so the page opens the same with no network. Pure.
 *
 * For tests and scripts: every chart bar is one `<rect data-value="...">`, and every headline number sits in an
 * element with a `data-testid`.
 */

import type { OpCounts } from '../types.js'
import { CSS, SCRIPT } from './assets.js'
import type { CityRow, CommitPoint, ReportData, ReportFeatures, ReportHealth } from './data.js'
import { formatDuration } from './data.js'

const TOP_CITIES = 12

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  )
}

const esc = escapeHtml
const int = (n: number) => n.toLocaleString('en-US')
const pct = (x: number) => `${(x * 100).toFixed(1)}%`
const cityName = (c: string | null) => c ?? '(no city)'

/** `2021-10-18T22:59:59.941Z` -> `2021-10-18 22:59:59 UTC`. */
function when(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso)
  return m ? `${m[1]} ${m[2]} UTC` : iso
}

/** Axis ticks from 0 to a round maximum, with whole steps where the maximum allows. */
function ticks(max: number): number[] {
  const d = [5, 4, 2, 1].find((n) => Number.isInteger(max / n)) ?? 1
  return Array.from({ length: d + 1 }, (_, i) => (max * i) / d)
}

/** A round axis maximum at or above `max`: 1, 2, 5 times a power of ten. */
function niceMax(max: number): number {
  if (max <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(max))
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p
  return 10 * p
}

const OPS: { key: keyof OpCounts; label: string; color: string }[] = [
  { key: 'inserts', label: 'inserts', color: '#2f9e44' },
  { key: 'replaces', label: 'replaces', color: '#66a80f' },
  { key: 'updates', label: 'updates', color: '#1971c2' },
  { key: 'upsertsOfMissing', label: 'upserts of missing', color: '#f08c00' },
  { key: 'deletes', label: 'deletes', color: '#e03131' },
  { key: 'deletesOfMissing', label: 'deletes of missing', color: '#9c36b5' },
]

interface Bar {
  label: string
  value: number
  text: string // value as shown
  title?: string
}

/** Horizontal bars, one per item, label left and value right of the bar. */
function hbars(id: string, items: Bar[], color: string, max?: number): string {
  const W = 560
  const labelW = 150
  const valueW = 64
  const rowH = 24
  const barW = W - labelW - valueW
  const top = max ?? niceMax(Math.max(0, ...items.map((b) => b.value)))
  const H = items.length * rowH + 6
  const rows = items.map((b, i) => {
    const y = 3 + i * rowH
    const w = top > 0 ? Math.max(b.value > 0 ? 1.5 : 0, (b.value / top) * barW) : 0
    return (
      `<g><title>${esc(b.title ?? `${b.label}: ${b.text}`)}</title>` +
      `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end" class="lbl">${esc(b.label)}</text>` +
      `<rect x="${labelW}" y="${y + 3}" width="${barW}" height="${rowH - 8}" class="track"/>` +
      `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="2" fill="${color}" data-value="${b.value}" data-label="${esc(b.label)}"/>` +
      `<text x="${labelW + w + 6}" y="${y + 15}" class="num">${esc(b.text)}</text></g>`
    )
  })
  return `<svg class="chart" data-chart="${id}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(id)}">${rows.join('')}</svg>`
}

/** Vertical bars with an axis: the rank histogram, run times. */
function vbars(id: string, items: Bar[], color: string, tick: (v: number) => string = int): string {
  const W = 560
  const H = 220
  const left = 40
  const bottom = 28
  const top = 12
  const plotH = H - top - bottom
  const max = niceMax(Math.max(0, ...items.map((b) => b.value)))
  const slot = (W - left - 8) / Math.max(1, items.length)
  const barW = Math.max(4, Math.min(48, slot * 0.7))
  const grid = ticks(max).map((t) => {
    const y = top + plotH * (1 - t / max)
    return `<line x1="${left}" x2="${W - 4}" y1="${y}" y2="${y}" class="grid"/><text x="${left - 6}" y="${y + 4}" text-anchor="end" class="axis">${esc(tick(t))}</text>`
  })
  const bars = items.map((b, i) => {
    const h = (b.value / max) * plotH
    const x = left + i * slot + (slot - barW) / 2
    return (
      `<g><title>${esc(b.title ?? `${b.label}: ${b.text}`)}</title>` +
      `<rect x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" rx="2" fill="${color}" data-value="${b.value}" data-label="${esc(b.label)}"/>` +
      `<text x="${(x + barW / 2).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle" class="axis">${esc(b.label)}</text>` +
      (h > 16
        ? `<text x="${(x + barW / 2).toFixed(1)}" y="${(top + plotH - h + 13).toFixed(1)}" text-anchor="middle" class="inbar">${esc(b.text)}</text>`
        : `<text x="${(x + barW / 2).toFixed(1)}" y="${(top + plotH - h - 4).toFixed(1)}" text-anchor="middle" class="num">${esc(b.text)}</text>`)
    )
  })
  return `<svg class="chart" data-chart="${id}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(id)}">${grid.join('')}${bars.join('')}</svg>`
}

/** Per-commit stacked bars of the op counts (one rect per non-zero op) and the run time below each. */
function commitChart(commits: CommitPoint[]): string {
  const shown = commits.filter((c) => c.state === 'committed')
  if (shown.length === 0) return '<p class="muted">No committed version yet.</p>'
  const W = 560
  const H = 220
  const left = 40
  const top = 12
  const bottom = 28
  const plotH = H - top - bottom
  const total = (c: CommitPoint) => OPS.reduce((s, o) => s + (c.counts?.[o.key] ?? 0), 0)
  const max = niceMax(Math.max(0, ...shown.map(total)))
  const slot = (W - left - 8) / Math.max(1, shown.length)
  const barW = Math.max(6, Math.min(44, slot * 0.6))
  const grid = ticks(max).map((t) => {
    const y = top + plotH * (1 - t / max)
    return `<line x1="${left}" x2="${W - 4}" y1="${y}" y2="${y}" class="grid"/><text x="${left - 6}" y="${y + 4}" text-anchor="end" class="axis">${int(t)}</text>`
  })
  const cols = shown.map((c, i) => {
    const x = left + i * slot + (slot - barW) / 2
    let y = top + plotH
    const segs = OPS.filter((o) => (c.counts?.[o.key] ?? 0) > 0).map((o) => {
      const v = c.counts?.[o.key] ?? 0
      const h = (v / max) * plotH
      y -= h
      return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${o.color}" data-value="${v}" data-op="${o.key}" data-version="${c.version}"><title>v${c.version} ${o.label}: ${int(v)}</title></rect>`
    })
    const cx = (x + barW / 2).toFixed(1)
    return `${segs.join('')}<text x="${cx}" y="${H - bottom + 16}" text-anchor="middle" class="axis">v${c.version}</text>`
  })
  const legend = OPS.map(
    (o) => `<span class="key"><i style="background:${o.color}"></i>${esc(o.label)}</span>`,
  ).join('')
  return `<svg class="chart" data-chart="commits" viewBox="0 0 ${W} ${H}" role="img" aria-label="changes per commit">${grid.join('')}${cols.join('')}</svg><div class="legend">${legend}</div>`
}

function runChart(commits: CommitPoint[]): string {
  const shown = commits.filter((c) => c.state === 'committed' && c.runMs !== null)
  if (shown.length === 0) return '<p class="muted">No committed version yet.</p>'
  return vbars(
    'run-time',
    shown.map((c) => ({ label: `v${c.version}`, value: c.runMs ?? 0, text: int(c.runMs ?? 0) })),
    '#0c8599',
  )
}

function card(label: string, testid: string, value: string, note = '', cls = ''): string {
  return `<div class="card ${cls}"><div class="label">${esc(label)}</div><div class="value" data-testid="${testid}">${esc(value)}</div>${note ? `<div class="note">${note}</div>` : ''}</div>`
}

function healthSection(h: ReportHealth): string {
  const lag = h.lagMs === null ? '' : `${formatDuration(h.lagMs)} ago`
  const failure = h.lastFailure
    ? `<div class="alert"><strong>Last failure</strong> (version ${h.lastFailure.version}, ${esc(when(h.lastFailure.at))}): <span data-testid="last-failure">${esc(h.lastFailure.reason)}</span></div>`
    : ''
  const nextError = h.error
    ? `<div class="alert"><strong>Next run</strong> would stop on <code data-testid="next-error">${esc(h.error.code)}</code>: ${esc(h.error.message)}</div>`
    : ''
  const pending =
    h.pending === null
      ? card('Pending files', 'pending', 'n/a', 'give --source to list them')
      : card(
          'Pending files',
          'pending',
          int(h.pending.length),
          h.pending.length
            ? esc(h.pending.slice(0, 5).join(', ') + (h.pending.length > 5 ? ', ...' : ''))
            : 'nothing waits',
        )
  const skipped = h.skipped.length
    ? `<div class="alert" data-testid="skipped"><strong>Set aside</strong> (lakesync skip; their rows are not in the table): ${h.skipped
        .map(
          (s) =>
            `<span data-testid="skipped-file">${esc(s.path)}</span> (${s.rows === null ? 'rows unknown' : `${int(s.rows)} rows`}, by ${esc(s.by)} ${esc(when(s.at))}: ${esc(s.reason)})`,
        )
        .join('; ')}</div>`
    : ''
  return `<section>
<h2>Pipeline health <span class="badge ${h.level}" data-testid="health">${h.level}</span></h2>
<p class="summary">${esc(h.summary)}</p>
<div class="cards">
${card('Current version', 'current-version', h.currentVersion === null ? 'none' : String(h.currentVersion), h.committedAt ? `committed ${esc(when(h.committedAt))}` : '')}
${card('as_of', 'as-of', h.asOf ?? 'none', 'reference date of the login rate')}
${card('Last applied file', 'last-applied', h.lastApplied ?? 'none', lag ? `<span data-testid="lag">${esc(lag)}</span> (by its name's timestamp)` : '', 'wide')}
${pending}
${card('Last failure', 'failure-count', h.lastFailure ? `v${h.lastFailure.version}` : 'none', `${int(h.versions.committed)} committed, ${int(h.versions.abandoned)} abandoned, ${int(h.versions.pending)} in progress`)}
</div>
${nextError}${failure}${skipped}
</section>`
}

function opsCell(c: CommitPoint, key: keyof OpCounts): string {
  const v = c.counts?.[key]
  return `<td class="n${v ? '' : ' zero'}">${v === undefined ? '' : int(v)}</td>`
}

function commitsSection(commits: CommitPoint[]): string {
  const rows = commits
    .slice()
    .reverse()
    .map(
      (c) =>
        `<tr class="${c.state}" data-version="${c.version}"><td class="n">${c.version}</td><td><span class="state ${c.state}">${c.state}</span>${c.fullLoad ? ' <span class="tag">full load</span>' : ''}${c.reload ? ' <span class="tag">reload</span>' : ''}</td><td>${esc(when(c.at))}</td><td>${esc(c.asOf ?? '')}</td><td class="n">${c.state === 'committed' ? int(c.files) : ''}</td>` +
        OPS.map((o) => opsCell(c, o.key)).join('') +
        `<td class="n">${c.users === null ? '' : int(c.users)}</td><td class="n">${c.runMs === null ? '' : `${int(c.runMs)} ms`}</td></tr>` +
        (c.detail ? `<tr class="detail"><td></td><td colspan="12">${esc(c.detail)}</td></tr>` : ''),
    )
  return `<section>
<h2>Recent commits</h2>
<p class="muted">What each version's change rows did, by what they found: an update or a delete of a key that was not there is counted apart (upserts / deletes of missing).</p>
<div class="grid2">
<figure><figcaption>Changes per commit</figcaption>${commitChart(commits)}</figure>
<figure><figcaption>Run time per commit <span class="muted">(ms, whole run)</span></figcaption>${runChart(commits)}</figure>
</div>
<div class="scroll"><table class="commits" data-testid="commits-table">
<thead><tr><th>version</th><th>state</th><th>at</th><th>as_of</th><th>files</th>${OPS.map((o) => `<th>${esc(o.label).replace(' of ', '<br>of ')}</th>`).join('')}<th>users</th><th>run<br>time</th></tr></thead>
<tbody>${rows.join('\n')}</tbody>
</table></div>
</section>`
}

function cityTable(cities: CityRow[]): string {
  const rows = cities.map(
    (c) =>
      `<tr><td data-sort="${esc(c.city ?? '\uffff')}">${esc(cityName(c.city))}</td>` +
      `<td data-sort="${esc(c.state ?? '\uffff')}">${c.state === null ? '<span class="missing">no state</span>' : esc(c.state)}</td>` +
      `<td class="n" data-sort="${c.users}">${int(c.users)}</td>` +
      `<td class="n" data-sort="${c.active}">${int(c.active)}</td>` +
      `<td class="n" data-sort="${c.rate}" title="${c.rate}"><span class="meter"><i style="width:${(c.rate * 100).toFixed(1)}%"></i></span>${pct(c.rate)}</td></tr>`,
  )
  return `<table class="sortable" id="cities" data-testid="cities-table">
<thead><tr><th data-type="text">city</th><th data-type="text">state</th><th data-type="number" aria-sort="descending">users</th><th data-type="number">logged in (90 d)</th><th data-type="number">90-day login rate</th></tr></thead>
<tbody>${rows.join('\n')}</tbody>
</table>`
}

function featuresSection(f: ReportFeatures): string {
  const top = f.cities.slice(0, TOP_CITIES)
  const users = hbars(
    'users-by-city',
    top.map((c) => ({ label: cityName(c.city), value: c.users, text: int(c.users) })),
    '#1971c2',
  )
  const rates = hbars(
    'login-rate-by-city',
    top.map((c) => ({
      label: cityName(c.city),
      value: c.rate,
      text: pct(c.rate),
      title: `${cityName(c.city)}: ${int(c.active)} of ${int(c.users)} logged in within 90 days`,
    })),
    '#2f9e44',
    1,
  )
  const ranks = vbars(
    'rank-histogram',
    f.rankHistogram.map((r) => ({
      label: r.rank === null ? 'null' : String(r.rank),
      value: r.rows,
      text: int(r.rows),
      title: `rank ${r.rank ?? 'null'}: ${int(r.rows)} rows`,
    })),
    '#5f3dc4',
  )
  const noState = f.citiesWithoutState.length
    ? `${hbars(
        'cities-without-state',
        f.citiesWithoutState.map((c) => ({
          label: cityName(c.city),
          value: c.rows,
          text: `${int(c.rows)} ${c.rows === 1 ? 'row' : 'rows'}`,
        })),
        '#e8590c',
      )}
<p class="muted">Their <code>state</code> is NULL: add them to the city map (<code>--cities</code>) or to the aliases in the config.</p>`
    : '<p class="ok" data-testid="no-missing-states">Every city has a state.</p>'
  return `<section>
<h2>Features <span class="sub">users_features of version ${f.version}, as_of ${esc(f.asOf)}</span></h2>
<div class="cards">
${card('Users', 'users', int(f.rows), 'rows of users_features')}
${card('Cities', 'cities', int(f.cities.length), 'distinct cities (NULL counted once)')}
${card('90-day login rate', 'login-rate', pct(f.loginRate), `${int(f.activeUsers)} of ${int(f.rows)} users logged in within 90 days of as_of`)}
${card('Rows without a state', 'rows-without-state', int(f.rowsWithoutState), `in ${int(f.citiesWithoutState.length)} ${f.citiesWithoutState.length === 1 ? 'city' : 'cities'}`, f.rowsWithoutState ? 'warn' : '')}
</div>
<div class="grid2">
<figure><figcaption>Users by city <span class="muted">(top ${top.length} of ${f.cities.length})</span></figcaption>${users}</figure>
<figure><figcaption>90-day login rate <span class="muted">(same cities)</span></figcaption>${rates}</figure>
<figure><figcaption>Rank distribution <span class="muted">(rows per last_login_rank_by_city; 1 = most recent login in its city)</span></figcaption>${ranks}</figure>
<figure><figcaption>Cities with no state mapping</figcaption>${noState}</figure>
</div>
<h3>All cities <span class="muted">(click a column to sort)</span></h3>
<div class="scroll">${cityTable(f.cities)}</div>
</section>`
}

export function reportHtml(data: ReportData): string {
  const title = `lakesync report: ${data.table}`
  const features = data.features
    ? featuresSection(data.features)
    : '<section><h2>Features</h2><p class="muted">No committed version yet: nothing is published.</p></section>'
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>lakesync report <small>table <code>${esc(data.table)}</code></small></h1>
<div class="meta">target <code data-testid="target">${esc(data.target)}</code>${data.source ? ` &middot; source <code>${esc(data.source)}</code>` : ''} &middot; generated ${esc(when(data.generatedAt))}</div>
</header>
${healthSection(data.health)}
${features}
${commitsSection(data.commits)}
<footer>Written by <code>lakesync report</code>. Self-contained: opens without a network.</footer>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`
}

/** One table's line on the index page of a many-tables report. */
export interface IndexEntry {
  table: string
  file: string // the table's own report page, relative to the index
  health: ReportHealth
}

/** The index page of a many-tables report: every table's health, version, lag, pending files and last error. */
export function indexHtml(entries: IndexEntry[], generatedAt: Date): string {
  const cell = (v: string | number | null) => `<td>${v === null ? '' : escapeHtml(String(v))}</td>`
  const rows = entries
    .map(
      (e) =>
        `<tr data-testid="table-${escapeHtml(e.table)}"><td><a href="${escapeHtml(e.file)}">${escapeHtml(e.table)}</a></td>` +
        `<td><span class="badge ${e.health.level}">${e.health.level}</span></td>` +
        cell(e.health.currentVersion) +
        cell(e.health.asOf) +
        cell(e.health.lastApplied) +
        cell(e.health.pending === null ? null : e.health.pending.length) +
        cell(e.health.error ? `${e.health.error.code}: ${e.health.error.message}` : null) +
        '</tr>',
    )
    .join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lakesync: ${entries.length} tables</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}.badge{padding:2px 6px;border-radius:4px;color:#fff}.healthy{background:#2a7}.warning{background:#d90}.failing{background:#c33}.empty{background:#888}</style>
</head><body>
<h1>lakesync: ${entries.length} tables</h1>
<p>Generated ${escapeHtml(generatedAt.toISOString())}. Each table links to its own page.</p>
<table><thead><tr><th>table</th><th>health</th><th>version</th><th>as_of</th><th>last applied file</th><th>pending files</th><th>next run stops on</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`
}
