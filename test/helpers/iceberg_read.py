#!/usr/bin/env python3
"""Reads an Apache Iceberg table with a reader that lakesync does not contain (for test/helpers/iceberg-readers.ts).

  python test/helpers/iceberg_read.py --reader duckdb|pyiceberg --table TABLE [--snapshot ID]

TABLE is a table folder (its metadata/version-hint.text names the current metadata file, as in the "Hadoop table"
layout: `v<N>.metadata.json`) or a metadata file (`.../v3.metadata.json`), local or s3://. --snapshot reads that
snapshot (time travel) instead of the current one. Both readers need the hint to hold just N: with a trailing newline
they look for `v2\\n.metadata.json`; without a hint DuckDB refuses to guess (`unsafe_enable_version_guessing`) and
pyiceberg fails. s3:// uses the standard AWS variables (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REGION, keys).

Readers, both offline (installed by scripts/setup-test-env.sh from requirements-test.txt):
- duckdb: DuckDB's `iceberg_scan(TABLE[, snapshot_from_id => ID])`, with the `iceberg` and `avro` extensions (and
  `httpfs` for s3://) loaded from the .duckdb_extension files that the `duckdb-extension-*` wheels ship, with
  `allow_unsigned_extensions` and extension autoloading/autoinstalling off, so nothing is ever downloaded.
- pyiceberg: `StaticTable.from_metadata(TABLE).scan([snapshot_id=ID]).to_arrow()` (pyarrow's file systems).

Prints one JSON object (ASCII only) to stdout:
  {"reader", "table", "snapshotId" (the snapshot read; null when DuckDB read the current one, as it does not say
   which), "currentSnapshotId" (pyiceberg only, else null), "metadataLocation" (pyiceberg only, else null),
   "schema": {"fields": [{"id", "name", "type", "required"}], "identifierFieldIds"},
   "snapshots": [{"id", "parentId", "sequenceNumber", "timestampMs", "operation", "summary"}] (by sequence number),
   "columns": [names], "rows": [[values]] (columns in schema order; rows sorted by all columns, NULLs first)}
Schema types are Iceberg's names (long, int, decimal(12, 2), timestamptz...). DuckDB does not expose field ids,
required flags, identifier fields, parent ids or snapshot summaries: those are null there; its types are mapped
back from DuckDB's (BIGINT -> long, TIMESTAMP WITH TIME ZONE -> timestamptz...).
Snapshot ids are decimal strings (64-bit). Values are rendered as `lakesync export` renders CSV cells, NULL as null:
integers in decimal; decimals with exactly `scale` digits after the point (`-0.05`); dates `YYYY-MM-DD`; times
`HH:MM:SS.ffffff`; timestamps `YYYY-MM-DD HH:MM:SS.ffffff`, timestamptz the same in UTC plus `Z`; booleans
`true`/`false`; binary `\\x` + lowercase hex; strings as they are. Floating point values are JSON numbers (float:
the shortest decimal that reads back to the same float32, e.g. 0.1; double: the shortest round-trip form), NaN and
infinities the strings "NaN", "Infinity", "-Infinity".
Exit codes: 0 success, 1 a read error (message on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import math
import os
import re
import struct
import sys
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import urlparse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree


# --- rendering ------------------------------------------------------------------------------------------------------


def format_date(days: int) -> str:
    """`YYYY-MM-DD` of days since 1970-01-01 (proleptic Gregorian; the same algorithm as lakesync's formatDate)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return f"{y:04d}-{m:02d}-{d:02d}"


def format_time_of_day(value: int, per_second: int) -> str:
    """`HH:MM:SS.ffffff` (or 9 fraction digits for nanoseconds) of `value` units since midnight."""
    s, f = divmod(value, per_second)
    digits = len(str(per_second)) - 1
    frac = f".{f:0{digits}d}" if digits else ""
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{frac}"


def format_timestamp(value: int, per_second: int) -> str:
    days, rest = divmod(value, 86400 * per_second)  # floor division: correct before 1970 too
    return f"{format_date(days)} {format_time_of_day(rest, per_second)}"


def float_value(x: float) -> float | str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def float32_value(x: float) -> float | str:
    """The shortest decimal that reads back to the same float32 as `x` (the widened float32 a reader returns)."""
    if not math.isfinite(x):
        return float_value(x)
    for p in range(1, 10):
        y = float(f"{x:.{p}g}")
        if struct.unpack("<f", struct.pack("<f", y))[0] == x:
            return y
    return x


def format_decimal(d: Decimal, scale: int) -> str:
    text = f"{d:.{scale}f}"
    return text[1:] if text.startswith("-") and d == 0 else text


UNITS_PER_SECOND = {"s": 1, "ms": 1000, "us": 1_000_000, "ns": 1_000_000_000}


def temporal_formatter(t: Any) -> Callable[[int], str]:
    """The text of a date, time or timestamp of Arrow type `t`, given as its integer (days, or units of `t.unit`)."""
    import pyarrow as pa

    if pa.types.is_date32(t):
        return format_date
    if pa.types.is_date64(t):
        return lambda v: format_date(v // 86_400_000)
    per = UNITS_PER_SECOND[t.unit]
    if pa.types.is_time(t):
        return lambda v: format_time_of_day(v, per)
    zone = "Z" if t.tz is not None else ""  # the integer is UTC whatever the zone
    return lambda v: format_timestamp(v, per) + zone


def render_column(col: Any) -> tuple[list[Any], list[Any]]:
    """(rendered values, sort keys) of one pyarrow ChunkedArray, by its Arrow type."""
    import pyarrow as pa

    t = col.type
    if pa.types.is_timestamp(t) or pa.types.is_time(t) or pa.types.is_date(t):
        ints = col.cast(pa.int32() if pa.types.is_date32(t) or pa.types.is_time32(t) else pa.int64()).to_pylist()
        fmt = temporal_formatter(t)
        return [None if v is None else fmt(v) for v in ints], ints
    values = col.to_pylist()
    if pa.types.is_decimal(t):
        return [None if v is None else format_decimal(v, t.scale) for v in values], values
    if pa.types.is_boolean(t):
        return [None if v is None else ("true" if v else "false") for v in values], values
    if pa.types.is_floating(t):
        conv = float32_value if pa.types.is_float32(t) else float_value
        keys = [None if v is None else (1, 0.0) if math.isnan(v) else (0, v) for v in values]  # NaN last
        return [None if v is None else conv(v) for v in values], keys
    if pa.types.is_integer(t):
        return [None if v is None else str(v) for v in values], values
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return [None if v is None else "\\x" + bytes(v).hex() for v in values], values
    if pa.types.is_string(t) or pa.types.is_large_string(t) or str(t) == "string_view":
        return values, values
    # Anything else (nested types, uuid...): a JSON text of the Python value.
    text = [None if v is None else json.dumps(v, default=str, sort_keys=True) for v in values]
    return text, text


def render_rows(table: Any) -> list[list[Any]]:
    """The rows of a pyarrow Table, rendered, sorted by all columns (NULLs first)."""
    columns = [render_column(table.column(i)) for i in range(table.num_columns)]
    n = table.num_rows
    rows = [[values[r] for values, _ in columns] for r in range(n)]
    keys = [tuple((0,) if k[r] is None else (1, k[r]) for _, k in columns) for r in range(n)]
    return [rows[r] for r in sorted(range(n), key=keys.__getitem__)]


# --- storage ----------------------------------------------------------------------------------------------------


def aws_settings() -> dict[str, str | None]:
    """The standard AWS variables, as boto3 reads them (a moto server in the tests)."""
    return {
        "endpoint": os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"),
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        "key": os.environ.get("AWS_ACCESS_KEY_ID"),
        "secret": os.environ.get("AWS_SECRET_ACCESS_KEY"),
        "token": os.environ.get("AWS_SESSION_TOKEN"),
    }


def is_s3(location: str) -> bool:
    return location.startswith(("s3://", "s3a://"))


# --- DuckDB -----------------------------------------------------------------------------------------------------

DUCKDB_TYPES = {
    "BOOLEAN": "boolean",
    "INTEGER": "int",
    "BIGINT": "long",
    "FLOAT": "float",
    "DOUBLE": "double",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP_NS": "timestamp_ns",
    "VARCHAR": "string",
    "BLOB": "binary",
    "UUID": "uuid",
}


def iceberg_type_of_duckdb(name: str) -> str:
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", name)
    if m:
        return f"decimal({m.group(1)}, {m.group(2)})"
    return DUCKDB_TYPES.get(name, f"duckdb:{name}")


def duckdb_extension_file(name: str) -> str:
    """The .duckdb_extension file that the `duckdb-extension-NAME` wheel ships for the installed duckdb version."""
    import duckdb

    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the duckdb-extension-{name} wheel is not installed (bash scripts/setup-test-env.sh)")
    folder = os.path.join(list(spec.submodule_search_locations)[0], "extensions")
    wanted = os.path.join(folder, f"v{duckdb.__version__}", f"{name}.duckdb_extension")
    if os.path.isfile(wanted):
        return wanted
    found = sorted(glob.glob(os.path.join(folder, "*", f"{name}.duckdb_extension")))
    raise RuntimeError(
        f"duckdb-extension-{name} has no build for duckdb {duckdb.__version__} (it has {found}); "
        "pin both to one version in requirements-test.txt"
    )


def sql_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def read_duckdb(table: str, snapshot: int | None) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(
        config={
            "allow_unsigned_extensions": "true",
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
        }
    )
    names = ["avro", "iceberg"] + (["httpfs"] if is_s3(table) else [])
    for name in names:
        con.execute(f"LOAD {sql_string(duckdb_extension_file(name))}")
    if is_s3(table):
        aws = aws_settings()
        options = ["TYPE s3", f"REGION {sql_string(aws['region'] or '')}"]
        if aws["key"]:
            options += [f"KEY_ID {sql_string(aws['key'])}", f"SECRET {sql_string(aws['secret'] or '')}"]
        if aws["token"]:
            options.append(f"SESSION_TOKEN {sql_string(aws['token'])}")
        if aws["endpoint"]:
            url = urlparse(aws["endpoint"])
            options += [
                f"ENDPOINT {sql_string(url.netloc)}",
                "URL_STYLE 'path'",
                f"USE_SSL {'true' if url.scheme == 'https' else 'false'}",
            ]
        con.execute(f"CREATE SECRET lakesync_s3 ({', '.join(options)})")

    source = sql_string(table)
    scan = f"iceberg_scan({source}" + ("" if snapshot is None else f", snapshot_from_id => {snapshot}") + ")"
    described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    fields = [
        {"id": None, "name": name, "type": iceberg_type_of_duckdb(kind), "required": None}
        for name, kind, *_ in described
    ]
    data = con.sql(f"SELECT * FROM {scan}").to_arrow_table()
    snapshots = con.execute(
        f"SELECT snapshot_id, sequence_number, epoch_ms(timestamp_ms), operation FROM iceberg_snapshots({source}) "
        "ORDER BY sequence_number"
    ).fetchall()
    return {
        "snapshotId": None if snapshot is None else str(snapshot),
        "currentSnapshotId": None,
        "metadataLocation": None,
        "schema": {"fields": fields, "identifierFieldIds": None},
        "snapshots": [
            {
                "id": str(sid),
                "parentId": None,
                "sequenceNumber": seq,
                "timestampMs": ms,
                "operation": op,
                "summary": None,
            }
            for sid, seq, ms, op in snapshots
        ],
        "columns": data.column_names,
        "rows": render_rows(data),
    }


# --- pyiceberg --------------------------------------------------------------------------------------------------


def read_pyiceberg(table: str, snapshot: int | None) -> dict[str, Any]:
    from pyiceberg.table import StaticTable

    properties: dict[str, str] = {}
    if is_s3(table):
        aws = aws_settings()
        properties["py-io-impl"] = "pyiceberg.io.pyarrow.PyArrowFileIO"
        properties["s3.region"] = aws["region"] or ""
        for key, prop in [
            ("endpoint", "s3.endpoint"),
            ("key", "s3.access-key-id"),
            ("secret", "s3.secret-access-key"),
            ("token", "s3.session-token"),
        ]:
            if aws[key]:
                properties[prop] = aws[key] or ""
    t = StaticTable.from_metadata(table, properties)
    meta = t.metadata
    read_id = snapshot if snapshot is not None else meta.current_snapshot_id
    if snapshot is not None:
        snap = t.snapshot_by_id(snapshot)
        if snap is None:
            raise RuntimeError(f"no snapshot {snapshot} in {t.metadata_location}")
        schema = t.schemas()[snap.schema_id] if snap.schema_id is not None else t.schema()
        data = t.scan(snapshot_id=snapshot).to_arrow()
    else:
        schema = t.schema()
        data = t.scan().to_arrow()
    fields = [
        {"id": f.field_id, "name": f.name, "type": str(f.field_type), "required": f.required} for f in schema.fields
    ]
    return {
        "snapshotId": None if read_id is None else str(read_id),
        "currentSnapshotId": None if meta.current_snapshot_id is None else str(meta.current_snapshot_id),
        "metadataLocation": t.metadata_location,
        "schema": {"fields": fields, "identifierFieldIds": sorted(schema.identifier_field_ids)},
        "snapshots": [
            {
                "id": str(s.snapshot_id),
                "parentId": None if s.parent_snapshot_id is None else str(s.parent_snapshot_id),
                "sequenceNumber": s.sequence_number,
                "timestampMs": s.timestamp_ms,
                "operation": None if s.summary is None else s.summary.operation.value,
                "summary": None if s.summary is None else dict(s.summary.additional_properties),
            }
            for s in sorted(meta.snapshots, key=lambda s: s.sequence_number or 0)
        ],
        "columns": data.column_names,
        "rows": render_rows(data),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reader", required=True, choices=["duckdb", "pyiceberg"])
    parser.add_argument("--table", required=True, help="table folder (metadata/version-hint.text) or metadata file")
    parser.add_argument("--snapshot", type=int, help="snapshot id to read (time travel); default: the current one")
    args = parser.parse_args(argv)
    table = args.table
    if not is_s3(table) and "://" not in table:
        table = os.path.abspath(table)
    try:
        result = (read_duckdb if args.reader == "duckdb" else read_pyiceberg)(table, args.snapshot)
    except Exception as e:  # noqa: BLE001 - one message for the caller, whatever the reader raised
        print(f"iceberg_read.py --reader {args.reader}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump({"reader": args.reader, "table": args.table, **result}, sys.stdout, ensure_ascii=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
