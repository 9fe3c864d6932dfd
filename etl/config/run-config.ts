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

export interface RunConfig {
  format: DmsFormat // DMS CSV settings
  table: TableSpec // the replicated table
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

const CONFIG_KEYS = ['format', 'table', 'cityAliases', 'cities']

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
  const table = obj.table === undefined ? USERS_SPEC : parseTableSpec(obj.table)
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
  return { format, table, cityAliases, cityToState: parseCityMap(bytes, citiesFile), citiesFile }
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
    cityToState: config.cityToState,
    cityAliases: config.cityAliases,
  }
}
