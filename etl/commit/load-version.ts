/**
 * A committed version's tables: the users table for a run that applies changes on top of it (with the snapshot
 * that makes loading it fast, etl/commit/snapshot.ts), and either table read back from its Parquet (export, report, tests).
 *
 * A committed version's state of record is its Parquet. A lakesync commit also lists a snapshot of its users table
 * (written under the claim, like the Parquet): a verified cache. Loading checks the snapshot's size and SHA-256
 * against the commit record and decodes it; anything wrong with it (missing, changed, undecodable) is a warning and
 * the Parquet is read instead. Versions committed without a snapshot (the Spark engine, older lakesync) load from
 * Parquet without a warning.
 */
import { createHash } from 'node:crypto'
import { LakesyncError, StateError } from '../errors.js'
import { parquetToTable } from '../parquet/reader.js'
import type { Storage } from '../storage/storage.js'
import { ensureCapacity, newColumn } from '../table/columns.js'
import { concatTables } from '../table/concat.js'
import type { ColumnData, Table, TableSpec } from '../types.js'
import { snapshotPath } from './layout.js'
import type { CommitRecord, SnapshotRef } from './log.js'
import { decodeSnapshot, SNAPSHOT_FORMAT } from './snapshot.js'

/** SHA-256 in pieces: one update() refuses more than 2 GiB (a wide table's snapshot is bigger). */
export function sha256(b: Uint8Array, piece = 1 << 30): string {
  const hash = createHash('sha256')
  for (let at = 0; at < b.length; at += piece) hash.update(b.subarray(at, at + piece))
  return hash.digest('hex')
}

/** Writes the snapshot bytes of the users table (version `version` of table `table`) and returns its reference for the record. */
export async function writeSnapshot(
  target: Storage,
  table: string,
  version: number,
  bytes: Uint8Array, // encodeSnapshot of the version's users table
): Promise<SnapshotRef> {
  const path = snapshotPath(table, version)
  const ref = { path, sha256: sha256(bytes), size: bytes.length, format: SNAPSHOT_FORMAT }
  await target.write(path, bytes)
  return ref
}

/** The users table of a committed version: from its snapshot when it has a good one, else from its Parquet. */
export async function loadVersionTable(
  target: Storage,
  record: CommitRecord,
  spec: TableSpec,
  onWarning: (message: string) => void = () => {},
): Promise<Table> {
  const parquet = recordFiles(record, 'users').join(', ')
  const ref = record.snapshot
  if (ref) {
    const problem = await loadSnapshot(target, record, ref, spec)
    if (typeof problem !== 'string') return problem
    onWarning(`snapshot ${ref.path} ${problem}; reading ${parquet} instead`)
  }
  return readParquetFiles(target, recordFiles(record, 'users'), spec)
}

/** The table of a committed version, read back from its Parquet file (the state of record; no snapshot). */
export async function readVersionTable(
  target: Storage,
  record: CommitRecord,
  spec: TableSpec,
  which: 'users' | 'users_features' = 'users',
): Promise<Table> {
  return readParquetFiles(target, recordFiles(record, which), spec)
}

/** A table written as several data files (in key order: etl/parquet/files.ts), read back file by file, in order. */
async function readParquetFiles(target: Storage, paths: string[], spec: TableSpec): Promise<Table> {
  const parts: Table[] = []
  for (const path of paths) parts.push(await parquetToTable(await target.read(path), spec, path))
  return concatTables(spec, parts)
}

/** The Parquet files a version lists for a table (one or more); none is a corrupt commit record. */
function recordFiles(record: CommitRecord, which: 'users' | 'users_features'): string[] {
  const paths = record.outputs[which]
  if (paths === undefined)
    throw new StateError(
      'no_version',
      `commit: version ${record.version} of ${record.table} has no features table`,
    )
  if (paths.length === 0)
    throw new StateError('corrupt_state', `commit: version ${record.version} lists no ${which} file`)
  return paths
}

/** The snapshot's table, or why it cannot be used (a phrase that follows its path). */
async function loadSnapshot(
  target: Storage,
  record: CommitRecord,
  ref: SnapshotRef,
  spec: TableSpec,
): Promise<Table | string> {
  if (ref.format !== SNAPSHOT_FORMAT)
    return `has format ${ref.format}; this lakesync reads format ${SNAPSHOT_FORMAT}`
  let bytes: Uint8Array
  try {
    bytes = await target.read(ref.path) // not readVersioned: the local adapter would hash it twice for an ETag
  } catch (e) {
    const missing =
      (e as NodeJS.ErrnoException).code === 'ENOENT' ||
      (e instanceof LakesyncError && e.code === 'missing_file')
    return missing
      ? `is missing (commit ${record.version} lists it)`
      : `could not be read (${(e as Error).message})`
  }
  if (bytes.length !== ref.size)
    return `does not match commit ${record.version} (${bytes.length} bytes, expected ${ref.size})`
  const hash = sha256(bytes)
  if (hash !== ref.sha256)
    return `does not match commit ${record.version} (sha256 ${hash}, expected ${ref.sha256})`
  try {
    return decodeSnapshot(bytes, spec, ref.path)
  } catch (e) {
    // Written before trailing `added` columns were declared: those read NULL.
    for (let n = spec.columns.length - 1; n > 0 && spec.columns[n]!.added === true; n--)
      try {
        return withNullColumns(
          decodeSnapshot(bytes, { ...spec, columns: spec.columns.slice(0, n) }, ref.path),
          spec,
        )
      } catch {
        // not this prefix either
      }
    return `cannot be decoded (${(e as Error).message})`
  }
}

/** `table` with the columns of `spec` it lacks (trailing added ones) appended, NULL in every row. */
function withNullColumns(table: Table, spec: TableSpec): Table {
  const columns = spec.columns.map((c, i) => {
    const have = table.columns[i]
    if (have !== undefined) return have
    const col = newColumn(c, 0)
    ensureCapacity([col], table.length)
    return col as ColumnData
  })
  return { spec, length: table.length, columns }
}
