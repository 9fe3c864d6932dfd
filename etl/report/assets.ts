/** The report page's inline stylesheet and its table-sorting script (etl/report/html.ts assembles the page). */

export const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f4f6f8;color:#1f2933;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1200px;margin:0 auto;padding:24px 28px 40px}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:8px 24px;margin-bottom:8px}
h1{font-size:22px;margin:0}
h1 small{font-weight:400;color:#52606d}
.meta{color:#52606d;font-size:12.5px}
.meta code{font-size:12px}
section{background:#fff;border:1px solid #e1e5ea;border-radius:10px;padding:18px 22px;margin:18px 0;box-shadow:0 1px 2px rgba(0,0,0,.03)}
h2{font-size:17px;margin:0 0 6px;display:flex;align-items:center;gap:10px}
h2 .sub{font-size:12.5px;font-weight:400;color:#52606d}
h3{font-size:14.5px;margin:22px 0 8px}
.summary{margin:0 0 12px;color:#323f4b}
.muted{color:#7b8794;font-weight:400}
.badge{font-size:12px;text-transform:uppercase;letter-spacing:.05em;padding:2px 10px;border-radius:999px;color:#fff}
.badge.healthy{background:#2f9e44}.badge.pending{background:#f08c00}.badge.failing{background:#e03131}.badge.empty{background:#7b8794}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin:10px 0}
.card{border:1px solid #e1e5ea;border-radius:8px;padding:10px 12px;background:#fbfcfd;min-width:0}
.card.wide{grid-column:span 2}
.card.warn{border-color:#f5c08a;background:#fff8f0}
.card .label{font-size:11.5px;text-transform:uppercase;letter-spacing:.04em;color:#616e7c}
.card .value{font-size:22px;font-weight:600;margin-top:2px;overflow-wrap:anywhere}
.card.wide .value{font-size:17px;font-family:ui-monospace,"DejaVu Sans Mono",monospace;padding-top:4px}
.card .note{font-size:12px;color:#7b8794;margin-top:2px;overflow-wrap:anywhere}
.alert{background:#fff5f5;border:1px solid #ffc9c9;color:#862e2e;border-radius:8px;padding:8px 12px;margin-top:10px;overflow-wrap:anywhere}
.ok{color:#2b8a3e}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:8px 28px;margin-top:14px}
figure{margin:8px 0}
figcaption{font-weight:600;margin-bottom:6px}
.chart{width:100%;height:auto;display:block}
.chart .lbl{font-size:12px;fill:#323f4b}
.chart .num{font-size:11.5px;fill:#52606d}
.chart .axis{font-size:11px;fill:#7b8794}
.chart .inbar{font-size:11px;fill:#fff}
.chart .track{fill:#f0f2f5}
.chart .grid{stroke:#e4e7eb;stroke-width:1}
.chart rect[data-value]:hover{opacity:.8}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:#52606d;margin:4px 0 10px 40px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:5px 10px;border-bottom:1px solid #edf0f3;text-align:left;white-space:nowrap}
th{background:#f7f9fa;color:#52606d;font-weight:600;font-size:12px;position:sticky;top:0}
table.commits th{vertical-align:bottom}
table.commits th,table.commits td{padding:5px 7px}
table.commits th:nth-child(n+5){text-align:right}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.zero{color:#c1c8cf}
tr.detail td{white-space:normal;color:#862e2e;font-size:12px;border-bottom-color:#edf0f3}
tr.abandoned td{background:#fffafa}
.state{font-size:11.5px;padding:1px 7px;border-radius:999px;background:#e6f4ea;color:#2b8a3e}
.state.abandoned{background:#ffe3e3;color:#c92a2a}.state.pending{background:#fff3bf;color:#a86100}
.tag{font-size:11px;color:#52606d;border:1px solid #d9dee3;border-radius:4px;padding:0 5px}
.missing{color:#d9480f;font-style:italic}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:hover{background:#eef2f6}
table.sortable th::after{content:" \\2195";color:#c1c8cf}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2";color:#1971c2}
table.sortable th[aria-sort=descending]::after{content:" \\25BC";color:#1971c2}
table.sortable th:nth-child(n+3){text-align:right}
.meter{display:inline-block;width:70px;height:7px;background:#edf0f3;border-radius:4px;margin-right:8px;vertical-align:1px;overflow:hidden}
.meter i{display:block;height:100%;background:#2f9e44}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px;background:#f1f3f5;padding:0 4px;border-radius:3px}
footer{color:#9aa5b1;font-size:12px;text-align:center}
`

// Sorts a table.sortable by the clicked column (its cells' data-sort); numbers first descending, text ascending.
export const SCRIPT = `
document.querySelectorAll('table.sortable').forEach(function (table) {
  var heads = table.querySelectorAll('th');
  heads.forEach(function (th, col) {
    th.addEventListener('click', function () {
      var numeric = th.getAttribute('data-type') === 'number';
      var current = th.getAttribute('aria-sort');
      var dir = current ? (current === 'ascending' ? -1 : 1) : (numeric ? -1 : 1);
      heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-sort');
        var y = b.cells[col].getAttribute('data-sort');
        var c = numeric ? Number(x) - Number(y) : (x < y ? -1 : x > y ? 1 : 0);
        return c * dir || a.cells[0].getAttribute('data-sort').localeCompare(b.cells[0].getAttribute('data-sort'));
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
`

/** The whole page. */
