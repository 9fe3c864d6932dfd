"""DMS file names and order (etl/dms/files.ts), the strict RFC 4180 reader (etl/dms/csv.ts) and the DMS Parquet
reader (etl/dms/parquet.ts), in plain Python.

The readers run inside Spark tasks (one file per call) and yield rows as tuples; they enforce the TypeScript
readers' rules: quoted fields with doubled quotes, delimiters and row delimiters inside quotes, an empty unquoted
field (or csvNullValue) is NULL while a quoted "" is the empty string, LF or CRLF row ends or another CsvRowDelimiter
(csv_rows.py), a tolerated BOM, and errors for a blank line, a bare quote in an unquoted field, text after a closing
quote, a lone CR, a wrong field count, an unknown Op, a NULL in any key column, invalid UTF-8, and a value that is not
of its column's declared type (values.py). Files whose columns differ from the config's (added or dropped at the
source) are read as row_shape.py says.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from .csv_rows import csv_rows, row_end
from .errors import InputError
from .row_shape import fewest_fields, file_shape, not_null_missing, too_few_fields_hint, too_many_fields_hint
from .nosup import reader_error
from .settings import allowed_ops, change_rows_without_op, nosup_text, ops_expected
from .time_zone import utc_timestamp
from .values import (days_from_civil, expected_form, format_date, is_real_date, js_string,  # noqa: F401
                     parse_date, parse_int32, parse_parquet_value, parse_text, quote_value, shown, type_name)

# A parallel load without partition folders prefixes its segment: SEGMENT1_LOAD00000001.csv (etl/dms/files.ts).
LOAD_NAME = re.compile(r"^(SEGMENT[1-9][0-9]*_)?LOAD([0-9A-F]{8})\.(csv|csv\.gz|parquet)$")
CHANGE_NAME = re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{2})-([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{3,})"
                         r"\.(csv|csv\.gz|parquet)$")
EXTENSION = re.compile(r"\.(csv|csv\.gz|parquet)$")

DEFAULT_FORMAT = {
    "includeOpForFullLoad": False,
    "addColumnName": False,
    "timestampColumnName": None,
    "timestampColumnPosition": "afterOp",
    "csvDelimiter": ",",
    "csvNullValue": None,
    "changeSequenceColumnName": None,
    "changeSequencePosition": "last",
    "orderChangesBy": "file",
    "cdcInsertsOnly": False,
    "cdcInsertsAndUpdates": False,
    "useCsvNoSupValue": False,
    "csvNoSupValue": None,
    "rfc4180": True,
    "csvRowDelimiter": "\n",
    "datePartitionTimezone": None,
}

USERS_SPEC = {
    "name": "users",
    "columns": [
        {"name": "user_id", "type": "int32"},
        {"name": "name", "type": "string"},
        {"name": "city", "type": "string"},
        {"name": "last_login", "type": "date"},
    ],
    "primaryKey": ["user_id"],
    "features": {"id": "user_id", "name": "name", "city": "city", "lastLogin": "last_login"},
}


@dataclass(frozen=True)
class DmsFile:
    path: str  # relative to the source root, '/'-separated
    name: str
    kind: str  # 'load' | 'change'
    gzip: bool
    format: str  # 'csv' | 'parquet'
    part: int
    timestamp: str
    segment: str = ""  # LOAD of a parallel load: its SEGMENT<n> prefix or partition folder


@dataclass(frozen=True)
class NameClock:
    """How change-file names tell time (NameClock in etl/dms/files.ts): UTC, or local time in a zone."""
    time_zone: str | None  # format.datePartitionTimezone
    mtime_ms: Callable[[str], float | None]  # a file's modification time: decides the hour a DST change repeats
    name: Callable[[str], str] = lambda p: p  # how errors name a file (the source's full name)


def classify(path: str, clock: NameClock | None = None) -> DmsFile | None:
    """None for files that are not DMS files at all (ignored); raises for malformed DMS-looking names."""
    name = path.rsplit("/", 1)[-1]
    if not EXTENSION.search(name):
        return None
    m = LOAD_NAME.match(name)
    if m:
        ext = m.group(3)
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        prefix = (m.group(1) or "")[:-1]
        segment = f"{folder}/{prefix}" if folder and prefix else folder or prefix
        return DmsFile(path, name, "load", ext == "csv.gz", "parquet" if ext == "parquet" else "csv",
                       int(m.group(2), 16), "", segment)
    m = CHANGE_NAME.match(name)
    if m:
        y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
        if h <= 23 and mi <= 59 and s <= 59 and is_real_date(y, mo, d):
            ext = m.group(8)
            ts = "".join(m.group(i) for i in range(1, 8))
            if clock is not None and clock.time_zone is not None:
                ts = utc_timestamp(ts, clock.time_zone, clock.mtime_ms(path), clock.name(path))
            return DmsFile(path, name, "change", ext == "csv.gz", "parquet" if ext == "parquet" else "csv", 0, ts)
    if name.startswith("CDC_TXN-"):
        raise InputError("bad_file_name", f"dms files: \"{path}\" is a DMS transaction file (PreserveTransactions with "
                         "CdcPath), which the Spark engine does not read; run the table with the lakesync engine, or "
                         "leave PreserveTransactions false on the S3 endpoint so that each table's changes go to its "
                         "own folder")
    raise InputError("bad_file_name", f"dms files: malformed DMS file name \"{path}\" (expected LOAD<8 hex digits>, "
                     "SEGMENT<n>_LOAD<8 hex digits> or yyyyMMdd-HHmmssfff with a real date and time, then .csv, "
                     ".csv.gz or .parquet)")


def change_key(f: DmsFile):
    """DMS apply order of change files: timestamp value (the fraction as a decimal fraction), then the name."""
    return (f.timestamp.ljust(40, "0"), f.name.encode("utf-8"))


def segment_key(segment: str):
    """Natural order of segment names (compareSegments in etl/dms/files.ts): text runs as text, digit runs as numbers."""
    return [(1, int(x), x) if x[0] in "0123456789" else (0, x, "") for x in re.findall(r"[0-9]+|[^0-9]+", segment)]


def list_dms_files(paths: list[str], clock: NameClock | None = None) -> tuple[list[DmsFile], list[DmsFile], list[str]]:
    loads, changes, ignored = [], [], []
    by_stem: dict[str, str] = {}
    for p in paths:
        f = classify(p, clock)
        if f is None:
            ignored.append(p)
            continue
        # Segments of a parallel load reuse LOAD names in their own folders: a LOAD name is unique per folder.
        stem = EXTENSION.sub("", f.path if f.kind == "load" else f.name)
        if stem in by_stem:
            raise InputError("duplicate_file", f"dms files: \"{p}\" and \"{by_stem[stem]}\" are the same DMS file twice "
                             "(same name in two folders, or one name with two extensions); remove one")
        by_stem[stem] = p
        (loads if f.kind == "load" else changes).append(f)
    loads.sort(key=lambda f: (segment_key(f.segment), f.part))
    changes.sort(key=change_key)
    return loads, changes, sorted(ignored)


def layout(spec: dict, fmt: dict, kind: str) -> dict:
    """Which field holds what (csvLayout in etl/dms/csv.ts)."""
    has_op = not change_rows_without_op(fmt) if kind == "change" else fmt["includeOpForFullLoad"]
    header: list[str] = []
    field_column: list[int] = []
    if has_op:
        header.append("Op")
        field_column.append(-1)
    for where in ("afterOp", "last"):
        if where == "last":
            for i, c in enumerate(spec["columns"]):
                header.append(c["name"])
                field_column.append(i)
        for name, pos in ((fmt["timestampColumnName"], fmt["timestampColumnPosition"]),
                          (fmt["changeSequenceColumnName"], fmt["changeSequencePosition"])):
            if name is not None and pos == where:
                header.append(name)
                field_column.append(-1)
    order = fmt.get("orderChangesBy", "file")
    order_name = (fmt["timestampColumnName"] if order == "timestamp"
                  else fmt["changeSequenceColumnName"] if order == "changeSequence" else None)
    sequence_field = header.index(order_name) if kind == "change" and order_name is not None else -1
    return {"header": header, "fieldColumn": field_column, "hasOp": has_op, "loadOnly": kind == "load",
            "sequenceField": sequence_field, "ops": allowed_ops(fmt, kind)}


DIGITS = re.compile(r"^[0-9]+$")


def compare_sequence(a: str, b: str) -> int:
    """compareSequence (etl/dms/format.ts): digit strings numerically, anything else as text."""
    if DIGITS.match(a) and DIGITS.match(b) and len(a) != len(b):
        x, y = a.lstrip("0"), b.lstrip("0")
        if len(x) != len(y):
            return len(x) - len(y)
        return -1 if x < y else 1 if x > y else 0
    return -1 if a < b else 1 if a > b else 0


def parse_csv(raw: bytes, file: str, spec: dict, lay: dict, fmt: dict, gz: bool):
    """Yields (line, op, value..., sequence, kept, kept field) per row of one DMS CSV file (sequence: the text of the
    column that orders changes, None when file order does; kept: the columns a U row keeps, nosup.py, or None);
    raises InputError at the first bad byte. A header other than the
    config's is matched by name, and a header-less row may lack trailing `added` columns (row_shape.py)."""
    if gz:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:
            raise InputError("truncated_gzip", f"dms files: cannot gunzip {file}: {e} (expected a complete gzip file)")
    rd = row_end(fmt)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(rd.encode("ascii"), 0, e.start) + 1
        raise InputError("invalid_utf8", f"dms csv: invalid UTF-8 byte 0x{raw[e.start]:02x} (expected UTF-8 text) "
                         f"in {file} line {line}")
    if text.startswith("\ufeff"):
        text = text[1:]
    null_value = fmt["csvNullValue"]
    no_sup = None if lay["loadOnly"] else nosup_text(fmt)  # the docs tie CsvNoSupValue to CDC files
    columns = spec["columns"]
    is_key = [c["name"] in spec["primaryKey"] for c in columns]
    # The file's shape: the config's layout until a header says otherwise.
    shape = {"fieldColumn": lay["fieldColumn"], "header": lay["header"],
             "sequenceField": lay.get("sequenceField", -1), "missing": []}
    min_fields = fewest_fields(spec, lay)
    has_op = lay["hasOp"]
    load_only = lay["loadOnly"]
    ops = "I" if load_only else lay.get("ops", "IUD")
    types = [c["type"] for c in columns]

    def fail(code, what, ln, col):
        raise InputError(code, f"dms csv: {what} in {file} line {ln} column {col}")

    def convert(fields, row_line, field_lines):
        header = shape["header"]
        field_column = shape["fieldColumn"]
        field_count = len(header)
        sequence_field = shape["sequenceField"]
        op = "I"
        values = [None] * len(columns)
        seq = None
        kept = []
        for fi, (v, quoted) in enumerate(fields):
            if fi >= field_count:
                fail("field_count", f"too many fields (expected {field_count}: {','.join(header)})"
                     f"{too_many_fields_hint(spec, fi)}", row_line if field_lines is None else field_lines[fi], fi + 1)
            c = field_column[fi]
            if fi == sequence_field:
                if v == "" or ((not quoted) and null_value is not None and v == null_value):
                    fail("bad_sequence", f"empty {header[fi]} (expected the value that orders this change)",
                         row_line, fi + 1)
                seq = v
                continue
            if c < 0:
                if has_op and fi == 0:
                    op = v
                    if v not in ("I", "U", "D") or v not in ops:
                        fail("unknown_op", f"unknown Op {quote_value(v)} (expected {ops_expected(ops, load_only)})", row_line, 1)
                continue
            if no_sup is not None and not quoted and v == no_sup:
                if is_key[c] or op == "I":
                    fail("nosup_value", reader_error(v, columns[c]["name"], is_key[c]),
                         row_line if field_lines is None else field_lines[fi], fi + 1)
                if op == "U":
                    kept.append(c)  # NULL until the plan gives it the key's previous value (nosup.py)
                continue
            if op == "D" and not is_key[c]:
                continue  # the other values of a D row are not read (DMS may write only the key): NULL
            is_null = (not quoted) and (v == "" if null_value is None else v == null_value)
            if is_null:
                if is_key[c]:
                    fail("null_key", f"NULL key column {columns[c]['name']} (expected a value)", row_line, fi + 1)
                if columns[c].get("nullable") is False:
                    fail("null_value", f"NULL in {columns[c]['name']}, which is not nullable (expected a value: the "
                         "column is NOT NULL at the source)", row_line, fi + 1)
                continue
            t = types[c]
            if t == "string" or t == "json":
                values[c] = v
            elif t == "int32":
                x = parse_int32(v)
                if x is None:
                    fail("bad_int", f"bad integer {quote_value(v)} for {columns[c]['name']} (expected -?[0-9]+ "
                         "within the int32 range)", row_line, fi + 1)
                values[c] = x
            elif t == "date":
                x = parse_date(v)
                if x is None:
                    fail("bad_date", f"bad date {quote_value(v)} for {columns[c]['name']} (expected a real calendar "
                         "date YYYY-MM-DD)", row_line, fi + 1)
                values[c] = x
            else:
                x, why = parse_text(columns[c], v)
                if why is not None:
                    fail("bad_value", f"bad {type_name(columns[c])} {quote_value(v)} for {columns[c]['name']}: {why} "
                         f"(expected {expected_form(columns[c])})", row_line, fi + 1)
                values[c] = x
        if len(fields) < min_fields:
            fail("field_count", f"{len(fields)} fields (expected {field_count}: {','.join(header)})"
                 f"{too_few_fields_hint(spec, lay)}", row_line, len(fields))
        # Fields the row lacks (trailing added columns) and columns the header lacks read NULL.
        missing = not_null_missing(spec, lay, shape, op)
        if missing is not None:
            fail("null_value", f"NULL in {missing[0]}, which is not nullable (expected a value: the column is NOT "
                 "NULL at the source)", row_line, missing[1])
        if not kept:
            return (row_line, op, *values, seq, None, None)
        kept.sort()
        return (row_line, op, *values, seq, kept, shape["fieldColumn"].index(kept[0]) + 1)

    first = fmt["addColumnName"]
    for fields, row_line, field_lines in csv_rows(text, file, fmt["csvDelimiter"], rd, fmt.get("rfc4180", True)):
        if first:
            first = False
            names = [v for v, _ in fields]
            if names != lay["header"]:
                shape = file_shape(names, spec, lay, file, "dms csv")
            min_fields = len(names)  # the header says which fields every row of the file has
            continue
        yield convert(fields, row_line, field_lines)


def parse_city_map(raw: bytes, file: str) -> dict[str, str]:
    spec = {"name": "city_to_state", "columns": [{"name": "city", "type": "string"},
                                                 {"name": "state", "type": "string"}], "primaryKey": ["city"]}
    fmt = dict(DEFAULT_FORMAT, addColumnName=True)
    out: dict[str, str] = {}
    seen: set[str] = set()
    for line, _op, city, state, *_ in parse_csv(raw, file, spec, layout(spec, fmt, "load"), fmt, False):
        if city in seen:
            raise InputError("duplicate_key", f"city map: \"{city}\" is listed twice in {file} line {line}")
        seen.add(city)
        if state is not None:
            out[city] = state
    return out


def _iso_ms(micros: int) -> str:
    """Date.prototype.toISOString of a timestamp (millisecond precision, UTC)."""
    ms = micros // 1000
    days, rest = divmod(ms, 86_400_000)
    h, rest = divmod(rest, 3_600_000)
    mi, rest = divmod(rest, 60_000)
    s, frac = divmod(rest, 1000)
    return f"{format_date(days)}T{h:02d}:{mi:02d}:{s:02d}.{frac:03d}Z"


def parquet_column(pa, arrow_type, parquet_column_schema) -> tuple[str, dict]:
    """The kind a DMS Parquet column's values have in the TypeScript reader (values.py) and what the value parser
    needs of the file column (decimalScale, timeUnit)."""
    t = arrow_type
    info: dict = {"decimalScale": None, "timeUnit": None}
    if pa.types.is_decimal(t):
        info["decimalScale"] = t.scale
        physical = parquet_column_schema.physical_type
        return ("number" if physical == "INT32" else "bigint" if physical == "INT64" else "bytes"), info
    if pa.types.is_timestamp(t):
        return "timestamp", info
    if pa.types.is_time(t):
        info["timeUnit"] = t.unit
        return ("number" if pa.types.is_time32(t) else "bigint"), info
    if pa.types.is_boolean(t):
        return "boolean", info
    if pa.types.is_integer(t):
        return ("bigint" if t.bit_width == 64 else "number"), info
    if pa.types.is_floating(t) or pa.types.is_date(t):
        return "number", info
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        logical = str(parquet_column_schema.logical_type)
        return ("bytes" if logical == "JSON" or parquet_column_schema.converted_type == "JSON" else "string"), info
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "bytes", info
    return "object", info


def parse_parquet(raw: bytes, file: str, spec: dict, lay: dict):
    """Yields the rows parse_csv yields, from one DMS file written with DataFormat=parquet (etl/dms/parquet.ts):
    columns matched by name (row_shape.py: a declared column the file lacks reads NULL), each value read into its column's declared type
    (values.py parse_parquet_value: decimals exact, timestamps from their raw integer and unit), no key column
    NULL, Op I, U or D; the 1-based row is the line."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(pa.BufferReader(raw))
        names = [pf.metadata.schema.column(i).path for i in range(pf.metadata.num_columns)]
    except Exception as e:  # noqa: BLE001 - any unreadable file is a bad header, as in the TypeScript reader
        raise InputError("bad_header", f"dms parquet: {file} is not a readable Parquet file: {e}") from None
    # Other columns than the config's (added or dropped at the source): matched by name, absent ones read NULL.
    shape = (file_shape(names, spec, lay, file, "dms parquet") if names != lay["header"]
             else {"fieldColumn": lay["fieldColumn"], "header": names, "sequenceField": lay.get("sequenceField", -1),
                   "missing": []})
    header = shape["header"]
    try:
        table = pf.read()
    except Exception as e:  # noqa: BLE001
        raise InputError("bad_header", f"dms parquet: cannot read {file}: {e}") from None
    columns = spec["columns"]
    is_key = [c["name"] in spec["primaryKey"] for c in columns]
    field_column = shape["fieldColumn"]
    has_op = lay["hasOp"]
    load_only = lay["loadOnly"]
    sequence_field = shape["sequenceField"]
    data = []
    kinds = []
    infos = []
    for f in range(len(header)):
        col = table.column(f)
        t = col.type
        kind, info = parquet_column(pa, t, pf.schema.column(f))
        if kind == "timestamp":
            unit = t.unit
            values = col.cast(pa.int64()).to_pylist()
            data.append([None if v is None else (v, unit) for v in values])
        elif kind in ("number", "bigint") and (pa.types.is_date(t) or pa.types.is_time(t)):
            data.append(col.cast(pa.int32() if pa.types.is_date32(t) or pa.types.is_time32(t) else pa.int64())
                        .to_pylist())
        elif info["decimalScale"] is not None:
            width = pf.schema.column(f).length if kind == "bytes" else 0
            out = []
            for v in col.to_pylist():
                if v is None:
                    out.append(None)
                    continue
                sign, digits, exp = v.as_tuple()
                unscaled = int("".join(map(str, digits)) or "0") * 10 ** (exp + t.scale)
                unscaled = -unscaled if sign else unscaled
                if kind == "bytes":
                    n = width if width and width > 0 else max(1, (unscaled.bit_length() + 8) // 8)
                    out.append(unscaled.to_bytes(n, "big", signed=True))
                else:
                    out.append(unscaled)
            data.append(out)
        elif kind == "bytes" and (pa.types.is_string(t) or pa.types.is_large_string(t)):
            data.append([None if v is None else v.encode("utf-8") for v in col.to_pylist()])
        else:
            data.append(col.to_pylist())
        kinds.append(kind)
        infos.append(info)
    for r in range(table.num_rows):
        line = r + 1
        op = "I"
        values = [None] * len(columns)
        seq = None
        for f in range(len(header)):
            v = data[f][r]
            kind = kinds[f]

            def fail(code, what, f=f):
                raise InputError(code, f"dms parquet: {what} in {file} line {line} column {f + 1}")

            c = field_column[f]
            if f == sequence_field:
                if v is None or v == "":
                    fail("bad_sequence", f"empty {header[f]} (expected the value that orders this change)")
                seq = _iso_ms(_micros_of(v)) if kind == "timestamp" else js_string(v)
                continue
            if c < 0:
                if has_op and f == 0:
                    op = v
                    if v not in ("I", "U", "D") or (load_only and v != "I"):
                        fail("unknown_op", f"unknown Op {quote_value(js_string(v))} (expected "
                             f"{'I in a full-load file' if load_only else 'I, U or D'})")
                continue
            if op == "D" and not is_key[c]:
                continue
            cs = columns[c]
            if v is None:
                if is_key[c]:
                    fail("null_key", f"NULL key column {cs['name']} (expected a value)")
                if cs.get("nullable") is False:
                    fail("null_value", f"NULL in {cs['name']}, which is not nullable (expected a value: the column "
                         "is NOT NULL at the source)")
                continue
            x, why = parse_parquet_value(cs, v, kind, infos[f])
            if why is not None:
                fail("bad_value", f"bad {type_name(cs)} {quote_value(shown(v, kind))} for {cs['name']}: {why}")
            values[c] = x
        missing = not_null_missing(spec, lay, shape, op)
        if missing is not None:
            raise InputError("null_value", f"dms parquet: NULL in {missing[0]}, which is not nullable (expected a "
                             f"value: the column is NOT NULL at the source) in {file} line {line} column {missing[1]}")
        yield (line, op, *values, seq, None, None)


def _micros_of(v) -> int:
    raw, unit = v
    return raw * 1000 if unit == "ms" else raw if unit == "us" else raw // 1000 if unit == "ns" else raw * 1_000_000
