/** Loads the run configuration: an optional JSON file (--config) over the bundled defaults. */

import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseCityAliases, parseCityMap } from '../etl/city-map.js'
import { parseDmsFormat } from '../etl/dms-format.js'
import { ConfigError } from '../etl/errors.js'
import { parseTableSpec, USERS_SPEC } from '../etl/table-spec.js'
import type { DmsFormat, TableSpec } from '../etl/types.js'

export interface RunConfig {
  format: DmsFormat // DMS CSV settings
  table: TableSpec // the replicated table
  cityToState: Map<string, string> // state lookup
  cityAliases: Map<string, string> // city spellings folded before the features
  citiesFile: string // where the map came from
}

/** The package root (holding package.json), from the compiled (dist/cli) or source (cli/) location. */
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
 * Reads `--config` (if any) and the city files. Precedence: --cities flag, then the config's `cities` (relative to
 * the config file), then the bundled map.
 */
export async function loadRunConfig(configFile?: string, citiesFlag?: string): Promise<RunConfig> {
  const root = packageRoot()
  let raw: Record<string, unknown> = {}
  if (configFile !== undefined) {
    const v = await readJson(configFile)
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new ConfigError('bad_config', `config: ${configFile} must hold a JSON object`)
    raw = v as Record<string, unknown>
    for (const k of Object.keys(raw))
      if (!CONFIG_KEYS.includes(k))
        throw new ConfigError(
          'bad_config',
          `config: unknown key ${JSON.stringify(k)} in ${configFile} (known: ${CONFIG_KEYS.join(', ')})`,
        )
  }
  const format = parseDmsFormat(raw.format)
  const table = raw.table === undefined ? USERS_SPEC : parseTableSpec(raw.table)
  const cityAliases =
    raw.cityAliases === undefined
      ? parseCityAliases(await readJson(join(root, 'data', 'city_aliases.json')), 'data/city_aliases.json')
      : parseCityAliases(raw.cityAliases, 'cityAliases')
  let citiesFile = join(root, 'data', 'city_to_state.csv')
  if (typeof raw.cities === 'string') citiesFile = resolve(dirname(configFile ?? '.'), raw.cities)
  if (citiesFlag !== undefined) citiesFile = resolve(citiesFlag)
  let bytes: Uint8Array
  try {
    bytes = await readFile(citiesFile)
  } catch (e) {
    throw new ConfigError('bad_config', `cities: cannot read ${citiesFile}: ${(e as Error).message}`)
  }
  return { format, table, cityAliases, cityToState: parseCityMap(bytes, citiesFile), citiesFile }
}
