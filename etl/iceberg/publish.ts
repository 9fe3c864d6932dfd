/**
 * Publishing a table's committed versions as Iceberg snapshots, in the "Hadoop table" layout readers find without a
 * catalog: `<table>/metadata/v<K>.metadata.json` (K counting up from 1) and `version-hint.text` holding the current
 * K. Data files stay where lakesync wrote them; the metadata points at them by absolute URI.
 *
 * Order (docs/commit-protocol.md): the commit record is the state of record and is written first; then each new
 * version's manifest and manifest list (fixed names, created once), then the next metadata file, created only if
 * absent (two publishers cannot both write v<K+1>: the loser starts over from the newest), then the hint. A crash
 * leaves the previous snapshot visible; the next publish (every run starts with one) completes it.
 */
import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { CommitRecord } from '../commit/log.js'
import { StateError } from '../errors.js'
import type { Storage } from '../storage/storage.js'
import type { TableSpec } from '../types.js'
import { manifestBytes, manifestListBytes } from './avro.js'
import {
  emptyMetadata,
  type NewSnapshot,
  schemaInTable,
  type TableMetadata,
  withoutSnapshots,
  withSnapshots,
} from './metadata.js'
import { icebergSchema } from './schema.js'
import { dataFileEntry } from './stats.js'

const METADATA = /^v(\d+)\.metadata\.json$/

/** The absolute URI of `path` under a storage root: `s3://bucket/prefix/path`, or `file:///folder/path`. */
export function storageUri(root: string, path: string): string {
  if (/^s3:\/\//.test(root)) return `${root.replace(/\/+$/, '')}/${path}`
  return pathToFileURL(resolve(root, path)).href
}

export const metadataDir = (table: string) => `${table}/metadata/`
export const versionHintPath = (table: string) => `${metadataDir(table)}version-hint.text`
const metadataPath = (table: string, k: number) => `${metadataDir(table)}v${k}.metadata.json`

/** The newest metadata file of a table and its number, or null before the first publish. */
export async function newestMetadata(
  target: Storage,
  table: string,
): Promise<{ k: number; path: string; metadata: TableMetadata } | null> {
  let k = 0
  for (const o of await target.list(metadataDir(table))) {
    const m = METADATA.exec(o.path.slice(metadataDir(table).length))
    if (m) k = Math.max(k, Number(m[1]))
  }
  if (k === 0) return null
  const path = metadataPath(table, k)
  try {
    return {
      k,
      path,
      metadata: JSON.parse(new TextDecoder().decode(await target.read(path))) as TableMetadata,
    }
  } catch (e) {
    throw new StateError(
      'corrupt_state',
      `iceberg: cannot read ${path}: ${(e as Error).message}`,
      undefined,
      {
        cause: e,
      },
    )
  }
}

/** Writes `bytes` at `path` unless an object is there already (a publish that crashed wrote the same bytes). */
async function createOnce(target: Storage, path: string, bytes: Uint8Array): Promise<void> {
  await target.createExclusive(path, bytes)
}

export interface PublishInput {
  spec: TableSpec // the published table (a mirror, or a features table)
  records: CommitRecord[] // committed versions, oldest first
  filesOf: (record: CommitRecord) => string[] | undefined // the version's data files of this table, if it has any
  bytesOf?: (path: string) => Uint8Array | undefined // files still in memory (the run that just wrote them)
  faults?: (step: IcebergFaultStep) => void | Promise<void> // test hook: throws to simulate a crash at a step
}

/** Where crash tests stop a publish: after the manifests and manifest lists, after the metadata file. */
export type IcebergFaultStep = 'after-iceberg-manifests' | 'after-iceberg-metadata'

/**
 * Publishes every committed version newer than the table's current snapshot (whose data file still exists) as one
 * snapshot each, then points the version hint at the new metadata. Idempotent: nothing new, nothing written (but a
 * hint left behind by a crash is brought forward).
 */
export async function publishIceberg(target: Storage, input: PublishInput): Promise<void> {
  const { spec } = input
  const table = spec.name
  for (let attempt = 0; attempt < 8; attempt++) {
    const newest = await newestMetadata(target, table)
    const schema = schemaInTable(newest?.metadata, icebergSchema(spec))
    const current = newest?.metadata['current-snapshot-id'] ?? -1
    const todo = input.records.filter((r) => r.version > current && (input.filesOf(r)?.length ?? 0) > 0)
    if (todo.length === 0) {
      if (newest) await bringHintForward(target, table, newest.k)
      return
    }
    const added: NewSnapshot[] = []
    for (const r of todo) {
      const entries = []
      for (const file of input.filesOf(r)!) {
        let bytes = input.bytesOf?.(file)
        if (bytes === undefined) {
          try {
            bytes = await target.read(file)
          } catch {
            break // vacuumed before it was published: no snapshot for it
          }
        }
        entries.push(dataFileEntry(bytes, spec, storageUri(target.root, file)))
      }
      if (entries.length < input.filesOf(r)!.length) continue
      const records = entries.reduce((n, e) => n + e.records, 0)
      const fileSize = entries.reduce((n, e) => n + e.size, 0)
      const manifest = `${metadataDir(table)}${r.version}-m0.avro`
      const manifestData = await manifestBytes(
        entries,
        r.version,
        r.version,
        JSON.stringify(schema),
        schema['schema-id'],
      )
      await createOnce(target, manifest, manifestData)
      const list = `${metadataDir(table)}snap-${r.version}-1.avro`
      const parent = added.at(-1)?.version ?? (current >= 0 ? current : null)
      const listData = await manifestListBytes(
        [
          {
            path: storageUri(target.root, manifest),
            length: manifestData.length,
            snapshotId: r.version,
            sequenceNumber: r.version,
            files: entries.length,
            rows: records,
          },
        ],
        r.version,
        parent,
        r.version,
      )
      await createOnce(target, list, listData)
      added.push({
        version: r.version,
        timestampMs: Date.parse(r.committedAt),
        manifestList: storageUri(target.root, list),
        records,
        files: entries.length,
        fileSize,
      })
    }
    if (added.length === 0) return
    await input.faults?.('after-iceberg-manifests')
    const base =
      newest?.metadata ??
      emptyMetadata(randomUUID(), storageUri(target.root, table), schema, added[0]!.timestampMs)
    const next = withSnapshots(base, newest ? storageUri(target.root, newest.path) : null, schema, added)
    const k = (newest?.k ?? 0) + 1
    const created = await target.createExclusive(
      metadataPath(table, k),
      new TextEncoder().encode(JSON.stringify(next, null, 2)),
    )
    if (created === null) continue // another publisher wrote v<k> first: start over from it
    await input.faults?.('after-iceberg-metadata')
    await bringHintForward(target, table, k)
    return
  }
  throw new StateError(
    'commit_conflict',
    `iceberg: the metadata of ${table} kept changing under this publish; run again`,
  )
}

/** Points version-hint.text at metadata `k` unless it already points there or further. */
async function bringHintForward(target: Storage, table: string, k: number): Promise<void> {
  const path = versionHintPath(table)
  let hinted = 0
  try {
    hinted = Number(new TextDecoder().decode(await target.read(path)).trim()) || 0
  } catch {
    hinted = 0
  }
  if (hinted < k) await target.write(path, new TextEncoder().encode(String(k)))
}

/**
 * After vacuum: a new metadata file without the snapshots whose versions' files are gone, and their manifests and
 * manifest lists deleted. Returns the expired versions.
 */
export async function expireIcebergSnapshots(
  target: Storage,
  table: string,
  gone: ReadonlySet<number>,
  nowMs: number,
): Promise<number[]> {
  const newest = await newestMetadata(target, table)
  if (!newest) return []
  const expired = newest.metadata.snapshots
    .map((s) => s['snapshot-id'])
    .filter((id) => gone.has(id) && id !== newest.metadata['current-snapshot-id'])
  if (expired.length === 0) return []
  const next = withoutSnapshots(
    newest.metadata,
    storageUri(target.root, newest.path),
    new Set(expired),
    nowMs,
  )
  const k = newest.k + 1
  if (
    (await target.createExclusive(
      metadataPath(table, k),
      new TextEncoder().encode(JSON.stringify(next, null, 2)),
    )) === null
  )
    return [] // another writer moved on; the next vacuum expires them
  await bringHintForward(target, table, k)
  for (const v of expired) {
    await target.remove(`${metadataDir(table)}${v}-m0.avro`)
    await target.remove(`${metadataDir(table)}snap-${v}-1.avro`)
  }
  return expired
}
