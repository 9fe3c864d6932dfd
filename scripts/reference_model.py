#!/usr/bin/env python3
"""Independent reference model of the lakesync CDC semantics (Python 3.11, stdlib only).

This file is deliberately simple (dicts, sorted(), byte-by-byte CSV parsing) so that
it can be read and checked by eye. It is NOT meant to be fast.

Commands:
  python3 scripts/reference_model.py run --source DIR --as-of YYYY-MM-DD [--cities FILE] --out DIR
      Writes users.csv, users_features.csv and counts.json into --out.
      On bad input, writes nothing, prints {"error": {...}} to stdout and exits with status 2.
  python3 scripts/reference_model.py build-fixtures [--fixtures DIR]
      (Re)creates every case folder in test/fixtures (source/, case.json, expected/) and
      test/fixtures/README.md. Only the case folders defined below are deleted/rewritten.
  python3 scripts/reference_model.py check-fixtures [--fixtures DIR]
      Rebuilds into a temporary folder and reports any difference with the checked-in tree.

Semantics summary (see test/fixtures/README.md for the conventions the fixtures use):
  * Files are discovered recursively under source/. Only names ending in ".csv" or ".csv.gz"
    are DMS files; anything else (README.txt, _SUCCESS, ...) is ignored.
  * LOAD files: LOAD + 8 upper-case hex digits; ordered by the hex value.
  * Change files: yyyyMMdd-HHmmss + 3 or more fraction digits; ordered by the timestamp value
    (the fraction compared as a decimal fraction), ties by the full file name (code-point order).
  * Errors are reported for the first problem found in this order: bad_file_name (any file),
    duplicate_file, no_full_load, then the contents of the LOAD files in hex order, then the
    change files in apply order; inside a file, rows top to bottom and fields left to right.
"""

import argparse
import datetime
import filecmp
import gzip
import json
import os
import re
import shutil
import sys
import tempfile
import zlib
from fractions import Fraction

# ----------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------

CITY_ALIASES_JSON = '{"Nashville-Davidson": "Nashville"}'
CITY_ALIASES = json.loads(CITY_ALIASES_JSON)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUNDLED_CITY_MAP = os.path.join(REPO_ROOT, "examples", "pyspark-cdc", "city_to_state.csv")
REFERENCE_DATA = os.path.join(REPO_ROOT, "examples", "pyspark-cdc", "data")
DEFAULT_CITIES_REL = "../../../examples/pyspark-cdc/city_to_state.csv"

INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1

USERS_HEADER = ["user_id", "name", "city", "last_login"]
FEATURES_HEADER = ["user_id", "name", "city", "last_login", "state",
                   "last_login_rank_by_city", "login_rate_last_3_months_by_city", "users_by_city"]


class DmsError(Exception):
    def __init__(self, code, file=None, line=None, column=None, detail=""):
        super().__init__(f"{code} file={file} line={line} column={column} {detail}")
        self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.detail = detail

    def to_json(self):
        out = {"code": self.code}
        if self.file is not None:
            out["file"] = self.file
        if self.line is not None:
            out["line"] = self.line
        if self.column is not None:
            out["column"] = self.column
        return out


# ----------------------------------------------------------------------------------------
# CSV reading (RFC 4180, on bytes)
# ----------------------------------------------------------------------------------------

LF, CR, QUOTE, COMMA = 0x0A, 0x0D, 0x22, 0x2C
BOM = b"\xef\xbb\xbf"


def read_csv_rows(data, file_name):
    """Yield (row_line, [(value, field_line), ...]) for each record.

    value is a str, or None for an EMPTY UNQUOTED field (NULL). A quoted "" gives "".
    Line numbers are 1-based physical lines (a line ends at LF; CRLF counts once).
    Raises DmsError for blank_line, unterminated_quote, bad_quote, invalid_utf8.
    """
    if data.startswith(BOM):
        data = data[len(BOM):]
    n = len(data)
    pos = 0
    line = 1

    def at_crlf(p):
        return p + 1 < n and data[p] == CR and data[p + 1] == LF

    def decode(raw, field_line, column):
        try:
            return raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise DmsError("invalid_utf8", file_name, field_line, column)

    while pos < n:
        row_line = line
        if data[pos] == LF or at_crlf(pos):
            raise DmsError("blank_line", file_name, row_line)
        fields = []
        while True:  # one iteration per field
            field_line = line
            column = len(fields) + 1
            if pos < n and data[pos] == QUOTE:
                pos += 1
                buf = bytearray()
                while True:
                    if pos >= n:
                        raise DmsError("unterminated_quote", file_name, field_line, column)
                    c = data[pos]
                    if c == QUOTE:
                        if pos + 1 < n and data[pos + 1] == QUOTE:
                            buf.append(QUOTE)
                            pos += 2
                            continue
                        pos += 1  # closing quote
                        break
                    if c == LF:
                        line += 1
                    buf.append(c)
                    pos += 1
                value = decode(bytes(buf), field_line, column)
                # After a closing quote only a delimiter, a row end or the end of file may follow.
                if not (pos >= n or data[pos] == COMMA or data[pos] == LF or at_crlf(pos)):
                    raise DmsError("bad_quote", file_name, field_line, column, "text after closing quote")
            else:
                start = pos
                while pos < n and data[pos] != COMMA and data[pos] != LF and not at_crlf(pos):
                    if data[pos] == QUOTE:
                        raise DmsError("bad_quote", file_name, field_line, column, "quote in unquoted field")
                    pos += 1
                raw = data[start:pos]
                value = None if raw == b"" else decode(raw, field_line, column)
            fields.append((value, field_line))
            # field terminator
            if pos >= n:
                break  # end of file ends the row
            if data[pos] == COMMA:
                pos += 1
                continue
            if data[pos] == LF:
                pos += 1
            else:  # CRLF
                pos += 2
            line += 1
            break
        yield row_line, fields


# ----------------------------------------------------------------------------------------
# Value parsing
# ----------------------------------------------------------------------------------------

INT_RE = re.compile(r"-?[0-9]+")
DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def parse_int32(value):
    """Return int, or None if the text is not a valid int32 (value must not be None)."""
    if INT_RE.fullmatch(value) is None:
        return None
    v = int(value)
    if v < INT32_MIN or v > INT32_MAX:
        return None
    return v


def parse_date(value):
    m = DATE_RE.fullmatch(value)
    if m is None:
        return None
    try:
        return datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


# ----------------------------------------------------------------------------------------
# File discovery
# ----------------------------------------------------------------------------------------

LOAD_RE = re.compile(r"LOAD([0-9A-F]{8})")
CHANGE_RE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})-([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{3,})")


class DmsFile:
    def __init__(self, path, name, stem, gz):
        self.path = path
        self.name = name      # base name, e.g. 20211017-194324349.csv.gz
        self.stem = stem      # name without .csv / .csv.gz
        self.gz = gz
        self.kind = None      # "load" or "change"
        self.sort_key = None

    @property
    def logical_name(self):
        return self.stem + ".csv"


def discover(source_dir):
    """Return (load_files, change_files), each in apply order."""
    found = []
    for root, dirs, files in os.walk(source_dir):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".csv.gz"):
                found.append(DmsFile(os.path.join(root, name), name, name[:-len(".csv.gz")], True))
            elif name.endswith(".csv"):
                found.append(DmsFile(os.path.join(root, name), name, name[:-len(".csv")], False))
            # anything else is ignored
    for f in found:
        m = LOAD_RE.fullmatch(f.stem)
        if m:
            f.kind = "load"
            f.sort_key = (int(m.group(1), 16), f.name)
            continue
        m = CHANGE_RE.fullmatch(f.stem)
        if m:
            y, mo, d, hh, mi, ss, frac = m.groups()
            try:
                datetime.datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss))
            except ValueError:
                raise DmsError("bad_file_name", f.name, detail="impossible date/time")
            whole_seconds = int(y + mo + d + hh + mi + ss)
            fraction = Fraction(int(frac), 10 ** len(frac))
            f.kind = "change"
            f.sort_key = (whole_seconds, fraction, f.name)
            continue
        raise DmsError("bad_file_name", f.name)
    seen = {}
    for f in found:
        if f.logical_name in seen:
            raise DmsError("duplicate_file", f.logical_name)
        seen[f.logical_name] = f
    loads = sorted([f for f in found if f.kind == "load"], key=lambda f: f.sort_key)
    changes = sorted([f for f in found if f.kind == "change"], key=lambda f: f.sort_key)
    if changes and not loads:
        raise DmsError("no_full_load")
    return loads, changes


def read_bytes(f):
    with open(f.path, "rb") as fh:
        raw = fh.read()
    if not f.gz:
        return raw
    if raw == b"":
        raise DmsError("truncated_gzip", f.name, detail="0-byte .gz file")
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise DmsError("truncated_gzip", f.name, detail=str(e))


# ----------------------------------------------------------------------------------------
# Pipeline
# ----------------------------------------------------------------------------------------

def check_field_count(fields, expected, file_name, row_line):
    if len(fields) != expected:
        raise DmsError("field_count", file_name, row_line, None, f"{len(fields)} fields, expected {expected}")


def parse_key(fields, index, file_name):
    value, line = fields[index]
    if value is None:
        raise DmsError("null_key", file_name, line, index + 1)
    key = parse_int32(value)
    if key is None:
        raise DmsError("bad_int", file_name, line, index + 1, repr(value))
    return key


def parse_user_values(fields, first, file_name):
    """name, city, last_login from fields[first], fields[first+1], fields[first+2]."""
    name = fields[first][0]
    city = fields[first + 1][0]
    date_text, date_line = fields[first + 2]
    last_login = None
    if date_text is not None:
        last_login = parse_date(date_text)
        if last_login is None:
            raise DmsError("bad_date", file_name, date_line, first + 3, repr(date_text))
    return (name, city, last_login)


def run_pipeline(source_dir):
    """Return (table, counts). table: {user_id: (name, city, last_login)}."""
    loads, changes = discover(source_dir)
    table = {}
    counts = []
    for f in loads:
        rows = 0
        for row_line, fields in read_csv_rows(read_bytes(f), f.name):
            check_field_count(fields, 4, f.name, row_line)
            key = parse_key(fields, 0, f.name)
            values = parse_user_values(fields, 1, f.name)
            if key in table:
                raise DmsError("duplicate_key", f.name, fields[0][1], 1, str(key))
            table[key] = values
            rows += 1
        counts.append({"file": f.name, "rows": rows})
    for f in changes:
        c = {"file": f.name, "inserts": 0, "replaces": 0, "updates": 0,
             "upserts_of_missing": 0, "deletes": 0, "deletes_of_missing": 0}
        for row_line, fields in read_csv_rows(read_bytes(f), f.name):
            check_field_count(fields, 5, f.name, row_line)
            op, op_line = fields[0]
            if op not in ("I", "U", "D"):
                raise DmsError("unknown_op", f.name, op_line, 1, repr(op))
            key = parse_key(fields, 1, f.name)
            present = key in table
            if op == "D":
                # other values of a D row are not validated
                if present:
                    del table[key]
                    c["deletes"] += 1
                else:
                    c["deletes_of_missing"] += 1
                continue
            values = parse_user_values(fields, 2, f.name)
            if op == "I":
                c["replaces" if present else "inserts"] += 1
            else:
                c["updates" if present else "upserts_of_missing"] += 1
            table[key] = values
        counts.append(c)
    return table, counts


# ----------------------------------------------------------------------------------------
# Features
# ----------------------------------------------------------------------------------------

def load_city_map(path):
    with open(path, "rb") as fh:
        data = fh.read()
    rows = list(read_csv_rows(data, os.path.basename(path)))
    header = [v for v, _ in rows[0][1]]
    if header != ["city", "state"]:
        raise ValueError(f"city map {path}: header must be city,state, got {header}")
    mapping = {}
    for row_line, fields in rows[1:]:
        if len(fields) != 2:
            raise ValueError(f"city map {path} line {row_line}: expected 2 fields")
        city, state = fields[0][0], fields[1][0]
        if city in mapping:
            raise ValueError(f"city map {path} line {row_line}: duplicate city {city!r}")
        mapping[city] = state
    return mapping


def compute_features(table, as_of, city_map):
    groups = {}  # aliased city (or None) -> [user_id]
    for user_id, (name, city, last_login) in table.items():
        feature_city = CITY_ALIASES.get(city, city) if city is not None else None
        groups.setdefault(feature_city, []).append(user_id)
    out = []
    for feature_city, user_ids in groups.items():
        real_dates = sorted({table[u][2] for u in user_ids if table[u][2] is not None}, reverse=True)
        rank_of_date = {d: i + 1 for i, d in enumerate(real_dates)}
        null_rank = len(real_dates) + 1
        n = len(user_ids)
        k = 0
        for u in user_ids:
            d = table[u][2]
            if d is not None and (as_of - d).days <= 90:
                k += 1
        rate = k / n
        state = city_map.get(feature_city) if feature_city is not None else None
        for u in user_ids:
            name, _city, last_login = table[u]
            rank = rank_of_date[last_login] if last_login is not None else null_rank
            out.append((u, name, feature_city, last_login, state, rank, rate, n))

    def order(row):
        city, rank, user_id = row[2], row[5], row[0]
        return (city is None, city.encode("utf-8") if city is not None else b"", -rank, user_id)

    return sorted(out, key=order)


# ----------------------------------------------------------------------------------------
# CSV writing
# ----------------------------------------------------------------------------------------

def format_double(x):
    r = repr(float(x))
    if "e" in r or "E" in r or "inf" in r or "nan" in r:
        from decimal import Decimal
        r = format(Decimal(r), "f")
        if "." not in r:
            r += ".0"
    return r


def format_field(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        raise TypeError("bool not expected")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_double(v)
    if isinstance(v, datetime.date):
        return v.isoformat()
    assert isinstance(v, str)
    if v == "" or any(ch in v for ch in ',"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def to_csv(header, rows):
    lines = [",".join(header)]
    for row in rows:
        lines.append(",".join(format_field(v) for v in row))
    return ("\n".join(lines) + "\n").encode("utf-8")


def users_csv(table):
    return to_csv(USERS_HEADER, [(u,) + table[u] for u in sorted(table)])


def features_csv(features):
    return to_csv(FEATURES_HEADER, features)


def counts_json(counts):
    return (json.dumps({"files": counts}, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def run_to_dir(source, as_of, cities, out):
    table, counts = run_pipeline(source)
    features = compute_features(table, as_of, load_city_map(cities))
    os.makedirs(out, exist_ok=True)
    for name, data in (("users.csv", users_csv(table)),
                       ("users_features.csv", features_csv(features)),
                       ("counts.json", counts_json(counts))):
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
    return table, counts, features


# ----------------------------------------------------------------------------------------
# Fixture definitions
# ----------------------------------------------------------------------------------------
# Each case: name -> dict(description, asOf, files={relpath under source/: bytes},
#   cities=optional bytes of a case-local city map (written to cities.csv),
#   error=optional dict(code, file, line, column)  (hand-written; checked against the model),
#   checks=optional function(table, counts, features) asserting hand-computed facts,
#   source=how the expected output was obtained (for README)).

def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def reference_files():
    files = {}
    for name in sorted(os.listdir(REFERENCE_DATA)):
        with open(os.path.join(REFERENCE_DATA, name), "rb") as fh:
            files[name] = fh.read()
    return files


def frow(features, user_id):
    for r in features:
        if r[0] == user_id:
            return r
    raise AssertionError(f"user {user_id} not in features")


def counts_of(counts, file):
    for c in counts:
        if c["file"] == file:
            return {k: v for k, v in c.items() if k != "file"}
    raise AssertionError(f"{file} not in counts")


def zero(**kw):
    base = {"inserts": 0, "replaces": 0, "updates": 0, "upserts_of_missing": 0,
            "deletes": 0, "deletes_of_missing": 0}
    base.update(kw)
    return base


D = datetime.date

# The sample printed in examples/pyspark-cdc/SEED-README.txt (first 10 feature rows).
SEED_SAMPLE = [
    (73, "Oliver Figueroa", "Austin", D(2019, 10, 3), "Minnesota", 3, 0.3333333333333333, 3),
    (81, "Samantha Myers", "Austin", D(2021, 1, 1), "Minnesota", 2, 0.3333333333333333, 3),
    (11, "Francis Davidson", "Austin", D(2021, 9, 20), "Minnesota", 1, 0.3333333333333333, 3),
    (75, "Malcolm Nelson", "Boston", D(2021, 7, 15), "Massachusetts", 3, 0.6666666666666666, 3),
    (36, "Josephine Sherman", "Boston", D(2021, 8, 14), "Massachusetts", 2, 0.6666666666666666, 3),
    (69, "Maurice Chandler", "Boston", D(2021, 9, 25), "Massachusetts", 1, 0.6666666666666666, 3),
    (20, "Domingo Byrd", "Charlotte", D(2021, 9, 10), "North Carolina", 2, 1.0, 2),
    (3, "Steve Goodwin", "Charlotte", D(2021, 9, 19), "North Carolina", 1, 1.0, 2),
    (93, "Kate Mcbride", "Chicago", D(2021, 8, 13), "Illinois", 2, 1.0, 2),
    (17, "Martin Adkins", "Chicago", D(2021, 9, 3), "Illinois", 1, 1.0, 2),
]


def check_reference(table, counts, features):
    assert features[:10] == SEED_SAMPLE, features[:10]
    assert table[6] == ("Mindy George", "Los Angeles", D(2021, 10, 15))
    assert table[8] == ("Kevin Durant", "Denver", D(2021, 10, 14))
    assert counts_of(counts, "20211017-194324349.csv") == zero(inserts=3, updates=3)
    assert counts_of(counts, "LOAD00000001.csv") == {"rows": 103}
    nash = [r for r in features if r[2] == "Nashville"]
    assert len(nash) == 3 and all(r[4] == "Tennessee" and r[7] == 3 for r in nash)
    assert table[9] == ("Darla Hayes", "New York", D(2021, 10, 17)) and frow(features, 9)[4] is None
    assert frow(features, 139)[4] == "New York"  # Long Island City


LOAD_BASIC = (b"1,Alice,Austin,2021-10-01\n"
              b"2,Bob,Boston,2021-09-01\n"
              b"3,Carol,Chicago,2021-08-01\n")


def build_cases():
    cases = {}

    def case(name, description, files, as_of="2021-10-17", cities=None, error=None, checks=None,
             source="reference model"):
        assert name not in cases
        cases[name] = dict(description=description, asOf=as_of, files=files, cities=cities,
                           error=error, checks=checks, source=source)

    # ---------------------------------------------------------------- success cases
    case("reference",
         "The 6 seed files from examples/pyspark-cdc/data, as_of 2021-10-17 (first 10 feature rows = SEED-README sample).",
         reference_files(), checks=check_reference,
         source="reference model; first 10 feature rows checked equal to the sample in examples/pyspark-cdc/SEED-README.txt")

    def check_quoted(t, c, f):
        assert t[1] == ('Smith, "Bobby"', "Washington, D.C.", D(2021, 10, 1))
        assert t[2] == ("line one\nline two", "Boston", D(2021, 9, 1))
        assert t[3] == ("crlf one\r\ncrlf two", "Boston", None)
        assert t[4] == ('"', "Chicago", D(2021, 10, 17))
        assert t[5] == ("Ann, \"the\"\nsecond", "Washington, D.C.", D(2021, 1, 1))
        assert frow(f, 1)[4] == "District of Columbia"
    case("quoted-fields",
         "Quoted fields with commas, doubled quotes, LF and CRLF inside quotes, quoted ints/dates, city 'Washington, D.C.' from the map.",
         {"LOAD00000001.csv": (b'1,"Smith, ""Bobby""","Washington, D.C.",2021-10-01\n'
                               b'2,"line one\nline two",Boston,2021-09-01\n'
                               b'3,"crlf one\r\ncrlf two","Boston",\n'
                               b'"4","""","Chicago","2021-10-17"\n'),
          "20211017-120000000.csv": (b'I,5,"Ann, ""the""\nsecond","Washington, D.C.",2021-01-01\n'
                                     b'"U","6","x,y","a""b","2021-10-10"\n'
                                     b'D,"6",",",",",","\n')},
         checks=check_quoted)

    unicode_cities = ("city,state\n"
                      "São Paulo,SP State\n"
                      "Zürich,Canton of Zürich\n"
                      "Montréal,Québec\n"
                      "\uff21city,Fullwidth State\n"
                      "\U0001F600city,Emoji State\n"
                      "Zagreb,Grad Zagreb\n"
                      "\"Washington, D.C.\",District of Columbia\n").encode("utf-8")

    def check_unicode(t, c, f):
        cities_in_order = []
        for r in f:
            if r[2] not in cities_in_order:
                cities_in_order.append(r[2])
        # UTF-8 byte order: ASCII < "Montre\u0301al" (e + U+0301) < "Montréal" ... ; U+FF21 < U+1F600
        assert cities_in_order == sorted(cities_in_order, key=lambda s: s.encode("utf-8"))
        assert cities_in_order.index("\uff21city") < cities_in_order.index("\U0001F600city")
        # UTF-16 order would put the emoji (surrogate 0xD83D) before U+FF21:
        assert sorted(["\uff21city", "\U0001F600city"], key=lambda s: s.encode("utf-16-be")) == ["\U0001F600city", "\uff21city"]
        assert frow(f, 3)[4] == "Québec" and frow(f, 4)[4] is None  # decomposed é is a different city
        assert frow(f, 8)[4] == "Emoji State" and frow(f, 7)[4] == "Fullwidth State"
    case("unicode",
         "Unicode names and cities (accents, NFC vs NFD, U+FF21 vs U+1F600 where UTF-8 order differs from UTF-16 order, emoji names); case-local city map.",
         {"LOAD00000001.csv": ("1,José Ñúñez,São Paulo,2021-10-01\n"
                               "2,Zoë 😀 Brontë,Zürich,2021-09-30\n"
                               "3,François,Montréal,2021-10-02\n"
                               "4,Françoise,Montre\u0301al,2021-10-03\n"
                               "5,Zed,Zagreb,2021-05-05\n"
                               "6,Ａｌｉｃｅ,\uff21city,2021-10-04\n").encode("utf-8"),
          "20211017-120000000.csv": ("I,7,李小龍,\uff21city,2021-06-01\n"
                                     "I,8,Ωmega,\U0001F600city,2021-10-05\n"
                                     "I,9,日本語,東京,2021-10-06\n"
                                     "I,10,Ünal,Zürich,2020-01-01\n"
                                     "U,2,Zoë 😀 Brontë,Zürich,2021-10-10\n").encode("utf-8")},
         cities=unicode_cities, checks=check_unicode)

    def check_bom(t, c, f):
        assert t[1] == ("Alice", "Austin", D(2021, 10, 1))
        assert t[4] == ("Dan", "Denver", D(2021, 10, 2))
        assert t[5] == ("Eve", "Boston", D(2021, 10, 3))
        assert counts_of(c, "20211017-120000000.csv") == zero(inserts=1, updates=1)
    case("bom",
         "UTF-8 BOM at the start of a LOAD file (before a quoted field) and of change files; BOM is not part of the first value.",
         {"LOAD00000001.csv": BOM + b'"1",Alice,Austin,2021-10-01\n2,Bob,Boston,2021-09-01\n',
          "LOAD00000002.csv": BOM + b'3,Carol,Chicago,2021-08-01\n',
          "20211017-120000000.csv": BOM + b'I,4,Dan,Denver,2021-10-02\nU,2,Bob,Boston,2021-10-05\n',
          "20211017-130000000.csv": BOM + b'"I",5,Eve,Boston,2021-10-03\n'},
         checks=check_bom)

    def check_crlf(t, c, f):
        assert t[1] == ("Alice", "Austin", None)
        assert t[4] == ("Dan", "Denver", D(2021, 10, 2))
        assert t[2] == ("Bob", "Boston", D(2021, 10, 5))
        assert 3 not in t
    case("crlf-rows",
         "CRLF row endings (and LF/CRLF mixed within one file); a NULL last field before CRLF.",
         {"LOAD00000001.csv": b"1,Alice,Austin,\r\n2,Bob,Boston,2021-09-01\r\n3,Carol,Chicago,2021-08-01\r\n",
          "20211017-120000000.csv": b"I,4,Dan,Denver,2021-10-02\r\nU,2,Bob,Boston,2021-10-05\nD,3,Carol,Chicago,2021-08-01\r\n"},
         checks=check_crlf)

    def check_no_trailing(t, c, f):
        assert t[3] == ("Carol", "Chicago", None)
        assert t[5] == ("Eve", "Boston", D(2021, 10, 3))
        assert t[6] == ("Frank", None, D(2021, 10, 4))
        assert t[7] == ("Gus", "Austin", None)
    case("no-trailing-newline",
         "Final row without trailing newline: LOAD file ending in an empty (NULL) field, change files ending in a quoted field / plain field / NULL field.",
         {"LOAD00000001.csv": b"1,Alice,Austin,2021-10-01\n2,Bob,Boston,2021-09-01\n3,Carol,Chicago,",
          "20211017-120000000.csv": b'I,4,Dan,Denver,2021-10-02\nI,5,Eve,Boston,"2021-10-03"',
          "20211017-130000000.csv": b"I,6,Frank,,2021-10-04",
          "20211017-140000000.csv": b"I,7,Gus,Austin,"},
         checks=check_no_trailing)

    case("op-insert-existing",
         "I on a key that exists replaces the whole row (counted as replace).",
         {"LOAD00000001.csv": LOAD_BASIC,
          "20211017-120000000.csv": b"I,2,Bobby,Denver,2021-10-10\n"},
         checks=lambda t, c, f: (
             assert_(t[2] == ("Bobby", "Denver", D(2021, 10, 10))),
             assert_(counts_of(c, "20211017-120000000.csv") == zero(replaces=1))))

    case("op-update-missing",
         "U on a missing key inserts it (counted as upsert_of_missing).",
         {"LOAD00000001.csv": LOAD_BASIC,
          "20211017-120000000.csv": b"U,4,Dan,Denver,2021-10-10\n"},
         checks=lambda t, c, f: (
             assert_(t[4] == ("Dan", "Denver", D(2021, 10, 10))),
             assert_(counts_of(c, "20211017-120000000.csv") == zero(upserts_of_missing=1))))

    case("op-delete-missing",
         "D on a missing key does nothing (counted as delete_of_missing); D on a present key deletes.",
         {"LOAD00000001.csv": LOAD_BASIC,
          "20211017-120000000.csv": b"D,99,Nobody,Nowhere,2021-10-10\nD,3,Carol,Chicago,2021-08-01\n"},
         checks=lambda t, c, f: (
             assert_(sorted(t) == [1, 2]),
             assert_(counts_of(c, "20211017-120000000.csv") == zero(deletes=1, deletes_of_missing=1))))

    case("op-delete-then-insert",
         "D then I of the same key in one file: the row ends with the I values (1 delete + 1 insert).",
         {"LOAD00000001.csv": LOAD_BASIC,
          "20211017-120000000.csv": b"D,2,Bob,Boston,2021-09-01\nI,2,Bob Two,Austin,2021-10-11\n"},
         checks=lambda t, c, f: (
             assert_(t[2] == ("Bob Two", "Austin", D(2021, 10, 11))),
             assert_(counts_of(c, "20211017-120000000.csv") == zero(inserts=1, deletes=1))))

    case("op-insert-then-delete",
         "I then D of a new key in one file: the key is absent at the end (1 insert + 1 delete).",
         {"LOAD00000001.csv": LOAD_BASIC,
          "20211017-120000000.csv": b"I,4,Dan,Denver,2021-10-02\nD,4,Dan,Denver,2021-10-02\n"},
         checks=lambda t, c, f: (
             assert_(sorted(t) == [1, 2, 3]),
             assert_(counts_of(c, "20211017-120000000.csv") == zero(inserts=1, deletes=1))))

    case("op-insert-then-update",
         "I then U of a new key in one file: 1 insert + 1 update, the U values win.",
         {"LOAD00000001.csv": LOAD_BASIC,
          "20211017-120000000.csv": b"I,4,Dan,Denver,2021-10-02\nU,4,Daniel,Dallas,2021-10-12\n"},
         checks=lambda t, c, f: (
             assert_(t[4] == ("Daniel", "Dallas", D(2021, 10, 12))),
             assert_(counts_of(c, "20211017-120000000.csv") == zero(inserts=1, updates=1))))

    case("op-last-change-wins",
         "Many changes to the same keys across files and within files; only the last change per key counts; untouched keys keep their loaded row.",
         {"LOAD00000001.csv": LOAD_BASIC + b"4,Dan,Denver,2021-01-01\n",
          "20211017-120000000.csv": b"U,1,A1,Austin,2021-10-02\nU,1,A2,Boston,2021-10-03\nD,2,,,\nI,5,E1,Chicago,2021-10-04\n",
          "20211017-130000000.csv": b"I,2,B3,Denver,2021-10-05\nU,1,A3,Chicago,2021-10-06\nD,5,E1,Chicago,2021-10-04\nU,5,E2,Austin,\n",
          "20211018-000000000.csv": b"D,1,,,\nD,1,,,\nI,1,A4,Austin,2021-10-07\nI,1,A5,Austin,2021-10-08\n"},
         checks=lambda t, c, f: (
             assert_(t == {1: ("A5", "Austin", D(2021, 10, 8)), 2: ("B3", "Denver", D(2021, 10, 5)),
                           3: ("Carol", "Chicago", D(2021, 8, 1)), 4: ("Dan", "Denver", D(2021, 1, 1)),
                           5: ("E2", "Austin", None)}),
             assert_(counts_of(c, "20211017-120000000.csv") == zero(inserts=1, updates=2, deletes=1)),
             assert_(counts_of(c, "20211017-130000000.csv") == zero(inserts=1, updates=1, deletes=1, upserts_of_missing=1)),
             assert_(counts_of(c, "20211018-000000000.csv") == zero(inserts=1, replaces=1, deletes=1, deletes_of_missing=1))))

    hex_files = {}
    for i, counter in enumerate(["00000001", "00000002", "00000009", "0000000A", "0000000F", "00000010", "0000001A"]):
        hex_files[f"LOAD{counter}.csv"] = f"{100 + i},User {counter},Austin,2021-10-{i + 1:02d}\n{200 + i},Other {counter},Boston,\n".encode()
    hex_files["20211017-120000000.csv"] = b"U,103,Updated 0A,Austin,2021-10-17\n"

    def check_hex(t, c, f):
        assert [x["file"] for x in c[:7]] == ["LOAD00000001.csv", "LOAD00000002.csv", "LOAD00000009.csv",
                                              "LOAD0000000A.csv", "LOAD0000000F.csv", "LOAD00000010.csv",
                                              "LOAD0000001A.csv"]
        assert len(t) == 14 and t[103][0] == "Updated 0A"
    case("load-hex-order",
         "Several LOAD files with hexadecimal counters (…09 < …0A < …0F < …10 < …1A); all unioned; counts.json lists them in hex order.",
         hex_files, checks=check_hex)

    case("empty-files",
         "0-byte change files (counted with all zeros) and a 0-byte LOAD file (rows 0) next to a non-empty one; a change file that is only a BOM.",
         {"LOAD00000001.csv": b"",
          "LOAD00000002.csv": LOAD_BASIC,
          "20211017-120000000.csv": b"",
          "20211017-130000000.csv": b"U,1,Alicia,Austin,2021-10-10\n",
          "20211017-140000000.csv": b"",
          "20211017-150000000.csv": BOM},
         checks=lambda t, c, f: (
             assert_(counts_of(c, "LOAD00000001.csv") == {"rows": 0}),
             assert_(counts_of(c, "20211017-120000000.csv") == zero()),
             assert_(counts_of(c, "20211017-150000000.csv") == zero()),
             assert_(t[1][0] == "Alicia")))

    case("empty-load-only",
         "A single 0-byte LOAD file and nothing else: both outputs are header-only.",
         {"LOAD00000001.csv": b""},
         checks=lambda t, c, f: assert_(t == {} and f == []))

    def check_nulls(t, c, f):
        # Austin: dates 10-01, 10-01, 09-01, NULL, NULL -> dense ranks 1,1,2,3,3
        austin = {r[0]: r[5] for r in f if r[2] == "Austin"}
        assert austin == {1: 1, 2: 1, 3: 2, 4: 3, 5: 3}, austin
        # Denver: all dates NULL -> rank 1, rate 0.0
        denver = [r for r in f if r[2] == "Denver"]
        assert [r[5] for r in denver] == [1, 1] and denver[0][6] == 0.0 and denver[0][4] == "Colorado"
        # NULL city group: last in output, state NULL
        nullc = [r for r in f if r[2] is None]
        assert f[-len(nullc):] == nullc and len(nullc) == 5
        assert {r[0]: r[5] for r in nullc} == {20: 2, 21: 1, 22: 3, 23: 3, 9: 3}
        assert all(r[4] is None and r[7] == 5 and r[6] == 0.4 for r in nullc)
        assert t[9] == (None, None, None)
    case("nulls",
         "NULL dates (rank after the oldest real date, shared; never count toward the rate but count in n), a city whose dates are all NULL (rank 1, rate 0.0), NULL cities forming one group sorted last, NULL names.",
         {"LOAD00000001.csv": (b"1,A,Austin,2021-10-01\n2,B,Austin,2021-10-01\n3,C,Austin,2021-09-01\n"
                               b"4,D,Austin,\n5,,Austin,\n6,F,Denver,\n7,G,Denver,\n"
                               b"20,N1,,2021-10-01\n21,N2,,2021-10-05\n22,N3,,\n"),
          "20211017-120000000.csv": b"I,23,,,\nI,9,,,\n"},
         checks=check_nulls)

    def check_empty_vs_null(t, c, f):
        assert t[1] == ("", "Austin", D(2021, 10, 1))
        assert t[2] == (None, "Austin", D(2021, 10, 1))
        assert t[3] == ("", "", D(2021, 10, 2))
        assert t[4] == ("x", None, D(2021, 10, 2))
        assert f[0][2] == "" and f[0][4] is None  # "" city sorts first; not in map
        assert f[-1][2] is None
    case("empty-string-vs-null",
         'Quoted "" is the empty string, an empty unquoted field is NULL: names and cities; the "" city is its own group, sorted first, and is written as "" while NULL is written as nothing.',
         {"LOAD00000001.csv": b'1,"",Austin,2021-10-01\n2,,Austin,2021-10-01\n',
          "20211017-120000000.csv": b'I,3,"","",2021-10-02\nI,4,x,,2021-10-02\nI,5,"",,\n'},
         checks=check_empty_vs_null)

    def check_window(t, c, f):
        # as_of 2024-03-01; 2024 is a leap year. 90 days before = 2023-12-02; 91 days = 2023-12-01
        assert (D(2024, 3, 1) - D(2023, 12, 2)).days == 90 and (D(2024, 3, 1) - D(2023, 12, 1)).days == 91
        rates = {r[2]: (r[6], r[7]) for r in f}
        assert rates["Austin"] == (0.5, 2)   # 90 days counts, 91 doesn't
        assert rates["Boston"] == (1.0, 2)   # future date and as_of itself count
        assert rates["Chicago"] == (0.0, 1)  # 91 days
        assert rates["Denver"] == (2 / 3, 3)  # NULL date in n
        assert rates["Miami"] == (0.25, 4)
        assert rates["Dallas"] == (0.2, 5)
        assert rates["Phoenix"] == (1 / 7, 7)
    case("login-window-boundary",
         "as_of 2024-03-01 (leap year): exactly 90 days before counts, 91 does not, future dates and as_of itself count, NULL counts in n only; rates 1/3-style doubles (0.2, 0.25, 1/7, 2/3).",
         {"LOAD00000001.csv": (b"1,In90,Austin,2023-12-02\n2,Out91,Austin,2023-12-01\n"
                               b"3,Future,Boston,2024-03-02\n4,Today,Boston,2024-03-01\n"
                               b"5,Out91,Chicago,2023-12-01\n"
                               b"6,A,Denver,2024-02-29\n7,B,Denver,2023-12-02\n8,C,Denver,\n"
                               b"10,A,Miami,2030-01-01\n11,B,Miami,2000-01-01\n12,C,Miami,\n13,D,Miami,2023-11-30\n"
                               b"20,A,Dallas,2024-01-01\n21,B,Dallas,2023-01-01\n22,C,Dallas,2022-01-01\n23,D,Dallas,2021-01-01\n24,E,Dallas,2020-01-01\n"
                               b"30,A,Phoenix,2024-02-01\n31,B,Phoenix,2023-02-01\n32,C,Phoenix,2023-02-01\n33,D,Phoenix,\n34,E,Phoenix,\n35,F,Phoenix,2019-02-01\n36,G,Phoenix,2018-02-01\n")},
         as_of="2024-03-01", checks=check_window)

    def check_alias(t, c, f):
        assert t[1][1] == "Nashville-Davidson"  # users table keeps the source value
        nash = [r for r in f if r[2] == "Nashville"]
        assert [r[0] for r in nash] == [3, 2, 1] and all(r[4] == "Tennessee" and r[7] == 3 for r in nash)
        assert [r[5] for r in nash] == [3, 2, 1]
        low = [r for r in f if r[2] == "nashville-davidson"]
        assert len(low) == 1 and low[0][4] is None
        assert frow(f, 5)[2] == "Nashville-Davidson " and frow(f, 5)[4] is None
    case("nashville-alias",
         "City alias Nashville-Davidson -> Nashville in the features table only (merged group, state Tennessee); exact match only (lower-case and trailing-space variants are not aliased).",
         {"LOAD00000001.csv": (b"1,A,Nashville-Davidson,2021-10-01\n2,B,Nashville,2021-09-01\n"
                               b"3,C,Nashville-Davidson,2021-08-01\n"),
          "20211017-120000000.csv": b"I,4,D,nashville-davidson,2021-10-02\nI,5,E,Nashville-Davidson ,2021-10-02\n"},
         checks=check_alias)

    def check_missing_city(t, c, f):
        st = {r[2]: r[4] for r in f}
        assert st == {"Atlantis": None, "Austin": "Minnesota", "Oklahoma City": "Oklahoma",
                      "Oklahoma city": None, "Zagreb": None, "austin": None, " Austin": None}, st
        assert [r[2] for r in f] == [" Austin", "Atlantis", "Austin", "Oklahoma City", "Oklahoma city",
                                     "Zagreb", "austin"]
    case("missing-city",
         "Cities missing from the map get a NULL state; lookup is exact and case-sensitive ('austin', ' Austin', 'Oklahoma city' miss); byte-order sort puts upper case before lower case.",
         {"LOAD00000001.csv": (b"1,A,Atlantis,2021-10-01\n2,B,Austin,2021-09-01\n3,C,austin,2021-09-01\n"
                               b"4,D,Oklahoma city,2021-08-01\n5,E,Oklahoma City,2021-08-01\n6,F,Zagreb,2021-08-01\n"
                               b'7,G," Austin",2021-08-01\n')},
         checks=check_missing_city)

    frac_files = {
        "LOAD00000001.csv": b"1,Start,Austin,2021-10-01\n",
        # every file overwrites key 1 (so the last applied file is visible) and inserts its own key
        "20211017-120000123.csv": b"U,1,v123,Austin,2021-10-02\nI,123,a,Austin,2021-10-02\n",
        "20211017-1200001225.csv": b"U,1,v1225,Austin,2021-10-02\nI,1225,a,Austin,2021-10-02\n",
        "20211017-1200001230.csv": b"U,1,v1230,Austin,2021-10-02\nI,1230,a,Austin,2021-10-02\n",
        "20211017-120000999.csv": b"U,1,v999,Austin,2021-10-02\nI,999,a,Austin,2021-10-02\n",
        "20211017-1200001000.csv": b"U,1,v1000,Austin,2021-10-02\nI,1000,a,Austin,2021-10-02\n",
        "20211017-120000100.csv": b"U,1,v100,Austin,2021-10-02\nI,100,a,Austin,2021-10-02\n",
        "20211017-12000009999.csv": b"U,1,v09999,Austin,2021-10-02\nI,9999,a,Austin,2021-10-02\n",
        "20211016-235959999999.csv": b"U,1,vprevday,Austin,2021-10-02\nI,7,a,Austin,2021-10-02\n",
        "20211017-115959999.csv": b"U,1,v115959,Austin,2021-10-02\nI,8,a,Austin,2021-10-02\n",
    }

    def check_frac(t, c, f):
        order = [x["file"] for x in c[1:]]
        assert order == ["20211016-235959999999.csv", "20211017-115959999.csv", "20211017-12000009999.csv",
                         "20211017-120000100.csv", "20211017-1200001000.csv", "20211017-1200001225.csv",
                         "20211017-120000123.csv", "20211017-1200001230.csv", "20211017-120000999.csv"], order
        assert t[1][0] == "v999"
    case("fraction-ordering",
         "Change files whose fraction has 3 to 6 digits are ordered by timestamp VALUE (.09999 < .100 = .1000 < .1225 < .123 = .1230 < .999; integer parsing of the fraction would get this wrong), equal values by file name, plus a previous-day and previous-second file; key 1 is updated in every file so the last writer (v999) is observable, and counts.json shows the order.",
         frac_files, checks=check_frac)

    def check_partitions(t, c, f):
        assert [x["file"] for x in c] == ["LOAD00000001.csv", "LOAD00000002.csv", "20211009-235959000.csv",
                                          "20211010-000000000.csv", "20211017-194324349.csv"]
        assert t[1][0] == "third"
    case("date-partitions",
         "Files in YYYY/MM/DD/ subfolders (LOAD files at the root and in a folder, change files across folders); ordering ignores the folder path.",
         {"LOAD00000001.csv": b"1,Alice,Austin,2021-10-01\n",
          "2021/10/08/LOAD00000002.csv": b"2,Bob,Boston,2021-10-01\n",
          "2021/10/09/20211009-235959000.csv": b"U,1,first,Austin,2021-10-02\n",
          "2021/10/10/20211010-000000000.csv": b"U,1,second,Austin,2021-10-03\n",
          "2021/10/17/20211017-194324349.csv": b"U,1,third,Austin,2021-10-04\nI,3,Carol,Chicago,2021-10-04\n"},
         checks=check_partitions)

    def check_gzip(t, c, f):
        assert t[1] == ("Alice", "Austin", D(2021, 10, 1))
        assert t[4] == ("Dan, \"D\"", "Denver", D(2021, 10, 2))
        assert t[2][0] == "Bobby" and 3 not in t
        assert [x["file"] for x in c] == ["LOAD00000001.csv.gz", "LOAD00000002.csv",
                                          "20211017-120000000.csv.gz", "20211017-130000000.csv",
                                          "20211017-140000000.csv.gz"]
    case("gzip",
         "Gzipped files (.csv.gz) mixed with plain .csv: gz LOAD, gz change files (one with BOM + CRLF + quoted fields, one gzip of 0 bytes).",
         {"LOAD00000001.csv.gz": gz(b"1,Alice,Austin,2021-10-01\n2,Bob,Boston,2021-09-01\n"),
          "LOAD00000002.csv": b"3,Carol,Chicago,2021-08-01\n",
          "20211017-120000000.csv.gz": gz(BOM + b'I,4,"Dan, ""D""",Denver,2021-10-02\r\nD,3,,,\r\n'),
          "20211017-130000000.csv": b"U,2,Bobby,Boston,2021-10-03\n",
          "20211017-140000000.csv.gz": gz(b"")},
         checks=check_gzip)

    case("ignored-files",
         "Non-DMS files (README.txt, _SUCCESS, .DS_Store, x.csv.bak, LOAD00000002.csv.tmp, notes.json) at the root and in subfolders are ignored.",
         {"LOAD00000001.csv": LOAD_BASIC,
          "README.txt": b"this,is,not,a,dms,file\n",
          "_SUCCESS": b"",
          ".DS_Store": b"\x00\x01\xff",
          "x.csv.bak": b"garbage\n",
          "LOAD00000002.csv.tmp": b"1,Dup,Austin,2021-10-01\n",
          "notes.json": b"{}\n",
          "2021/10/17/_SUCCESS": b"",
          "2021/10/17/20211017-120000000.csv": b"U,1,Alicia,Austin,2021-10-10\n",
          "2021/10/17/manifest.txt": b"I,99,x,y,bad\n"},
         checks=lambda t, c, f: assert_(sorted(t) == [1, 2, 3] and t[1][0] == "Alicia" and len(c) == 2))

    case("delete-garbage-values",
         "D rows carry garbage in the non-key fields (text and impossible/unpadded dates in last_login, a quoted empty date, 1.0 as city); only op, key and field count are validated. Includes a D of a missing key.",
         {"LOAD00000001.csv": LOAD_BASIC,
          "20211017-120000000.csv": (b'D,1,whatever,Nowhere,not-a-date\n'
                                     b'D,2,,,2021-02-30\n'
                                     b'D,3,"x","y",""\n'
                                     b'D,77,\xc3\xa9,1.0,2021-2-3\n')},
         checks=lambda t, c, f: (
             assert_(t == {}),
             assert_(counts_of(c, "20211017-120000000.csv") == zero(deletes=3, deletes_of_missing=1))))

    def check_int32(t, c, f):
        assert sorted(t) == [-2147483648, -1, 0, 7, 2147483647]
        assert t[2147483647][0] == "max2" and t[-2147483648][0] == "min2"
    case("int32-boundaries",
         "Keys -2147483648 and 2147483647 (and -1, 0); users.csv is ordered numerically (negative keys first); changes address the boundary keys.",
         {"LOAD00000001.csv": b"2147483647,max,Austin,2021-10-01\n-2147483648,min,Austin,2021-10-02\n0,zero,Austin,2021-10-03\n",
          "20211017-120000000.csv": (b"U,2147483647,max2,Austin,2021-10-04\nI,-2147483648,min2,Boston,2021-10-05\n"
                                     b"I,-1,minus one,Boston,2021-10-06\nI,7,seven,Austin,2021-10-04\n")},
         checks=check_int32)

    # ---------------------------------------------------------------- error cases
    good_change_1 = b"U,1,Alicia,Austin,2021-10-10\nI,4,Dan,Denver,2021-10-02\n"

    def err(name, description, files, error):
        case(name, description, files, error=error, source="hand-written expected error, confirmed by the reference model")

    err("error-unknown-op",
        "Lower-case op 'i' in the second change file (first change file is valid and must not be committed).",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b"U,2,Bob,Boston,2021-10-03\ni,5,Eve,Boston,2021-10-03\n"},
        {"code": "unknown_op", "file": "20211017-130000000.csv", "line": 2, "column": 1})
    err("error-unknown-op-null",
        "Empty (NULL) op field.",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": b",5,Eve,Boston,2021-10-03\n"},
        {"code": "unknown_op", "file": "20211017-120000000.csv", "line": 1, "column": 1})
    err("error-field-count-change",
        "A change row with 6 fields, in the third change file.",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b"U,2,Bob,Boston,2021-10-03\n",
         "20211017-140000000.csv": b"I,5,Eve,Boston,2021-10-03\nI,6,Fay,Boston,2021-10-03,extra\n"},
        {"code": "field_count", "file": "20211017-140000000.csv", "line": 2})
    err("error-field-count-load",
        "A LOAD row with 3 fields (one LOAD file of several).",
        {"LOAD00000001.csv": LOAD_BASIC, "LOAD00000002.csv": b"10,Ten,Austin,2021-10-01\n11,Eleven,Austin\n"},
        {"code": "field_count", "file": "LOAD00000002.csv", "line": 2})
    err("error-field-count-delete-key-only",
        "A D row carrying only op and key (2 fields) is a field_count error.",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b"D,2\n"},
        {"code": "field_count", "file": "20211017-130000000.csv", "line": 1})
    err("error-bad-int-overflow",
        "Key 2147483648 (int32 overflow) in the second change file.",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b"I,2147483647,ok,Austin,2021-10-01\nI,2147483648,bad,Austin,2021-10-01\n"},
        {"code": "bad_int", "file": "20211017-130000000.csv", "line": 2, "column": 2})
    err("error-bad-int-underflow",
        "Key -2147483649 in a LOAD file.",
        {"LOAD00000001.csv": b"-2147483648,ok,Austin,2021-10-01\n-2147483649,bad,Austin,2021-10-01\n"},
        {"code": "bad_int", "file": "LOAD00000001.csv", "line": 2, "column": 1})
    err("error-bad-int-quoted-empty",
        'Quoted empty "" key is bad_int (not NULL).',
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": b'U,"",x,Austin,2021-10-01\n'},
        {"code": "bad_int", "file": "20211017-120000000.csv", "line": 1, "column": 2})
    err("error-bad-int-decimal",
        "Key 1.0 is bad_int.",
        {"LOAD00000001.csv": b"1,A,Austin,2021-10-01\n1.0,B,Austin,2021-10-01\n"},
        {"code": "bad_int", "file": "LOAD00000001.csv", "line": 2, "column": 1})
    err("error-bad-int-plus-sign",
        "Key +5 is bad_int (only -?[0-9]+); in a D row (the key of a D row is validated).",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b"D,+5,,,\n"},
        {"code": "bad_int", "file": "20211017-130000000.csv", "line": 1, "column": 2})
    err("error-bad-int-space",
        "Key ' 5' (leading space) is bad_int.",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": b"I, 5,x,Austin,2021-10-01\n"},
        {"code": "bad_int", "file": "20211017-120000000.csv", "line": 1, "column": 2})
    err("error-bad-date-feb29",
        "2021-02-29 is not a calendar date (second change file).",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b"I,5,Eve,Boston,2020-02-29\nI,6,Fay,Boston,2021-02-29\n"},
        {"code": "bad_date", "file": "20211017-130000000.csv", "line": 2, "column": 5})
    err("error-bad-date-format",
        "2021-2-3 (not zero-padded) is bad_date, in a LOAD file.",
        {"LOAD00000001.csv": b"1,A,Austin,2021-02-03\n2,B,Austin,2021-2-3\n"},
        {"code": "bad_date", "file": "LOAD00000001.csv", "line": 2, "column": 4})
    err("error-bad-date-quoted-empty",
        'Quoted empty "" date in a U row is bad_date (only an empty unquoted field is NULL).',
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": b'U,1,A,Austin,""\n'},
        {"code": "bad_date", "file": "20211017-120000000.csv", "line": 1, "column": 5})
    err("error-bad-date-after-multiline",
        "A bad date in the row after a quoted field spanning 3 physical lines (LF and CRLF): line is the physical line (4), not the record number (2).",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b'I,5,"Eve\nthe\r\nthird",Boston,2021-10-03\nI,6,Fay,Boston,2021-13-01\n'},
        {"code": "bad_date", "file": "20211017-130000000.csv", "line": 4, "column": 5})
    err("error-null-key-load",
        "Empty unquoted key in a LOAD file.",
        {"LOAD00000001.csv": b"1,A,Austin,2021-10-01\n,B,Austin,2021-10-01\n"},
        {"code": "null_key", "file": "LOAD00000001.csv", "line": 2, "column": 1})
    err("error-null-key-delete",
        "Empty unquoted key in a D row of the second change file.",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b"D,2,,,\nD,,,,\n"},
        {"code": "null_key", "file": "20211017-130000000.csv", "line": 2, "column": 2})
    err("error-unterminated-quote",
        "A quoted field opened on line 2 is never closed (file ends inside it); second change file.",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b'U,2,Bob,Boston,2021-10-03\nI,5,"Eve,Boston,2021-10-03\nI,6,Fay,Boston,2021-10-03\n'},
        {"code": "unterminated_quote", "file": "20211017-130000000.csv", "line": 2, "column": 3})
    err("error-bad-quote-bare",
        'A bare " inside an unquoted field (Bo"b).',
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b'I,5,Bo"b,Boston,2021-10-03\n'},
        {"code": "bad_quote", "file": "20211017-130000000.csv", "line": 1, "column": 3})
    err("error-bad-quote-after-closing",
        'Text after a closing quote ("Bob"x) in a LOAD file.',
        {"LOAD00000001.csv": b'1,A,Austin,2021-10-01\n2,"Bob"x,Boston,2021-10-01\n'},
        {"code": "bad_quote", "file": "LOAD00000001.csv", "line": 2, "column": 2})
    err("error-bad-quote-after-multiline",
        'Text after the closing quote of a field that started on line 2 and closes on line 3 ("Bo\\nb"x): line is where the field starts.',
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b'U,2,Bob,Boston,2021-10-03\nI,5,"Bo\nb" ,Boston,2021-10-03\n'},
        {"code": "bad_quote", "file": "20211017-130000000.csv", "line": 2, "column": 3})
    err("error-blank-line",
        "An empty line between two rows of the second change file.",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b"U,2,Bob,Boston,2021-10-03\n\nI,5,Eve,Boston,2021-10-03\n"},
        {"code": "blank_line", "file": "20211017-130000000.csv", "line": 2})
    err("error-blank-line-crlf",
        "An empty CRLF line in a LOAD file with CRLF endings.",
        {"LOAD00000001.csv": b"1,A,Austin,2021-10-01\r\n2,B,Austin,2021-10-01\r\n\r\n3,C,Austin,2021-10-01\r\n"},
        {"code": "blank_line", "file": "LOAD00000001.csv", "line": 3})
    err("error-invalid-utf8",
        "Byte 0xFF inside the name field on line 3 of the second change file.",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": good_change_1,
         "20211017-130000000.csv": b"U,2,Bob,Boston,2021-10-03\nI,5,Eve,Boston,2021-10-03\nI,6,F\xffy,Boston,2021-10-03\n"},
        {"code": "invalid_utf8", "file": "20211017-130000000.csv", "line": 3, "column": 3})
    err("error-invalid-utf8-truncated-sequence",
        "A truncated 2-byte UTF-8 sequence (0xC3 followed by ',') in the city field of a LOAD file.",
        {"LOAD00000001.csv": b"1,A,Austin,2021-10-01\n2,B,Z\xc3,2021-10-01\n"},
        {"code": "invalid_utf8", "file": "LOAD00000001.csv", "line": 2, "column": 3})
    full_gz = gz(b"".join(b"I,%d,User %d,Austin,2021-10-01\n" % (i, i) for i in range(10, 60)))
    err("error-truncated-gzip",
        "The second change file is a gzip stream cut in half.",
        {"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv.gz": gz(good_change_1),
         "20211017-130000000.csv.gz": full_gz[:len(full_gz) // 2]},
        {"code": "truncated_gzip", "file": "20211017-130000000.csv.gz"})
    err("error-duplicate-key-across-load",
        "Key 103 appears in LOAD0000000A and LOAD00000010 (reported in the later file in hex order).",
        {"LOAD00000009.csv": b"100,A,Austin,2021-10-01\n",
         "LOAD0000000A.csv": b"101,B,Austin,2021-10-01\n103,C,Austin,2021-10-01\n",
         "LOAD00000010.csv": b"102,D,Austin,2021-10-01\n103,E,Austin,2021-10-01\n"},
        {"code": "duplicate_key", "file": "LOAD00000010.csv", "line": 2, "column": 1})
    err("error-duplicate-key-within-load",
        "Key 2 appears twice in one LOAD file (second occurrence after a multi-line quoted field).",
        {"LOAD00000001.csv": b'1,A,Austin,2021-10-01\n2,"B\nB",Austin,2021-10-01\n3,C,Austin,2021-10-01\n2,D,Austin,2021-10-01\n'},
        {"code": "duplicate_key", "file": "LOAD00000001.csv", "line": 5, "column": 1})
    err("error-bad-file-name-load",
        "LOADxyz.csv is not a valid DMS file name.",
        {"LOAD00000001.csv": LOAD_BASIC, "LOADxyz.csv": b"9,X,Austin,2021-10-01\n"},
        {"code": "bad_file_name", "file": "LOADxyz.csv"})
    err("error-bad-file-name-change",
        "2021101-1200.csv is not a valid change file name (in a date folder).",
        {"LOAD00000001.csv": LOAD_BASIC, "2021/10/17/20211017-120000000.csv": good_change_1,
         "2021/10/17/2021101-1200.csv": b"U,2,Bob,Boston,2021-10-03\n"},
        {"code": "bad_file_name", "file": "2021101-1200.csv"})
    err("error-duplicate-file-folders",
        "The same change file name in two date folders.",
        {"LOAD00000001.csv": LOAD_BASIC,
         "2021/10/17/20211017-120000000.csv": good_change_1,
         "2021/10/18/20211017-120000000.csv": b"U,2,Bob,Boston,2021-10-03\n"},
        {"code": "duplicate_file", "file": "20211017-120000000.csv"})
    err("error-duplicate-file-gz",
        "X.csv beside X.csv.gz (reported with the .csv name).",
        {"LOAD00000001.csv": LOAD_BASIC,
         "20211017-120000000.csv": good_change_1,
         "20211017-120000000.csv.gz": gz(good_change_1)},
        {"code": "duplicate_file", "file": "20211017-120000000.csv"})
    err("error-no-full-load",
        "Change files but no LOAD file (no file/line/column).",
        {"20211017-120000000.csv": good_change_1, "README.txt": b"LOAD00000001.csv is missing\n"},
        {"code": "no_full_load"})
    return cases


def assert_(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


# ----------------------------------------------------------------------------------------
# Fixture building
# ----------------------------------------------------------------------------------------

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def build_fixtures(fixtures_dir, verbose=True):
    cases = build_cases()
    readme = ["# Golden fixtures for lakesync",
              "",
              "Generated by `python3 scripts/reference_model.py build-fixtures` (Python reference model, stdlib only).",
              "Do not edit by hand: change the case definitions in `scripts/reference_model.py` and regenerate.",
              "",
              "Conventions:",
              "- `case.json`: `description`, `asOf`, optional `cities` (path relative to the case folder; default "
              f"`{DEFAULT_CITIES_REL}`, the bundled map), optional `error` {{code, file, line, column}}.",
              "- `error.file` is the base name of the file (including `.gz`); for `duplicate_file` it is the name "
              "without `.gz` (`X.csv`); `no_full_load` has no file.",
              "- `error.line` is the 1-based physical line (LF counts; CRLF counts once; the BOM does not matter) where the bad "
              "field starts (for `field_count` and `blank_line`: where the row starts; no column). "
              "`error.column` is the 1-based field index; in change files column 1 is Op, 2 is user_id, 5 is last_login.",
              "- Error cases have no `expected/` folder: the whole run must fail and nothing may be committed.",
              "- `expected/counts.json`: LOAD files first (`rows`) in hex order, then change files in apply order; "
              "`file` is the base name including `.gz`.",
              "",
              "Cases:",
              ""]
    for name in sorted(cases):
        c = cases[name]
        case_dir = os.path.join(fixtures_dir, name)
        if os.path.exists(case_dir):
            shutil.rmtree(case_dir)
        os.makedirs(os.path.join(case_dir, "source"))
        for rel, data in c["files"].items():
            write(os.path.join(case_dir, "source", *rel.split("/")), data)
        meta = {"description": c["description"], "asOf": c["asOf"]}
        if c["cities"] is not None:
            write(os.path.join(case_dir, "cities.csv"), c["cities"])
            meta["cities"] = "cities.csv"
            cities_path = os.path.join(case_dir, "cities.csv")
        else:
            cities_path = os.path.normpath(os.path.join(case_dir, DEFAULT_CITIES_REL))
            assert fixtures_dir != default_fixtures_dir() or os.path.samefile(cities_path, BUNDLED_CITY_MAP)
            cities_path = BUNDLED_CITY_MAP
        as_of = datetime.date.fromisoformat(c["asOf"])
        if c["error"] is not None:
            meta["error"] = c["error"]
            try:
                run_pipeline(os.path.join(case_dir, "source"))
            except DmsError as e:
                if e.to_json() != c["error"]:
                    raise AssertionError(f"{name}: model error {e.to_json()} != declared {c['error']} ({e.detail})")
            else:
                raise AssertionError(f"{name}: model did not fail")
        else:
            table, counts, features = run_to_dir(os.path.join(case_dir, "source"), as_of, cities_path,
                                                  os.path.join(case_dir, "expected"))
            if c["checks"] is not None:
                try:
                    c["checks"](table, counts, features)
                except AssertionError as e:
                    raise AssertionError(f"{name}: hand-written check failed: {e}") from e
        write(os.path.join(case_dir, "case.json"),
              (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        kind = f"error `{c['error']['code']}`" if c["error"] else "success"
        readme.append(f"- `{name}` ({kind}): {c['description']} Expected: {c['source']}.")
        if verbose:
            print(f"built {name}")
    write(os.path.join(fixtures_dir, "README.md"), ("\n".join(readme) + "\n").encode("utf-8"))
    return cases


def default_fixtures_dir():
    return os.path.join(REPO_ROOT, "test", "fixtures")


def compare_trees(a, b):
    diffs = []
    cmp = filecmp.dircmp(a, b)

    def walk(d, prefix):
        for x in d.left_only:
            diffs.append(f"only in generated: {prefix}{x}")
        for x in d.right_only:
            diffs.append(f"only in checked-in: {prefix}{x}")
        for x in d.common_files:
            if not filecmp.cmp(os.path.join(d.left, x), os.path.join(d.right, x), shallow=False):
                diffs.append(f"differs: {prefix}{x}")
        for sub, sd in d.subdirs.items():
            walk(sd, prefix + sub + "/")
    walk(cmp, "")
    return diffs


def print_reference_head():
    cases = build_cases()
    c = cases["reference"]
    with tempfile.TemporaryDirectory() as tmp:
        for rel, data in c["files"].items():
            write(os.path.join(tmp, rel), data)
        table, counts = run_pipeline(tmp)
    features = compute_features(table, datetime.date(2021, 10, 17), load_city_map(BUNDLED_CITY_MAP))
    print(features_csv(features[:10]).decode(), end="")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--source", required=True)
    r.add_argument("--as-of", required=True)
    r.add_argument("--cities", default=BUNDLED_CITY_MAP)
    r.add_argument("--out", required=True)
    b = sub.add_parser("build-fixtures")
    b.add_argument("--fixtures", default=default_fixtures_dir())
    ch = sub.add_parser("check-fixtures")
    ch.add_argument("--fixtures", default=default_fixtures_dir())
    sub.add_parser("reference-head")
    args = p.parse_args(argv)
    if args.cmd == "run":
        try:
            run_to_dir(args.source, datetime.date.fromisoformat(args.as_of), args.cities, args.out)
        except DmsError as e:
            print(json.dumps({"error": e.to_json(), "detail": e.detail}))
            return 2
        return 0
    if args.cmd == "build-fixtures":
        build_fixtures(args.fixtures)
        return 0
    if args.cmd == "check-fixtures":
        with tempfile.TemporaryDirectory() as tmp:
            build_fixtures(tmp, verbose=False)
            diffs = compare_trees(tmp, args.fixtures)
        for d in diffs:
            print(d)
        print("fixtures up to date" if not diffs else f"{len(diffs)} difference(s)")
        return 1 if diffs else 0
    if args.cmd == "reference-head":
        print_reference_head()
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
