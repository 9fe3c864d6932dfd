/** The lakesync commands. Each takes parsed flags and returns an exit code; output goes to the given streams. */

import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { USERS_FEATURES_SPEC } from '../etl/city-features.js'
import { readCommitLog } from '../etl/commit-log.js'
import { csvChunk, showTable } from '../etl/csv-export.js'
import { ConfigError, StateError } from '../etl/errors.js'
import { writeParquet } from '../etl/parquet-writer.js'
import { readVersionTable, runPipeline } from '../etl/pipeline.js'
import type { Storage } from '../etl/storage.js'
import { LocalStorage } from '../etl/storage-local.js'
import { USERS_SPEC } from '../etl/table-spec.js'
import type { Table, TableSpec } from '../etl/types.js'
import { parseDateString } from '../etl/values.js'
import { loadRunConfig } from './config.js'

export interface Io {
  out: NodeJS.WritableStream // results
  err: NodeJS.WritableStream // warnings, progress, errors
  errIsTty: boolean // show progress only on a terminal
  version: string // package version
}

export type Flags = Record<string, string | boolean | undefined>

/** A folder path or (later) an s3:// URL. */
export function openStorage(location: string, flag: string): Storage {
  if (location.startsWith('s3://'))
    throw new ConfigError('bad_usage', `${flag}: s3:// locations are not supported yet (use a local folder)`)
  return new LocalStorage(location)
}

function todayUtc(): number {
  return Math.floor(Date.now() / 86_400_000)
}

function required(flags: Flags, name: string): string {
  const v = flags[name]
  if (typeof v !== 'string' || v === '') throw new ConfigError('bad_usage', `--${name} is required`)
  return v
}

export async function runCommand(flags: Flags, io: Io): Promise<number> {
  const source = openStorage(required(flags, 'source'), '--source')
  const target = openStorage(required(flags, 'target'), '--target')
  let asOf = todayUtc()
  if (typeof flags['as-of'] === 'string') {
    asOf = parseDateString(flags['as-of']) ?? -1
    if (asOf === -1)
      throw new ConfigError(
        'bad_usage',
        `--as-of ${JSON.stringify(flags['as-of'])} is not a date (expected YYYY-MM-DD)`,
      )
  }
  const config = await loadRunConfig(flags.config as string | undefined, flags.cities as string | undefined)
  const started = performance.now()
  const result = await runPipeline({
    source,
    target,
    spec: config.table,
    format: config.format,
    asOf,
    cityToState: config.cityToState,
    cityAliases: config.cityAliases,
    engineVersion: io.version,
    onWarning: (m) => io.err.write(`lakesync: warning: ${m}\n`),
    onProgress: io.errIsTty
      ? (rows, file) => {
          const s = (performance.now() - started) / 1000
          io.err.write(`\rread ${rows} rows (${Math.round(rows / Math.max(s, 1e-3))} rows/s) ${file}\x1b[K`)
        }
      : undefined,
  })
  if (io.errIsTty) io.err.write('\r\x1b[K')
  io.out.write(`${result.message}\n`)
  const rec = result.record
  if (rec) {
    const c = rec.counts
    io.out.write(
      `  as_of ${rec.asOf}; inserts ${c.inserts}, replaces ${c.replaces}, updates ${c.updates}, upserts-of-missing ${c.upsertsOfMissing}, deletes ${c.deletes}, deletes-of-missing ${c.deletesOfMissing}\n`,
    )
    const f = rec.features
    if (f.rowsWithoutState > 0)
      io.out.write(
        `  ${f.rowsWithoutState} row(s) in ${f.citiesWithoutState.length} cit${f.citiesWithoutState.length === 1 ? 'y' : 'ies'} without a state: ${f.citiesWithoutState
          .slice(0, 10)
          .map((c) => (c === null ? 'NULL' : JSON.stringify(c)))
          .join(', ')}${f.citiesWithoutState.length > 10 ? ', ...' : ''}\n`,
      )
  }
  return 0
}

/** The current version's table (users or features). */
async function currentTable(flags: Flags): Promise<Table> {
  const target = openStorage(required(flags, 'target'), '--target')
  const which = (flags.table as string | undefined) ?? 'users'
  if (which !== 'users' && which !== 'features')
    throw new ConfigError('bad_usage', `--table must be users or features, got ${JSON.stringify(which)}`)
  const config = await loadRunConfig(flags.config as string | undefined)
  const spec: TableSpec = config.table
  const log = await readCommitLog(target, spec.name)
  const current = log.current
  if (!current)
    throw new StateError(
      'no_version',
      `${target.root} has no committed version of ${spec.name} (run lakesync run first)`,
    )
  return which === 'users'
    ? readVersionTable(target, current, spec, 'users')
    : readVersionTable(target, current, USERS_FEATURES_SPEC, 'users_features')
}

export async function exportCommand(flags: Flags, _io: Io): Promise<number> {
  const format = (flags.format as string | undefined) ?? 'csv'
  if (format !== 'csv' && format !== 'parquet')
    throw new ConfigError('bad_usage', `--format must be csv or parquet, got ${JSON.stringify(format)}`)
  const out = required(flags, 'out')
  const table = await currentTable(flags)
  await mkdir(dirname(out), { recursive: true })
  const stream = createWriteStream(out)
  if (format === 'parquet') {
    stream.write(writeParquet(table))
  } else {
    const CHUNK = 65536
    for (let start = 0; start < table.length || start === 0; start += CHUNK) {
      if (!stream.write(csvChunk(table, start, Math.min(start + CHUNK, table.length))))
        await once(stream, 'drain')
      if (table.length === 0) break
    }
  }
  stream.end()
  await once(stream, 'finish')
  return 0
}

export async function showCommand(flags: Flags, io: Io): Promise<number> {
  const limit = Number((flags.limit as string | undefined) ?? '20')
  if (!Number.isInteger(limit) || limit < 0)
    throw new ConfigError('bad_usage', `--limit must be a whole number, got ${flags.limit}`)
  const table = await currentTable({ table: 'users', ...flags })
  io.out.write(showTable(table, limit))
  return 0
}

export { USERS_SPEC }
