// `npm run demo`: the pipeline on the bundled reference data, into a fresh local folder, then the first 10
// feature rows (the seed README's sample), then the one-page HTML report. Uses the built CLI exactly as a user would.
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const cli = join(root, 'dist', 'cli', 'main.js')
const target = join(root, '.lakesync-demo', 'target')
rmSync(target, { recursive: true, force: true })
const run = (args) => execFileSync(process.execPath, [cli, ...args], { stdio: 'inherit' })
run([
  'run',
  '--source',
  join(root, 'examples', 'pyspark-cdc', 'data'),
  '--target',
  target,
  '--as-of',
  '2021-10-17',
])
run(['show', '--target', target, '--table', 'features', '--limit', '10'])
const report = join(root, '.lakesync-demo', 'report.html')
run([
  'report',
  '--target',
  target,
  '--source',
  join(root, 'examples', 'pyspark-cdc', 'data'),
  '--out',
  report,
])
console.log(
  `\nPublished to ${target} (try: npx lakesync export --target ${target} --table features --format csv --out features.csv)`,
)
console.log(`Report: ${report} (open it in a browser; it needs no network)`)
