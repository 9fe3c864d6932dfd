/**
 * The independent Iceberg readers (test/helpers/iceberg-readers.ts: DuckDB's iceberg extension and pyiceberg) read a
 * table that pyiceberg itself writes, before lakesync's own Iceberg tables are checked with them: the current
 * snapshot, time travel to the first one, and the same on the moto S3 endpoint.
 *
 * The table is laid out as lakesync publishes tables (a "Hadoop table": metadata/v<N>.metadata.json plus
 * version-hint.text holding N, absolute file:// or s3:// paths): pyiceberg's SQL catalog (in-memory SQLite) writes
 * it, then its metadata files are renamed to v1, v2 and the hint written. Snapshot 1 appends two rows; snapshot 2
 * replaces the data file (one overwrite snapshot, as lakesync commits a version), so reading snapshot 1 needs the
 * deleted file. Every type lakesync maps to Iceberg appears once.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from './helpers/fixtures.js'
import {
  exportRows,
  ICEBERG_READERS,
  type IcebergRead,
  type IcebergValue,
  parseExportCsv,
  readIceberg,
  readIcebergAll,
  schemaLines,
  sortRows,
} from './helpers/iceberg-readers.js'
import { useMoto } from './helpers/moto.js'
import { python } from './helpers/spark.js'

/** Writes the two-snapshot table at argv[1] (file:///... or s3://...); prints the snapshot ids as a JSON array. */
const WRITE_TABLE = `
import json, os, sys, uuid
from datetime import date, datetime, time, timezone
from decimal import Decimal
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.schema import Schema
from pyiceberg.types import (BinaryType, BooleanType, DateType, DecimalType, DoubleType, FloatType, IntegerType,
    LongType, NestedField, StringType, TimestampType, TimestamptzType, TimeType)

location = sys.argv[1]
props = {}
if location.startswith("s3://"):
    props = {"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO", "s3.endpoint": os.environ["AWS_ENDPOINT_URL_S3"],
             "s3.region": os.environ["AWS_REGION"], "s3.access-key-id": os.environ["AWS_ACCESS_KEY_ID"],
             "s3.secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"]}
catalog = SqlCatalog("fixture", uri="sqlite:///:memory:", warehouse=location, **props)
catalog.create_namespace("lake")
schema = Schema(
    NestedField(1, "user_id", LongType(), required=True),
    NestedField(2, "balance", DecimalType(12, 2), required=False),
    NestedField(3, "updated_at", TimestamptzType(), required=False),
    NestedField(4, "name", StringType(), required=False),
    NestedField(5, "birthday", DateType(), required=False),
    NestedField(6, "age", IntegerType(), required=False),
    NestedField(7, "score", FloatType(), required=False),
    NestedField(8, "ratio", DoubleType(), required=False),
    NestedField(9, "active", BooleanType(), required=False),
    NestedField(10, "avatar", BinaryType(), required=False),
    NestedField(11, "wake", TimeType(), required=False),
    NestedField(12, "seen", TimestampType(), required=False),
    identifier_field_ids=[1],
)
table = catalog.create_table("lake.users", schema, location=location)
arrow = schema.as_arrow()
utc = timezone.utc
ann = {"user_id": 1, "balance": Decimal("12.30"), "updated_at": datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=utc),
       "name": "ann", "birthday": date(1990, 5, 17), "age": -5, "score": 0.1, "ratio": 0.1, "active": True,
       "avatar": bytes.fromhex("00ff"), "wake": time(7, 30, 0, 5), "seen": datetime(1969, 12, 31, 23, 59, 59, 999999)}
bob = {"user_id": 2, "balance": Decimal("-0.05"), "updated_at": None, "name": 'b,"o" \\u00e9', "birthday": date(1969, 12, 31),
       "age": None, "score": float("nan"), "ratio": 1e21, "active": False, "avatar": b"", "wake": None, "seen": None}
table.append(pa.Table.from_pylist([ann, bob], schema=arrow), snapshot_properties={"lakesync.version": "1"})
version2 = [dict(ann, balance=Decimal("99999999.99"), name="ann2", ratio=-2.5),
            dict({k: None for k in ann}, user_id=3, updated_at=datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=utc))]
with table.transaction() as tx:
    files = list(_dataframe_to_data_files(table_metadata=tx.table_metadata, io=table.io, write_uuid=uuid.uuid4(),
                                          df=pa.Table.from_pylist(version2, schema=arrow)))
    with tx.update_snapshot(snapshot_properties={"lakesync.version": "2"}).overwrite() as overwrite:
        for task in table.scan().plan_files():
            overwrite.delete_data_file(task.file)
        for f in files:
            overwrite.append_data_file(f)

# The catalog named the metadata files 00000-<uuid>.metadata.json (the first without a snapshot): v1, v2 and a hint.
io = table.io
written = [e.metadata_file for e in table.metadata.metadata_log] + [table.metadata_location]
for n, path in enumerate(written[1:], 1):
    with io.new_input(path).open() as src:
        body = src.read()
    with io.new_output(location + "/metadata/v%d.metadata.json" % n).create(overwrite=True) as dst:
        dst.write(body)
for path in written:
    io.delete(path)
with io.new_output(location + "/metadata/version-hint.text").create(overwrite=True) as dst:
    dst.write(str(len(written) - 1).encode())
print(json.dumps([str(s.snapshot_id) for s in table.metadata.snapshots]))
`

async function writeTable(location: string): Promise<string[]> {
  const { code, stdout, stderr } = await python(['-c', WRITE_TABLE, location])
  if (code !== 0) throw new Error(`writing the pyiceberg table exited ${code}:\n${stderr}`)
  return JSON.parse(stdout) as string[]
}

const COLUMNS = [
  'user_id',
  'balance',
  'updated_at',
  'name',
  'birthday',
  'age',
  'score',
  'ratio',
  'active',
  'avatar',
  'wake',
  'seen',
]
const SCHEMA = [
  'user_id long required',
  'balance decimal(12, 2)',
  'updated_at timestamptz',
  'name string',
  'birthday date',
  'age int',
  'score float',
  'ratio double',
  'active boolean',
  'avatar binary',
  'wake time',
  'seen timestamp',
]
// biome-ignore format: one row per line
const VERSION_1: IcebergValue[][] = [
  ['1', '12.30', '2024-01-02 03:04:05.678901Z', 'ann', '1990-05-17', '-5', 0.1, 0.1, 'true', '\\x00ff', '07:30:00.000005', '1969-12-31 23:59:59.999999'],
  ['2', '-0.05', null, 'b,"o" \u00e9', '1969-12-31', null, 'NaN', 1e21, 'false', '\\x', null, null],
]
// biome-ignore format: one row per line
const VERSION_2: IcebergValue[][] = [
  ['1', '99999999.99', '2024-01-02 03:04:05.678901Z', 'ann2', '1990-05-17', '-5', 0.1, -2.5, 'true', '\\x00ff', '07:30:00.000005', '1969-12-31 23:59:59.999999'],
  ['3', null, '1969-12-31 23:59:59.999999Z', null, null, null, null, null, null, null, null, null],
]

function expectTable(read: IcebergRead, snapshots: string[], rows: IcebergValue[][]): void {
  expect(read.columns).toEqual(COLUMNS)
  expect(read.rows).toEqual(rows)
  expect(read.snapshots.map((s) => s.id)).toEqual(snapshots)
  expect(read.snapshots.map((s) => s.sequenceNumber)).toEqual([1, 2])
  expect(read.snapshots.map((s) => s.operation)).toEqual(['append', 'overwrite'])
  if (read.reader === 'pyiceberg') {
    // Only pyiceberg sees field ids, required flags, identifier fields and the snapshot summaries.
    expect(schemaLines(read)).toEqual(SCHEMA)
    expect(read.schema.fields.map((f) => f.id)).toEqual(COLUMNS.map((_, i) => i + 1))
    expect(read.schema.identifierFieldIds).toEqual([1])
    expect(read.snapshots.map((s) => s.summary?.['lakesync.version'])).toEqual(['1', '2'])
    expect(read.snapshots[1]!.parentId).toBe(snapshots[0])
  } else {
    expect(schemaLines(read)).toEqual(SCHEMA.map((l) => l.replace(' required', '')))
  }
}

describe('independent Iceberg readers on a table that pyiceberg writes', () => {
  const dir = tempDir('lakesync-iceberg-readers-')
  const table = `${dir}/users`
  let snapshots: string[] = []
  beforeAll(async () => {
    snapshots = await writeTable(`file://${table}`)
  })

  it('read the current snapshot through version-hint.text', async () => {
    const reads = await readIcebergAll(table)
    for (const reader of ICEBERG_READERS) expectTable(reads[reader], snapshots, VERSION_2)
    expect(reads.pyiceberg.snapshotId).toBe(snapshots[1])
    expect(reads.pyiceberg.currentSnapshotId).toBe(snapshots[1])
    expect(reads.pyiceberg.metadataLocation).toBe(`${table}/metadata/v2.metadata.json`)
  })

  it('time-travel to the first snapshot, whose data file the second replaced', async () => {
    const reads = await readIcebergAll(table, snapshots[0])
    for (const reader of ICEBERG_READERS) {
      expectTable(reads[reader], snapshots, VERSION_1)
      expect(reads[reader].snapshotId).toBe(snapshots[0])
    }
  })

  it('read an earlier metadata file given by path', async () => {
    const reads = await readIcebergAll(`${table}/metadata/v1.metadata.json`)
    for (const reader of ICEBERG_READERS) expect(reads[reader].rows).toEqual(VERSION_1)
  })

  it('fail with the reader message when the snapshot does not exist', async () => {
    for (const reader of ICEBERG_READERS)
      await expect(readIceberg(reader, table, '42')).rejects.toThrow(/iceberg_read\.py --reader/)
  })
})

describe('independent Iceberg readers on the moto S3 endpoint', () => {
  const moto = useMoto()
  afterAll(() => moto.reset())

  it('read the current snapshot and time-travel on s3://', async () => {
    const bucket = moto.bucket('iceberg')
    await moto.s3.send(new CreateBucketCommand({ Bucket: bucket }))
    const table = `s3://${bucket}/lake/users`
    const snapshots = await writeTable(table)
    const [current, first] = await Promise.all([readIcebergAll(table), readIcebergAll(table, snapshots[0])])
    for (const reader of ICEBERG_READERS) {
      expectTable(current[reader], snapshots, VERSION_2)
      expectTable(first[reader], snapshots, VERSION_1)
    }
  })
})

describe('comparing with lakesync export', () => {
  it('turns export CSV into the readers rendering', () => {
    const csv = 'user_id,name,score,ratio\n2,"a,""b""",NaN,1e+21\n1,,0.1,\n3,"",-1.5,2\n'
    expect(parseExportCsv(csv)).toEqual([
      ['user_id', 'name', 'score', 'ratio'],
      ['2', 'a,"b"', 'NaN', '1e+21'],
      ['1', null, '0.1', null],
      ['3', '', '-1.5', '2'],
    ])
    const fields = ['long', 'string', 'float', 'double'].map((type, i) => ({
      id: i + 1,
      name: `c${i}`,
      type,
      required: false,
    }))
    const { columns, rows } = exportRows(csv, fields)
    expect(columns).toEqual(['user_id', 'name', 'score', 'ratio'])
    expect(rows).toEqual(
      sortRows([
        ['1', null, 0.1, null],
        ['2', 'a,"b"', 'NaN', 1e21],
        ['3', '', -1.5, 2],
      ]),
    )
  })
})
