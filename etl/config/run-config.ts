/**
 * The run configuration: a JSON object (from `--config FILE` or the Lambda's LAKESYNC_TABLES) over the bundled
 * defaults (data/city_to_state.csv, data/city_aliases.json). Like etl/storage/local.ts this is a Node adapter: it reads
 * files; the engine gets parsed values only.
 */

import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseDmsFormat } from '../dms/format.js'
import { ConfigError } from '../errors.js'
import type { RunOptions } from '../pipeline.js'
import { parseTableSpec, USERS_SPEC } from '../table/spec.js'
import type { DmsFormat, TableSpec } from '../types.js'
import { parseCityAliases, parseCityMap } from './city-map.js'

/** A configured table and where its DMS files are under a source root. */
export interface SourceTable {
  spec: TableSpec // its shape; spec.name is the published name (`publishAs`, else the table's name)
  schema: string | null // the source schema (the `tables` form)
  folder: string | null // `<schema>/<table>` under a source root; null: the source is the table's own folder
}

export interface RunConfig {
  format: DmsFormat // DMS CSV settings
  table: TableSpec // the replicated table (the first of `tables` in the many-tables form)
  tables: SourceTable[] // every configured table: one with folder null in the single-table form
  tableFormat: 'iceberg' | 'hive' // publish.tableFormat
  targetFileBytes?: number // publish.targetFileMiB; default TARGET_FILE_BYTES (etl/commit/layout.ts)
  cityToState: Map<string, string> // state lookup
  cityAliases: Map<string, string> // city spellings folded before the features
  citiesFile: string // where the map came from
}

/**
 * The bundled data folder: LAKESYNC_DATA_DIR when set (a Lambda bundle ships the folder beside the code), else
 * `data/` in the package root.
 */
export function dataDir(): string {
  return process.env.LAKESYNC_DATA_DIR ?? join(packageRoot(), 'data')
}

/** The package root (holding package.json), from the compiled (dist/...) or source location. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('lakesync: cannot find the package root')
    dir = up
  }
  return dir
}

const CONFIG_KEYS = ['format', 'table', 'tables', 'publish', 'cityAliases', 'cities']

/**
 * `"publish": {"tableFormat": "iceberg" | "hive", "targetFileMiB": N}`: iceberg (the default) also publishes Iceberg
 * metadata; a table's Parquet files hold about N MiB each (default TARGET_FILE_BYTES).
 */
function parsePublish(value: unknown): { tableFormat: 'iceberg' | 'hive'; targetFileBytes?: number } {
  if (value === undefined) return { tableFormat: 'iceberg' }
  const v = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null) as Record<
    string,
    unknown
  > | null
  if (v === null || Object.keys(v).some((k) => k !== 'tableFormat' && k !== 'targetFileMiB'))
    throw new ConfigError(
      'bad_config',
      'config: publish must be {"tableFormat": "iceberg" | "hive", "targetFileMiB": N} (both optional)',
    )
  const format = v.tableFormat ?? 'iceberg'
  if (format !== 'iceberg' && format !== 'hive')
    throw new ConfigError(
      'bad_config',
      `config: publish.tableFormat must be iceberg or hive, got ${JSON.stringify(v.tableFormat)}`,
    )
  const mib = v.targetFileMiB
  if (mib !== undefined && (typeof mib !== 'number' || !(mib > 0)))
    throw new ConfigError(
      'bad_config',
      `config: publish.targetFileMiB must be a positive number of MiB, got ${JSON.stringify(mib)}`,
    )
  return {
    tableFormat: format,
    ...(mib !== undefined ? { targetFileBytes: Math.round(mib * 1024 * 1024) } : {}),
  }
}
const SOURCE_NAME = /^[A-Za-z_][A-Za-z0-9_$-]*$/

/**
 * The `tables` form: each entry a table spec plus its `schema` (default `public`) and optional `publishAs`. Two
 * tables publishing one name (the same table in two schemas) is an error naming both.
 */
function parseTables(value: unknown): SourceTable[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new ConfigError('bad_config', 'config: tables must be a non-empty array of table specs')
  const out = value.map((raw: unknown, i: number): SourceTable => {
    const where = `tables[${i}]`
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new ConfigError('bad_config', `config: ${where} must be an object`)
    const { schema = 'public', publishAs, ...rest } = raw as Record<string, unknown>
    if (typeof schema !== 'string' || !SOURCE_NAME.test(schema))
      throw new ConfigError(
        'bad_config',
        `config: ${where}.schema must be a schema name, got ${JSON.stringify(schema)}`,
      )
    const spec = parseTableSpec(rest, where)
    if (
      publishAs !== undefined &&
      (typeof publishAs !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(publishAs))
    )
      throw new ConfigError(
        'bad_config',
        `config: ${where}.publishAs must be an identifier, got ${JSON.stringify(publishAs)}`,
      )
    const folder = `${schema}/${spec.name}`
    return { spec: publishAs ? { ...spec, name: publishAs } : spec, schema, folder }
  })
  const byName = new Map<string, SourceTable>()
  for (const t of out) {
    const other = byName.get(t.spec.name)
    if (other)
      throw new ConfigError(
        'bad_config',
        `config: ${other.folder!.replace('/', '.')} and ${t.folder!.replace('/', '.')} both publish as ${t.spec.name}; give one "publishAs": "<another name>"`,
      )
    byName.set(t.spec.name, t)
  }
  return out
}

/**
 * The table a command is about: `--table NAME` among the configured ones (its features table `NAME_features`
 * resolves to it too), or the only one. `users` and `features` name the reference table and its features.
 */
export function pickTable(
  config: RunConfig,
  name: string | undefined,
): { table: SourceTable; features: boolean } {
  const { tables } = config
  if (name === undefined) {
    if (tables.length === 1) return { table: tables[0]!, features: false }
    throw new ConfigError(
      'bad_usage',
      `the config has ${tables.length} tables: say which with --table (${tables.map((t) => t.spec.name).join(', ')})`,
    )
  }
  const exact = tables.find((t) => t.spec.name === name)
  if (exact) return { table: exact, features: false }
  const feat = tables.find((t) => `${t.spec.name}_features` === name)
  if (feat) return { table: feat, features: true }
  if (tables.length === 1 && (name === 'users' || name === 'features'))
    return { table: tables[0]!, features: name === 'features' }
  throw new ConfigError(
    'bad_usage',
    `--table ${JSON.stringify(name)} is not a configured table (tables: ${tables.map((t) => t.spec.name).join(', ')})`,
  )
}

async function readJson(file: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    throw new ConfigError('bad_config', `config: cannot read ${file}: ${(e as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new ConfigError('bad_config', `config: ${file} is not valid JSON: ${(e as Error).message}`)
  }
}

/**
 * Resolves a config object. Precedence for the city map: `citiesFlag`, then the object's `cities` (relative to
 * `baseDir`), then the bundled map. `where` names the object's origin in messages.
 */
export async function resolveRunConfig(
  raw: unknown,
  where: string,
  baseDir: string,
  citiesFlag?: string,
): Promise<RunConfig> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError('bad_config', `config: ${where} must hold a JSON object`)
  const obj = raw as Record<string, unknown>
  for (const k of Object.keys(obj))
    if (!CONFIG_KEYS.includes(k))
      throw new ConfigError(
        'bad_config',
        `config: unknown key ${JSON.stringify(k)} in ${where} (known: ${CONFIG_KEYS.join(', ')})`,
      )
  const root = dataDir()
  const format = parseDmsFormat(obj.format)
  if (obj.table !== undefined && obj.tables !== undefined)
    throw new ConfigError(
      'bad_config',
      `config: ${where} has both "table" and "tables" (one table's folder, or a source root of many: pick one)`,
    )
  const tables =
    obj.tables !== undefined
      ? parseTables(obj.tables)
      : [
          {
            spec: obj.table === undefined ? USERS_SPEC : parseTableSpec(obj.table),
            schema: null,
            folder: null,
          },
        ]
  const table = tables[0]!.spec
  const cityAliases =
    obj.cityAliases === undefined
      ? parseCityAliases(await readJson(join(root, 'city_aliases.json')), 'data/city_aliases.json')
      : parseCityAliases(obj.cityAliases, 'cityAliases')
  let citiesFile = join(root, 'city_to_state.csv')
  if (typeof obj.cities === 'string') citiesFile = resolve(baseDir, obj.cities)
  if (citiesFlag !== undefined) citiesFile = resolve(citiesFlag)
  let bytes: Uint8Array
  try {
    bytes = await readFile(citiesFile)
  } catch (e) {
    throw new ConfigError('bad_config', `cities: cannot read ${citiesFile}: ${(e as Error).message}`)
  }
  return {
    format,
    table,
    tables,
    ...parsePublish(obj.publish),
    cityAliases,
    cityToState: parseCityMap(bytes, citiesFile),
    citiesFile,
  }
}

/** Reads `--config FILE` (if any) and resolves it. */
export async function loadRunConfig(configFile?: string, citiesFlag?: string): Promise<RunConfig> {
  const raw = configFile === undefined ? {} : await readJson(configFile)
  return resolveRunConfig(raw, configFile ?? 'the defaults', dirname(configFile ?? '.'), citiesFlag)
}

/** What a run takes besides its resolved configuration: locations, as_of, engine version, hooks. */
export type RunSettings = Omit<RunOptions, 'spec' | 'format' | 'cityToState' | 'cityAliases'>

/** The run options of a resolved configuration: the one place a RunConfig becomes RunOptions. */
export function runOptionsFor(config: RunConfig, settings: RunSettings): RunOptions {
  return {
    ...settings,
    spec: config.table,
    format: config.format,
    tableFormat: config.tableFormat,
    ...(config.targetFileBytes !== undefined ? { targetFileBytes: config.targetFileBytes } : {}),
    cityToState: config.cityToState,
    cityAliases: config.cityAliases,
  }
}
