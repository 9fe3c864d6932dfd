/** `lakesync skip` and `lakesync unskip`: set a bad change file aside in the commit log, or take it back. */
import { userInfo } from 'node:os'
import { skipFile, unskipFile } from '../../etl/commit/skip.js'
import { loadRunConfig, pickTable } from '../../etl/config/run-config.js'
import { ConfigError } from '../../etl/errors.js'
import { tableSource as tableSourceOf } from '../../etl/storage/table-source.js'
import { type Flags, type Io, openStorage, required } from '../common.js'
import { faultHookFromEnv } from '../fault-hook.js'
import { printJson, wantsJson } from '../json-output.js'

/** The OS user running the command; `unknown` where the platform has none (a container without a passwd entry). */
function osUser(): string {
  try {
    return userInfo().username
  } catch {
    return process.env.USER ?? 'unknown'
  }
}

async function tableOf(flags: Flags) {
  const config = await loadRunConfig(flags.config as string | undefined)
  const { table, features } = pickTable(config, flags.table as string | undefined)
  if (features) throw new ConfigError('bad_usage', '--table: a features table has no source files to skip')
  return { config, table }
}

function fileFlag(flags: Flags): string {
  if (typeof flags.file !== 'string' || flags.file === '')
    throw new ConfigError('bad_usage', "FILE is required: the change file, relative to the table's folder")
  const file = flags.file.replace(/^\.?\//, '')
  // Leading `../` only: a CDC_TXN file of PreserveTransactions, as status lists it (../../cdc/CDC_TXN-...csv); a path
  // that is not in the table's listing is refused by skipFile.
  if (
    file
      .replace(/^(\.\.\/)+/, '')
      .split('/')
      .includes('..')
  )
    throw new ConfigError(
      'bad_usage',
      `FILE ${JSON.stringify(file)}: give the path inside the table's folder`,
    )
  return file
}

export async function skipCommand(flags: Flags, io: Io): Promise<number> {
  const source = openStorage(required(flags, 'source'), '--source')
  const target = openStorage(required(flags, 'target'), '--target')
  const reason = required(flags, 'reason')
  const { config, table } = await tableOf(flags)
  const tableSource = table.folder === null ? source : tableSourceOf(source, table.folder, config.format)
  const faults = faultHookFromEnv()
  const { record, already } = await skipFile(tableSource, {
    target,
    spec: table.spec,
    format: config.format,
    path: fileFlag(flags),
    by: (flags.by as string | undefined) ?? osUser(),
    reason,
    ...(faults ? { faults } : {}),
  })
  const f = record.file
  if (wantsJson(flags)) {
    printJson(io, { tables: [{ ...record, table: table.spec.name, already }] })
    return 0
  }
  io.out.write(
    already
      ? `${f.path} is already set aside (version ${record.version}, by ${record.by} at ${record.skippedAt})\n`
      : `set aside ${f.path} in the log of ${table.spec.name} (version ${record.version}; ${f.rows ?? 'unknown'} rows, sha256 ${f.sha256}); the next run applies the files after it\n`,
  )
  return 0
}

export async function unskipCommand(flags: Flags, io: Io): Promise<number> {
  const target = openStorage(required(flags, 'target'), '--target')
  const { config, table } = await tableOf(flags)
  const faults = faultHookFromEnv()
  const record = await unskipFile({
    target,
    spec: table.spec,
    format: config.format,
    path: fileFlag(flags),
    by: (flags.by as string | undefined) ?? osUser(),
    reason: (flags.reason as string | undefined) ?? '',
    ...(faults ? { faults } : {}),
  })
  if (wantsJson(flags)) {
    printJson(io, { tables: [{ ...record, table: table.spec.name }] })
    return 0
  }
  io.out.write(
    `took back ${record.path} (set aside in version ${record.skipVersion}; log version ${record.version}); the next run applies it\n`,
  )
  return 0
}
