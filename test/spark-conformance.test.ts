/**
 * The Spark job (glue/) against the TypeScript engine: over every golden fixture, a seeded random set and a mixed
 * Lambda/Spark/Lambda sequence, both must publish identical tables (rows, values, Parquet types, logical types and
 * field ids, row order, read back with DuckDB) and matching commit records, and on the golden fixtures the tables of
 * their expected CSV files. Error fixtures must fail in Spark with the same code and leave the target without a file.
 * Issue 16's column types run the same way (test/fixtures-spark-types): a table of every type from DMS CSV and from
 * DMS Parquet written with pyarrow, a TypeScript/Spark/TypeScript lineage of it, the `orders` table (composite key,
 * no features) from CSV and from millisecond DMS Parquet, and bad values, NULL and duplicate composite keys failing
 * with the TypeScript engine's code and message. All Spark work runs in ONE local Spark session
 * (`glue/run_local.py --batch`), started in beforeAll: a JVM start costs seconds, a run in a warm session well under
 * one. A DMS root of three tables (test/helpers/three-tables.ts) runs through `lakesync run --engine spark` against
 * the TypeScript engine's run of it.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { mulberry32 } from '../bench/generate.js'
import { readCommitLog } from '../etl/commit/log.js'
import { parseDmsFormat } from '../etl/dms/format.js'
import { type RunResult, runPipeline } from '../etl/pipeline.js'
import { LocalStorage } from '../etl/storage/local.js'
import { cli } from './helpers/cli.js'
import { type Cell, dmsCsv } from './helpers/dms-writer.js'
import {
  type CaseSpec,
  cityMapFor,
  discoverCases,
  FIXTURES,
  listTree,
  rejection,
  runEngine,
  SEED,
  SEED_CITIES,
  SEED_FILES,
  seedOptions,
  tempDir,
} from './helpers/fixtures.js'
import { exportRows, ICEBERG_READERS, readIceberg, sortRows } from './helpers/iceberg-readers.js'
import { parquetSeed, queryRows, sqlString, toParquet } from './helpers/parquet.js'
import {
  comparable,
  current,
  expectSameTables,
  PYTHON,
  parquetFile,
  published,
  python,
  type SparkResult,
  type SparkRun,
  sparkBatch,
} from './helpers/spark.js'
import * as three from './helpers/three-tables.js'

/**
 * Both tables published in `target` equal a golden case's expected CSV files (read by DuckDB with the published
 * column types; a quoted "" is the empty string, an empty unquoted field NULL): values and row order. The version
 * folder is not read as a hive partition column: the fixtures have none.
 */
async function expectGolden(target: string, expected: string): Promise<void> {
  for (const which of ['users', 'users_features'] as const) {
    const parquet = `read_parquet(${await parquetFile(target, which)}, hive_partitioning = false)`
    const types = await queryRows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${parquet})`)
    const columns = types.map(([name, type]) => `${sqlString(String(name))}: ${sqlString(String(type))}`)
    const csv = sqlString(join(expected, `${which}.csv`))
    const want = await queryRows(
      `SELECT * FROM read_csv(${csv}, header = true, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, columns = {${columns.join(', ')}})`,
    )
    expect(await queryRows(`SELECT * FROM ${parquet}`), `${which} equals ${expected}/${which}.csv`).toEqual(
      want,
    )
  }
}

// ---------------------------------------------------------------- seeded random sources

const CITIES = [
  'Austin',
  'Boston',
  'Nashville-Davidson',
  'Nashville',
  'Zürich',
  'Atlantis',
  'São Paulo',
  'Chicago',
]
const NAMES = ['Ann', 'Bob, Jr.', 'Q"uote', 'multi\nline', '', 'Émile', '李', 'Zoë']

function randomSource(seed: number): string {
  const rnd = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const date = (): string | null => {
    if (rnd() < 0.1) return null
    const d = new Date(Date.UTC(2021, 9, 17) - Math.floor(rnd() * 200 - 20) * 86_400_000)
    return d.toISOString().slice(0, 10)
  }
  const row = (id: number): Cell[] => [
    id,
    rnd() < 0.1 ? null : pick(NAMES),
    rnd() < 0.1 ? null : pick(CITIES),
    date(),
  ]
  const dir = tempDir('lakesync-spark-random-')
  const n = 20 + Math.floor(rnd() * 150)
  const maxKey = n + 40
  const ids = new Set<number>()
  while (ids.size < n) ids.add(Math.floor(rnd() * maxKey) - 5)
  writeFileSync(join(dir, 'LOAD00000001.csv'), dmsCsv([...ids].slice(0, n >> 1).map((id) => row(id))))
  writeFileSync(join(dir, 'LOAD00000002.csv'), dmsCsv([...ids].slice(n >> 1).map((id) => row(id))))
  const files = 1 + Math.floor(rnd() * 4)
  for (let f = 0; f < files; f++) {
    const rows: Cell[][] = []
    const m = Math.floor(rnd() * 40)
    for (let i = 0; i < m; i++) {
      const op = pick(['I', 'U', 'D', 'U'])
      rows.push([op, ...row(Math.floor(rnd() * maxKey) - 5)])
    }
    writeFileSync(join(dir, `2021101${f}-12000000${seed % 10}.csv`), dmsCsv(rows))
  }
  return dir
}

// ---------------------------------------------------------------- the runs

const cases = discoverCases()
const success = cases.filter((c) => !c.error)
const failing = cases.filter((c) => c.error)
const RANDOM_SEEDS = [1, 2, 3, 4, 5, 6]
const citiesOf = (c: CaseSpec) => (c.cities ? { cities: join(c.dir, c.cities) } : {})

let results = new Map<string, SparkResult>()
const targets = new Map<string, { spark: string; ts: string }>()
const randomSources = new Map<number, string>()
// Mixed sequence: TypeScript commits v1, Spark v2, TypeScript v3; compared with TypeScript for all three.
const mixed = { source: '', target: '', allTs: '' }
// The golden reference case's source is the six seed files; the mixed runs apply them in three stages.
const REFERENCE = join(FIXTURES, 'reference')
const REF = join(REFERENCE, 'source')
const STAGES = [SEED_FILES.slice(0, 2), SEED_FILES.slice(2, 4), SEED_FILES.slice(4)]

function addStage(dir: string, i: number): void {
  for (const f of STAGES[i]!) cpSync(join(REF, f), join(dir, f))
}

// ---------------------------------------------------------------- ordering changes by a column (change-order.test.ts)

const BY_TIMESTAMP = { timestampColumnName: 'ts', orderChangesBy: 'timestamp' } as const
const BY_SEQUENCE = { changeSequenceColumnName: 'seq', orderChangesBy: 'changeSequence' } as const
const SEQ = (n: number) => `20211017100000000000000000000000${n}`
interface OrderCase {
  format: Record<string, string | boolean>
  files: Record<string, string> // the source
  before?: Record<string, string> // applied by the TypeScript engine first (v1), then `files` are added
  error?: { code: string; text: string }
}
const ORDER_CASES: Record<string, OrderCase> = {
  // File order says second, first, third; the timestamps say first, second, third; equal timestamps tie by file.
  'order-timestamp': {
    format: BY_TIMESTAMP,
    files: {
      'LOAD00000001.csv': '2021-10-01 00:00:00.000000,1,Load,Austin,2021-01-01\n',
      '20211017-000000001.csv':
        'U,2021-10-17 10:00:00.000002,1,Second,Austin,2021-10-02\nU,2021-10-17 10:00:00.000001,1,First,Austin,2021-10-01\n',
      '20211017-000000002.csv':
        'U,2021-10-17 10:00:00.000003,1,Third,Austin,2021-10-03\nI,2021-10-17 10:00:00.000003,2,TieA,Boston,\n',
      '20211017-000000003.csv':
        'U,2021-10-17 10:00:00.000003,2,TieB,Boston,\nD,2021-10-17 10:00:00.000000,3,,,\n',
    },
  },
  'order-sequence': {
    format: BY_SEQUENCE,
    files: {
      'LOAD00000001.csv': '1,Load,Austin,2021-01-01,0\n5,Five,Boston,2021-10-01,0\n',
      '20211017-000000001.csv': `U,1,Newer,Austin,2021-10-02,${SEQ(200)}\nU,1,Older,Austin,2021-10-01,${SEQ(100)}\nD,5,,,,${SEQ(99)}\nI,5,Back,Boston,,${SEQ(300)}\n`,
      '20211017-000000002.csv': `U,7,Missing,Austin,,${SEQ(150)}\nU,1,Tie,Austin,,0${SEQ(200)}\n`,
    },
  },
  // Spark continues a TypeScript lineage: the newer file is applied, lastSequence carries over.
  'order-sequence-continue': {
    format: BY_SEQUENCE,
    before: {
      'LOAD00000001.csv': '1,Load,Austin,2021-01-01,0\n',
      '20211017-000000002.csv': `U,1,Newer,Austin,2021-10-02,${SEQ(200)}\n`,
    },
    // Named earlier than the applied file, but its sequence is newer: fine when a column orders the changes.
    files: { '20211017-000000001.csv': `U,1,Newest,Austin,2021-10-03,${SEQ(201)}\n` },
  },
  'order-sequence-late': {
    format: BY_SEQUENCE,
    before: {
      'LOAD00000001.csv': '1,Load,Austin,2021-01-01,0\n',
      '20211017-000000001.csv': `U,1,Newer,Austin,2021-10-02,${SEQ(200)}\n`,
    },
    files: {
      '20211017-000000002.csv': `U,1,Fine,Austin,,${SEQ(201)}\nU,1,Stale,Austin,2021-09-01,${SEQ(150)}\n`,
    },
    error: { code: 'late_file', text: '20211017-000000002.csv line 2 has changeSequence' },
  },
  'order-sequence-empty': {
    format: BY_SEQUENCE,
    files: {
      'LOAD00000001.csv': '1,Load,Austin,2021-01-01,0\n',
      '20211017-000000001.csv': 'U,1,X,Austin,2021-10-02,\n',
    },
    error: { code: 'bad_sequence', text: 'line 1 column 6' },
  },
  // Issue 19's settings the Spark engine reads (dms-settings.test.ts): change rows without Op, Rfc4180=false.
  'cdc-inserts-only': {
    format: { cdcInsertsOnly: true },
    files: {
      'LOAD00000001.csv': '1,Alice,Austin,2021-10-01\n2,Bob,Boston,2021-10-02\n',
      '20211017-000000001.csv': '2,Bobby,Boston,2021-10-05\n3,Cy,Chicago,2021-10-06\n',
    },
  },
  'cdc-inserts-and-updates': {
    format: { cdcInsertsAndUpdates: true, includeOpForFullLoad: true },
    files: {
      'LOAD00000001.csv': 'I,1,Alice,Austin,2021-10-01\n',
      '20211017-000000001.csv': 'U,1,Al,Austin,2021-10-03\nI,2,Bob,Boston,2021-10-04\nD,2,,,\n',
    },
    error: { code: 'unknown_op', text: 'unknown Op "D" (expected I or U: format.cdcInsertsAndUpdates)' },
  },
  'rfc4180-off': {
    format: { rfc4180: false },
    files: {
      'LOAD00000001.csv': '1,Al "Bo" Smith,Austin,2021-10-01\n2,"Bob",Boston,2021-10-02\n',
      '20211017-000000001.csv': 'U,1,"",Aus"tin,2021-10-03\n',
    },
  },
}
const orderDirs = new Map<string, { source: string; config: string; spark: string }>()

// ---------------------------------------------------------------- DMS Parquet input (dms-parquet.test.ts)

const PARQUET_CODECS = ['snappy', 'gzip'] as const
const BAD_OP_FILE = '20211019-000000000.parquet'
const parquetDirs = new Map<string, { source: string; spark: string }>()

async function runOrdered(name: string, source: string, target: string): Promise<RunResult> {
  return runPipeline(
    seedOptions(new LocalStorage(source), new LocalStorage(target), {
      format: parseDmsFormat(ORDER_CASES[name]!.format),
    }),
  )
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text)
}

// ---------------------------------------------------------------- column types, composite keys, no features (issue 16)

// The every_type and orders rows of test/column-types.test.ts as DMS files: CSV here, DMS Parquet by dms_parquet.py.
const TYPES = join(import.meta.dirname, 'fixtures-spark-types')
const EVERY_TYPE = join(TYPES, 'every_type.json')
const ORDERS = join(TYPES, 'orders.json')
const TYPES_AS_OF = '2021-10-17'
interface TypedCase {
  table: string
  config: string
  source: string // filled in beforeAll for the DMS Parquet sources
  spark: string
  error?: { code: string; text: string }
}
const typedCase = (table: string, source = '', error?: TypedCase['error']): TypedCase => ({
  table,
  config: table === 'orders' ? ORDERS : EVERY_TYPE,
  source,
  spark: '',
  ...(error ? { error } : {}),
})
const TYPED: Record<string, TypedCase> = {
  'types-csv': typedCase('every_type', join(TYPES, 'every_type')),
  'types-parquet': typedCase('every_type'), // the same rows as DMS Parquet (pyarrow; micros)
  'orders-csv': typedCase('orders', join(TYPES, 'orders')),
  'orders-parquet-ms': typedCase('orders'), // ParquetTimestampInMillisecond=true
  'types-bad-timestamp': typedCase('every_type', '', {
    code: 'bad_value',
    text: 'bad timestamp "2021-10-17 19:43:24.3490001" for ts: ',
  }),
  'orders-bad-parquet-decimal': typedCase('orders', '', {
    code: 'bad_value',
    text: 'more than 2 fraction digits (the value 1005)',
  }),
  'orders-null-key': typedCase('orders', '', { code: 'null_key', text: 'NULL key column line_no' }),
  'orders-duplicate-key': typedCase('orders', '', {
    code: 'duplicate_key',
    text: 'duplicate key (order_id, line_no)=(1, 1)',
  }),
}
// every_type in three stages: TypeScript v1 (the full load), Spark v2 (the change file), TypeScript v3 (a later one).
const typesMixed = { source: '', target: '', allTs: '' }
const TYPES_LATER = join(TYPES, 'every_type_later', '20211018-000000000.csv')

/** The TypeScript engine (the CLI, in-process) on a configured table; returns the target. */
async function tsTyped(
  source: string,
  config: string,
  target = tempDir('lakesync-types-ts-'),
): Promise<string> {
  const r = await cli(
    'run',
    '--source',
    source,
    '--target',
    target,
    '--config',
    config,
    '--as-of',
    TYPES_AS_OF,
  )
  expect(r.err).toBe('')
  expect(r.code).toBe(0)
  return target
}

/** The sources of the typed cases that are not fixture folders. */
async function typedSources(): Promise<void> {
  const [every, ordersMs, ordersBad] = [
    'types-parquet',
    'orders-parquet-ms',
    'orders-bad-parquet-decimal',
  ].map((id) => {
    TYPED[id]!.source = tempDir('lakesync-types-src-')
    return TYPED[id]!.source
  })
  const r = await python([join(TYPES, 'dms_parquet.py'), every!, ordersMs!, ordersBad!])
  if (r.code !== 0) throw new Error(`dms_parquet.py failed:\n${r.stderr}`)
  const csv = (id: string, lines: string[]) => {
    TYPED[id]!.source = tempDir('lakesync-types-src-')
    writeFileSync(join(TYPED[id]!.source, 'LOAD00000001.csv'), `${lines.join('\n')}\n`)
  }
  const load = readFileSync(join(TYPES, 'every_type', 'LOAD00000001.csv'), 'utf8').split('\n')
  // The last row with a timestamp that has a non-zero digit beyond the microsecond (never rounded).
  csv('types-bad-timestamp', [
    load[0]!,
    load[2]!.replace('2262-04-11 23:47:16.854775', '2021-10-17 19:43:24.3490001'),
  ])
  csv('orders-null-key', ['1,1,1.00,', '2,,2.00,'])
  csv('orders-duplicate-key', ['1,1,1.00,', '1,2,2.00,', '1,1,3.00,'])
}

beforeAll(async () => {
  if (!existsSync(PYTHON))
    throw new Error('no .venv: run `bash scripts/setup-test-env.sh` (installs pyspark)')

  const runs: SparkRun[] = []
  for (const c of [...success, ...failing]) {
    const spark = tempDir('lakesync-spark-')
    targets.set(c.name, { spark, ts: '' })
    runs.push({ id: c.name, source: join(c.dir, 'source'), target: spark, asOf: c.asOf, ...citiesOf(c) })
  }
  for (const seed of RANDOM_SEEDS) {
    const source = randomSource(seed)
    randomSources.set(seed, source)
    const spark = tempDir('lakesync-spark-')
    targets.set(`random-${seed}`, { spark, ts: '' })
    runs.push({ id: `random-${seed}`, source, target: spark, asOf: '2021-10-17' })
  }
  // Mixed: stage 1 by TypeScript now, stage 2 by Spark in the batch, stage 3 by TypeScript in the test.
  mixed.source = tempDir('lakesync-mixed-src-')
  mixed.target = tempDir('lakesync-mixed-')
  mixed.allTs = tempDir('lakesync-mixed-ts-')
  mkdirSync(mixed.source, { recursive: true })
  addStage(mixed.source, 0)
  await runEngine(mixed.source, '2021-10-17', SEED_CITIES, mixed.target)
  await runEngine(mixed.source, '2021-10-17', SEED_CITIES, mixed.allTs)
  addStage(mixed.source, 1)
  runs.push({ id: 'mixed-2', source: mixed.source, target: mixed.target, asOf: '2021-10-17' })
  // Then a second Spark run with nothing new: up to date, commits nothing.
  runs.push({ id: 'mixed-2-again', source: mixed.source, target: mixed.target, asOf: '2021-10-17' })
  for (const [name, c] of Object.entries(ORDER_CASES)) {
    const source = tempDir('lakesync-order-src-')
    const spark = tempDir('lakesync-order-')
    const config = join(tempDir('lakesync-order-config-'), 'config.json')
    writeFileSync(config, JSON.stringify({ format: c.format }))
    if (c.before) {
      writeFiles(source, c.before)
      await runOrdered(name, source, spark)
    }
    writeFiles(source, c.files)
    orderDirs.set(name, { source, config, spark })
    runs.push({ id: name, source, target: spark, asOf: '2021-10-17', config })
  }
  for (const codec of PARQUET_CODECS) {
    const source = await parquetSeed(codec)
    const spark = tempDir('lakesync-spark-parquet-')
    parquetDirs.set(codec, { source, spark })
    runs.push({ id: `parquet-${codec}`, source, target: spark, asOf: '2021-10-17' })
  }
  const badOp = await parquetSeed('snappy')
  await toParquet(
    "SELECT 'X' AS Op, 5::INTEGER AS user_id, 'a' AS name, 'b' AS city, DATE '2021-01-01' AS last_login",
    join(badOp, BAD_OP_FILE),
    'snappy',
  )
  parquetDirs.set('bad-op', { source: badOp, spark: tempDir('lakesync-spark-parquet-') })
  runs.push({
    id: 'parquet-bad-op',
    source: badOp,
    target: parquetDirs.get('bad-op')!.spark,
    asOf: '2021-10-17',
  })
  await typedSources()
  for (const [id, c] of Object.entries(TYPED)) {
    c.spark = tempDir('lakesync-spark-types-')
    runs.push({ id, source: c.source, target: c.spark, asOf: TYPES_AS_OF, config: c.config })
  }
  typesMixed.source = tempDir('lakesync-types-mixed-src-')
  typesMixed.target = tempDir('lakesync-types-mixed-')
  typesMixed.allTs = tempDir('lakesync-types-mixed-ts-')
  cpSync(join(TYPES, 'every_type', 'LOAD00000001.csv'), join(typesMixed.source, 'LOAD00000001.csv'))
  await tsTyped(typesMixed.source, EVERY_TYPE, typesMixed.target)
  await tsTyped(typesMixed.source, EVERY_TYPE, typesMixed.allTs)
  cpSync(
    join(TYPES, 'every_type', '20211017-194324349.csv'),
    join(typesMixed.source, '20211017-194324349.csv'),
  )
  runs.push({
    id: 'types-mixed-2',
    source: typesMixed.source,
    target: typesMixed.target,
    asOf: TYPES_AS_OF,
    config: EVERY_TYPE,
  })
  results = await sparkBatch(runs)
}, 900_000) // one Spark session for every run: minutes, more on a loaded machine

describe('Spark job conformance', () => {
  for (const c of success) {
    it(`golden ${c.name}: Spark publishes what the TypeScript engine publishes`, async () => {
      const r = results.get(c.name)!
      expect(r.error ?? '').toBe('')
      expect(r.ok).toBe(true)
      const t = targets.get(c.name)!
      const { target: ts } = await runEngine(join(c.dir, 'source'), c.asOf, cityMapFor(c))
      await expectSameTables(t.spark, ts)
      await expectGolden(t.spark, join(c.dir, 'expected'))
      const [a, b] = [await current(t.spark), await current(ts)]
      expect(comparable(a)).toEqual(comparable(b))
      expect(a.engine.name).toBe('lakesync-spark')
    })
  }

  for (const c of failing) {
    it(`golden ${c.name}: Spark fails with ${c.error!.code} and commits nothing`, () => {
      const r = results.get(c.name)!
      expect(r.ok).toBe(false)
      expect(r.code).toBe(c.error!.code)
      if (c.error!.file) expect(r.error).toContain(c.error!.file.replace(/\.gz$/, ''))
      expect(listTree(targets.get(c.name)!.spark)).toEqual([])
    })
  }

  for (const seed of RANDOM_SEEDS) {
    it(`random source (seed ${seed}): identical tables`, async () => {
      const r = results.get(`random-${seed}`)!
      expect(r.error ?? '').toBe('')
      const { target: ts } = await runEngine(randomSources.get(seed)!, '2021-10-17', SEED_CITIES)
      await expectSameTables(targets.get(`random-${seed}`)!.spark, ts)
      expect(comparable(await current(targets.get(`random-${seed}`)!.spark))).toEqual(
        comparable(await current(ts)),
      )
    })
  }

  for (const [name, c] of Object.entries(ORDER_CASES)) {
    it(`${name}: changes read and ordered (${c.format.orderChangesBy ?? 'file'}) as the TypeScript engine does`, async () => {
      const r = results.get(name)!
      const d = orderDirs.get(name)!
      if (c.error) {
        expect(r).toMatchObject({ ok: false, code: c.error.code })
        expect(r.error).toContain(c.error.text)
        const ts = tempDir('lakesync-order-ts-')
        if (c.before) {
          // Same lineage for the TypeScript engine: v1 from `before` alone, then the same error.
          const only = tempDir('lakesync-order-before-')
          writeFiles(only, c.before)
          await runOrdered(name, only, ts)
        }
        const err = await rejection(runOrdered(name, d.source, ts))
        expect(err.code).toBe(c.error.code)
        expect(err.message).toBe(r.error)
        const log = await readCommitLog(new LocalStorage(d.spark), 'users')
        expect(log.entries.length).toBe(c.before ? 1 : 0)
        return
      }
      expect(r.error ?? '').toBe('')
      expect(r.ok).toBe(true)
      const ts = tempDir('lakesync-order-ts-')
      if (c.before) {
        const only = tempDir('lakesync-order-before-')
        writeFiles(only, c.before)
        await runOrdered(name, only, ts)
      }
      await runOrdered(name, d.source, ts)
      await expectSameTables(d.spark, ts)
      const [a, b] = [await current(d.spark), await current(ts)]
      if (c.format.orderChangesBy) expect(a.lastSequence).toBeDefined()
      expect({ ...comparable(a), lastSequence: a.lastSequence }).toEqual({
        ...comparable(b),
        lastSequence: b.lastSequence,
      })
      expect(a.engine.name).toBe('lakesync-spark')
    })
  }

  for (const codec of PARQUET_CODECS) {
    it(`DMS Parquet input (${codec}, written by DuckDB): Spark publishes what the TypeScript engine publishes`, async () => {
      const r = results.get(`parquet-${codec}`)!
      expect(r.error ?? '').toBe('')
      expect(r.ok).toBe(true)
      const d = parquetDirs.get(codec)!
      const { target: ts } = await runEngine(d.source, '2021-10-17', SEED_CITIES)
      await expectSameTables(d.spark, ts)
      const [a, b] = [await current(d.spark), await current(ts)]
      expect(comparable(a)).toEqual(comparable(b))
      expect(a.files.every((f) => f.path.endsWith('.parquet'))).toBe(true)
    })
  }

  it('DMS Parquet input with an unknown Op: Spark fails as the TypeScript engine does and commits nothing', async () => {
    const r = results.get('parquet-bad-op')!
    const d = parquetDirs.get('bad-op')!
    expect(r).toMatchObject({ ok: false, code: 'unknown_op' })
    expect(r.error).toContain(`${BAD_OP_FILE} line 1 column 1`)
    const err = await rejection(runEngine(d.source, '2021-10-17', SEED_CITIES, tempDir()))
    expect(err.code).toBe('unknown_op')
    expect(err.message).toBe(r.error)
    expect(listTree(d.spark)).toEqual([])
  })

  it('mixed runs: TypeScript v1, Spark v2, TypeScript v3 equal an all-TypeScript run and the golden reference', async () => {
    expect(results.get('mixed-2')).toMatchObject({ ok: true, version: 2 })
    expect(results.get('mixed-2-again')).toMatchObject({ ok: true, version: 2 })
    expect(results.get('mixed-2-again')!.message).toMatch(/^up to date/)
    await runEngine(mixed.source, '2021-10-17', SEED_CITIES, mixed.allTs) // all-TypeScript v2
    await expectSameTables(mixed.target, mixed.allTs)
    addStage(mixed.source, 2)
    const third = await runEngine(mixed.source, '2021-10-17', SEED_CITIES, mixed.target)
    await runEngine(mixed.source, '2021-10-17', SEED_CITIES, mixed.allTs)
    expect(third.result.record?.version).toBe(3)
    await expectSameTables(mixed.target, mixed.allTs)
    const log = await readCommitLog(new LocalStorage(mixed.target), 'users')
    expect(log.committed.map((r) => r.engine.name)).toEqual(['lakesync', 'lakesync-spark', 'lakesync'])
    const all = await readCommitLog(new LocalStorage(mixed.allTs), 'users')
    expect(log.committed.map((r) => comparable(r))).toEqual(all.committed.map((r) => comparable(r)))
    // All three stages hold the reference case's six files: the mixed lineage publishes its golden tables.
    expect(listTree(mixed.source)).toEqual(listTree(REF))
    await expectGolden(mixed.target, join(REFERENCE, 'expected'))
  })
  for (const [id, c] of Object.entries(TYPED)) {
    if (c.error) {
      it(`${id}: Spark fails with ${c.error.code} and the TypeScript engine's message, and commits nothing`, async () => {
        const r = results.get(id)!
        expect(r).toMatchObject({ ok: false, code: c.error!.code })
        expect(r.error).toContain(c.error!.text)
        const ts = await cli(
          'run',
          '--source',
          c.source,
          '--target',
          tempDir(),
          '--config',
          c.config,
          '--as-of',
          TYPES_AS_OF,
        )
        expect(ts.code).toBe(1)
        expect(ts.err).toContain(r.error)
        expect(listTree(c.spark)).toEqual([])
      })
      continue
    }
    it(`${id}: Spark publishes ${c.table} as the TypeScript engine does (every value, logical type, field id)`, async () => {
      const r = results.get(id)!
      expect(r.error ?? '').toBe('')
      expect(r.ok).toBe(true)
      const ts = await tsTyped(c.source, c.config)
      await expectSameTables(c.spark, ts, c.table)
      const [a, b] = [await current(c.spark, c.table), await current(ts, c.table)]
      expect(comparable(a)).toEqual(comparable(b))
      expect(a.engine.name).toBe('lakesync-spark')
      if (c.table === 'orders') {
        // No features section: nothing but the table is published, and the record says nothing of features.
        expect(Object.keys(a.outputs)).toEqual(['users'])
        expect(a.rows).toEqual({ users: 4 })
        expect(a.features).toBeUndefined()
        expect(listTree(c.spark).filter((f) => f.endsWith('.parquet'))).toEqual([
          'orders/v=00000000000000000001/part-00000.parquet',
        ])
      }
    })
  }

  it('every type: DMS Parquet and DMS CSV of the same rows publish the same table in Spark', async () => {
    for (const [csv, parquet] of [
      ['types-csv', 'types-parquet'],
      ['orders-csv', 'orders-parquet-ms'],
    ] as const) {
      const { table } = TYPED[csv]!
      expect(results.get(parquet)!.ok).toBe(true)
      expect(await published(TYPED[parquet]!.spark, 'users', table)).toEqual(
        await published(TYPED[csv]!.spark, 'users', table),
      )
    }
  })

  it('every type, mixed runs: TypeScript v1, Spark v2, TypeScript v3 equal an all-TypeScript lineage', async () => {
    expect(results.get('types-mixed-2')).toMatchObject({ ok: true, version: 2 })
    await tsTyped(typesMixed.source, EVERY_TYPE, typesMixed.allTs) // all-TypeScript v2
    await expectSameTables(typesMixed.target, typesMixed.allTs, 'every_type')
    cpSync(TYPES_LATER, join(typesMixed.source, '20211018-000000000.csv'))
    await tsTyped(typesMixed.source, EVERY_TYPE, typesMixed.target) // reads Spark's v2 back
    await tsTyped(typesMixed.source, EVERY_TYPE, typesMixed.allTs)
    await expectSameTables(typesMixed.target, typesMixed.allTs, 'every_type')
    const log = await readCommitLog(new LocalStorage(typesMixed.target), 'every_type')
    expect(log.committed.map((r) => r.engine.name)).toEqual(['lakesync', 'lakesync-spark', 'lakesync'])
    const all = await readCommitLog(new LocalStorage(typesMixed.allTs), 'every_type')
    expect(log.committed.map((r) => comparable(r))).toEqual(all.committed.map((r) => comparable(r)))
  })
})

describe('Spark job conformance: a DMS root of three tables', () => {
  it('--engine spark mirrors every table as the TypeScript engine does; a failing table is named (exit 5) and catches up once fixed', async () => {
    const src = three.root()
    three.put(src, 'public/prefs/20211017-200000000.csv', ['U,2,{},maybe'])
    const cfg = three.config([three.USERS, three.ORDERS, three.PREFS])
    const ts = tempDir()
    const spark = tempDir()
    const a = await three.run(src, ts, cfg)
    const b = await three.run(src, spark, cfg, '--engine', 'spark')
    expect([a.code, b.code]).toEqual([5, 5])
    expect(b.err).toContain('lakesync run: table prefs: ')
    expect(b.err).toContain('bad boolean "maybe" for active')
    for (const t of ['users', 'orders']) await expectSameTables(spark, ts, t)
    expect(three.committed(spark, 'prefs', 1)).toBe(false)

    three.put(src, 'public/prefs/20211017-200000000.csv', ['U,2,{},true'])
    const fixed = [await three.run(src, ts, cfg), await three.run(src, spark, cfg, '--engine', 'spark')]
    expect(fixed.map((r) => r.code)).toEqual([0, 0])
    for (const t of ['users', 'orders', 'prefs']) await expectSameTables(spark, ts, t)
  }, 600_000)

  it('Lambda and Spark runs alternate on one Iceberg table: TypeScript v1, Spark v2, TypeScript v3, each a snapshot that readers see', async () => {
    const src = three.root() // users: the full load and the first change file
    const cfg = three.config([three.USERS, three.ORDERS])
    const lake = tempDir()
    const users = join(lake, 'users')
    const stages: [string[], string][] = [
      [[], 'lakesync'],
      [[SEED_FILES[2]!], 'spark'],
      [[SEED_FILES[3]!], 'lakesync'],
    ]
    for (const [v, [files, engine]] of stages.entries()) {
      for (const f of files) cpSync(join(SEED, f), join(src, 'public', 'users', f))
      const r = await three.run(src, lake, cfg, '--engine', engine)
      expect(r.code, r.err).toBe(0)
      const exported = join(tempDir(), 'users.csv')
      expect(
        (await cli('export', '--target', lake, '--config', cfg, '--table', 'users', '--out', exported)).code,
      ).toBe(0)
      for (const reader of ICEBERG_READERS) {
        const read = await readIceberg(reader, users)
        const want = exportRows(readFileSync(exported, 'utf8'), read.schema.fields)
        expect({ reader, version: v + 1, rows: sortRows(read.rows) }).toEqual({
          reader,
          version: v + 1,
          rows: want.rows,
        })
      }
      const meta = await readIceberg('pyiceberg', users)
      expect(meta.snapshots.map((s) => s.summary?.['lakesync.version'])).toEqual(
        Array.from({ length: v + 1 }, (_, i) => String(i + 1)),
      )
    }
    const log = await readCommitLog(new LocalStorage(lake), 'users')
    expect(log.committed.map((r) => r.engine.name)).toEqual(['lakesync', 'lakesync-spark', 'lakesync'])
  }, 600_000)
})
