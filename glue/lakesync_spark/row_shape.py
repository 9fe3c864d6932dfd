"""Rows whose shape differs from the table config's (etl/dms/row-shape.ts): columns added or dropped at the source
during CDC. The CSV and DMS Parquet readers ask here how to read a file whose header (AddColumnName, or a Parquet
schema) is not the expected one, how few fields a header-less row may have, and what to tell the operator when a row
fits neither. Messages and codes are the TypeScript engine's, word for word.
"""

from __future__ import annotations

import json

from .errors import InputError
from .values import quote_value, type_name


def added_column_hint(name: str, type_: str = "<its type>") -> str:
    """The snippet an operator adds to the table's columns for a column the config does not declare."""
    return f'{{"name": {json.dumps(name, ensure_ascii=False)}, "type": {json.dumps(type_)}, "added": true}}'


def file_shape(names: list[str], spec: dict, lay: dict, file: str, subsystem: str) -> dict:
    """fileShape: the file's fields matched to the table by name; a declared column the file lacks reads NULL, a
    name the config does not declare stops the run. Returns {fieldColumn, header, sequenceField, missing}."""

    def fail(code: str, what: str, column: int | None = None):
        where = "" if column is None else f" line 1 column {column}"
        raise InputError(code, f"{subsystem}: {what} in {file}{where}")

    header = lay["header"]
    expected = dict(zip(header, lay["fieldColumn"]))
    seen = set(names)
    if len(seen) != len(names):
        fail("bad_header", f"a column appears twice in the header {quote_value(','.join(names))}")
    # What every row needs first: the Op field, the key and the ordering field (renamed or dropped: a reload).
    if lay["hasOp"] != (names[:1] == ["Op"]):
        fail("bad_header", f"{'no Op column first' if lay['hasOp'] else 'an Op column'} (expected {','.join(header)})")
    sequence_name = header[lay["sequenceField"]] if lay.get("sequenceField", -1) >= 0 else None
    if sequence_name is not None and sequence_name not in seen:
        fail("bad_header", f"no {sequence_name} column, which orders the changes (expected {','.join(header)})")
    for k in spec["primaryKey"]:
        if k not in seen:
            fail("bad_header", f"no key column {k} (expected {','.join(header)}; a renamed key needs a reload)")
    field_column = []
    for f, name in enumerate(names):
        c = expected.get(name)
        if c is None or (name == "Op" and f != 0):
            fail("new_column", f"column {quote_value(name)} is not in table {spec['name']}'s config (a column added "
                 f"at the source: add {added_column_hint(name)} at the end of its columns; a renamed one needs a "
                 "reload)", f + 1)
        field_column.append(c)
    return {"fieldColumn": field_column, "header": names,
            "sequenceField": -1 if sequence_name is None else names.index(sequence_name),
            "missing": [ci for ci, c in enumerate(spec["columns"]) if c["name"] not in seen]}


def fewest_fields(spec: dict, lay: dict) -> int:
    """fewestFields: a header-less row may lack the trailing `added` columns, only when their fields end the row."""
    m = len(lay["header"])
    while m > 0:
        c = lay["fieldColumn"][m - 1]
        if c < 0 or spec["columns"][c].get("added") is not True:
            break
        m -= 1
    return m


def too_many_fields_hint(spec: dict, field: int) -> str:
    """Why a header-less row has more fields than the config (`field`: 0-based), and what to add."""
    last = spec["columns"][-1]
    return (f": field {field + 1} is a column the config does not declare; if a column was added at the source, add "
            f"{added_column_hint('<name>')} after {last['name']} ({type_name(last)}) in table {spec['name']}'s "
            "columns, or turn on headers (format.addColumnName, DMS AddColumnName=true)")


def too_few_fields_hint(spec: dict, lay: dict) -> str:
    """Why a header-less row has fewer fields than the config."""
    added = any(c.get("added") is True for c in spec["columns"])
    if added and fewest_fields(spec, lay) == len(lay["header"]):
        return ("; rows written before an added column are read only when the added columns end the row: put the "
                "timestamp and sequence columns afterOp, or turn on headers (format.addColumnName)")
    return ("; a column dropped or renamed at the source cannot be told apart without headers: turn on "
            "format.addColumnName (DMS AddColumnName=true) or reload the table")


def not_null_missing(spec: dict, lay: dict, shape: dict, op: str) -> tuple[str, int] | None:
    """A `"nullable": false` column the file lacks, in a row that reads it (not a D row): its name and its field
    in the config's layout (1-based), as checkNotNull in etl/read-dms-file.ts names it; else None."""
    if op == "D":
        return None
    for ci in shape["missing"]:
        c = spec["columns"][ci]
        if c.get("nullable") is False:
            return c["name"], lay["fieldColumn"].index(ci) + 1
    return None
