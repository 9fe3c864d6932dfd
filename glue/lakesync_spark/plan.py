"""The commit log (etl/commit/log.ts) and the run plan (etl/commit/plan.ts): pure Python, no Spark."""

from __future__ import annotations

import json

from .dms import DmsFile, NameClock, change_key, classify
from .errors import InputError, StateError

VERSION_DIGITS = 20
DAY_MS = 86_400_000


def version_name(v: int) -> str:
    return str(v).rjust(VERSION_DIGITS, "0")


def commits_prefix(table: str) -> str:
    return f"_lakesync/{table}/commits/"


def features_table_name(table: str) -> str:
    """The table a mirrored table's city features publish to (etl/commit/log.ts featuresTableName)."""
    return f"{table}_features"


def version_dir(table: str, version: int) -> str:
    """The folder of a published table's version, relative to the target (etl/commit/layout.ts versionDir)."""
    return f"{table}/v={version_name(version)}/"


def version_file(table: str, version: int) -> str:
    """The one Parquet file of a published table's version, relative to the target."""
    return f"{version_dir(table, version)}part-00000.parquet"


def commit_path(table: str, v: int) -> str:
    return f"{commits_prefix(table)}{version_name(v)}.json"


def encode(record: dict) -> bytes:
    """JSON.stringify(record, null, 2) + '\\n'."""
    return (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def read_commit_log(target, table: str) -> dict:
    prefix = commits_prefix(table)
    entries = []
    for o in target.list(prefix):
        name = o.path[len(prefix):]
        if len(name) != VERSION_DIGITS + 5 or not name.endswith(".json") or not name[:VERSION_DIGITS].isdigit():
            continue
        got = target.read_versioned(o.path)
        if got is None:
            continue
        try:
            record = json.loads(got[0].decode("utf-8"))
        except ValueError as e:
            raise StateError("corrupt_state", f"commit: {target.root}/{o.path} is not valid JSON") from e
        if record.get("version") != int(name[:VERSION_DIGITS]):
            raise StateError("corrupt_state", f"commit: {o.path} says version {record.get('version')}")
        record.setdefault("state", "committed")
        entries.append({"record": record, "etag": got[1]})
    entries.sort(key=lambda e: e["record"]["version"])
    committed = [e["record"] for e in entries if e["record"]["state"] == "committed"]
    return {"entries": entries, "committed": committed, "current": committed[-1] if committed else None,
            "head": entries[-1] if entries else None}


def lineage(log: dict) -> list[dict]:
    c = log["committed"]
    start = max((i for i, r in enumerate(c) if r.get("fullLoad")), default=-1)
    return c if start < 0 else c[start:]


def _reload_hint(what: str) -> str:
    return f"{what}; run lakesync reload to rebuild the table from the files now in the source"


def plan_run(loads: list[DmsFile], changes: list[DmsFile], objects: dict, log: dict, source,
             reload: bool, staging_expiry_days: float, now_ms: float, file_order: bool = True,
             time_zone: str | None = None) -> dict:
    # Change files set aside by `lakesync skip` (etl/commit/skip.ts) are left out; each must still be that file.
    skipped = active_skips(log)
    recheck = []
    for f in changes:
        k, o = skipped.get(f.path), objects.get(f.path)
        if k is not None and o is not None and not _same_file(k, o, source, f, "set aside"):
            recheck.append(f)
    changes = [f for f in changes if f.path not in skipped]
    all_files = loads + changes
    if reload or log["current"] is None:
        if not loads:
            if changes:
                raise InputError("no_full_load", f"dms files: {source.root} has {len(changes)} change file(s) but no "
                                 "full load (LOAD*.csv), and there is no previous version to apply them to")
            raise InputError("no_full_load", f"dms files: {source.root} holds no DMS files (expected LOAD*.csv and "
                             "change files)")
        return {"rebuild": True, "toRead": all_files, "recheck": recheck, "applied": {}, "skipped": skipped,
                "nothingNew": False}
    applied: dict[str, dict] = {}
    for rec in lineage(log):
        for f in rec["files"]:
            applied[f["path"]] = f
    for f in all_files:
        a, o = applied.get(f.path), objects.get(f.path)
        if a is not None and o is not None and not _same_file(a, o, source, f, "applied"):
            recheck.append(f)
    expiry = now_ms - staging_expiry_days * DAY_MS
    for a in applied.values():
        if a["path"] in objects:
            continue
        if a.get("mtimeMs") is not None and a["mtimeMs"] < expiry:
            continue
        raise InputError("missing_file", _reload_hint(
            f"dms files: {source.name(a['path'])} was applied but is gone from {source.root} before the "
            f"{staging_expiry_days:g}-day staging expiry (did DMS truncate or reload the table?)"))
    pending_loads = [f for f in loads if f.path not in applied]
    pending_changes = [f for f in changes if f.path not in applied]
    applied_changes = [a for a in applied.values() if a["kind"] == "change"]
    if applied_changes:
        if pending_loads:
            raise InputError("late_file", _reload_hint(
                f"dms files: new full-load file {source.name(pending_loads[0].path)} after change files were applied "
                "(DMS reloaded the table?); its rows are not mixed with the current load"))
        by_path = {f.path: f for f in changes}
        # An applied file gone from the listing is placed by the modification time its record kept.
        clock = NameClock(time_zone, lambda p: applied[p].get("mtimeMs"), source.name)
        newest = max((by_path.get(a["path"]) or classify(a["path"], clock) for a in applied_changes), key=change_key)
        # Ordered by a column, a change file named earlier is fine: the column decides (and guards) the order.
        late = next((f for f in pending_changes if change_key(f) < change_key(newest)), None) if file_order else None
        if late is not None:
            raise InputError("late_file", _reload_hint(
                f"dms files: {source.name(late.path)} is older than {source.name(newest.path)}, which is already "
                "applied; applying it now would reorder changes") + f", or lakesync skip {late.path} to set it aside")
    rebuild = len(pending_loads) > 0
    to_read = loads + pending_changes if rebuild else pending_changes
    return {"rebuild": rebuild, "toRead": to_read, "recheck": recheck, "applied": applied, "skipped": skipped,
            "nothingNew": len(to_read) == 0}


def active_skips(log: dict) -> dict[str, dict]:
    """The files set aside now, by path: skip records not taken back by a later unskip record (log.ts activeSkips)."""
    records: dict[str, dict] = {}
    for e in log["entries"]:
        r = e["record"]
        if r["state"] == "skipped":
            records[r["file"]["path"]] = r
        elif r["state"] == "unskipped" and records.get(r["path"], {}).get("version") == r["skipVersion"]:
            del records[r["path"]]
    return {path: r["file"] for path, r in records.items()}


def _same_file(known: dict, o, source, f: DmsFile, what: str) -> bool:
    """Size differs: changed (raises). Same ETag or mtime: the same file. Otherwise False: re-hash it."""
    if known["size"] != o.size:
        raise InputError("changed_file", _reload_hint(f"dms files: {source.name(f.path)} changed after it was "
                                                      f"{what} ({known['size']} bytes then, {o.size} now)"))
    same_etag = known.get("etag") is not None and o.etag is not None and known["etag"] == o.etag
    same_mtime = known.get("mtimeMs") is not None and o.mtime_ms is not None and known["mtimeMs"] == o.mtime_ms
    return same_etag or same_mtime
