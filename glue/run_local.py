#!/usr/bin/env python3
"""Runs the lakesync Spark job in Spark local mode on folders (what `lakesync run --engine spark` spawns).

  python glue/run_local.py --source DIR --target DIR [--as-of YYYY-MM-DD] [--cities FILE] [--config FILE] [--reload]
  python glue/run_local.py --batch cases.json   # many runs in one Spark session (the conformance tests)

A batch file is a JSON array of {"source", "target", "asOf", "cities"?, "config"?, "reload"?}; one JSON result line
per run is printed to stdout ({"ok": true, "message", "version"} or {"ok": false, "code", "error"}).
Exit codes: 0 success, 1 a run or input error, 2 bad usage, 3 Java or pyspark missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import datetime, timezone

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (workers: PYTHONDONTWRITEBYTECODE below)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# Spark's Python workers import lakesync_spark too; on Glue it ships with --extra-py-files instead.
os.environ["PYTHONPATH"] = os.pathsep.join([HERE, *filter(None, [os.environ.get("PYTHONPATH")])])
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
DATA_DIR = os.environ.get("LAKESYNC_DATA_DIR", os.path.join(os.path.dirname(HERE), "data"))


def check_runtime() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return ("pyspark is not installed in this Python (" + sys.executable + "); run `bash scripts/setup-spark.sh` "
                "to install pyspark 3.5.6 into .venv")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (Spark needs Java 17: e.g. `apt-get install openjdk-17-jre-headless`)"
    return None


def one_run(spark, spec: dict) -> dict:
    from lakesync_spark.dms import parse_date
    from lakesync_spark.errors import LakesyncError
    from lakesync_spark.job import Context, load_config, run
    from lakesync_spark.storage import open_storage

    try:
        as_of_text = spec.get("asOf") or datetime.now(timezone.utc).strftime("%Y-%m-%d")
        as_of = parse_date(as_of_text)
        if as_of is None:
            raise LakesyncError("bad_usage", f"--as-of must be a real date YYYY-MM-DD, got {as_of_text!r}")
        table, fmt, aliases, city_map = load_config(spec.get("config"), spec.get("cities"), DATA_DIR)
        warnings: list[str] = []
        ctx = Context(open_storage(spec["source"]), open_storage(spec["target"]), as_of, city_map, aliases,
                      spec=table, fmt=fmt, reload=bool(spec.get("reload")), warn=warnings.append)
        res = run(spark, ctx)
        return {"ok": True, "message": res["message"], "version": res["version"], "warnings": warnings,
                "records": res["records"]}
    except LakesyncError as e:
        return {"ok": False, "code": e.code, "error": e.message}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="run_local.py", description="lakesync's Spark job in local mode")
    p.add_argument("--source")
    p.add_argument("--target")
    p.add_argument("--as-of", dest="asOf")
    p.add_argument("--cities")
    p.add_argument("--config")
    p.add_argument("--reload", action="store_true")
    p.add_argument("--batch", help="JSON file: an array of runs, done in one Spark session")
    p.add_argument("--master", default=os.environ.get("LAKESYNC_SPARK_MASTER", "local[*]"))
    args = p.parse_args(argv)
    if args.batch is None and (args.source is None or args.target is None):
        p.print_usage(sys.stderr)
        print("run_local.py: --source and --target are required (or --batch FILE)", file=sys.stderr)
        return 2
    missing = check_runtime()
    if missing:
        print(f"lakesync: error: {missing}", file=sys.stderr)
        return 3
    from lakesync_spark.job import spark_session

    spark = spark_session(args.master)
    spark.sparkContext.setLogLevel("ERROR")
    try:
        if args.batch is not None:
            with open(args.batch, encoding="utf-8") as fh:
                runs = json.load(fh)
            for spec in runs:
                out = one_run(spark, spec)
                out.pop("records", None) if not spec.get("records") else None
                print(json.dumps(out), flush=True)
            return 0
        spec = {k: v for k, v in vars(args).items() if k not in ("batch", "master")}
        out = one_run(spark, spec)
        if not out["ok"]:
            print(f"lakesync: error: {out['error']}", file=sys.stderr)
            return 1
        for w in out["warnings"]:
            print(f"lakesync: warning: {w}", file=sys.stderr)
        print(out["message"])
        for rec in out["records"]:
            c = rec["counts"]
            print(f"  v{rec['version']} as_of {rec['asOf']}: {len(rec['files'])} file(s); inserts {c['inserts']}, "
                  f"replaces {c['replaces']}, updates {c['updates']}, upserts-of-missing {c['upsertsOfMissing']}, "
                  f"deletes {c['deletes']}, deletes-of-missing {c['deletesOfMissing']} (engine lakesync-spark)")
        return 0
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
