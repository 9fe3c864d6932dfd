#!/usr/bin/env python3
"""Runs the lakesync Spark job in Spark local mode on folders (what `lakesync run --engine spark` spawns).

  python glue/run_local.py --source DIR --target DIR [--as-of YYYY-MM-DD] [--cities FILE] [--config FILE] [--reload]
  python glue/run_local.py --batch cases.json   # many runs in one Spark session (the conformance tests)

A batch file is a JSON array of {"source", "target", "asOf", "cities"?, "config"?, "reload"?, "glueDatabase"?}; one
JSON result line per run is printed to stdout ({"ok": true, "message", "version"} or {"ok": false, "code", "error"}, and
"ms", the run's wall time).
Exit codes: 0 success, 1 a run or input error, 2 bad usage, 3 Java, pyspark, pyarrow or the S3A jars missing.

s3:// locations: local Spark reaches S3 through Hadoop's S3A file system, whose jars (hadoop-aws of the Hadoop
version pyspark bundles, and the AWS SDK bundle it was built against) are fetched once from Maven Central with `mvn`
into .venv/spark-jars (LAKESYNC_SPARK_JARS overrides the folder). The endpoint, region and credentials come from the
standard AWS variables (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID...), as boto3 reads
them for the commit log and the Glue catalog (AWS_ENDPOINT_URL_GLUE): a moto server in the tests, AWS otherwise.
--glue-database: the run switches the Glue catalog to each version it commits (and repairs a failed switch), as on Glue.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
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
JAR_DIR = os.environ.get("LAKESYNC_SPARK_JARS", os.path.join(os.path.dirname(HERE), ".venv", "spark-jars"))
# hadoop-aws 3.3.4 (the Hadoop of pyspark 3.5.x) was built against this AWS SDK bundle (its pom's dependency).
AWS_SDK_BUNDLE = {"3.3.4": "1.12.262", "3.3.6": "1.12.367"}


def check_runtime() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return ("pyspark is not installed in this Python (" + sys.executable + "); run `bash scripts/setup-spark.sh` "
                "to install pyspark 3.5.6 into .venv")
    try:
        import pyarrow  # noqa: F401 - reads DMS Parquet input (lakesync_spark.dms.parse_parquet)
    except ImportError:
        return ("pyarrow is not installed in this Python (" + sys.executable + "); run `bash scripts/setup-spark.sh` "
                "to install requirements-spark.txt into .venv")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (Spark needs Java 17: e.g. `apt-get install openjdk-17-jre-headless`)"
    return None


def s3a_jars() -> tuple[list[str], str | None]:
    """The S3A jars for the Hadoop pyspark bundles (fetched once with mvn), or an error message."""
    import glob

    import pyspark

    client = glob.glob(os.path.join(os.path.dirname(pyspark.__file__), "jars", "hadoop-client-api-*.jar"))
    if not client:
        return [], "cannot tell pyspark's Hadoop version (no hadoop-client-api jar in pyspark/jars)"
    hadoop = os.path.basename(client[0])[len("hadoop-client-api-"):-len(".jar")]
    sdk = AWS_SDK_BUNDLE.get(hadoop)
    if sdk is None:
        return [], f"no known AWS SDK bundle for hadoop-aws {hadoop}"
    wanted = [("org.apache.hadoop", "hadoop-aws", hadoop), ("com.amazonaws", "aws-java-sdk-bundle", sdk)]
    jars = [os.path.join(JAR_DIR, f"{a}-{v}.jar") for _g, a, v in wanted]
    for (g, a, v), jar in zip(wanted, jars):
        if os.path.isfile(jar):
            continue
        if shutil.which("mvn") is None:
            return [], (f"s3:// locations need {a}-{v}.jar in {JAR_DIR}: install Maven (apt-get install maven) to "
                        "fetch it from Maven Central, or put the jar there")
        import subprocess

        print(f"run_local.py: fetching {g}:{a}:{v} from Maven Central into {JAR_DIR}", file=sys.stderr)
        r = subprocess.run(["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={g}:{a}:{v}",
                            f"-DoutputDirectory={JAR_DIR}"], capture_output=True, text=True, cwd=JAR_DIR
                           if os.path.isdir(JAR_DIR) else None)
        if r.returncode != 0 or not os.path.isfile(jar):
            return [], f"mvn could not fetch {g}:{a}:{v}: {(r.stdout + r.stderr)[-2000:]}"
    return jars, None


def s3a_conf(jars: list[str]) -> dict[str, str]:
    """Spark settings for s3:// through S3A, from the standard AWS variables (endpoint, region, credentials)."""
    conf = {
        "spark.jars": ",".join(jars),
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.aws.credentials.provider":
            "com.amazonaws.auth.DefaultAWSCredentialsProviderChain",
    }
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        conf["spark.hadoop.fs.s3a.endpoint.region"] = region
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = endpoint
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(endpoint.startswith("https:")).lower()
    return conf


def one_run(spark, spec: dict) -> dict:
    from lakesync_spark.dms import parse_date
    from lakesync_spark.errors import LakesyncError
    from lakesync_spark.job import Context, catalog_database, load_config, run
    from lakesync_spark.storage import open_storage

    try:
        as_of_text = spec.get("asOf") or datetime.now(timezone.utc).strftime("%Y-%m-%d")
        as_of = parse_date(as_of_text)
        if as_of is None:
            raise LakesyncError("bad_usage", f"--as-of must be a real date YYYY-MM-DD, got {as_of_text!r}")
        table, fmt, aliases, city_map = load_config(spec.get("config"), spec.get("cities"), DATA_DIR)
        warnings: list[str] = []
        ctx = Context(open_storage(spec["source"]), open_storage(spec["target"]), as_of, city_map, aliases,
                      spec=table, fmt=fmt, reload=bool(spec.get("reload")), warn=warnings.append,
                      glue_database=catalog_database(spec.get("config"), spec.get("glueDatabase") or None))
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
    p.add_argument("--glue-database", dest="glueDatabase")
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

    runs = None
    if args.batch is not None:
        with open(args.batch, encoding="utf-8") as fh:
            runs = json.load(fh)
    locations = [r.get(k) or "" for r in (runs or [vars(args)]) for k in ("source", "target")]
    conf: dict[str, str] = {}
    if any(loc.startswith("s3://") for loc in locations):
        jars, missing = s3a_jars()
        if missing:
            print(f"lakesync: error: {missing}", file=sys.stderr)
            return 3
        conf = s3a_conf(jars)
    spark = spark_session(args.master, conf)
    spark.sparkContext.setLogLevel("ERROR")
    try:
        if runs is not None:
            for spec in runs:
                t0 = time.perf_counter()
                out = one_run(spark, spec)
                out.pop("records", None) if not spec.get("records") else None
                out["ms"] = round((time.perf_counter() - t0) * 1000)  # where a batch's time goes
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
