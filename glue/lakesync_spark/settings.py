"""The DMS format settings the Spark engine reads (parseDmsFormat in etl/dms/format.ts), and the ones it refuses.

The Spark engine reads CdcInsertsOnly / CdcInsertsAndUpdates (change rows without Op: insert-or-replace by key),
Rfc4180=false and CsvRowDelimiter as the TypeScript engine does. It refuses, by name, what it cannot read yet:
CsvNoSupValue (a U row keeping a column's previous value). Refusing is the contract: a setting it does not know must
never be read as if it were absent.
"""
import json

from .errors import LakesyncError

SPARK_REFUSES = "the Spark engine does not read it yet: run this table on the TypeScript engine (lakesync run)"


def _bad(message: str) -> LakesyncError:
    return LakesyncError("bad_config", message)


def check_format(fmt: dict, defaults: dict) -> None:
    """Raises naming the first setting the Spark engine does not know or cannot read."""
    for k in fmt:
        if k not in defaults and k not in ("preserveTransactions", "cdcPath"):  # load_config refuses them when on
            raise _bad(f"config: unknown format setting \"{k}\" (known to the Spark engine: {', '.join(defaults)})")
    if fmt.get("cdcInsertsOnly") and fmt.get("cdcInsertsAndUpdates"):
        raise _bad("config: format.cdcInsertsOnly and format.cdcInsertsAndUpdates cannot both be true (DMS refuses "
                   "both on one endpoint)")
    if fmt.get("useCsvNoSupValue") and fmt.get("csvNoSupValue") is not None:
        raise _bad(f"config: format.useCsvNoSupValue with format.csvNoSupValue: {SPARK_REFUSES}")
    r = fmt.get("csvRowDelimiter", "\n")
    if (not isinstance(r, str) or not (r in ("\n", "\r\n") or (len(r) == 1 and ord(r) < 128 and r not in "\"\r"))
            or r == fmt.get("csvDelimiter", ",")):
        raise _bad("config: format.csvRowDelimiter must be \"\\n\", \"\\r\\n\" or one ASCII character other than a "
                   f"quote, a carriage return and the csvDelimiter, got {json.dumps(r)}")


def change_rows_without_op(fmt: dict) -> bool:
    """changeRowsWithoutOp (etl/dms/format.ts): DMS drops the Op field with CdcInsertsOnly/AndUpdates unless
    IncludeOpForFullLoad."""
    return bool(fmt.get("cdcInsertsOnly") or fmt.get("cdcInsertsAndUpdates")) and not fmt["includeOpForFullLoad"]


def allowed_ops(fmt: dict, kind: str) -> str:
    """The Op letters a file may hold."""
    if kind == "load" or fmt.get("cdcInsertsOnly"):
        return "I"
    return "IU" if fmt.get("cdcInsertsAndUpdates") else "IUD"


def ops_expected(ops: str, load_only: bool) -> str:
    """The unknown-Op message's expectation, as the TypeScript reader words it."""
    if load_only:
        return "I in a full-load file"
    return {"I": "I: format.cdcInsertsOnly", "IU": "I or U: format.cdcInsertsAndUpdates"}.get(ops, "I, U or D")
