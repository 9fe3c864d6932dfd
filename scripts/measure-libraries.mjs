// Measures the library choices recorded in docs/decisions.md: CSV readers and Parquet writers/readers on the same
// 1M-row users table. The comparison libraries are not project dependencies; install them outside the project:
//   mkdir -p /tmp/libs && (cd /tmp/libs && npm init -y && npm i csv-parse parquetjs-lite)
//   npm run build && LIBS=/tmp/libs node scripts/measure-libraries.mjs [rows]

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parquetWriteBuffer } from 'hyparquet-writer'
import { parseDmsCsv } from '../dist/etl/dms/csv.js'
import { DEFAULT_DMS_FORMAT } from '../dist/etl/dms/format.js'
import { csvLayout } from '../dist/etl/dms/layout.js'
import { parquetToTable } from '../dist/etl/parquet/reader.js'
import { writeParquet } from '../dist/etl/parquet/writer.js'
import { USERS_SPEC } from '../dist/etl/table/spec.js'

const rows = Number(process.argv[2] ?? 1_000_000)
const libs = process.env.LIBS ?? '/tmp/libs'
const require = createRequire(join(libs, 'package.json'))
const { parse } = require('csv-parse/sync')
const parquet = require('parquetjs-lite')
const dir = mkdtempSync(join(tmpdir(), 'lakesync-libs-'))

const cities = ['Austin', 'Boston', 'Chicago', 'Denver', 'New York', 'Washington, D.C.', 'Zürich']
let text = ''
for (let i = 0; i < rows; i++) {
  const d = `2021-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`
  const city = cities[i % cities.length]
  text += `${i},Name ${i} Surname,${city.includes(',') ? `"${city}"` : city},${i % 97 === 0 ? '' : d}\n`
}
const bytes = Buffer.from(text)
const time = (label, fn) => {
  const t = performance.now()
  const r = fn()
  console.log(`${label.padEnd(44)} ${Math.round(performance.now() - t)} ms`)
  return r
}
const timeAsync = async (label, fn) => {
  const t = performance.now()
  const r = await fn()
  console.log(`${label.padEnd(44)} ${Math.round(performance.now() - t)} ms`)
  return r
}

console.log(`${rows} rows, ${(bytes.length / 1e6).toFixed(1)} MB of CSV; node ${process.version}`)
const layout = csvLayout(USERS_SPEC, DEFAULT_DMS_FORMAT, 'load')
const parsed = time('lakesync csv-reader (typed columns)', () =>
  parseDmsCsv(bytes, 'x.csv', USERS_SPEC, layout, DEFAULT_DMS_FORMAT),
)
time('csv-parse (strings only, no NULL/"" split)', () => parse(bytes))
time('csv-parse with cast hook (NULL vs "")', () =>
  parse(bytes, { cast: (v, ctx) => (v === '' && !ctx.quoting ? null : v) }),
)

const pq = time('hyparquet-writer (default options)', () => {
  const [ids, names, cs, dates] = parsed.rows.columns
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'user_id', data: ids.values.subarray(0, rows) },
        { name: 'name', data: names.values },
        { name: 'city', data: cs.values },
        {
          name: 'last_login',
          data: Array.from(dates.values.subarray(0, rows), (d) => (d === -0x80000000 ? null : d)),
        },
      ],
      schema: [
        { name: 'schema', num_children: 4 },
        { name: 'user_id', type: 'INT32', repetition_type: 'REQUIRED' },
        { name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'city', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'last_login', type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
      ],
    }),
  )
})
const own = time('lakesync parquet-writer (snappy)', () => writeParquet(parsed.rows))
time('lakesync parquet-writer (uncompressed)', () => writeParquet(parsed.rows, { compression: 'none' }))
console.log(
  `  sizes: hyparquet-writer ${(pq.length / 1e6).toFixed(1)} MB, lakesync snappy ${(own.length / 1e6).toFixed(1)} MB`,
)
await timeAsync('hyparquet read of the lakesync file', () => parquetToTable(own, USERS_SPEC, 'x'))
await timeAsync('hyparquet read (lakesync parquetToTable)', () => parquetToTable(pq, USERS_SPEC, 'x'))
const schema = new parquet.ParquetSchema({
  user_id: { type: 'INT32' },
  name: { type: 'UTF8', optional: true },
  city: { type: 'UTF8', optional: true },
  last_login: { type: 'DATE', optional: true },
})
const file = join(dir, 'lite.parquet')
await timeAsync('parquetjs-lite write', async () => {
  const w = await parquet.ParquetWriter.openFile(schema, file)
  const [ids, names, cs, dates] = parsed.rows.columns
  for (let i = 0; i < parsed.rows.length; i++) {
    const d = dates.values[i]
    await w.appendRow({
      user_id: ids.values[i],
      name: names.values[i] ?? undefined,
      city: cs.values[i] ?? undefined,
      last_login: d === -0x80000000 ? undefined : new Date(d * 86400000),
    })
  }
  await w.close()
})
await timeAsync('parquetjs-lite read (its own file)', async () => {
  const r = await parquet.ParquetReader.openFile(file)
  const c = r.getCursor()
  let n = 0
  while (await c.next()) n++
  await r.close()
  return n
})
writeFileSync(join(dir, 'hyparquet.parquet'), pq)
await timeAsync('parquetjs-lite read (hyparquet-writer file)', async () => {
  try {
    const r = await parquet.ParquetReader.openFile(join(dir, 'hyparquet.parquet'))
    const c = r.getCursor()
    while (await c.next()) {}
    await r.close()
  } catch (e) {
    console.log(`  -> fails: ${e.message}`)
  }
})
void readFileSync
