"""DMS file names and order (etl/dms/files.ts) and the strict RFC 4180 reader (etl/dms/csv.ts), in plain Python.

The reader runs inside Spark tasks (one file per call) and yields rows as tuples; it enforces the TypeScript
reader's rules: quoted fields with doubled quotes, delimiters and newlines inside quotes, an empty unquoted field (or
csvNullValue) is NULL while a quoted "" is the empty string, LF or CRLF row ends, a tolerated BOM, and errors for a
blank line, a bare quote in an unquoted field, text after a closing quote, a lone CR, a wrong field count, an unknown
Op, a NULL key, invalid UTF-8, ints outside -?[0-9]+ / int32, dates that are not real YYYY-MM-DD dates.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from .errors import InputError

LOAD_NAME = re.compile(r"^LOAD([0-9A-F]{8})\.(csv|csv\.gz|parquet)$")
CHANGE_NAME = re.compile(r"^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(\d{3,})\.(csv|csv\.gz|parquet)$")
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
}

USERS_SPEC = {
    "name": "users",
    "columns": [
        {"name": "user_id", "type": "int32"},
        {"name": "name", "type": "string"},
        {"name": "city", "type": "string"},
        {"name": "last_login", "type": "date"},
    ],
    "primaryKey": "user_id",
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


def is_real_date(y: int, m: int, d: int) -> bool:
    if m < 1 or m > 12 or d < 1:
        return False
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    days = (29 if leap else 28) if m == 2 else 30 if m in (4, 6, 9, 11) else 31
    return d <= days


def days_from_civil(y: int, m: int, d: int) -> int:
    y -= 1 if m <= 2 else 0
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def format_date(days: int) -> str:
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


DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
INT_RE = re.compile(r"^-?[0-9]+$")


def parse_date(text: str) -> int | None:
    if not DATE_RE.match(text) or not text.isascii():
        return None
    y, m, d = int(text[0:4]), int(text[5:7]), int(text[8:10])
    if not is_real_date(y, m, d):
        return None
    return days_from_civil(y, m, d)


def parse_int32(text: str) -> int | None:
    if not INT_RE.match(text) or not text.isascii():
        return None
    v = int(text)
    return v if -2147483648 <= v <= 2147483647 else None


def classify(path: str) -> DmsFile | None:
    """None for files that are not DMS files at all (ignored); raises for malformed DMS-looking names."""
    name = path.rsplit("/", 1)[-1]
    if not EXTENSION.search(name):
        return None
    m = LOAD_NAME.match(name)
    if m:
        ext = m.group(2)
        return DmsFile(path, name, "load", ext == "csv.gz", "parquet" if ext == "parquet" else "csv",
                       int(m.group(1), 16), "")
    m = CHANGE_NAME.match(name)
    if m:
        y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
        if h <= 23 and mi <= 59 and s <= 59 and is_real_date(y, mo, d):
            ext = m.group(8)
            ts = "".join(m.group(i) for i in range(1, 8))
            return DmsFile(path, name, "change", ext == "csv.gz", "parquet" if ext == "parquet" else "csv", 0, ts)
    raise InputError("bad_file_name", f"dms files: malformed DMS file name \"{path}\" (expected LOAD<8 hex digits> "
                     "or yyyyMMdd-HHmmssfff with a real date and time, then .csv, .csv.gz or .parquet)")


def change_key(f: DmsFile):
    """DMS apply order of change files: timestamp value (the fraction as a decimal fraction), then the name."""
    return (f.timestamp.ljust(40, "0"), f.name.encode("utf-8"))


def list_dms_files(paths: list[str]) -> tuple[list[DmsFile], list[DmsFile], list[str]]:
    loads, changes, ignored = [], [], []
    by_stem: dict[str, str] = {}
    for p in paths:
        f = classify(p)
        if f is None:
            ignored.append(p)
            continue
        stem = EXTENSION.sub("", f.name)
        if stem in by_stem:
            raise InputError("duplicate_file", f"dms files: \"{p}\" and \"{by_stem[stem]}\" are the same DMS file twice "
                             "(same name in two folders, or one name with two extensions); remove one")
        by_stem[stem] = p
        (loads if f.kind == "load" else changes).append(f)
    loads.sort(key=lambda f: f.part)
    changes.sort(key=change_key)
    return loads, changes, sorted(ignored)


def layout(spec: dict, fmt: dict, kind: str) -> dict:
    """Which field holds what (csvLayout in etl/dms/csv.ts)."""
    has_op = kind == "change" or fmt["includeOpForFullLoad"]
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
            "sequenceField": sequence_field}


DIGITS = re.compile(r"^[0-9]+$")


def compare_sequence(a: str, b: str) -> int:
    """compareSequence (etl/dms/format.ts): digit strings numerically, anything else as text."""
    if DIGITS.match(a) and DIGITS.match(b) and len(a) != len(b):
        x, y = a.lstrip("0"), b.lstrip("0")
        if len(x) != len(y):
            return len(x) - len(y)
        return -1 if x < y else 1 if x > y else 0
    return -1 if a < b else 1 if a > b else 0


def _quote(v: str) -> str:
    return '"' + v.replace('"', '""') + '"' if len(v) <= 60 else '"' + v[:60].replace('"', '""') + '..."'


def parse_csv(raw: bytes, file: str, spec: dict, lay: dict, fmt: dict, gz: bool):
    """Yields (line, op, value..., sequence) per row of one DMS CSV file (sequence: the text of the column that
    orders changes, None when file order does); raises InputError at the first bad byte."""
    if gz:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:
            raise InputError("truncated_gzip", f"dms files: cannot gunzip {file}: {e} (expected a complete gzip file)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise InputError("invalid_utf8", f"dms csv: invalid UTF-8 byte 0x{raw[e.start]:02x} (expected UTF-8 text) "
                         f"in {file} line {line}")
    if text.startswith("\ufeff"):
        text = text[1:]
    delim = fmt["csvDelimiter"]
    null_value = fmt["csvNullValue"]
    columns = spec["columns"]
    key = next(i for i, c in enumerate(columns) if c["name"] == spec["primaryKey"])
    header = lay["header"]
    field_column = lay["fieldColumn"]
    field_count = len(header)
    has_op = lay["hasOp"]
    load_only = lay["loadOnly"]
    sequence_field = lay.get("sequenceField", -1)
    types = [c["type"] for c in columns]
    n = len(text)
    pos = 0
    line = 1
    quoted_re = re.compile(r'"((?:[^"]|"")*)"', re.S)
    unquoted_stop = re.compile("[" + re.escape(delim) + '"\r\n]')

    def fail(code, what, ln, col):
        raise InputError(code, f"dms csv: {what} in {file} line {ln} column {col}")

    def read_row(pos, line):
        """The general scanner for one row: [(value, quoted)], new pos, new line."""
        fields = []
        start_line = line
        while True:
            if pos < n and text[pos] == '"':
                m = quoted_re.match(text, pos)
                if m is None:
                    fail("unterminated_quote", "unterminated quoted field (a closing \" is missing before the end "
                         "of the file)", line, len(fields) + 1)
                v = m.group(1)
                field_line = line
                line += v.count("\n")
                fields.append((v.replace('""', '"'), True))
                pos = m.end()
                if pos < n and text[pos] not in (delim, "\n", "\r"):
                    fail("bad_quote", f"text after a closing quote (expected \"{delim}\" or end of line)",
                         field_line, len(fields))
            else:
                m = unquoted_stop.search(text, pos)
                e = n if m is None else m.start()
                if e < n and text[e] == '"':
                    fail("bad_quote", "bare \" inside an unquoted field (quote the whole field and double the quote)",
                         line, len(fields) + 1)
                fields.append((text[pos:e], False))
                pos = e
            if pos >= n:
                return fields, pos, line, start_line
            c = text[pos]
            if c == delim:
                pos += 1
                continue
            if c == "\n":
                return fields, pos + 1, line + 1, start_line
            if pos + 1 < n and text[pos + 1] == "\n":
                return fields, pos + 2, line + 1, start_line
            fail("bad_line_end", "carriage return not followed by a line feed (expected CRLF or LF line ends)",
                 line, len(fields))

    def convert(fields, row_line):
        if len(fields) != field_count:
            what = "too many fields" if len(fields) > field_count else f"{len(fields)} fields"
            fail("field_count", f"{what} (expected {field_count}: {','.join(header)})", row_line,
                 min(len(fields), field_count + 1))
        op = "I"
        values = [None] * len(columns)
        seq = None
        for fi, (v, quoted) in enumerate(fields):
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
                    if v not in ("I", "U", "D") or (load_only and v != "I"):
                        fail("unknown_op", f"unknown Op {_quote(v)} (expected "
                             f"{'I in a full-load file' if load_only else 'I, U or D'})", row_line, 1)
                continue
            if op == "D" and c != key:
                continue
            is_null = (not quoted) and (v == "" if null_value is None else v == null_value)
            if is_null:
                if c == key:
                    fail("null_key", f"NULL key {spec['primaryKey']} (expected a value)", row_line, fi + 1)
                continue
            t = types[c]
            if t == "string":
                values[c] = v
            elif t == "int32":
                x = parse_int32(v)
                if x is None:
                    fail("bad_int", f"bad integer {_quote(v)} for {columns[c]['name']} (expected -?[0-9]+ within "
                         "the int32 range)", row_line, fi + 1)
                values[c] = x
            else:
                x = parse_date(v)
                if x is None:
                    fail("bad_date", f"bad date {_quote(v)} for {columns[c]['name']} (expected a real calendar "
                         "date YYYY-MM-DD)", row_line, fi + 1)
                values[c] = x
        return (row_line, op, *values, seq)

    first = fmt["addColumnName"]
    while pos < n:
        if text[pos] == "\n" or (text[pos] == "\r" and pos + 1 < n and text[pos + 1] == "\n"):
            fail("blank_line", "blank line (expected a row of fields)", line, 1)
        # Fast path: a physical line with no quote and no stray CR is split on the delimiter.
        nl = text.find("\n", pos)
        end = n if nl < 0 else nl
        seg = text[pos:end]
        if '"' not in seg:
            if seg.endswith("\r") and nl >= 0:
                seg = seg[:-1]
            if "\r" in seg:
                fail("bad_line_end", "carriage return not followed by a line feed (expected CRLF or LF line ends)",
                     line, seg[: seg.index("\r")].count(delim) + 1)
            fields = [(v, False) for v in seg.split(delim)]
            row_line = line
            pos = end + 1 if nl >= 0 else n
            line += 1
        else:
            fields, pos, line, row_line = read_row(pos, line)
        if first:
            first = False
            names = [v for v, _ in fields]
            if names != header:
                fail("bad_header", f"header {_quote(','.join(names))} does not match the table "
                     f"(expected {','.join(header)})", 1, 1)
            continue
        yield convert(fields, row_line)


def parse_city_map(raw: bytes, file: str) -> dict[str, str]:
    spec = {"name": "city_to_state", "columns": [{"name": "city", "type": "string"},
                                                 {"name": "state", "type": "string"}], "primaryKey": "city"}
    fmt = dict(DEFAULT_FORMAT, addColumnName=True)
    out: dict[str, str] = {}
    seen: set[str] = set()
    for line, _op, city, state, _seq in parse_csv(raw, file, spec, layout(spec, fmt, "load"), fmt, False):
        if city in seen:
            raise InputError("duplicate_key", f"city map: \"{city}\" is listed twice in {file} line {line}")
        seen.add(city)
        if state is not None:
            out[city] = state
    return out


def _json_quote(v: str) -> str:
    """quoteValue (etl/errors.ts): JSON-quoted, shortened past 60 characters."""
    import json

    return json.dumps(v if len(v) <= 60 else v[:57] + "...", ensure_ascii=False)


def _js_string(v) -> str:
    """String(v) as the TypeScript reader renders a Parquet value in messages and sequence values."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return str(int(v))
    return str(v)


def _js_type(v, wide: bool) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "bigint" if wide else "number"
    if isinstance(v, float):
        return "number"
    return "string" if isinstance(v, str) else "object"


def _iso_ms(d) -> str:
    """Date.prototype.toISOString of a Parquet TIMESTAMP (millisecond precision, UTC)."""
    if d.tzinfo is not None:
        d = d.astimezone(timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def parse_parquet(raw: bytes, file: str, spec: dict, lay: dict):
    """Yields the rows parse_csv yields, from one DMS file written with DataFormat=parquet (etl/dms/parquet.ts):
    columns matched by name exactly as the CSV layout's header, ints within int32 (INT64 columns too), dates as
    DATE, 32-bit day numbers or YYYY-MM-DD strings, the key never NULL, Op I, U or D; the 1-based row is the line."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(pa.BufferReader(raw))
        names = [pf.metadata.schema.column(i).path for i in range(pf.metadata.num_columns)]
    except Exception as e:  # noqa: BLE001 - any unreadable file is a bad header, as in the TypeScript reader
        raise InputError("bad_header", f"dms parquet: {file} is not a readable Parquet file: {e}") from None
    header = lay["header"]
    if names != header:
        raise InputError("bad_header", f"dms parquet: columns {_json_quote(','.join(names))} of {file} do not match "
                         f"the table (expected {','.join(header)})")
    try:
        table = pf.read()
    except Exception as e:  # noqa: BLE001
        raise InputError("bad_header", f"dms parquet: cannot read {file}: {e}") from None
    columns = spec["columns"]
    key = next(i for i, c in enumerate(columns) if c["name"] == spec["primaryKey"])
    field_column = lay["fieldColumn"]
    has_op = lay["hasOp"]
    load_only = lay["loadOnly"]
    sequence_field = lay.get("sequenceField", -1)
    data = []
    wide = []  # INT64 / UINT64 columns: bigint in the TypeScript reader (fine for ints, not for dates)
    for f in range(len(header)):
        col = table.column(f)
        t = col.type
        if pa.types.is_date32(t):
            col = col.cast(pa.int32())
        elif pa.types.is_date64(t):
            col = col.cast(pa.date32()).cast(pa.int32())
        elif pa.types.is_timestamp(t):
            col = col.cast(pa.timestamp("ms", tz=t.tz), safe=False)
        wide.append(pa.types.is_integer(t) and t.bit_width == 64)
        data.append(col.to_pylist())
    for r in range(table.num_rows):
        line = r + 1
        op = "I"
        values = [None] * len(columns)
        seq = None
        for f in range(len(header)):
            v = data[f][r]
            if isinstance(v, Decimal):  # DECIMAL columns are numbers in the TypeScript reader
                v = int(v) if v == v.to_integral_value() else float(v)

            def fail(code, what, f=f):
                raise InputError(code, f"dms parquet: {what} in {file} line {line} column {f + 1}")

            c = field_column[f]
            if f == sequence_field:
                if v is None or v == "":
                    fail("bad_sequence", f"empty {header[f]} (expected the value that orders this change)")
                seq = _iso_ms(v) if isinstance(v, datetime) else _js_string(v)
                continue
            if c < 0:
                if has_op and f == 0:
                    op = v
                    if v not in ("I", "U", "D") or (load_only and v != "I"):
                        fail("unknown_op", f"unknown Op {_json_quote(_js_string(v))} (expected "
                             f"{'I in a full-load file' if load_only else 'I, U or D'})")
                continue
            if op == "D" and c != key:
                continue
            name = columns[c]["name"]
            if v is None:
                if c == key:
                    fail("null_key", f"NULL key {spec['primaryKey']} (expected a value)")
                continue
            t = columns[c]["type"]
            if t == "string":
                if not isinstance(v, str):
                    fail("bad_header", f"{name} is {_js_type(v, wide[f])} {_json_quote(_js_string(v))} "
                         "(expected a string)")
                values[c] = v
            elif t == "int32":
                x = v
                if isinstance(x, float) and x.is_integer():
                    x = int(x)
                if isinstance(x, bool) or not isinstance(x, int) or not -2147483648 <= x <= 2147483647:
                    fail("bad_int", f"bad integer {_json_quote(_js_string(v))} for {name} (expected an int32)")
                values[c] = x
            elif t == "date":
                d = None
                if isinstance(v, str):
                    d = parse_date(v)
                elif isinstance(v, float) and v.is_integer():
                    d = int(v)
                elif isinstance(v, int) and not isinstance(v, bool) and not wide[f]:
                    d = v
                if d is None:
                    fail("bad_date", f"bad date {_json_quote(_js_string(v))} for {name} (expected a DATE or "
                         "YYYY-MM-DD)")
                values[c] = d
            else:
                fail("bad_header", f"{name}: double columns are not read from DMS files")
        yield (line, op, *values, seq)
