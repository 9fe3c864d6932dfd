/**
 * Golden fixtures: every folder under test/fixtures is a case (test/fixtures/README.md lists them and where the
 * expected output came from). Success cases must reproduce users.csv, users_features.csv and the per-file counts
 * byte for byte; error cases must fail with the expected code and location and leave the target untouched.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tableToCsv } from '../etl/report/csv-export.js'
import type { OpCounts } from '../etl/types.js'
import {
  cityMapFor,
  currentTables,
  discoverCases,
  listTree,
  rejection,
  runEngine,
  tempDir,
} from './helpers/fixtures.js'

const cases = discoverCases()

interface ExpectedFile {
  file: string
  rows?: number
  inserts?: number
  replaces?: number
  updates?: number
  upserts_of_missing?: number
  deletes?: number
  deletes_of_missing?: number
}

function snake(c: OpCounts) {
  return {
    inserts: c.inserts,
    replaces: c.replaces,
    updates: c.updates,
    upserts_of_missing: c.upsertsOfMissing,
    deletes: c.deletes,
    deletes_of_missing: c.deletesOfMissing,
  }
}

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1)

describe('golden fixtures', () => {
  it('has cases to run', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40)
  })

  for (const c of cases.filter((x) => !x.error)) {
    it(`${c.name}: ${c.description}`, async () => {
      const { result, target } = await runEngine(join(c.dir, 'source'), c.asOf, cityMapFor(c))
      expect(result.committed).toBe(true)
      const { users, features } = await currentTables(target)
      expect(tableToCsv(users)).toBe(readFileSync(join(c.dir, 'expected', 'users.csv'), 'utf8'))
      expect(tableToCsv(features)).toBe(readFileSync(join(c.dir, 'expected', 'users_features.csv'), 'utf8'))
      const expected = JSON.parse(readFileSync(join(c.dir, 'expected', 'counts.json'), 'utf8')) as {
        files: ExpectedFile[]
      }
      const actual = result.record!.files.map((f) =>
        f.counts ? { file: baseName(f.path), ...snake(f.counts) } : { file: baseName(f.path), rows: f.rows },
      )
      expect(actual).toEqual(expected.files)
    })
  }

  for (const c of cases.filter((x) => x.error)) {
    it(`${c.name}: ${c.description}`, async () => {
      const target = tempDir()
      const e = await rejection(runEngine(join(c.dir, 'source'), c.asOf, cityMapFor(c), target))
      const want = c.error!
      expect(e.code).toBe(want.code)
      if (want.file !== undefined) {
        const got = baseName(e.location?.file ?? '')
        // duplicate_file names either spelling of the pair (X.csv / X.csv.gz)
        expect(want.code === 'duplicate_file' ? got.replace(/\.gz$/, '') : got).toBe(want.file)
        expect(e.message).toContain(want.file.replace(/\.gz$/, ''))
      }
      if (want.line !== undefined) {
        expect(e.location?.line).toBe(want.line)
        expect(e.message).toContain(`line ${want.line}`)
      }
      if (want.column !== undefined) {
        expect(e.location?.column).toBe(want.column)
        expect(e.message).toContain(`column ${want.column}`)
      }
      expect(listTree(target)).toEqual([])
    })
  }
})
