/**
 * Reading a DMS file while it is parsed (etl/read-dms-file.ts) from a local folder in small pieces: the result,
 * dictionary codes, errors and fingerprint of one read and one parse of the whole file; and the local adapter's piece
 * reads of a file that grows while it is read.
 */
import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { appendFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseDmsCsv } from '../etl/dms/csv.js'
import type { DmsFile } from '../etl/dms/files.js'
import { DEFAULT_DMS_FORMAT } from '../etl/dms/format.js'
import { csvLayout } from '../etl/dms/layout.js'
import { LakesyncError } from '../etl/errors.js'
import { readDmsFile } from '../etl/read-dms-file.js'
import { LocalStorage } from '../etl/storage/local.js'
import { USERS_SPEC } from '../etl/table/spec.js'
import { enc } from './helpers/bytes.js'
import { outcome, outcomeAsync, parsedWithCodes } from './helpers/dms-csv-documents.js'
import { tempDir } from './helpers/fixtures.js'

const format = DEFAULT_DMS_FORMAT
const layout = csvLayout(USERS_SPEC, format, 'load')
const LOAD: DmsFile = {
  path: 'LOAD00000001.csv',
  name: 'LOAD00000001.csv',
  kind: 'load',
  gzip: false,
  format: 'csv',
  part: 1,
  timestamp: '',
}

/** A folder holding `rows` as its LOAD file, and the file's path and bytes. */
function folderWith(rows: string[]): { dir: string; path: string; bytes: Uint8Array } {
  const dir = tempDir('lakesync-stream-')
  const path = join(dir, LOAD.path)
  const bytes = enc(rows.join(''))
  writeFileSync(path, bytes)
  return { dir, path, bytes }
}

describe('readDmsFile on a local folder, in small pieces', () => {
  it('parses and fingerprints the file as one read would, whatever the piece size', async () => {
    const rows: string[] = []
    for (let i = 0; i < 5000; i++)
      rows.push(
        `${i},${i % 17 === 0 ? `"Name, ""${i % 50}"""` : `n${i % 300}`},"c${i % 40}\nx",2021-01-${String((i % 28) + 1).padStart(2, '0')}\n`,
      )
    const { dir, path, bytes } = folderWith(rows)
    const expected = outcome(
      () => parseDmsCsv(bytes, path, USERS_SPEC, layout, format, { dictionary: true }),
      parsedWithCodes,
    )
    expect(expected).toHaveProperty('ok')
    for (const piece of [61, 4096, 1 << 20]) {
      const got = await readDmsFile(new LocalStorage(dir, piece), LOAD, USERS_SPEC, format)
      expect(got.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
      expect(Buffer.from(got.raw).equals(Buffer.from(bytes))).toBe(true)
      expect(outcome(() => got.parsed, parsedWithCodes)).toEqual(expected)
    }
  })

  it('fails on a bad row late in a file read in pieces with the whole-file error (file, line, column)', async () => {
    const rows: string[] = []
    for (let i = 0; i < 5000; i++) rows.push(`${i},"n${i % 300}\nx",c${i % 40},2021-01-0${(i % 9) + 1}\n`)
    rows[4321] = '4321,n,c,2021-02-30\n' // not a calendar date, ~86% into the file
    const { dir, path, bytes } = folderWith(rows)
    const whole = outcome(
      () => parseDmsCsv(bytes, path, USERS_SPEC, layout, format, { dictionary: true }),
      parsedWithCodes,
    )
    expect(whole).toMatchObject({
      error: { name: 'InputError', code: 'bad_date', location: { file: path, line: 8643, column: 4 } },
    })
    for (const piece of [61, 4096]) {
      const read = () => readDmsFile(new LocalStorage(dir, piece), LOAD, USERS_SPEC, format)
      await expect(read()).rejects.toThrow(LakesyncError)
      expect(await outcomeAsync(read, (got) => got.parsed)).toEqual(whole)
    }
  })
})

describe('LocalStorage.readPieces', () => {
  it('reads a file as it was when opened, as readFile does, when it grows meanwhile', async () => {
    const dir = tempDir('lakesync-stream-')
    const path = join(dir, 'grows')
    writeFileSync(path, 'a'.repeat(100))
    const ends: number[] = []
    const whole = await new LocalStorage(dir, 16).readPieces('grows', (_b, end) => {
      if (ends.length === 0) appendFileSync(path, 'b'.repeat(50)) // done before the next piece is handed over
      ends.push(end)
    })
    expect(Buffer.from(whole).toString()).toBe('a'.repeat(100))
    expect(ends).toEqual([16, 32, 48, 64, 80, 96, 100])
  })
})
