/**
 * Publishing what is committed: the Iceberg snapshots of a table's versions (and its features table's) and the
 * catalog switch. A run does it after each commit and, first thing, for anything a crash left unpublished; the
 * Lambda and `lakesync status` do it for what another engine (the Spark job) committed.
 */
import type { Catalog } from './catalog/catalog.js'
import { featuresSpecFor } from './city-features.js'
import { versionDir } from './commit/layout.js'
import { type CommitRecord, readCommitLog } from './commit/log.js'
import { type IcebergFaultStep, newestMetadata, publishIceberg, storageUri } from './iceberg/publish.js'
import type { Storage } from './storage/storage.js'
import type { TableSpec } from './types.js'

/** What publishing takes of a run's options. */
export interface PublishOptions {
  target: Storage
  spec: TableSpec
  tableFormat?: 'iceberg' | 'hive' // iceberg (default): each version is also an Iceberg snapshot
  catalog?: Catalog // none: no catalog switch (local runs)
  faults?: (step: IcebergFaultStep) => void | Promise<void> // test hook (the run's FaultStep includes these)
}

function joinUrl(root: string, path: string): string {
  return `${root.replace(/\/+$/, '')}/${path}`
}

/** Points the catalog at `record`'s version unless it already does. */
export async function publishCatalog(opts: PublishOptions, record: CommitRecord): Promise<void> {
  const { catalog, target, spec } = opts
  if (!catalog) return
  const tables = [spec, ...(record.outputs.users_features && spec.features ? [featuresSpecFor(spec)] : [])]
  const names = tables.map((t) => t.name)
  const iceberg = (opts.tableFormat ?? 'iceberg') === 'iceberg'
  // An Iceberg table may need newer metadata at the same version (after vacuum): publish decides, table by table.
  const versions = iceberg ? null : await catalog.currentVersions(names)
  if (versions && names.every((n) => versions.get(n) === record.version)) return
  const published = await Promise.all(
    tables.map(async (t) => {
      // An Iceberg table: its root and the newest metadata (published before the catalog, in the run's order).
      const newest = iceberg ? await newestMetadata(target, t.name) : null
      return {
        name: t.name,
        location: joinUrl(target.root, versionDir(t.name, record.version)),
        columns: t.columns,
        version: record.version,
        ...(newest
          ? {
              iceberg: {
                tableLocation: storageUri(target.root, t.name),
                metadataLocation: storageUri(target.root, newest.path),
              },
            }
          : {}),
      }
    }),
  )
  await catalog.publish(published)
}

/**
 * Publishes the committed versions as Iceberg snapshots of the table and of its features table (etl/iceberg/). The
 * files of `fresh` (the version this run just wrote) are taken from memory.
 */
export async function publishTableFormat(
  opts: PublishOptions,
  records: CommitRecord[],
  fresh?: { users: Uint8Array[]; features: Uint8Array[] | null },
  freshRecord?: CommitRecord,
): Promise<void> {
  if ((opts.tableFormat ?? 'iceberg') !== 'iceberg') return
  const { target, spec } = opts
  // The files the run just wrote are still in memory: their footers are read from there.
  const memory = (which: 'users' | 'users_features') => (path: string) => {
    const i = freshRecord?.outputs[which]?.indexOf(path) ?? -1
    if (!fresh || i < 0) return undefined
    return (which === 'users' ? fresh.users : fresh.features)?.[i]
  }
  await publishIceberg(target, {
    spec,
    records,
    filesOf: (r) => r.outputs.users,
    bytesOf: memory('users'),
    ...(opts.faults ? { faults: opts.faults } : {}),
  })
  if (spec.features)
    await publishIceberg(target, {
      spec: featuresSpecFor(spec),
      records,
      filesOf: (r) => r.outputs.users_features,
      bytesOf: memory('users_features'),
      ...(opts.faults ? { faults: opts.faults } : {}),
    })
}

/**
 * Publishes what the commit log holds (the Iceberg metadata of every committed version, the catalog switch) without
 * applying anything: after another engine (the Spark job) committed, the same code that publishes a run's versions.
 */
export async function publishCommitted(opts: PublishOptions): Promise<void> {
  const log = await readCommitLog(opts.target, opts.spec.name)
  if (!log.current) return
  await publishTableFormat(opts, log.committed)
  await publishCatalog(opts, log.current)
}
