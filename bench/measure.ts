/**
 * One measured run, in its own process: `node dist/bench/measure.js lakesync|duckdb SOURCE TARGET AS_OF`.
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

async function measure(engine: string, source: string, target: string, asOf: string): Promise<void> {
  let work: () => Promise<string>
  if (engine === 'lakesync') {
    const { main } = await import('../cli/app.js')
    work = async () => {
      const out = new Collect()
      const err = new Collect()
      const code = await main(['run', '--source', source, '--target', target, '--as-of', asOf], {
        out,
        err,
        errIsTty: false,
      })
      if (code !== 0) throw new Error(`lakesync exited with ${code}: ${err.text}${out.text}`)
      return out.text + err.text
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

const [engine, source, target, asOf] = process.argv.slice(2)
if (engine === undefined || source === undefined || target === undefined || asOf === undefined) {
  process.stderr.write('usage: node dist/bench/measure.js lakesync|duckdb SOURCE TARGET AS_OF\n')
  process.exitCode = 2
} else
  measure(engine, source, target, asOf).catch((e: unknown) => {
    process.stderr.write(`measure: ${(e as Error).stack ?? String(e)}\n`)
    process.exitCode = 1
  })
