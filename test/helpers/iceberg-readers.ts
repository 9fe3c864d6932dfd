/**
 * Independent Iceberg readers for the tests: DuckDB's `iceberg` extension and pyiceberg, which lakesync does not
 * contain, run through test/helpers/iceberg_read.py in the project's .venv (installed offline-ready by
 * scripts/setup-test-env.sh), one Python process per read; and Spark with the Iceberg runtime
 * (test/helpers/iceberg_spark_read.py), many reads in one Spark session. The output format (values rendered as `lakesync export`
 * renders CSV cells; rows sorted) is described in iceberg_read.py.
 *
 * Both readers need `metadata/version-hint.text` to hold just the version number (no newline) when given a table
 * folder; either also takes a metadata file. s3:// tables are read with the standard AWS variables (useMoto()).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO, tempDir } from './fixtures.js'
import { python } from './spark.js'

export type IcebergReader = 'duckdb' | 'pyiceberg' | 'spark'
export const ICEBERG_READERS: readonly IcebergReader[] = ['duckdb', 'pyiceberg']
export const ICEBERG_READ = join(REPO, 'test', 'helpers', 'iceberg_read.py')
export const ICEBERG_SPARK_READ = join(REPO, 'test', 'helpers', 'iceberg_spark_read.py')

/** A rendered value: text as `lakesync export` writes it, a number for float and double, null for NULL. */
export type IcebergValue = string | number | null

export interface IcebergField {
  id: number | null // null from DuckDB, which does not expose field ids
  name: string
  type: string // Iceberg's name: long, int, decimal(12, 2), timestamptz...
  required: boolean | null // null from DuckDB
}

export interface IcebergSnapshot {
  id: string // 64-bit: a decimal string
  parentId: string | null // null from DuckDB
  sequenceNumber: number
  timestampMs: number
  operation: string | null
  summary: Record<string, string> | null // without `operation`; null from DuckDB
}

export interface IcebergRead {
  reader: IcebergReader
  table: string
  snapshotId: string | null // the snapshot read; null when DuckDB read the current one (it does not say which)
  currentSnapshotId: string | null // pyiceberg only
  metadataLocation: string | null // pyiceberg only
  schema: { fields: IcebergField[]; identifierFieldIds: number[] | null }
  snapshots: IcebergSnapshot[] // by sequence number
  columns: string[]
  rows: IcebergValue[][] // sorted by all columns, NULLs first
}

/**
 * Reads `table` (a table folder, local or s3://, or a metadata file) with `reader`: the current snapshot, or
 * `snapshot` (time travel: DuckDB's `iceberg_scan(..., snapshot_from_id => ID)`, pyiceberg's `scan(snapshot_id=ID)`).
 */
export async function readIceberg(
  reader: IcebergReader,
  table: string,
  snapshot?: string | bigint,
): Promise<IcebergRead> {
  const args = [ICEBERG_READ, '--reader', reader, '--table', table]
  if (snapshot !== undefined) args.push('--snapshot', String(snapshot))
  const { code, stdout, stderr } = await python(args)
  if (code !== 0)
    throw new Error(`iceberg_read.py --reader ${reader} --table ${table} exited ${code}:\n${stderr}`)
  return JSON.parse(stdout) as IcebergRead
}

/**
 * Spark's reads of each `{table, snapshot}` (time travel by `snapshot-id`; current when absent), in one Spark
 * session: a JVM start costs seconds, so a test gathers its reads and makes them at once.
 */
export async function readIcebergSpark(
  reads: { table: string; snapshot?: string | bigint | number }[],
): Promise<IcebergRead[]> {
  const file = join(tempDir('lakesync-spark-reads-'), 'reads.json')
  writeFileSync(
    file,
    JSON.stringify(
      reads.map((r) => ({ table: r.table, snapshot: r.snapshot === undefined ? null : Number(r.snapshot) })),
    ),
  )
  const { code, stdout, stderr } = await python([ICEBERG_SPARK_READ, '--reads', file])
  if (code !== 0) throw new Error(`iceberg_spark_read.py exited ${code}:\n${stderr.slice(-4000)}`)
  const out = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as IcebergRead & { error?: string })
  if (out.length !== reads.length) throw new Error(`expected ${reads.length} Spark reads, got:\n${stdout}`)
  for (const [i, r] of out.entries())
    if (r.error) throw new Error(`Spark read of ${reads[i]!.table} @ ${reads[i]!.snapshot}: ${r.error}`)
  return out
}

/** Every reader on the same table and snapshot, in parallel. */
export async function readIcebergAll(
  table: string,
  snapshot?: string | bigint,
): Promise<Record<IcebergReader, IcebergRead>> {
  const reads = await Promise.all(ICEBERG_READERS.map((r) => readIceberg(r, table, snapshot)))
  return Object.fromEntries(ICEBERG_READERS.map((r, i) => [r, reads[i]!])) as Record<
    IcebergReader,
    IcebergRead
  >
}

/** The fields of `read.schema` as `name type[ required]` lines, for comparing schemas between readers. */
export function schemaLines(read: IcebergRead): string[] {
  return read.schema.fields.map((f) => `${f.name} ${f.type}${f.required ? ' required' : ''}`)
}

/** Splits `lakesync export` CSV text into rows of cells: an empty unquoted field is null, `""` the empty string. */
export function parseExportCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = []
  let row: (string | null)[] = []
  let i = 0
  while (i < text.length) {
    let cell: string | null
    if (text[i] === '"') {
      let s = ''
      i++
      for (;;) {
        const q = text.indexOf('"', i)
        if (q < 0) throw new Error('unterminated quoted CSV field')
        s += text.slice(i, q)
        i = q + 1
        if (text[i] !== '"') break
        s += '"'
        i++
      }
      cell = s
    } else {
      let j = i
      while (j < text.length && text[j] !== ',' && text[j] !== '\n') j++
      cell = j === i ? null : text.slice(i, j)
      i = j
    }
    row.push(cell)
    if (text[i] === ',') {
      i++
      if (i === text.length || text[i] === '\n') row.push(null)
    }
    if (i >= text.length || text[i] === '\n') {
      rows.push(row)
      row = []
      i++
    }
  }
  return rows
}

/**
 * `lakesync export` CSV text as the readers render a table: the header's names and the rows, float and double
 * cells (by the Iceberg types of `fields`, in column order) as numbers, sorted as `sortRows` sorts.
 */
export function exportRows(
  csv: string,
  fields: IcebergField[],
): { columns: string[]; rows: IcebergValue[][] } {
  const [header, ...body] = parseExportCsv(csv)
  const numeric = fields.map((f) => f.type === 'float' || f.type === 'double')
  const rows = body.map((r) =>
    r.map((v, i) => (v === null || !numeric[i] || /^-?Infinity$|^NaN$/.test(v) ? v : Number(v))),
  )
  return { columns: (header ?? []).map((c) => c ?? ''), rows: sortRows(rows) }
}

/** Rows in one order whatever their source (by their JSON text): compare `sortRows(a)` with `sortRows(b)`. */
export function sortRows(rows: IcebergValue[][]): IcebergValue[][] {
  const keyed = rows.map((r) => [JSON.stringify(r), r] as const)
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  return keyed.map(([, r]) => r)
}
