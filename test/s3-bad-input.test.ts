/**
 * Bad input on S3 (moto): every error fixture uploaded under a prefix (date folders kept) fails the run with the
 * expected code, names the object by its S3 URL, points at the line and column, and writes nothing to the target.
 * With a good version already in the target, a failed run leaves the current version and every object unchanged.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCommitLog } from '../etl/commit/log.js'
import { parseDateString } from '../etl/dms/values.js'
import type { LakesyncError } from '../etl/errors.js'
import { runPipeline } from '../etl/pipeline.js'
import { openStorage } from '../etl/storage/open.js'
import {
  type CaseSpec,
  cityMapFor,
  discoverCases,
  listTree,
  REPO,
  rejection,
  SEED,
  seedRunOptions,
} from './helpers/fixtures.js'
import { useMoto } from './helpers/moto.js'
import { listPrefix, newBucket, uploadFolder } from './helpers/s3-source.js'

const moto = useMoto()
const cases = discoverCases().filter((c) => c.error)
/** Errors found while listing the source: they name the relative path and the root separately. */
const LISTING_ERRORS = new Set(['bad_file_name', 'duplicate_file'])

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1)

async function run(c: Pick<CaseSpec, 'asOf' | 'dir' | 'cities'>, source: string, target: string) {
  return runPipeline(
    seedRunOptions(openStorage(source), openStorage(target), cityMapFor(c), {
      asOf: parseDateString(c.asOf)!,
    }),
  )
}

/**
 * Checks that `e` names one of `paths` (relative to the source `root`) whose base name is `file` (duplicate_file:
 * either spelling of X.csv / X.csv.gz); returns the path it names.
 *
 * Every error names the object by its full S3 URL, in the message and the location (errors found while listing
 * quote it).
 */
function expectNamesFile(
  e: LakesyncError,
  code: string,
  file: string,
  root: string,
  paths: string[],
): string {
  const strip = (p: string) => (code === 'duplicate_file' ? p.replace(/\.gz$/, '') : p)
  const candidates = paths.filter((p) => strip(baseName(p)) === file)
  expect(candidates.length).toBeGreaterThan(0)
  const listing = LISTING_ERRORS.has(code)
  const spelled = (p: string) => (listing ? JSON.stringify(`${root}/${p}`) : `${root}/${p}`)
  const named = candidates.filter((p) => e.message.includes(spelled(p)))
  expect(named, `${e.message} should name one of ${candidates.map(spelled).join(', ')}`).not.toEqual([])
  expect(candidates.map((p) => `${root}/${p}`)).toContain(e.location?.file)
  return named[0]!
}

function expectLineColumn(e: LakesyncError, want: NonNullable<CaseSpec['error']>) {
  if (want.line !== undefined) {
    expect(e.location?.line).toBe(want.line)
    expect(e.message).toContain(`line ${want.line}`)
  } else expect(e.location?.line).toBeUndefined()
  if (want.column !== undefined) {
    expect(e.location?.column).toBe(want.column)
    expect(e.message).toContain(`column ${want.column}`)
  }
}

let bucket = ''

beforeAll(async () => {
  await moto.reset()
  bucket = await newBucket(moto, 'bad')
})

afterAll(async () => {
  await moto.reset()
})

describe('error fixtures on S3: fail closed, name the S3 object, write nothing', () => {
  it('has error cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30)
  })

  for (const c of cases) {
    it(`${c.name}`, async () => {
      const want = c.error!
      const prefix = `cases/${c.name}`
      const root = `s3://${bucket}/${prefix}/src`
      await uploadFolder(moto, join(c.dir, 'source'), bucket, `${prefix}/src`)
      const e = await rejection(run(c, root, `s3://${bucket}/${prefix}/lake`))
      expect(e.code).toBe(want.code)
      if (want.file !== undefined)
        expectNamesFile(e, want.code, want.file, root, listTree(join(c.dir, 'source')))
      else expect(e.message).toContain(root)
      expectLineColumn(e, want)
      expect(await listPrefix(moto, bucket, `${prefix}/lake`)).toEqual([])
    })
  }
})

/**
 * The fixture's files added to a source that already produced a good version. Change files are renamed to a later
 * day (20211017-* -> 20211019-*, after every seed change), so they are applied next and fail as in the fixture;
 * LOAD files are renamed to new parts (LOAD0... -> LOAD1...) and only added when the error is in one, where the run
 * stops earlier with late_file (a new full load after applied changes). The no-full-load case cannot arise here.
 */
function laterName(path: string): string {
  const dir = path.slice(0, path.lastIndexOf('/') + 1)
  const name = baseName(path)
  return dir + name.replace(/^20211017-/, '20211019-').replace(/^LOAD0([0-9A-F]{7}\.)/, 'LOAD1$1')
}

describe('error fixtures added to an S3 source with a good version: the target is unchanged', () => {
  for (const c of cases.filter((x) => x.error!.code !== 'no_full_load')) {
    it(`${c.name}`, async () => {
      const want = c.error!
      const inLoad = want.file!.startsWith('LOAD')
      const prefix = `existing/${c.name}`
      const root = `s3://${bucket}/${prefix}/src`
      const target = `s3://${bucket}/${prefix}/lake`
      await uploadFolder(moto, SEED, bucket, `${prefix}/src`)
      const good = await run({ asOf: '2021-10-17', dir: REPO }, root, target)
      expect(good.version).toBe(1)
      const before = await listPrefix(moto, bucket, `${prefix}/lake`)

      const files = listTree(join(c.dir, 'source')).filter((f) => baseName(f).startsWith('LOAD') === inLoad)
      // Every well-formed name is one laterName moves (malformed names stay as they are).
      for (const n of files.map(baseName)) {
        if (/^\d{8}-\d{9}/.test(n)) expect(n, c.name).toMatch(/^20211017-/)
        if (/^LOAD[0-9A-F]{8}\./.test(n)) expect(n, c.name).toMatch(/^LOAD0/)
      }
      await uploadFolder(moto, join(c.dir, 'source'), bucket, `${prefix}/src`, {
        only: files,
        rename: laterName,
      })
      const e = await rejection(run(c, root, target))
      const added = files.map(laterName)
      if (inLoad && !LISTING_ERRORS.has(want.code)) {
        expect(e.code).toBe('late_file')
        expect(e.message).toContain('lakesync reload')
        expect(added.map((p) => `${root}/${p}`)).toContain(e.location?.file)
      } else {
        expect(e.code).toBe(want.code)
        expectNamesFile(e, want.code, laterName(want.file!), root, added)
        expectLineColumn(e, want)
      }
      expect(await listPrefix(moto, bucket, `${prefix}/lake`)).toEqual(before)
      expect((await readCommitLog(openStorage(target), 'users')).current?.version).toBe(1)
    })
  }
})
