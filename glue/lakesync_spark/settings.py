"""The DMS format settings the Spark engine reads (parseDmsFormat in etl/dms/format.ts), checked as lakesync checks them.

The Spark engine reads CdcInsertsOnly / CdcInsertsAndUpdates (change rows without Op: insert-or-replace by key),
UseCsvNoSupValue with CsvNoSupValue (nosup.py), DatePartitionTimezone (time_zone.py), Rfc4180=false and
CsvRowDelimiter as the TypeScript engine does. PreserveTransactions/CdcPath (job.py load_config) and a setting it does
not know are refused by name: refusing is the contract, a setting must never be read as if it were absent.
"""
import json

from .errors import LakesyncError
from .time_zone import is_time_zone


def _bad(message: str) -> LakesyncError:
    return LakesyncError("bad_config", message)


def check_format(fmt: dict, defaults: dict) -> None:
    """Raises naming the first setting the Spark engine does not know, or a value lakesync refuses."""
    for k in fmt:
        if k not in defaults and k not in ("preserveTransactions", "cdcPath"):  # load_config refuses them when on
            raise _bad(f"config: unknown format setting \"{k}\" (known to the Spark engine: {', '.join(defaults)})")
    z = fmt.get("datePartitionTimezone")
    if z is not None and not is_time_zone(z):
        raise _bad("config: format.datePartitionTimezone must be an IANA time zone in Area/Location form (e.g. "
                   f"\"Europe/Paris\") or null, got {json.dumps(z, ensure_ascii=False)}")
    if fmt.get("cdcInsertsOnly") and fmt.get("cdcInsertsAndUpdates"):
        raise _bad("config: format.cdcInsertsOnly and format.cdcInsertsAndUpdates cannot both be true (DMS refuses "
                   "both on one endpoint)")
    r = fmt.get("csvRowDelimiter", "\n")
    if (not isinstance(r, str) or not (r in ("\n", "\r\n") or (len(r) == 1 and ord(r) < 128 and r not in "\"\r"))
            or r == fmt.get("csvDelimiter", ",")):
        raise _bad("config: format.csvRowDelimiter must be \"\\n\", \"\\r\\n\" or one ASCII character other than a "
                   f"quote, a carriage return and the csvDelimiter, got {json.dumps(r)}")
    _check_nosup(fmt, r)


def _check_nosup(fmt: dict, row_delimiter: str) -> None:
    """checkCdcSettings' CsvNoSupValue rules: a text a field can hold unquoted, never the NULL text."""
    v = fmt.get("csvNoSupValue")
    if v is not None and (not isinstance(v, str) or v == ""):
        raise _bad("config: format.csvNoSupValue must be a non-empty string or null")
    if isinstance(v, str) and (any(ch in v for ch in "\"\r\n") or fmt.get("csvDelimiter", ",") in v
                               or row_delimiter in v):
        raise _bad("config: format.csvNoSupValue must not contain the delimiter, a quote or a line break")
    if v is not None and v == fmt.get("csvNullValue"):
        raise _bad("config: format.csvNoSupValue must differ from format.csvNullValue (a field could not be told NULL "
                   "or kept)")


def nosup_text(fmt: dict) -> str | None:
    """noSupText: the NOSUP text that marks a kept column in a change row, or None when DMS writes NULL for those."""
    return fmt.get("csvNoSupValue") if fmt.get("useCsvNoSupValue") else None


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
