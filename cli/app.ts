/**
 * `lakesync <command>`: the CLI. One option spec per command drives both parsing (node:util parseArgs) and --help.
 * Exit codes: cli/exit-codes.ts (0 done, 1 input, 2 usage, 3 busy, 4 unavailable, 5 some tables failed, 70 a bug).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { packageRoot } from '../etl/config/run-config.js'
import { captureCommand } from './commands/capture.js'
import { reportCommand } from './commands/report.js'
import { runCommand } from './commands/run.js'
import { schemaCommand } from './commands/schema.js'
import { skipCommand, unskipCommand } from './commands/skip.js'
import { statusCommand, vacuumCommand } from './commands/status.js'
import { exportCommand, showCommand } from './commands/tables.js'
import type { Flags, Io } from './common.js'
import { describeFailure, exitCodeOf } from './exit-codes.js'

interface OptionSpec {
  name: string
  value?: string // placeholder when the option takes a value
  help: string
  default?: string
}

interface CommandSpec {
  summary: string
  usage: string
  options: OptionSpec[]
  positional?: OptionSpec // one operand (FILE), passed as the flag of its name
  run: (flags: Flags, io: Io) => Promise<number>
}

// Options shared by several commands: one spec each, so help texts cannot drift apart.
const CONFIG: OptionSpec = {
  name: 'config',
  value: 'FILE',
  help: 'JSON config: DMS format, table spec, city aliases, cities',
}
const SOURCE: OptionSpec = {
  name: 'source',
  value: 'DIR|s3://B/P',
  help: 'folder or S3 prefix holding one table\'s DMS files (with a "tables" config: the DMS root of <schema>/<table>/ folders)',
}
const TARGET: OptionSpec = {
  name: 'target',
  value: 'DIR|s3://B/P',
  help: 'folder or S3 prefix holding the versions and commit log',
}
const CITIES: OptionSpec = {
  name: 'cities',
  value: 'FILE',
  help: 'city,state CSV for the state lookup',
  default: 'the bundled map',
}
const AS_OF: OptionSpec = {
  name: 'as-of',
  value: 'YYYY-MM-DD',
  help: 'reference date of the 90-day login rate',
  default: "today's UTC date",
}
const GLUE: OptionSpec = {
  name: 'glue-database',
  value: 'NAME',
  help: 'Glue database whose tables follow each new version',
}
const ENGINE: OptionSpec = {
  name: 'engine',
  value: 'lakesync|spark',
  help: 'spark runs the Glue job (glue/) in Spark local mode on folders: needs Java 17 and pyspark in .venv',
  default: 'lakesync',
}
const JSON_OUT: OptionSpec = {
  name: 'json',
  help: 'print one JSON object instead of text (README, "Machine-readable output")',
}
const QUIET: OptionSpec = { name: 'quiet', help: 'print nothing on success; errors still go to stderr' }
const VERBOSE: OptionSpec = { name: 'verbose', help: 'also print each applied file with its rows and counts' }
const TABLE: OptionSpec = {
  name: 'table',
  value: 'NAME|NAME_features',
  help: 'the table of --config, or its features table (default: the table; users and features also work)',
}

const RUN_USAGE =
  '--source DIR|s3://... --target DIR|s3://... [--config FILE] [--tables A,B] [--cities FILE] [--as-of YYYY-MM-DD] [--glue-database NAME] [--engine lakesync|spark] [--lease-seconds N] [--wait]'
const TABLE_FORMAT: OptionSpec = {
  name: 'table-format',
  value: 'iceberg|hive',
  help: 'iceberg: each version is also an Iceberg snapshot; hive: the version folders only',
  default: "the config's publish.tableFormat, else iceberg",
}
const LEASE: OptionSpec = {
  name: 'lease-seconds',
  value: 'N',
  help: 'lease of the claimed version, renewed every third of it: a dead run holds the table this long at most',
  default: '60',
}
const WAIT: OptionSpec = {
  name: 'wait',
  help: 'when another run holds the table (exit 3 otherwise), wait for its lease to end, then run',
}
const TABLES: OptionSpec = {
  name: 'tables',
  value: 'A,B',
  help: 'with a "tables" config: run only these tables (published names)',
  default: 'every table',
}

const SKIP_TABLE: OptionSpec = {
  name: 'table',
  value: 'NAME',
  help: 'the table whose file it is (required when the config has several tables)',
}
const SKIP_FILE: OptionSpec = {
  name: 'file',
  value: 'FILE',
  help: "the change file, relative to the table's folder",
}
const REASON: OptionSpec = { name: 'reason', value: 'TEXT', help: 'why, recorded in the commit log' }
const BY: OptionSpec = {
  name: 'by',
  value: 'WHO',
  help: 'who, recorded in the commit log',
  default: 'the OS user',
}

const COMMANDS: Record<string, CommandSpec> = {
  run: {
    summary: 'apply the pending DMS files in SOURCE and publish a new version to TARGET',
    usage: `lakesync run ${RUN_USAGE}`,
    options: [
      SOURCE,
      TARGET,
      CITIES,
      AS_OF,
      GLUE,
      CONFIG,
      TABLES,
      TABLE_FORMAT,
      ENGINE,
      JSON_OUT,
      QUIET,
      VERBOSE,
      LEASE,
      WAIT,
    ],
    run: (flags, io) => runCommand(flags, io, false),
  },
  reload: {
    summary: 'rebuild the table from every file now in SOURCE, in DMS order, as a new version',
    usage: `lakesync reload ${RUN_USAGE}`,
    options: [
      SOURCE,
      TARGET,
      CITIES,
      AS_OF,
      GLUE,
      CONFIG,
      TABLES,
      TABLE_FORMAT,
      ENGINE,
      JSON_OUT,
      QUIET,
      VERBOSE,
      LEASE,
      WAIT,
    ],
    run: (flags, io) => runCommand(flags, io, true),
  },
  status: {
    summary:
      'show versions, the last applied file and its lag, pending files and the error the next run would hit',
    usage: 'lakesync status --source DIR|s3://... --target DIR|s3://... [--limit N]',
    options: [
      SOURCE,
      TARGET,
      { name: 'limit', value: 'N', help: 'versions to list', default: '10' },
      CONFIG,
      { ...TABLE, help: 'only this table of the config', default: 'every table' },
      JSON_OUT,
    ],
    run: statusCommand,
  },
  vacuum: {
    summary:
      'delete the files of versions older than the newest N (never the current one) and of failed versions',
    usage: 'lakesync vacuum --target DIR|s3://... [--keep N] [--glue-database NAME]',
    options: [
      TARGET,
      { name: 'keep', value: 'N', help: 'committed versions to keep', default: '3' },
      CONFIG,
      GLUE,
      { ...TABLE, help: 'only this table of the config', default: 'every table' },
      JSON_OUT,
      QUIET,
    ],
    run: vacuumCommand,
  },
  skip: {
    summary:
      'set a change file aside in the commit log (who, why, its SHA-256 and rows): the next run applies the files after it',
    usage:
      'lakesync skip --source DIR|s3://... --target DIR|s3://... [--config FILE] [--table NAME] FILE --reason TEXT [--by WHO]',
    options: [SOURCE, TARGET, CONFIG, SKIP_TABLE, REASON, BY, JSON_OUT, QUIET],
    positional: SKIP_FILE,
    run: skipCommand,
  },
  unskip: {
    summary: 'take back a skip while no committed version depends on it: the next run applies the file',
    usage:
      'lakesync unskip --target DIR|s3://... [--config FILE] [--table NAME] FILE [--reason TEXT] [--by WHO]',
    options: [TARGET, CONFIG, SKIP_TABLE, { ...REASON, help: 'why it comes back' }, BY],
    positional: SKIP_FILE,
    run: unskipCommand,
  },
  export: {
    summary: 'write the current version of a table to a file',
    usage:
      'lakesync export --target DIR|s3://... [--table NAME|NAME_features] --format csv|parquet --out FILE',
    options: [
      TARGET,
      TABLE,
      { name: 'format', value: 'csv|parquet', help: 'output format', default: 'csv' },
      { name: 'out', value: 'FILE', help: 'file to write' },
      CONFIG,
    ],
    run: exportCommand,
  },
  show: {
    summary: 'print the first rows of the current version as an aligned table',
    usage: 'lakesync show --target DIR|s3://... [--table NAME|NAME_features] [--limit N]',
    options: [TARGET, TABLE, { name: 'limit', value: 'N', help: 'rows to show', default: '20' }, CONFIG],
    run: showCommand,
  },
  report: {
    summary: 'write one self-contained HTML page: pipeline health, recent commits and the per-city features',
    usage: 'lakesync report --target DIR|s3://... [--source DIR|s3://...] --out FILE',
    options: [
      TARGET,
      { ...SOURCE, help: `${SOURCE.help}: adds the pending files and the error the next run would hit` },
      { name: 'out', value: 'FILE', help: 'HTML file to write' },
      CONFIG,
      { ...TABLE, help: 'the table of a many-tables config to report on', default: 'the only table' },
      JSON_OUT,
      QUIET,
    ],
    run: reportCommand,
  },
  schema: {
    summary:
      'print the config of PostgreSQL tables (columns, types, nullability, primary keys) from the catalog',
    usage: 'lakesync schema --pg postgres://... --tables SCHEMA.TABLE,SCHEMA.*',
    options: [
      { name: 'pg', value: 'URL', help: 'PostgreSQL connection URL' },
      {
        name: 'tables',
        value: 'S.T,S.*',
        help: 'tables to describe: schema.table or schema.* (every table of a schema)',
      },
    ],
    run: schemaCommand,
  },
  capture: {
    summary:
      'stand in for DMS: full load, then changes from a PostgreSQL replication slot, as DMS files in OUT',
    usage:
      'lakesync capture --pg postgres://... (--table SCHEMA.TABLE | --config TABLES.json [--tables S.T,S.T]) --out DIR|s3://... [--interval 1s] [--slot NAME] [--once]',
    options: [
      { name: 'pg', value: 'URL', help: 'PostgreSQL connection URL (a user with the REPLICATION attribute)' },
      { name: 'table', value: 'SCHEMA.TABLE', help: 'the source table (schema public when omitted)' },
      {
        name: 'tables',
        value: 'S.T,S.T',
        help: 'with a "tables" config: capture these tables through one slot into OUT/<schema>/<table>/',
        default: 'every table of the config',
      },
      {
        name: 'out',
        value: 'DIR|s3://B/P',
        help: 'staging folder or S3 prefix for the table\'s DMS files (with --tables or a "tables" config: the DMS root)',
      },
      {
        name: 'interval',
        value: 'DURATION',
        help: 'how often the slot is read (500ms, 1s, 2m)',
        default: '1s',
      },
      { name: 'file-size', value: 'SIZE', help: 'close a file at this size (64KB, 32MB)', default: '32MB' },
      {
        name: 'slot',
        value: 'NAME',
        help: 'logical replication slot',
        default: 'lakesync_<schema>_<table>; lakesync_tables for several',
      },
      { name: 'publication', value: 'NAME', help: 'publication of the tables', default: 'the slot name' },
      { name: 'once', help: 'write what the slot holds now, then exit' },
      CONFIG,
    ],
    run: captureCommand,
  },
}

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
    .version
}

function mainHelp(): string {
  const lines = [
    'lakesync: mirror the tables an AWS DMS task replicates into a Parquet lake (per-city features where asked)',
    '',
  ]
  lines.push('Usage: lakesync <command> [options]', '', 'Commands:')
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${c.summary}`)
  lines.push('', "Run `lakesync <command> --help` for a command's options.")
  return `${lines.join('\n')}\n`
}

function commandHelp(name: string, c: CommandSpec): string {
  const lines = [`lakesync ${name}: ${c.summary}`, '', `Usage: ${c.usage}`, '', 'Options:']
  for (const o of c.positional ? [...c.options, { ...c.positional, name: '' }] : c.options) {
    const flag = o.name === '' ? (o.value ?? '') : `--${o.name}${o.value ? ` ${o.value}` : ''}`
    lines.push(`  ${flag.padEnd(28)} ${o.help}${o.default ? ` (default: ${o.default})` : ''}`)
  }
  lines.push(`  ${'--help'.padEnd(28)} show this help`)
  return `${lines.join('\n')}\n`
}

export async function main(argv: string[], io: Omit<Io, 'version'>): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out.write(mainHelp())
    return name === undefined ? 2 : 0
  }
  if (name === '--version') {
    io.out.write(`${version()}\n`)
    return 0
  }
  const command = COMMANDS[name]
  if (!command) {
    io.err.write(`lakesync: unknown command ${JSON.stringify(name)}\n\n${mainHelp()}`)
    return 2
  }
  let flags: Flags
  try {
    const options = Object.fromEntries([
      ...command.options.map((o) => [o.name, { type: o.value ? ('string' as const) : ('boolean' as const) }]),
      ['help', { type: 'boolean' as const, short: 'h' }],
    ])
    const parsed = parseArgs({ args: rest, options, strict: true, allowPositionals: !!command.positional })
    flags = parsed.values as Flags
    if (command.positional) {
      if (parsed.positionals.length > 1)
        throw new Error(`one ${command.positional.value} expected, got ${parsed.positionals.join(' ')}`)
      flags[command.positional.name] = parsed.positionals[0]
    }
  } catch (e) {
    io.err.write(`lakesync ${name}: ${(e as Error).message}\n\n${commandHelp(name, command)}`)
    return 2
  }
  if (flags.help) {
    io.out.write(commandHelp(name, command))
    return 0
  }
  try {
    // --quiet: nothing on stdout (errors still reach stderr); --json prints its object regardless.
    const out = flags.quiet && !flags.json ? new Writable({ write: (_c, _e, cb) => cb() }) : io.out
    return await command.run(flags, { ...io, out, version: version() })
  } catch (e) {
    const code = exitCodeOf(e)
    io.err.write(`lakesync ${name}: ${describeFailure(e, code)}\n`)
    return code
  }
}
