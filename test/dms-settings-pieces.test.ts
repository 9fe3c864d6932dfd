/**
 * Files large enough for the parallel CSV parse (etl/threads/csv-parallel.ts), which cuts after line feeds outside
 * quotes and reads the header in its first piece only: a file whose header is not the config's (columns matched by
 * name), one with Rfc4180=false or another row delimiter, and a change file with NOSUP values are parsed whole on
 * one thread instead, with the same result as a small file.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { readVersionTable } from '../etl/commit/load-version.js'
import { readCommitLog } from '../etl/commit/log.js'
import { parseDmsFormat } from '../etl/dms/format.js'
import { runPipeline } from '../etl/pipeline.js'
import { parseTableSpec } from '../etl/table/spec.js'
import { enc } from './helpers/bytes.js'
import { seedOptions } from './helpers/fixtures.js'
import { MemoryStorage } from './helpers/memory-storage.js'
import { tableRows } from './helpers/tables.js'

// Every CSV file of this test file takes the parallel route (read once, on first use, by etl/threads/policy.ts).
process.env.LAKESYNC_PARALLEL_CSV_BYTES = '1'
afterAll(() => {
  delete process.env.LAKESYNC_PARALLEL_CSV_BYTES
})

const SPEC = parseTableSpec({
  name: 'users',
  columns: [
    { name: 'user_id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'last_login', type: 'date' },
    { name: 'phone', type: 'string', added: true },
  ],
  primaryKey: 'user_id',
})
const N = 20_000 // ~600 KB per file: several pieces of at least 64 KiB

async function mirror(files: Record<string, string>, format: Record<string, unknown>) {
  const source = new MemoryStorage()
  for (const [name, text] of Object.entries(files)) await source.write(name, enc(text))
  const target = new MemoryStorage()
  await runPipeline(seedOptions(source, target, { spec: SPEC, format: parseDmsFormat(format) }))
  const log = await readCommitLog(target, 'users')
  return tableRows(await readVersionTable(target, log.current!, SPEC))
}

const ids = Array.from({ length: N }, (_, i) => i + 1)

describe('large files with issue 19 settings', () => {
  it('a header in another order than the config: matched by name in every row', async () => {
    const load = `last_login,city,user_id,name\n${ids.map((i) => `2021-10-01,City ${i % 7},${i},N${i}\n`).join('')}`
    const rows = await mirror({ 'LOAD00000001.csv': load }, { addColumnName: true })
    expect(rows.length).toBe(N)
    expect(rows.at(-1)).toEqual([String(N), `N${N}`, `City ${N % 7}`, '2021-10-01', null])
  })

  it('Rfc4180=false and another row delimiter: quotes and line feeds are data in every row', async () => {
    const load = ids.map((i) => `${i},"N\n${i}",C"${i % 7},2021-10-01|`).join('')
    const rows = await mirror({ 'LOAD00000001.csv': load }, { rfc4180: false, csvRowDelimiter: '|' })
    expect(rows.length).toBe(N)
    expect(rows.at(-1)).toEqual([String(N), `"N\n${N}"`, `C"${N % 7}`, '2021-10-01', null])
  })

  it('NOSUP values in a large change file keep their previous values', async () => {
    const load = ids.map((i) => `${i},N${i},C${i % 7},2021-10-01\n`).join('')
    const change = ids.map((i) => `U,${i},NOSUP,D${i % 5},NOSUP,555-${i}\n`).join('')
    const rows = await mirror(
      { 'LOAD00000001.csv': load, '20211017-000000001.csv': change },
      { useCsvNoSupValue: true, csvNoSupValue: 'NOSUP' },
    )
    expect(rows.at(-1)).toEqual([String(N), `N${N}`, `D${N % 5}`, '2021-10-01', `555-${N}`])
    expect(rows.every((r, i) => r[1] === `N${i + 1}`)).toBe(true)
  })
})
