"""Column types and values: the Python twin of etl/table/column-types.ts, etl/table/spec.ts (table specs),
etl/dms/text-values.ts (the text DMS writes in CSV) and etl/dms/parquet-values.ts (DMS Parquet values).

Inside the job a value travels as (see spark_type):
  int16, int32, int64 -> int; float32 (rounded to a float32), float64 -> float; decimal(p,s) -> decimal.Decimal
  (exact, never through a double); boolean -> bool; string, json -> str; binary -> bytes; date -> int (days since
  1970-01-01); time -> int (µs since midnight); timestamp, timestamptz -> int (µs since 1970-01-01 UTC).
Parsers return (value, None) or (None, why) where `why` is the TypeScript engine's reason text.
"""

from __future__ import annotations

import json
import math
import re
import struct
from decimal import Decimal

from .errors import LakesyncError

CONFIG_TYPES = ["int16", "int32", "int64", "float32", "float64", "decimal(p,s)", "boolean", "string", "json",
                "binary", "date", "time", "timestamp", "timestamptz"]
INT64_DECIMAL_DIGITS = 18
FEATURE_ROLES = [("id", "int32"), ("name", "string"), ("city", "string"), ("lastLogin", "date")]
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DECIMAL_TYPE = re.compile(r"decimal\(\s*([0-9]+)\s*,\s*([0-9]+)\s*\)")


def _bad_config(message: str) -> LakesyncError:
    return LakesyncError("bad_config", message)


def type_name(c: dict) -> str:
    """The type as a user writes it: `decimal(12,2)`, `int64`."""
    return f"decimal({c['precision']},{c['scale']})" if c["type"] == "decimal" else c["type"]


def parse_column_type(name: str, value, where: str) -> dict:
    if isinstance(value, str):
        d = _DECIMAL_TYPE.fullmatch(value)
        if d:
            p, s = int(d.group(1)), int(d.group(2))
            if p < 1 or p > 38 or s > p:
                raise _bad_config(f"config: {where} {value} is out of range (expected decimal(p,s) with 1 <= p <= 38 "
                                  "and 0 <= s <= p)")
            return {"name": name, "type": "decimal", "precision": p, "scale": s}
        if value in CONFIG_TYPES and value != "decimal(p,s)":
            return {"name": name, "type": value}
    raise _bad_config(f"config: {where} must be one of {', '.join(CONFIG_TYPES)}, got {json.dumps(value)}")


def key_problem(c: dict) -> str | None:
    t = c["type"]
    if t in ("float32", "float64", "double"):
        return "floats compare inexactly (NaN, -0)"
    if t in ("binary", "json"):
        return f"{t} values are not keys"
    return None


def parse_table_spec(value, where: str = "table") -> dict:
    """etl/table/spec.ts parseTableSpec: {name, columns: [{name, type[, precision, scale]}], primaryKey: [names],
    features?: {id, name, city, lastLogin}}."""
    if not isinstance(value, dict):
        raise _bad_config(f"config: {where} must be an object")
    for k in value:
        if k not in ("name", "columns", "primaryKey", "features"):
            raise _bad_config(f"config: unknown key {json.dumps(k)} in {where} (known: name, columns, primaryKey, "
                              "features)")
    name = value.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _bad_config(f"config: {where}.name must be an identifier, got {json.dumps(name)}")
    raw_columns = value.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise _bad_config(f"config: {where}.columns must be a non-empty array")
    columns = []
    for i, col in enumerate(raw_columns):
        col = col if isinstance(col, dict) else {}
        if not isinstance(col.get("name"), str) or not _NAME.fullmatch(col["name"]):
            raise _bad_config(f"config: {where}.columns[{i}].name must be an identifier")
        for k in col:
            if k not in ("name", "type", "nullable", "added"):
                raise _bad_config(f"config: unknown key {json.dumps(k)} in {where}.columns[{i}] (known: name, type, "
                                  "nullable, added)")
        for k in ("nullable", "added"):
            if k in col and not isinstance(col[k], bool):
                raise _bad_config(f"config: {where}.columns[{i}].{k} must be true or false")
        if col.get("added") is True and col.get("nullable") is False:
            raise _bad_config(f"config: {where}.columns[{i}] ({col['name']}) is added and not nullable: rows written "
                              "before it was added read NULL")
        spec = parse_column_type(col["name"], col.get("type"), f"{where}.columns[{i}].type")
        if col.get("nullable") is False:
            spec = {**spec, "nullable": False}  # NOT NULL at the source: a NULL in an I or U row is an error
        if col.get("added") is True:
            spec = {**spec, "added": True}  # added at the source during CDC: older rows read NULL (row_shape.py)
        columns.append(spec)
    first = next((c for c in columns if c.get("added")), None)
    later = next((c for c in columns[columns.index(first):] if not c.get("added")), None) if first else None
    if later is not None:
        raise _bad_config(f"config: {where}.columns: {later['name']} follows the added column {first['name']} but is "
                          "not added (added columns are the last ones, in the order they were added)")
    names = set()
    for c in columns:
        if c["name"] in names:
            raise _bad_config(f"config: {where} has column {c['name']} twice")
        names.add(c["name"])
    pk = value.get("primaryKey")
    raw_key = [pk] if isinstance(pk, str) else pk
    if not isinstance(raw_key, list) or not raw_key:
        raise _bad_config(f"config: {where}.primaryKey must be a column name or a non-empty array of them, got "
                          f"{json.dumps(pk)}")
    key = []
    for k in raw_key:
        c = next((c for c in columns if c["name"] == k), None)
        if c is None:
            raise _bad_config(f"config: {where}.primaryKey {json.dumps(k)} is not a column")
        if c.get("added"):
            raise _bad_config(f"config: {where}.primaryKey column {c['name']} is declared added (a key column is in "
                              "every row: reload the table after changing the key)")
        problem = key_problem(c)
        if problem:
            raise _bad_config(f"config: {where}.primaryKey column {c['name']} is {type_name(c)}: {problem} (a key "
                              "column may be any type but float32, float64, binary and json)")
        key.append(c["name"])
    if len(set(key)) != len(key):
        raise _bad_config(f"config: {where}.primaryKey names a column twice")
    spec = {"name": name, "columns": columns, "primaryKey": key}
    if "features" in value:
        spec["features"] = _parse_features(value["features"], columns, where)
    return spec


def _parse_features(value, columns: list[dict], where: str) -> dict:
    if not isinstance(value, dict):
        raise _bad_config(f"config: {where}.features must be an object naming the columns (id, name, city, "
                          "lastLogin)")
    for k in value:
        if k not in [r for r, _ in FEATURE_ROLES]:
            raise _bad_config(f"config: unknown key {json.dumps(k)} in {where}.features (known: id, name, city, "
                              "lastLogin)")
    out = {}
    for role, t in FEATURE_ROLES:
        col = next((c for c in columns if c["name"] == value.get(role)), None)
        if col is None:
            raise _bad_config(f"config: {where}.features.{role} {json.dumps(value.get(role))} is not a column of "
                              "the table")
        if col["type"] != t:
            raise _bad_config(f"config: {where}.features.{role} names {col['name']}, a {type_name(col)} column; the "
                              f"features step reads {role} as {t}")
        out[role] = col["name"]
    return out


def features_columns(spec: dict) -> list[dict]:
    """The features table's columns (etl/city-features.ts featuresSpecFor)."""
    f = spec["features"]
    return [{"name": f["id"], "type": "int32"}, {"name": f["name"], "type": "string"},
            {"name": f["city"], "type": "string"}, {"name": f["lastLogin"], "type": "date"},
            {"name": "state", "type": "string"}, {"name": "last_login_rank_by_city", "type": "int32"},
            {"name": "login_rate_last_3_months_by_city", "type": "double"},
            {"name": "users_by_city", "type": "int32"}]


def spark_type(c: dict, dates_as_days: bool = True):
    """The Spark type a column's values travel as in the job (dates as day numbers until written)."""
    from pyspark.sql import types as T

    t = c["type"]
    if t == "int16":
        return T.ShortType()
    if t == "int32":
        return T.IntegerType()
    if t in ("int64", "time", "timestamp", "timestamptz"):
        return T.LongType()
    if t == "float32":
        return T.FloatType()
    if t in ("float64", "double"):
        return T.DoubleType()
    if t == "decimal":
        return T.DecimalType(c["precision"], c["scale"])
    if t == "boolean":
        return T.BooleanType()
    if t in ("string", "json"):
        return T.StringType()
    if t == "binary":
        return T.BinaryType()
    if t == "date":
        return T.IntegerType() if dates_as_days else T.DateType()
    raise ValueError(f"unknown column type {t!r}")


def hive_type(c: dict) -> str:
    """etl/catalog/glue.ts hiveType."""
    t = c["type"]
    return {"int16": "smallint", "int32": "int", "int64": "bigint", "float32": "float", "float64": "double",
            "double": "double", "boolean": "boolean", "binary": "binary", "date": "date", "timestamp": "timestamp",
            "timestamptz": "timestamp", "string": "string", "json": "string", "time": "string"}.get(t) or (
        f"decimal({c['precision']},{c['scale']})")


# ---------------------------------------------------------------- numbers as JavaScript prints them

def js_number(x: float) -> str:
    """Number.prototype.toString (ECMAScript Number::toString) of a double."""
    if x != x:
        return "NaN"
    if x == 0:
        return "0"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x < 0:
        return "-" + js_number(-x)
    _sign, digits, exp = Decimal(repr(x)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0")
    exp += len(digits) - len(ds)
    k = len(ds)
    n = exp + k
    if k <= n <= 21:
        return ds + "0" * (n - k)
    if 0 < n <= 21:
        return ds[:n] + "." + ds[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + ds
    e = n - 1
    sign = "+" if e >= 0 else "-"
    return (ds if k == 1 else ds[0] + "." + ds[1:]) + "e" + sign + str(abs(e))


def quote_value(v: str) -> str:
    """quoteValue (etl/errors.ts): JSON-quoted, shortened past 60 characters (UTF-16 code units, as in JS)."""
    if _utf16_len(v) > 60:
        v = _utf16_prefix(v, 57) + "..."
    return json.dumps(v, ensure_ascii=False)


def _utf16_len(s: str) -> int:
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


def _utf16_prefix(s: str, units: int) -> str:
    out = []
    n = 0
    for ch in s:
        w = 2 if ord(ch) > 0xFFFF else 1
        if n + w > units:
            if w == 2 and n < units:
                out.append("\ufffd")  # JS would keep half a surrogate pair; JSON.stringify escapes it
            break
        out.append(ch)
        n += w
    return "".join(out)


# ---------------------------------------------------------------- dates (etl/dms/values.ts, files.ts)

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
    """The calendar date of a day number, as YYYY-MM-DD (civil_from_days)."""
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


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> int | None:
    """Exactly YYYY-MM-DD naming a real calendar date: days since epoch, or None."""
    if not _DATE.fullmatch(text):
        return None
    y, m, d = int(text[0:4]), int(text[5:7]), int(text[8:10])
    return days_from_civil(y, m, d) if is_real_date(y, m, d) else None


_INT32 = re.compile(r"-?[0-9]+")


def parse_int32(text: str) -> int | None:
    """The CSV reader's own int32 parser: -?[0-9]+ within the int32 range."""
    if not _INT32.fullmatch(text):
        return None
    v = int(text)
    return v if -2147483648 <= v <= 2147483647 else None


# ---------------------------------------------------------------- text values (etl/dms/text-values.ts)

_INTEGER = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?")
_TIMESTAMP = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
                        r"(Z|[+-][0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2})?)?)?")
_OFFSET = re.compile(r"([+-])([0-9]{2}):?([0-9]{2})?:?([0-9]{2})?")
_HEX = re.compile(r"\\x((?:[0-9a-fA-F]{2})*)")
_DECIMAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")
MICROS_PER_DAY = 86_400_000_000
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def wrap_int64(v: int) -> int:
    """What a BigInt64Array stores (the TypeScript engine's int64 columns)."""
    return ((v + 2 ** 63) % 2 ** 64) - 2 ** 63


def expected_form(c: dict) -> str:
    t = c["type"]
    if t == "int16":
        return "an integer within the int16 range"
    if t == "int64":
        return "an integer within the int64 range"
    if t in ("float32", "float64"):
        return "a number (1.5, +5.0656000000000000e+05, NaN, Infinity, -Infinity)"
    if t == "decimal":
        p, s = c["precision"], c["scale"]
        return f"a decimal({p},{s}) number: at most {p} digits, {s} after the point"
    if t == "boolean":
        return "true, false, t, f, 1 or 0"
    if t == "time":
        return "HH:MM:SS with up to 6 fraction digits (more only if zero)"
    if t == "timestamp":
        return "YYYY-MM-DD HH:MM:SS with up to 6 fraction digits (more only if zero), no offset"
    if t == "timestamptz":
        return ("YYYY-MM-DD HH:MM:SS with up to 6 fraction digits (more only if zero) and an optional offset (+02, "
                "+02:00, Z)")
    if t == "binary":
        return "\\x followed by pairs of hex digits"
    return t


def _fraction_micros(digits: str | None) -> int | None:
    if digits is None:
        return 0
    if len(digits) > 6 and digits[6:].strip("0") != "":
        return None
    return int(digits[:6].ljust(6, "0"))


def _offset_seconds(text: str) -> int | None:
    if text == "Z":
        return 0
    m = _OFFSET.fullmatch(text)
    if not m:
        return None
    h, mi, s = int(m.group(2)), int(m.group(3) or 0), int(m.group(4) or 0)
    if h > 18 or mi > 59 or s > 59:
        return None
    return (-1 if m.group(1) == "-" else 1) * (h * 3600 + mi * 60 + s)


def parse_timestamp_micros(text: str, with_zone: bool) -> int | None:
    m = _TIMESTAMP.fullmatch(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    if not is_real_date(y, mo, d) or h > 23 or mi > 59 or s > 59:
        return None
    frac = _fraction_micros(m.group(7))
    if frac is None:
        return None
    offset = 0
    if m.group(8) is not None:
        if not with_zone:
            return None
        o = _offset_seconds(m.group(8))
        if o is None:
            return None
        offset = o
    return (days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset) * 1_000_000 + frac


def parse_time_micros(text: str) -> int | None:
    m = _TIME.fullmatch(text)
    if not m:
        return None
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if h > 23 or mi > 59 or s > 59:
        return None
    frac = _fraction_micros(m.group(4))
    if frac is None:
        return None
    v = (h * 3600 + mi * 60 + s) * 1_000_000 + frac
    return v if v < MICROS_PER_DAY else None


def parse_float_text(text: str) -> float | None:
    if text in ("NaN", "-NaN", "nan"):
        return math.nan
    if text in ("Infinity", "+Infinity", "inf"):
        return math.inf
    if text in ("-Infinity", "-inf"):
        return -math.inf
    return float(text) if _FLOAT.fullmatch(text) else None


def parse_boolean_text(text: str) -> bool | None:
    t = text.lower()
    return True if t in ("true", "t", "1") else False if t in ("false", "f", "0") else None


def fround(x: float) -> float:
    """Math.fround: the nearest float32, as a double."""
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def max_unscaled(precision: int) -> int:
    return 10 ** precision - 1


def parse_decimal_text(text: str, precision: int, scale: int):
    """etl/table/decimal.ts parseDecimalText: the unscaled int, or the reason (str) it is not a decimal(p,s)."""
    m = _DECIMAL.fullmatch(text)
    if not m or (m.group(2) == "" and not m.group(3)):
        return "not a decimal number"
    frac = m.group(3) or ""
    while len(frac) > scale and frac.endswith("0"):
        frac = frac[:-1]
    if len(frac) > scale:
        return f"more than {scale} fraction digits"
    whole = m.group(2).lstrip("0")
    if len(whole) > precision - scale:
        return f"more than {precision} digits (precision {precision}, scale {scale})"
    digits = whole + frac.ljust(scale, "0")
    v = int(digits) if digits else 0
    return -v if m.group(1) == "-" else v


def format_decimal(unscaled: int, scale: int) -> str:
    negative = unscaled < 0
    digits = str(-unscaled if negative else unscaled)
    if scale > 0:
        digits = digits.rjust(scale + 1, "0")
        digits = f"{digits[:-scale]}.{digits[-scale:]}"
    return "-" + digits if negative else digits


def decimal_of(unscaled: int, scale: int) -> Decimal:
    """The exact Decimal of an unscaled value (built from its text: no context rounding)."""
    return Decimal(format_decimal(unscaled, scale))


def parse_text(c: dict, text: str):
    """storeText: the value of `text` as column c's type, or (None, why)."""
    t = c["type"]
    if t in ("int16", "int32"):
        if not _INTEGER.fullmatch(text):
            return None, "not an integer"
        v = int(text)
        lo, hi = (-32768, 32767) if t == "int16" else (-2147483648, 2147483647)
        if v < lo or v > hi:
            return None, f"out of the {t} range"
        return v, None
    if t == "int64":
        if not _INTEGER.fullmatch(text):
            return None, "not an integer"
        v = int(text)
        if v < INT64_MIN or v > INT64_MAX:
            return None, "out of the int64 range"
        return v, None
    if t == "decimal":
        v = parse_decimal_text(text, c["precision"], c["scale"])
        if isinstance(v, str):
            return None, v
        return decimal_of(v, c["scale"]), None
    if t in ("float32", "float64"):
        v = parse_float_text(text)
        if v is None:
            return None, "not a number"
        return (fround(v) if t == "float32" else v), None
    if t == "boolean":
        v = parse_boolean_text(text)
        return (None, "not a boolean") if v is None else (v, None)
    if t == "time":
        v = parse_time_micros(text)
        return (None, "not a time of day (or digits beyond the microsecond)") if v is None else (v, None)
    if t in ("timestamp", "timestamptz"):
        v = parse_timestamp_micros(text, t == "timestamptz")
        return (None, "not a timestamp (or digits beyond the microsecond)") if v is None else (wrap_int64(v), None)
    if t == "binary":
        m = _HEX.fullmatch(text)
        return (None, "not \\x-prefixed hex") if m is None else (bytes.fromhex(m.group(1)), None)
    if t == "date":  # not reached from CSV (its own parser); DMS Parquet strings
        v = parse_date(text)
        return (None, "not a date YYYY-MM-DD") if v is None else (v, None)
    return text, None  # string, json


# ---------------------------------------------------------------- DMS Parquet values (etl/dms/parquet-values.ts)
# The TypeScript reader (hyparquet, with DECIMAL annotations stripped and raw timestamps) sees each Parquet column
# as one JavaScript kind: "number" (INT32 and narrower, FLOAT, DOUBLE, DATE days, INT32 DECIMAL unscaled), "bigint"
# (INT64, INT64 DECIMAL unscaled), "boolean", "string" (UTF8/STRING), "bytes" (other byte arrays, JSON, FIXED and
# BYTE_ARRAY DECIMAL unscaled big-endian) or "timestamp" (raw integer and unit). parquet_column() tells the kind.

def _integer(v, kind: str) -> int | None:
    if kind == "bigint":
        return v
    if kind == "number" and (isinstance(v, int) or (isinstance(v, float) and v.is_integer())):
        return int(v)
    return None


def _micros(raw: int, unit: str) -> int | None:
    if unit == "ms":
        return raw * 1000
    if unit == "us":
        return raw
    return raw // 1000 if raw % 1000 == 0 else None


def read_big_endian(b: bytes) -> int:
    return int.from_bytes(b, "big", signed=True) if b else 0


def shown(v, kind: str) -> str:
    """How the TypeScript reader shows a value in an error: bytes as 0x..., a timestamp as its raw integer."""
    if kind == "bytes":
        return "0x" + bytes(v).hex()
    if kind == "timestamp":
        return str(v[0])
    return js_string(v)


def js_string(v) -> str:
    """String(v) of a value as JavaScript holds it."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return js_number(v)
    if isinstance(v, (bytes, bytearray)):
        return ",".join(str(x) for x in v)  # Uint8Array#toString
    return str(v)


def _typeof(kind: str) -> str:
    return {"number": "number", "bigint": "bigint", "boolean": "boolean", "string": "string"}.get(kind, "object")


def _decimal_value(c: dict, v, kind: str, file_scale: int | None):
    if kind == "bytes":
        unscaled = read_big_endian(v)
    else:
        unscaled = _integer(v, kind)
    if unscaled is None:
        return "not a decimal"
    frm, to = file_scale or 0, c["scale"]
    if frm < to:
        unscaled *= 10 ** (to - frm)
    elif frm > to:
        f = 10 ** (frm - to)
        if unscaled % f != 0:
            return f"more than {to} fraction digits"
        unscaled //= f  # exact: divisible
    if abs(unscaled) > max_unscaled(c["precision"]):
        return f"more than {c['precision']} digits"
    return unscaled


def _format_raw(v, kind: str) -> str:
    if kind == "bytes":
        return format_decimal(read_big_endian(v), 0)
    return js_string(v)


def parse_parquet_value(c: dict, v, kind: str, info: dict):
    """storeParquetValue: a present DMS Parquet value as column c's type, or (None, why). `info` holds the file
    column's decimalScale (None unless DECIMAL) and timeUnit ("ms", "us", "ns"; None unless TIME)."""
    t = c["type"]
    if kind == "string" and t not in ("string", "json"):
        return parse_text(c, v)
    if t in ("int16", "int32"):
        x = _integer(v, kind)
        lo, hi = (-32768, 32767) if t == "int16" else (-2147483648, 2147483647)
        if x is None or x < lo or x > hi:
            return None, f"not an {t}"
        return x, None
    if t == "int64":
        x = _integer(v, kind)
        if x is None or x < INT64_MIN or x > INT64_MAX:
            return None, "not an int64"
        return x, None
    if t == "decimal":
        if info.get("decimalScale") is None and kind == "number" and isinstance(v, float) and not v.is_integer():
            return None, "a floating-point number (expected a DECIMAL: a double cannot hold a decimal exactly)"
        x = _decimal_value(c, v, kind, info.get("decimalScale"))
        if isinstance(x, str):
            return None, f"{x} (the value {_format_raw(v, kind)})"
        return decimal_of(x, c["scale"]), None
    if t in ("float32", "float64"):
        if kind not in ("number", "bigint"):
            return None, "not a number"
        x = float(v)
        return (fround(x) if t == "float32" else x), None
    if t == "boolean":
        return (v, None) if kind == "boolean" else (None, "not a BOOLEAN")
    if t == "date":
        if kind != "number" or not (isinstance(v, int) or (isinstance(v, float) and v.is_integer())):
            return None, "not a DATE"
        return int(v), None
    if t == "time":
        x = _integer(v, kind)
        if x is None or info.get("timeUnit") is None:
            return None, "not a TIME"
        m = _micros(x, info["timeUnit"])
        return (None, "digits beyond the microsecond") if m is None else (m, None)
    if t in ("timestamp", "timestamptz"):
        if kind != "timestamp":
            return None, "not a TIMESTAMP"
        m = _micros(v[0], v[1])
        return (None, "digits beyond the microsecond") if m is None else (wrap_int64(m), None)
    if t == "binary":
        return (bytes(v), None) if kind == "bytes" else (None, "not a BYTE_ARRAY")
    if t in ("string", "json"):
        if kind == "string":
            return v, None
        if kind == "bytes":
            return bytes(v).decode("utf-8", errors="replace"), None
        return None, f"not a string ({_typeof(kind)})"
    return None, "computed columns are not read from DMS files"


# ---------------------------------------------------------------- keys as the TypeScript engine prints them

def key_part_text(c: dict, v) -> str:
    """One key column's value as etl/table/keys.ts keyText shows it (its stored form: day numbers, µs, unscaled)."""
    t = c["type"]
    if t == "boolean":
        return "1" if v else "0"
    if t == "decimal":
        s = c["scale"]
        sign, digits, exp = v.as_tuple()
        unscaled = int("".join(map(str, digits)) or "0") * 10 ** (exp + s)
        return str(-unscaled if sign else unscaled)
    return str(v)


def key_text(spec: dict, values: list) -> str:
    cols = [next(c for c in spec["columns"] if c["name"] == k) for k in spec["primaryKey"]]
    parts = [key_part_text(c, v) for c, v in zip(cols, values)]
    if len(parts) == 1:
        return f"{spec['primaryKey'][0]}={parts[0]}"
    return f"({', '.join(spec['primaryKey'])})=({', '.join(parts)})"
