"""The published Parquet schema, exactly as the TypeScript writer declares it (etl/parquet/schema.ts).

Spark writes the data pages; its Parquet writer has no type for TIME or JSON, writes int64 without the INT(64)
annotation and a timestamp without zone with the TIMESTAMP_MICROS converted type, and declares no field ids. So the
job writes each column with the physical type the TypeScript writer uses (time and timestamps as INT64 micros, json
as UTF8 text) and then rewrites only the footer: every leaf's converted type, DECIMAL scale/precision, logical type
and field id are set to what etl/parquet/schema.ts declares, and Spark's private schema (the key-value entry
org.apache.spark.sql.parquet.row.metadata, which would tell a later Spark reader `long` for a timestamp) is dropped.
Data pages, page indexes and row-group offsets stay where they are: the footer is the file's last part.

The footer is Thrift compact protocol (parquet.thrift FileMetaData); the codec here keeps every field it does not
touch as it was read.
"""

from __future__ import annotations

import struct

from .errors import StateError

# Compact protocol field types
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)

# parquet.thrift Type
BOOLEAN, INT32, INT64, INT96, FLOAT, DOUBLE, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY = range(8)
TYPE_NAMES = ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"]
# ConvertedType
CT_UTF8, CT_DECIMAL, CT_DATE, CT_TIMESTAMP_MICROS, CT_INT_16, CT_INT_64, CT_JSON = 0, 5, 6, 10, 16, 18, 19
REQUIRED, OPTIONAL = 0, 1

SPARK_PRIVATE_KEYS = ("org.apache.spark.sql.parquet.row.metadata",)


# ---------------------------------------------------------------- a generic Thrift compact codec
# A struct is a list of [field id, compact type, value]; a list is (element type, [values]); a map is
# (key type, value type, [(k, v)]); booleans are Python bools; binaries are bytes.

class _Reader:
    def __init__(self, b: bytes):
        self.b = b
        self.i = 0

    def byte(self) -> int:
        v = self.b[self.i]
        self.i += 1
        return v

    def varint(self) -> int:
        shift = 0
        out = 0
        while True:
            c = self.byte()
            out |= (c & 0x7F) << shift
            if c < 0x80:
                return out
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, t: int):
        if t == _TRUE:
            return True
        if t == _FALSE:
            return False
        if t == _BYTE:
            v = self.byte()
            return v - 256 if v > 127 else v
        if t in (_I16, _I32, _I64):
            return self.zigzag()
        if t == _DOUBLE:
            v = struct.unpack_from("<d", self.b, self.i)[0]
            self.i += 8
            return v
        if t == _BINARY:
            n = self.varint()
            v = self.b[self.i:self.i + n]
            self.i += n
            return bytes(v)
        if t in (_LIST, _SET):
            h = self.byte()
            n = h >> 4
            et = h & 0x0F
            if n == 15:
                n = self.varint()
            if et in (_TRUE, _FALSE):  # booleans in a collection: one byte each
                return (et, [self.byte() == 1 for _ in range(n)])
            return (et, [self.value(et) for _ in range(n)])
        if t == _MAP:
            n = self.varint()
            if n == 0:
                return (0, 0, [])
            kv = self.byte()
            kt, vt = kv >> 4, kv & 0x0F
            return (kt, vt, [(self.value(kt), self.value(vt)) for _ in range(n)])
        if t == _STRUCT:
            return self.struct()
        raise ValueError(f"thrift: unknown compact type {t}")

    def struct(self) -> list:
        fields = []
        last = 0
        while True:
            h = self.byte()
            if h == _STOP:
                return fields
            t = h & 0x0F
            delta = h >> 4
            fid = last + delta if delta else self.zigzag()
            fields.append([fid, t, self.value(t)])
            last = fid


class _Writer:
    def __init__(self):
        self.out = bytearray()

    def varint(self, n: int) -> None:
        while True:
            if n < 0x80:
                self.out.append(n)
                return
            self.out.append((n & 0x7F) | 0x80)
            n >>= 7

    def zigzag(self, n: int, bits: int) -> None:
        self.varint(((n << 1) ^ (n >> (bits - 1))) & ((1 << bits) - 1))

    def value(self, t: int, v) -> None:
        if t in (_TRUE, _FALSE):
            return  # in the field header
        if t == _BYTE:
            self.out.append(v & 0xFF)
        elif t == _I16:
            self.zigzag(v, 16)
        elif t == _I32:
            self.zigzag(v, 32)
        elif t == _I64:
            self.zigzag(v, 64)
        elif t == _DOUBLE:
            self.out += struct.pack("<d", v)
        elif t == _BINARY:
            self.varint(len(v))
            self.out += v
        elif t in (_LIST, _SET):
            et, items = v
            if len(items) < 15:
                self.out.append((len(items) << 4) | et)
            else:
                self.out.append(0xF0 | et)
                self.varint(len(items))
            for x in items:
                if et in (_TRUE, _FALSE):
                    self.out.append(1 if x else 2)
                else:
                    self.value(et, x)
        elif t == _MAP:
            kt, vt, items = v
            self.varint(len(items))
            if items:
                self.out.append((kt << 4) | vt)
                for k, x in items:
                    self.value(kt, k)
                    self.value(vt, x)
        elif t == _STRUCT:
            self.struct(v)
        else:
            raise ValueError(f"thrift: unknown compact type {t}")

    def struct(self, fields: list) -> None:
        last = 0
        for fid, t, v in fields:
            if t in (_TRUE, _FALSE):
                t = _TRUE if v else _FALSE
            delta = fid - last
            if 0 < delta <= 15:
                self.out.append((delta << 4) | t)
            else:
                self.out.append(t)
                self.zigzag(fid, 16)
            self.value(t, v)
            last = fid
        self.out.append(_STOP)


def decode_struct(b: bytes) -> list:
    return _Reader(b).struct()


def encode_struct(fields: list) -> bytes:
    w = _Writer()
    w.struct(fields)
    return bytes(w.out)


def _get(fields: list, fid: int):
    return next((v for f, _t, v in fields if f == fid), None)


def _put(fields: list, fid: int, t: int, v) -> None:
    """Sets field `fid` (None removes it), keeping the fields in id order."""
    fields[:] = [f for f in fields if f[0] != fid]
    if v is not None:
        fields.append([fid, t, v])
        fields.sort(key=lambda f: f[0])


# ---------------------------------------------------------------- what the TypeScript writer declares

def _empty() -> list:
    return []


def _int_type(bits: int) -> list:
    return [[10, _STRUCT, [[1, _BYTE, bits], [2, _TRUE, True]]]]


def _micros_time(kind: int, utc: bool) -> list:
    # LogicalType union field 7 TIME / 8 TIMESTAMP: {1: isAdjustedToUTC, 2: unit (TimeUnit union, 2 = MICROS)}
    return [[kind, _STRUCT, [[1, _TRUE, utc], [2, _STRUCT, [[2, _STRUCT, _empty()]]]]]]


def decimal_bytes(precision: int) -> int:
    """Bytes of the smallest two's complement integer that holds every decimal of `precision` digits."""
    m = 10 ** precision - 1
    n = 1
    while 2 ** (8 * n - 1) <= m:
        n += 1
    return n


def parquet_type(c: dict) -> dict:
    """etl/parquet/schema.ts parquetType: physical, typeLength, converted, scale, precision, logical (compact)."""
    t = c["type"]
    if t == "int16":
        return {"physical": INT32, "converted": CT_INT_16, "logical": _int_type(16)}
    if t == "int32":
        return {"physical": INT32}
    if t == "int64":
        return {"physical": INT64, "converted": CT_INT_64, "logical": _int_type(64)}
    if t == "float32":
        return {"physical": FLOAT}
    if t in ("float64", "double"):
        return {"physical": DOUBLE}
    if t == "decimal":
        p, s = c["precision"], c["scale"]
        base = {"converted": CT_DECIMAL, "scale": s, "precision": p,
                "logical": [[5, _STRUCT, [[1, _I32, s], [2, _I32, p]]]]}
        if p <= 9:
            return {"physical": INT32, **base}
        if p <= 18:
            return {"physical": INT64, **base}
        return {"physical": FIXED_LEN_BYTE_ARRAY, "typeLength": decimal_bytes(p), **base}
    if t == "boolean":
        return {"physical": BOOLEAN}
    if t == "string":
        return {"physical": BYTE_ARRAY, "converted": CT_UTF8, "logical": [[1, _STRUCT, _empty()]]}
    if t == "json":
        return {"physical": BYTE_ARRAY, "converted": CT_JSON, "logical": [[12, _STRUCT, _empty()]]}
    if t == "binary":
        return {"physical": BYTE_ARRAY}
    if t == "date":
        return {"physical": INT32, "converted": CT_DATE, "logical": [[6, _STRUCT, _empty()]]}
    if t == "time":
        return {"physical": INT64, "logical": _micros_time(7, False)}
    if t == "timestamp":
        # No converted type: TIMESTAMP_MICROS means adjusted to UTC, which a timestamp without zone is not.
        return {"physical": INT64, "logical": _micros_time(8, False)}
    if t == "timestamptz":
        return {"physical": INT64, "converted": CT_TIMESTAMP_MICROS, "logical": _micros_time(8, True)}
    raise ValueError(f"no Parquet type for column type {t!r}")


def patch_footer(footer: bytes, columns: list[dict], keys: list[str]) -> tuple[bytes, int]:
    """The FileMetaData `footer` with every leaf annotated as etl/parquet/schema.ts declares columns[i] (field id
    i + 1), Spark's private schema dropped; and the file's row count. Raises StateError when Spark wrote another
    physical type or repetition than the TypeScript writer would (the data pages could not be re-annotated then)."""
    meta = decode_struct(footer)
    schema = _get(meta, 2)
    if schema is None:
        raise StateError("write_failed", "spark: the written Parquet footer has no schema")
    elements = schema[1]
    leaves = elements[1:]
    if len(leaves) != len(columns):
        raise StateError("write_failed", f"spark: wrote {len(leaves)} Parquet columns, expected {len(columns)}")
    for i, (el, c) in enumerate(zip(leaves, columns)):
        want = parquet_type(c)
        name = _get(el, 4)
        physical = _get(el, 1)
        repetition = _get(el, 3)
        want_rep = REQUIRED if c["name"] in keys else OPTIONAL
        if name != c["name"].encode("utf-8") or physical != want["physical"] or repetition != want_rep or (
                want.get("typeLength") is not None and _get(el, 2) != want["typeLength"]):
            raise StateError("write_failed", f"spark: column {c['name']} was written as "
                             f"{TYPE_NAMES[physical] if physical is not None else physical} repetition {repetition}, "
                             f"expected {TYPE_NAMES[want['physical']]} repetition {want_rep}")
        _put(el, 6, _I32, want.get("converted"))
        _put(el, 7, _I32, want.get("scale"))
        _put(el, 8, _I32, want.get("precision"))
        _put(el, 9, _I32, i + 1)
        _put(el, 10, _STRUCT, want.get("logical"))
    kv = _get(meta, 5)
    if kv is not None:
        kept = [e for e in kv[1] if _get(e, 1) not in tuple(k.encode() for k in SPARK_PRIVATE_KEYS)]
        _put(meta, 5, _LIST, (kv[0], kept) if kept else None)
    return encode_struct(meta), _get(meta, 3)


def split_file_tail(tail: bytes) -> int:
    """The footer length from a Parquet file's last 8 bytes."""
    if len(tail) < 8 or tail[-4:] != b"PAR1":
        raise StateError("write_failed", "spark: the written file is not Parquet (no PAR1 at its end)")
    return struct.unpack("<I", tail[-8:-4])[0]


def footer_trailer(footer: bytes) -> bytes:
    """A new footer as the file's end: the footer, its length, PAR1."""
    return footer + struct.pack("<I", len(footer)) + b"PAR1"
