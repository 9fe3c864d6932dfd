/** Discovers the golden cases under test/fixtures and runs one through the engine with local folders. */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { expect } from 'vitest'
import { USERS_FEATURES_SPEC } from '../../etl/city-features.js'
import { readVersionTable } from '../../etl/commit/load-version.js'
import { readCommitLog } from '../../etl/commit/log.js'
import { parseCityAliases, parseCityMap } from '../../etl/config/city-map.js'
import { DEFAULT_DMS_FORMAT } from '../../etl/dms/format.js'
import { parseDateString } from '../../etl/dms/values.js'
import { LakesyncError } from '../../etl/errors.js'
import { type RunOptions, type RunResult, runPipeline } from '../../etl/pipeline.js'
import { LocalStorage } from '../../etl/storage/local.js'
import type { Storage } from '../../etl/storage/storage.js'
import { USERS_SPEC } from '../../etl/table/spec.js'
import type { Table } from '../../etl/types.js'

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures')
export const REPO = join(import.meta.dirname, '..', '..')
/** The seed project's DMS files (examples/pyspark-cdc/data). */
export const SEED = join(REPO, 'examples', 'pyspark-cdc', 'data')
/** The seed files in apply order: the full load, then the change files by timestamp. */
export const SEED_FILES = [
  'LOAD00000001.csv',
  '20211017-194324349.csv',
  '20211018-223933563.csv',
  '20211018-224657689.csv',
  '20211018-225235856.csv',
  '20211018-225959941.csv',
] as const

export interface CaseSpec {
  name: string
  dir: string
  description: string
  asOf: string
  cities?: string
  error?: { code: string; file?: string; line?: number; column?: number }
}

export function discoverCases(): CaseSpec[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(FIXTURES, d.name, 'case.json')))
    .map((d) => {
      const dir = join(FIXTURES, d.name)
      return {
        name: d.name,
        dir,
        ...(JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Omit<CaseSpec, 'name' | 'dir'>),
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}

export function tempDir(prefix = 'lakesync-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

const ALIASES = parseCityAliases(
  JSON.parse(readFileSync(join(REPO, 'data', 'city_aliases.json'), 'utf8')),
  'aliases',
)

export function cityMapFor(c: Pick<CaseSpec, 'dir' | 'cities'>): Map<string, string> {
  const file = c.cities ? join(c.dir, c.cities) : join(REPO, 'data', 'city_to_state.csv')
  return parseCityMap(readFileSync(file), file)
}

/** The bundled city map (data/city_to_state.csv), which the seed data is run with. */
export const SEED_CITIES = cityMapFor({ dir: REPO })

/** A copy of the seed files in a new temp folder: all of them, or `only` those, or all `without` those. */
export function seedCopy(files: { only?: readonly string[]; without?: readonly string[] } = {}): string {
  const dir = tempDir()
  for (const f of SEED_FILES)
    if ((files.only?.includes(f) ?? true) && !files.without?.includes(f)) cpSync(join(SEED, f), join(dir, f))
  return dir
}

/** Options for a run of the seed project's table (users spec, default format, bundled aliases) with overrides. */
export function seedRunOptions(
  source: Storage,
  target: Storage,
  cityToState: ReadonlyMap<string, string>,
  extra: Partial<RunOptions> = {},
): RunOptions {
  return {
    source,
    target,
    spec: USERS_SPEC,
    format: DEFAULT_DMS_FORMAT,
    asOf: parseDateString('2021-10-17')!,
    cityToState,
    cityAliases: ALIASES,
    engineVersion: 'test',
    ...extra,
  }
}

/** seedRunOptions with the bundled city map: a run of the seed project's table. */
export function seedOptions(source: Storage, target: Storage, extra: Partial<RunOptions> = {}): RunOptions {
  return seedRunOptions(source, target, SEED_CITIES, extra)
}

/** The LakesyncError a promise rejects with (the test fails if it resolves or rejects with something else). */
export async function rejection(p: Promise<unknown>): Promise<LakesyncError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(e).toBeInstanceOf(LakesyncError)
  return e as LakesyncError
}

/** Runs the engine on a source folder into `target` (a fresh temp folder by default). */
export async function runEngine(
  source: string,
  asOf: string,
  cityToState: Map<string, string>,
  target = tempDir(),
): Promise<{ result: RunResult; target: string }> {
  const result = await runPipeline(
    seedRunOptions(new LocalStorage(source), new LocalStorage(target), cityToState, {
      asOf: parseDateString(asOf)!,
    }),
  )
  return { result, target }
}

/** The current version's users and features tables of a target (a folder, or any storage). */
export async function currentTables(target: string | Storage): Promise<{ users: Table; features: Table }> {
  const storage = typeof target === 'string' ? new LocalStorage(target) : target
  const log = await readCommitLog(storage, 'users')
  const current = log.current
  if (!current) throw new Error(`no version in ${storage.root}`)
  return {
    users: await readVersionTable(storage, current, USERS_SPEC, 'users'),
    features: await readVersionTable(storage, current, USERS_FEATURES_SPEC, 'users_features'),
  }
}

/** Every file under a folder as `/`-separated relative paths, sorted (none for a missing folder). */
export function listTree(dir: string): string[] {
  if (!existsSync(dir)) return []
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)).split(sep).join('/'))
    .sort()
}
