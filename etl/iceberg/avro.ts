/**
 * Iceberg's two Avro files (spec, "Manifests" and "Manifest Lists", format v2), written with avsc: the Avro schemas
 * carry Iceberg's reserved field ids, maps with int keys are arrays of key/value records (`logicalType: map`), and
 * the file metadata holds what readers look up (the table schema, the partition spec, format-version, content).
 */
import { Buffer } from 'node:buffer'
import avro from 'avsc'

const opt = (type: unknown) => ['null', type]

/** An Iceberg map<int, V> as Avro: an array of {key, value} records. */
function intMap(name: string, keyId: number, valueId: number, value: string) {
  return {
    type: 'array',
    logicalType: 'map',
    items: {
      type: 'record',
      name,
      fields: [
        { name: 'key', type: 'int', 'field-id': keyId },
        { name: 'value', type: value, 'field-id': valueId },
      ],
    },
  }
}

const MANIFEST_ENTRY = {
  type: 'record',
  name: 'manifest_entry',
  fields: [
    { name: 'status', type: 'int', 'field-id': 0 },
    { name: 'snapshot_id', type: opt('long'), default: null, 'field-id': 1 },
    { name: 'sequence_number', type: opt('long'), default: null, 'field-id': 3 },
    { name: 'file_sequence_number', type: opt('long'), default: null, 'field-id': 4 },
    {
      name: 'data_file',
      'field-id': 2,
      type: {
        type: 'record',
        name: 'r2',
        fields: [
          { name: 'content', type: 'int', 'field-id': 134 },
          { name: 'file_path', type: 'string', 'field-id': 100 },
          { name: 'file_format', type: 'string', 'field-id': 101 },
          { name: 'partition', type: { type: 'record', name: 'r102', fields: [] }, 'field-id': 102 },
          { name: 'record_count', type: 'long', 'field-id': 103 },
          { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
          {
            name: 'column_sizes',
            type: opt(intMap('k117_v118', 117, 118, 'long')),
            default: null,
            'field-id': 108,
          },
          {
            name: 'value_counts',
            type: opt(intMap('k119_v120', 119, 120, 'long')),
            default: null,
            'field-id': 109,
          },
          {
            name: 'null_value_counts',
            type: opt(intMap('k121_v122', 121, 122, 'long')),
            default: null,
            'field-id': 110,
          },
          {
            name: 'nan_value_counts',
            type: opt(intMap('k138_v139', 138, 139, 'long')),
            default: null,
            'field-id': 137,
          },
          {
            name: 'lower_bounds',
            type: opt(intMap('k126_v127', 126, 127, 'bytes')),
            default: null,
            'field-id': 125,
          },
          {
            name: 'upper_bounds',
            type: opt(intMap('k129_v130', 129, 130, 'bytes')),
            default: null,
            'field-id': 128,
          },
          { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 131 },
          {
            name: 'split_offsets',
            type: opt({ type: 'array', items: 'long', 'element-id': 133 }),
            default: null,
            'field-id': 132,
          },
          {
            name: 'equality_ids',
            type: opt({ type: 'array', items: 'int', 'element-id': 136 }),
            default: null,
            'field-id': 135,
          },
          { name: 'sort_order_id', type: opt('int'), default: null, 'field-id': 140 },
        ],
      },
    },
  ],
}

const MANIFEST_FILE = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    {
      name: 'partitions',
      type: opt({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            { name: 'contains_nan', type: opt('boolean'), default: null, 'field-id': 518 },
            { name: 'lower_bound', type: opt('bytes'), default: null, 'field-id': 510 },
            { name: 'upper_bound', type: opt('bytes'), default: null, 'field-id': 511 },
          ],
        },
      }),
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 519 },
  ],
}

/** One data file of a snapshot, as its manifest entry describes it. */
export interface DataFileEntry {
  path: string // absolute URI
  records: number
  size: number // bytes
  valueCounts: Map<number, number> // field id -> values (NULLs included)
  nullCounts: Map<number, number>
  nanCounts: Map<number, number> // float and double fields
  lower: Map<number, Uint8Array> // Iceberg single-value serialization
  upper: Map<number, Uint8Array>
}

/** A manifest-list row: one manifest of a snapshot. */
export interface ManifestRef {
  path: string
  length: number
  snapshotId: number
  sequenceNumber: number
  files: number
  rows: number
}

/**
 * An Avro object container file of `records`, in memory. The schema goes in as JSON, not as an avsc Type: avsc then
 * writes it to the header whole, field ids included. The sync marker is fixed: the same input, the same bytes.
 */
function container(
  schema: object,
  records: unknown[],
  metadata: Record<string, string>,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const encoder = new avro.streams.BlockEncoder(
      schema as avro.Schema,
      {
        codec: 'null',
        syncMarker: Buffer.from('lakesync-iceberg'),
        metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v)])),
      } as Partial<avro.EncoderOptions>,
    )
    encoder.on('data', (b: Buffer) => chunks.push(b))
    encoder.on('error', reject)
    encoder.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))))
    for (const r of records) encoder.write(r)
    encoder.end()
  })
}

const entries = <V>(m: Map<number, V>) => [...m].map(([key, value]) => ({ key, value }))

/** A v2 data manifest: every file ADDED by `snapshotId` at `sequenceNumber`. */
export function manifestBytes(
  files: DataFileEntry[],
  snapshotId: number,
  sequenceNumber: number,
  schemaJson: string,
  schemaId = 0,
): Promise<Uint8Array> {
  const records = files.map((f) => ({
    status: 1,
    snapshot_id: snapshotId,
    sequence_number: sequenceNumber,
    file_sequence_number: sequenceNumber,
    data_file: {
      content: 0,
      file_path: f.path,
      file_format: 'PARQUET',
      partition: {},
      record_count: f.records,
      file_size_in_bytes: f.size,
      column_sizes: null,
      value_counts: entries(f.valueCounts),
      null_value_counts: entries(f.nullCounts),
      nan_value_counts: entries(f.nanCounts),
      lower_bounds: entries(f.lower).map(({ key, value }) => ({ key, value: Buffer.from(value) })),
      upper_bounds: entries(f.upper).map(({ key, value }) => ({ key, value: Buffer.from(value) })),
      key_metadata: null,
      split_offsets: null,
      equality_ids: null,
      sort_order_id: null,
    },
  }))
  return container(MANIFEST_ENTRY, records, {
    schema: schemaJson,
    'schema-id': String(schemaId),
    'partition-spec': '[]',
    'partition-spec-id': '0',
    'format-version': '2',
    content: 'data',
  })
}

/** A v2 manifest list. */
export function manifestListBytes(
  manifests: ManifestRef[],
  snapshotId: number,
  parentId: number | null,
  sequenceNumber: number,
): Promise<Uint8Array> {
  const records = manifests.map((m) => ({
    manifest_path: m.path,
    manifest_length: m.length,
    partition_spec_id: 0,
    content: 0,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.sequenceNumber,
    added_snapshot_id: m.snapshotId,
    added_files_count: m.files,
    existing_files_count: 0,
    deleted_files_count: 0,
    added_rows_count: m.rows,
    existing_rows_count: 0,
    deleted_rows_count: 0,
    partitions: [],
    key_metadata: null,
  }))
  return container(MANIFEST_FILE, records, {
    'snapshot-id': String(snapshotId),
    'parent-snapshot-id': parentId === null ? 'null' : String(parentId),
    'sequence-number': String(sequenceNumber),
    'format-version': '2',
  })
}
