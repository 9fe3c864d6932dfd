/** `lakesync export` and `lakesync show`: the current version of a table, as a file or an aligned table. */
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { featuresSpecFor } from '../../etl/city-features.js'
import { featuresTableName } from '../../etl/commit/layout.js'
import { readVersionTable } from '../../etl/commit/load-version.js'
import { readCommitLog } from '../../etl/commit/log.js'
import { loadRunConfig, pickTable } from '../../etl/config/run-config.js'
import { ConfigError, StateError } from '../../etl/errors.js'
import { writeParquet } from '../../etl/parquet/writer.js'
import { csvChunk, showTable } from '../../etl/report/csv-export.js'
import type { Table } from '../../etl/types.js'
import { type Flags, type Io, openStorage, required } from '../common.js'

/** The current version's table (users or features). */
async function currentTable(flags: Flags): Promise<Table> {
  const target = openStorage(required(flags, 'target'), '--target')
  const config = await loadRunConfig(flags.config as string | undefined)
  // The table's own name (or `users`, the reference's), else its features: `<name>_features` or `features`.
  const picked = pickTable(config, flags.table as string | undefined)
  const spec = picked.table.spec
  const which = picked.features ? 'features' : 'users'
  if (which === 'features' && !spec.features)
    throw new ConfigError(
      'bad_usage',
      `table ${spec.name} has no features (its config has no features section), so there is no ${featuresTableName(spec.name)}`,
    )
  const current = (await readCommitLog(target, spec.name)).current
  if (!current)
    throw new StateError(
      'no_version',
      `${target.root} has no committed version of ${spec.name} (run lakesync run first)`,
    )
  return which === 'users'
    ? readVersionTable(target, current, spec, 'users')
    : readVersionTable(target, current, featuresSpecFor(spec), 'users_features')
}

export async function exportCommand(flags: Flags, _io: Io): Promise<number> {
  const format = (flags.format as string | undefined) ?? 'csv'
  if (format !== 'csv' && format !== 'parquet')
    throw new ConfigError('bad_usage', `--format must be csv or parquet, got ${JSON.stringify(format)}`)
  const out = required(flags, 'out')
  const table = await currentTable(flags)
  await mkdir(dirname(out), { recursive: true })
  const stream = createWriteStream(out)
  if (format === 'parquet') stream.write(writeParquet(table))
  else {
    const CHUNK = 65536
    for (let start = 0; start === 0 || start < table.length; start += CHUNK) {
      if (!stream.write(csvChunk(table, start, Math.min(start + CHUNK, table.length))))
        await once(stream, 'drain')
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
  const table = await currentTable(flags)
  io.out.write(showTable(table, limit))
  return 0
}
