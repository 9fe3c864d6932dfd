/**
 * One measured run, in its own process: `node dist/bench/measure.js lakesync|duckdb SOURCE TARGET AS_OF [CONFIG]`.
 * With CONFIG (a `lakesync run --config` file whose table has no features section), lakesync runs with it and the
 * DuckDB side is bench/mirror-peer.ts for that table; without it, the reference users table and bench/duckdb-peer.ts.
 * Prints one JSON line on stdout: { engine, wallMs, maxRssMB, output? }. The wall time covers the work only (the
 * modules are loaded first); the peak RSS is the whole process's (process.resourceUsage().maxRSS).
 */
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'

const root = join(fileURLToPath(import.meta.url), '..', '..', '..') // dist/bench/measure.js -> the checkout

/** A stream that keeps what is written to it. */
class Collect extends Writable {
  text = ''
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.text += chunk.toString()
    done()
  }
}

async function measure(
  engine: string,
  source: string,
  target: string,
  asOf: string,
  config: string | undefined,
): Promise<void> {
  let work: () => Promise<string>
  if (engine === 'lakesync') {
    const { main } = await import('../cli/app.js')
    work = async () => {
      const out = new Collect()
      const err = new Collect()
      const args = ['run', '--source', source, '--target', target, '--as-of', asOf]
      if (config !== undefined) args.push('--config', config)
      const code = await main(args, {
        out,
        err,
        errIsTty: false,
      })
      if (code !== 0) throw new Error(`lakesync exited with ${code}: ${err.text}${out.text}`)
      return out.text + err.text
    }
  } else if (engine === 'duckdb' && config !== undefined) {
    const { runMirrorPeer, readMirrorTable } = await import('./mirror-peer.js')
    const table = readMirrorTable(config)
    work = async () => {
      const base = process.env.BENCH_BASE_PARQUET // the steady state's previous version
      const r = await runMirrorPeer({ source, target, table, ...(base ? { baseParquet: base } : {}) })
      return `${r.rows} rows\n`
    }
  } else if (engine === 'duckdb') {
    const { runDuckdbPeer, bundledCityData } = await import('./duckdb-peer.js')
    const city = bundledCityData(root)
    work = async () => {
      // BENCH_BASE_PARQUET: the steady-state case's DuckDB state (bench/steady.ts).
      const base = process.env.BENCH_BASE_PARQUET
      const r = await runDuckdbPeer({ source, target, asOf, ...city, ...(base ? { baseParquet: base } : {}) })
      return `${r.rows} rows\n`
    }
  } else throw new Error(`measure: unknown engine ${JSON.stringify(engine)} (expected lakesync or duckdb)`)
  const t0 = performance.now()
  const output = await work()
  const wallMs = performance.now() - t0
  const maxRssMB = process.resourceUsage().maxRSS / 1024
  process.stdout.write(`${JSON.stringify({ engine, wallMs, maxRssMB, output })}\n`)
}

const [engine, source, target, asOf, config] = process.argv.slice(2)
if (engine === undefined || source === undefined || target === undefined || asOf === undefined) {
  process.stderr.write('usage: node dist/bench/measure.js lakesync|duckdb SOURCE TARGET AS_OF [CONFIG]\n')
  process.exitCode = 2
} else
  measure(engine, source, target, asOf, config).catch((e: unknown) => {
    process.stderr.write(`measure: ${(e as Error).stack ?? String(e)}\n`)
    process.exitCode = 1
  })
