/** The city -> state map (a `city,state` CSV with a header) and the city aliases (a JSON object). */

import { parseDmsCsv } from '../dms/csv.js'
import { DEFAULT_DMS_FORMAT } from '../dms/format.js'
import { csvLayout } from '../dms/layout.js'
import { ConfigError, InputError } from '../errors.js'
import { stringAt } from '../table/columns.js'
import type { StringColumn, TableSpec } from '../types.js'

const CITY_MAP_SPEC: TableSpec = {
  name: 'city_to_state',
  columns: [
    { name: 'city', type: 'string' },
    { name: 'state', type: 'string' },
  ],
  primaryKey: ['city'],
}

/** Parses the map with the same strict RFC 4180 reader as the DMS files. A city listed twice is an error. */
export function parseCityMap(bytes: Uint8Array, file: string): Map<string, string> {
  const format = { ...DEFAULT_DMS_FORMAT, addColumnName: true }
  const parsed = parseDmsCsv(bytes, file, CITY_MAP_SPEC, csvLayout(CITY_MAP_SPEC, format, 'load'), format)
  const [cities, states] = parsed.rows.columns
  const map = new Map<string, string>()
  for (let r = 0; r < parsed.rows.length; r++) {
    const city = stringAt(cities as StringColumn, r) as string
    const state = stringAt(states as StringColumn, r)
    const loc = { file, line: parsed.lines[r]!, column: 1 }
    if (map.has(city))
      throw new InputError(
        'duplicate_key',
        `city map: ${JSON.stringify(city)} is listed twice in ${file} line ${loc.line}`,
        loc,
      )
    if (state !== null) map.set(city, state)
  }
  return map
}

/** Parses `{ "alias": "canonical", ... }`. */
export function parseCityAliases(value: unknown, where: string): Map<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError('bad_config', `config: ${where} must be an object of "alias": "city"`)
  const map = new Map<string, string>()
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new ConfigError('bad_config', `config: ${where}.${k} must be a string`)
    map.set(k, v)
  }
  return map
}
