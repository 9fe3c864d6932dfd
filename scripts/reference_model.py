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
      test/fixtures/README.md from the catalogue in scripts/reference_cases.py. Only the case
      folders it defines are deleted/rewritten.
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

import reference_cases  # the case catalogue, data only (beside this file)

# ----------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------

CITY_ALIASES_JSON = '{"Nashville-Davidson": "Nashville"}'
CITY_ALIASES = json.loads(CITY_ALIASES_JSON)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUNDLED_CITY_MAP = os.path.join(REPO_ROOT, "examples", "pyspark-cdc", "city_to_state.csv")
DEFAULT_CITIES_REL = "../../../examples/pyspark-cdc/city_to_state.csv"

INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1

ZERO_COUNTS = ("inserts", "replaces", "updates", "upserts_of_missing", "deletes", "deletes_of_missing")

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
# The case catalogue (scripts/reference_cases.py) and its hand-computed facts
# ----------------------------------------------------------------------------------------

def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def file_bytes(content):
    """A source file's bytes from the catalogue's content: bytes, or {"gzip": bytes[, "cut_in_half": True]}."""
    if isinstance(content, bytes):
        return content
    data = gz(content["gzip"])
    return data[:len(data) // 2] if content.get("cut_in_half") else data


def folder_files(rel):
    folder = os.path.join(REPO_ROOT, *rel.split("/"))
    files = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as fh:
            files[name] = fh.read()
    return files


def load_cases():
    """name -> dict(description, asOf, files={relpath under source/: bytes}, cities, error, expect, premises, source)."""
    cases = {}
    for c in reference_cases.CASES:
        assert c["name"] not in cases, c["name"]
        files = folder_files(c["files_from"]) if "files_from" in c else \
            {rel: file_bytes(content) for rel, content in c["files"].items()}
        error = c.get("error")
        default_source = reference_cases.ERROR_SOURCE if error else reference_cases.DEFAULT_SOURCE
        cases[c["name"]] = dict(description=c["description"], asOf=c.get("as_of", "2021-10-17"), files=files,
                                cities=c.get("cities"), error=error, expect=c.get("expect", {}),
                                premises=c.get("premises", {}), source=c.get("source", default_source))
    return cases


def iso(d):
    return None if d is None else d.isoformat()


def check_expect(expect, table, counts, features):
    """Raises AssertionError where the model's outputs differ from a case's hand-computed facts."""
    def fact(cond, what):
        if not cond:
            raise AssertionError(what)

    def count_of(file):
        found = [{k: v for k, v in c.items() if k != "file"} for c in counts if c["file"] == file]
        fact(len(found) == 1, f"{file} not once in counts")
        return found[0]

    def feature_row(user_id):
        found = [r for r in features if r[0] == user_id]
        fact(len(found) == 1, f"user {user_id} not once in features")
        return found[0]

    field = {"city": 2, "state": 4, "rank": 5, "rate": 6, "n": 7}
    as_list = [[r[0], r[1], r[2], iso(r[3]), *r[4:]] for r in features]
    for key, want in expect.get("users", {}).items():
        got = table.get(key)
        got = None if got is None else [got[0], got[1], iso(got[2])]
        fact(got == want, f"users[{key}] is {got}, expected {want}")
    if "user_keys" in expect:
        fact(sorted(table) == expect["user_keys"], f"user keys {sorted(table)}")
    for file, want in expect.get("counts", {}).items():
        want = want if "rows" in want else {**dict.fromkeys(ZERO_COUNTS, 0), **want}
        fact(count_of(file) == want, f"counts of {file}: {count_of(file)}, expected {want}")
    if "count_files" in expect:
        fact([c["file"] for c in counts] == expect["count_files"], f"counts.json order {[c['file'] for c in counts]}")
    head = expect.get("features_head", [])
    fact(as_list[:len(head)] == head, f"first feature rows {as_list[:len(head)]}")
    for user_id, want in expect.get("features", {}).items():
        row = feature_row(user_id)
        for name, value in want.items():
            fact(row[field[name]] == value, f"features of user {user_id}: {name} is {row[field[name]]}, expected {value}")
    if "feature_cities" in expect:
        fact([r[2] for r in features] == expect["feature_cities"], f"feature cities {[r[2] for r in features]}")
    if "feature_rows" in expect:
        fact(len(features) == expect["feature_rows"], f"{len(features)} feature rows")
    for city, want in expect.get("cities", {}).items():
        rows = [r for r in features if r[2] == city]
        for name, value in want.items():
            if name == "rows":
                fact(len(rows) == value, f"{len(rows)} feature rows of city {city!r}")
            elif name == "users":
                fact([r[0] for r in rows] == value, f"users of city {city!r}: {[r[0] for r in rows]}")
            elif name == "ranks":
                fact([r[5] for r in rows] == value, f"ranks of city {city!r}: {[r[5] for r in rows]}")
            else:
                fact(rows and all(r[field[name]] == value for r in rows), f"{name} of city {city!r} is not {value}")


def check_premises(premises, as_of):
    """Raises AssertionError where a case's data does not set up what its description says it tests."""
    for day, days in premises.get("days_before_as_of", {}).items():
        if (as_of - datetime.date.fromisoformat(day)).days != days:
            raise AssertionError(f"{day} is not {days} days before {as_of}")
    pair = premises.get("utf16_order_differs")
    if pair is not None:
        if sorted(pair, key=lambda s: s.encode("utf-8")) != pair:
            raise AssertionError(f"{pair} is not in UTF-8 order")
        if sorted(pair, key=lambda s: s.encode("utf-16-be")) != pair[::-1]:
            raise AssertionError(f"{pair} sorts the same in UTF-16")


# ----------------------------------------------------------------------------------------
# Fixture building
# ----------------------------------------------------------------------------------------

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def build_fixtures(fixtures_dir, verbose=True):
    cases = load_cases()
    readme = ["# Golden fixtures for lakesync",
              "",
              "Generated by `python3 scripts/reference_model.py build-fixtures` (Python reference model, stdlib only).",
              "Do not edit by hand: change the case catalogue in `scripts/reference_cases.py` and regenerate.",
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
        try:
            check_premises(c["premises"], as_of)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from e
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
            try:
                check_expect(c["expect"], table, counts, features)
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
    cases = load_cases()
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
