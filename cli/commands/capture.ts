/**
 * `lakesync capture`: the local stand-in for DMS. A full load, then the table's changes from a logical replication
 * slot, written as DMS-format files to --out (the staging location). Stops cleanly on SIGINT/SIGTERM (after the
 * file being written is acknowledged); a restart resumes from the slot.
 */
import { type CaptureEvent, DEFAULT_FILE_SIZE, runCapture } from '../../etl/capture/capture.js'
import { CaptureStreamError } from '../../etl/capture/changes.js'
import { loadRunConfig } from '../../etl/config/run-config.js'
import { ConfigError, LakesyncError } from '../../etl/errors.js'
import { type Flags, type Io, openStorage, required } from '../common.js'

/** `1s`, `500ms`, `2m` or plain seconds, to milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (!m)
    throw new ConfigError(
      'bad_usage',
      `${flag} ${JSON.stringify(text)}: expected a duration like 500ms, 1s or 2m`,
    )
  const n = Number(m[1])
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000)
}

/** `1048576`, `64KB`, `32MB` (binary multiples), to bytes. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+)\s*(B|KB|K|MB|M|GB|G)?$/i.exec(text.trim())
  if (!m || Number(m[1]) === 0)
    throw new ConfigError(
      'bad_usage',
      `${flag} ${JSON.stringify(text)}: expected a size like 65536, 64KB or 32MB`,
    )
  const unit = (m[2] ?? 'B').toUpperCase()[0]
  return Number(m[1]) * (unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1)
}

function describe(e: CaptureEvent): string {
  switch (e.type) {
    case 'load-file':
      return `full load: wrote ${e.path} (${e.rows} rows, ${e.bytes} bytes)`
    case 'change-file':
      return `wrote ${e.path}: ${e.counts.I} I, ${e.counts.U} U, ${e.counts.D} D (lag ${e.lagMs} ms)`
    case 'load-skipped':
    case 'replayed':
    case 'warning':
      return e.message
  }
}

export async function captureCommand(flags: Flags, io: Io): Promise<number> {
  const url = required(flags, 'pg')
  const out = openStorage(required(flags, 'out'), '--out')
  const config = await loadRunConfig(flags.config as string | undefined)
  // The PostgreSQL adapter (and the pg client) load only for this command.
  const { PostgresSource, checkSlotName, defaultSlotName, parseTableName } = await import(
    '../../etl/capture/postgres.js'
  )
  const table = parseTableName(required(flags, 'table'))
  const slot = checkSlotName((flags.slot as string | undefined) ?? defaultSlotName(table))
  const intervalMs = parseDuration((flags.interval as string | undefined) ?? '1s', '--interval')
  const fileSize =
    typeof flags['file-size'] === 'string' ? parseSize(flags['file-size'], '--file-size') : DEFAULT_FILE_SIZE
  const source = new PostgresSource({
    url,
    table,
    spec: config.table,
    slot,
    publication: (flags.publication as string | undefined) ?? slot,
  })
  const stop = new AbortController()
  const onSignal = () => {
    if (!stop.signal.aborted) io.err.write('capture: stopping after the current file\n')
    stop.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const log = (line: string) => io.err.write(`capture: ${line}\n`)
  try {
    const r = await runCapture({
      source,
      out,
      table,
      spec: config.table,
      format: config.format,
      intervalMs,
      fileSize,
      once: flags.once === true,
      signal: stop.signal,
      onEvent: (e) => log(describe(e)),
    })
    io.out.write(
      `${r.loaded ? `loaded ${r.loadRows} rows in ${r.loadFiles.length} file(s); ` : ''}captured ${r.counts.I} I, ${r.counts.U} U, ${r.counts.D} D in ${r.changeFiles.length} change file(s) to ${out.root}${r.replayed.length ? `; skipped ${r.replayed.length} already written` : ''}\n`,
    )
    return 0
  } catch (e) {
    if (e instanceof LakesyncError) throw e
    if (e instanceof CaptureStreamError || (e instanceof Error && ('severity' in e || 'code' in e))) {
      // A stopped stream, a database or connection error: the message says what; the slot kept every change.
      io.err.write(`lakesync capture: ${e.message}\n`)
      return 1
    }
    throw e
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await source.close()
  }
}
