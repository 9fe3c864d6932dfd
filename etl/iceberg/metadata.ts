/**
 * Iceberg table metadata (spec, "Table Metadata", format v2), pure: the first metadata of a table, and the next one
 * from the previous plus new snapshots (one per committed lakesync version, snapshot id = the version) or minus the
 * snapshots vacuum expired. Each lakesync version replaces the whole table, so a snapshot is an overwrite of the
 * previous snapshot's file by the version's file.
 */
import type { IcebergSchema } from './schema.js'

export interface Snapshot {
  'snapshot-id': number
  'parent-snapshot-id'?: number
  'sequence-number': number
  'timestamp-ms': number
  'manifest-list': string
  'schema-id': number
  summary: Record<string, string>
}

export interface TableMetadata {
  'format-version': 2
  'table-uuid': string
  location: string
  'last-sequence-number': number
  'last-updated-ms': number
  'last-column-id': number
  'current-schema-id': number
  schemas: IcebergSchema[]
  'default-spec-id': number
  'partition-specs': { 'spec-id': number; fields: unknown[] }[]
  'last-partition-id': number
  'default-sort-order-id': number
  'sort-orders': { 'order-id': number; fields: unknown[] }[]
  properties: Record<string, string>
  'current-snapshot-id': number
  refs: Record<string, { 'snapshot-id': number; type: 'branch' }>
  snapshots: Snapshot[]
  statistics: unknown[]
  'snapshot-log': { 'timestamp-ms': number; 'snapshot-id': number }[]
  'metadata-log': { 'timestamp-ms': number; 'metadata-file': string }[]
}

/** A new snapshot: version `version`'s one data file replacing the previous snapshot's. */
export interface NewSnapshot {
  version: number
  timestampMs: number
  manifestList: string
  records: number
  files: number // data files
  fileSize: number
}

/** The metadata of a table with no snapshot yet (`current-snapshot-id` -1, as the spec writes "none"). */
export function emptyMetadata(
  uuid: string,
  location: string,
  schema: IcebergSchema,
  nowMs: number,
): TableMetadata {
  return {
    'format-version': 2,
    'table-uuid': uuid,
    location,
    'last-sequence-number': 0,
    'last-updated-ms': nowMs,
    'last-column-id': Math.max(0, ...schema.fields.map((f) => f.id)),
    'current-schema-id': schema['schema-id'],
    schemas: [schema],
    'default-spec-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: [] }],
    'last-partition-id': 999,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties: { 'write.format.default': 'parquet', 'lakesync.managed': 'true' },
    'current-snapshot-id': -1,
    refs: {},
    snapshots: [],
    statistics: [],
    'snapshot-log': [],
    'metadata-log': [],
  }
}

/**
 * `schema` with its id in the table: the current schema's when the fields are the same, else a new one (a column
 * added to the config, issue 19), which withSnapshots records as a schema change.
 */
export function schemaInTable(prev: TableMetadata | undefined, schema: IcebergSchema): IcebergSchema {
  if (prev === undefined) return { ...schema, 'schema-id': 0 }
  const same = (s: IcebergSchema) =>
    JSON.stringify([s.fields, s['identifier-field-ids']]) ===
    JSON.stringify([schema.fields, schema['identifier-field-ids']])
  const current = prev.schemas.find((s) => s['schema-id'] === prev['current-schema-id'])
  if (current && same(current)) return current
  return { ...schema, 'schema-id': Math.max(...prev.schemas.map((s) => s['schema-id'])) + 1 }
}

/**
 * The next metadata: `prev` (stored at `prevFile`) plus `added` snapshots in version order, the last one current.
 * `schema` (from schemaInTable) is the snapshots' schema; a new one is appended and made current, the older ones
 * kept for the snapshots that use them.
 */
export function withSnapshots(
  prev: TableMetadata,
  prevFile: string | null,
  schema: IcebergSchema,
  added: NewSnapshot[],
): TableMetadata {
  const snapshots = [...prev.snapshots]
  const snapshotLog = [...prev['snapshot-log']]
  let parent =
    prev['current-snapshot-id'] >= 0
      ? prev.snapshots.find((s) => s['snapshot-id'] === prev['current-snapshot-id'])
      : undefined
  let updated = prev['last-updated-ms']
  for (const a of added) {
    const before = parent?.summary
    const removedRecords = before ? Number(before['total-records']) : 0
    const removedSize = before ? Number(before['total-files-size']) : 0
    const removedFiles = before ? before['total-data-files'] : '0'
    const snap: Snapshot = {
      'snapshot-id': a.version,
      ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
      'sequence-number': a.version,
      'timestamp-ms': a.timestampMs,
      'manifest-list': a.manifestList,
      'schema-id': schema['schema-id'],
      summary: {
        operation: parent ? 'overwrite' : 'append',
        'added-data-files': String(a.files),
        'added-records': String(a.records),
        'added-files-size': String(a.fileSize),
        ...(parent
          ? {
              'deleted-data-files': removedFiles,
              'deleted-records': String(removedRecords),
              'removed-files-size': String(removedSize),
            }
          : {}),
        'total-data-files': String(a.files),
        'total-records': String(a.records),
        'total-files-size': String(a.fileSize),
        'total-delete-files': '0',
        'total-position-deletes': '0',
        'total-equality-deletes': '0',
        'lakesync.version': String(a.version),
      },
    }
    snapshots.push(snap)
    snapshotLog.push({ 'timestamp-ms': a.timestampMs, 'snapshot-id': a.version })
    parent = snap
    updated = Math.max(updated, a.timestampMs)
  }
  const current = parent!
  return {
    ...prev,
    'last-sequence-number': Math.max(prev['last-sequence-number'], current['sequence-number']),
    'last-updated-ms': updated,
    'last-column-id': Math.max(prev['last-column-id'], ...schema.fields.map((f) => f.id)),
    schemas: prev.schemas.some((s) => s['schema-id'] === schema['schema-id'])
      ? prev.schemas
      : [...prev.schemas, schema],
    'current-schema-id': schema['schema-id'],
    'current-snapshot-id': current['snapshot-id'],
    refs: { ...prev.refs, main: { 'snapshot-id': current['snapshot-id'], type: 'branch' } },
    snapshots,
    'snapshot-log': snapshotLog,
    'metadata-log': prevFile
      ? [...prev['metadata-log'], { 'timestamp-ms': prev['last-updated-ms'], 'metadata-file': prevFile }]
      : prev['metadata-log'],
  }
}

/** The metadata without the snapshots of `expired` versions (vacuum deleted their files); the current one stays. */
export function withoutSnapshots(
  prev: TableMetadata,
  prevFile: string,
  expired: ReadonlySet<number>,
  nowMs: number,
): TableMetadata {
  const keep = (id: number) => id === prev['current-snapshot-id'] || !expired.has(id)
  return {
    ...prev,
    'last-updated-ms': Math.max(prev['last-updated-ms'], nowMs),
    snapshots: prev.snapshots
      .filter((s) => keep(s['snapshot-id']))
      .map((s) => {
        const p = s['parent-snapshot-id']
        if (p === undefined || keep(p)) return s
        const { 'parent-snapshot-id': _gone, ...rest } = s
        return rest
      }),
    'snapshot-log': prev['snapshot-log'].filter((e) => keep(e['snapshot-id'])),
    'metadata-log': [
      ...prev['metadata-log'],
      { 'timestamp-ms': prev['last-updated-ms'], 'metadata-file': prevFile },
    ],
  }
}
