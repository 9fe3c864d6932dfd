#!/usr/bin/env python3
"""Reads Apache Iceberg tables with Spark and the Iceberg runtime (a third reader lakesync does not contain).

  python test/helpers/iceberg_spark_read.py --reads READS.json      # [{"table": T, "snapshot": ID | null}, ...]
  python test/helpers/iceberg_spark_read.py --fetch-jar             # only fetch the runtime jar (setup-spark.sh)

Every read runs in ONE local Spark session (a JVM start costs seconds): `spark.read.format("iceberg")
[.option("snapshot-id", ID)].load(T)`, where T is a "Hadoop table" folder (metadata/version-hint.text), local or
s3:// (S3A with the standard AWS variables, as glue/run_local.py sets it up). Prints one JSON line per read, in the
shape iceberg_read.py prints (values rendered by its render_rows), with reader "spark". Spark exposes no field ids,
identifier fields or sequence numbers: those are null; snapshots come from the `#snapshots` metadata table.

The runtime is org.apache.iceberg:iceberg-spark-runtime-3.5_2.12 (Spark 3.5, the pinned pyspark line), fetched once
with mvn into glue/run_local.py's jar folder (.venv/spark-jars) by scripts/setup-spark.sh, so no test downloads.
Exit codes: 0 success, 1 a read error (message on stderr), 2 bad usage, 3 the runtime is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from typing import Any

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "glue"))

import iceberg_read  # noqa: E402  (the shared rendering)
import run_local  # noqa: E402  (the jar folder and the S3A settings)

ICEBERG_RUNTIME = ("org.apache.iceberg", "iceberg-spark-runtime-3.5_2.12", "1.9.2")


def runtime_jar() -> tuple[str | None, str | None]:
    """The Iceberg Spark runtime jar (fetched with mvn when absent), or an error message."""
    g, a, v = ICEBERG_RUNTIME
    jar = os.path.join(run_local.JAR_DIR, f"{a}-{v}.jar")
    if os.path.isfile(jar):
        return jar, None
    if shutil.which("mvn") is None:
        return None, f"{a}-{v}.jar is not in {run_local.JAR_DIR} and mvn is missing to fetch it"
    os.makedirs(run_local.JAR_DIR, exist_ok=True)
    print(f"iceberg_spark_read.py: fetching {g}:{a}:{v} from Maven Central into {run_local.JAR_DIR}", file=sys.stderr)
    r = subprocess.run(["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={g}:{a}:{v}",
                        f"-DoutputDirectory={run_local.JAR_DIR}"], capture_output=True, text=True,
                       cwd=run_local.JAR_DIR)
    if r.returncode != 0 or not os.path.isfile(jar):
        return None, f"mvn could not fetch {g}:{a}:{v}: {(r.stdout + r.stderr)[-2000:]}"
    return jar, None


def iceberg_type(t: Any) -> str:
    """Iceberg's name of a Spark type as the runtime maps it (int16 is stored as int; timestamptz is TIMESTAMP)."""
    from pyspark.sql import types as T

    if isinstance(t, T.DecimalType):
        return f"decimal({t.precision}, {t.scale})"
    names = [(T.BooleanType, "boolean"), (T.IntegerType, "int"), (T.LongType, "long"), (T.FloatType, "float"),
             (T.DoubleType, "double"), (T.DateType, "date"), (T.TimestampNTZType, "timestamp"),
             (T.TimestampType, "timestamptz"), (T.StringType, "string"), (T.BinaryType, "binary")]
    for cls, name in names:
        if isinstance(t, cls):
            return name
    return f"spark:{t.simpleString()}"


def read_one(spark: Any, table: str, snapshot: int | None) -> dict[str, Any]:
    reader = spark.read.format("iceberg")
    if snapshot is not None:
        reader = reader.option("snapshot-id", str(snapshot))
    df = reader.load(table)
    data = df._collect_as_arrow()  # pyspark 3.5: record batches, as toPandas() uses them
    import pyarrow as pa

    arrow = pa.Table.from_batches(data, schema=data[0].schema) if data else pa.Table.from_pylist(
        [], schema=pa.schema([pa.field(f.name, pa.string()) for f in df.schema.fields]))
    snaps = spark.read.format("iceberg").load(f"{table}#snapshots").orderBy("committed_at").collect()
    return {
        "snapshotId": None if snapshot is None else str(snapshot),
        "currentSnapshotId": None,
        "metadataLocation": None,
        "schema": {
            "fields": [{"id": None, "name": f.name, "type": iceberg_type(f.dataType), "required": not f.nullable}
                       for f in df.schema.fields],
            "identifierFieldIds": None,
        },
        "snapshots": [
            {"id": str(s["snapshot_id"]), "parentId": None if s["parent_id"] is None else str(s["parent_id"]),
             "sequenceNumber": None, "timestampMs": int(s["committed_at"].timestamp() * 1000),
             "operation": s["operation"], "summary": dict(s["summary"] or {})}
            for s in snaps
        ],
        "columns": [f.name for f in df.schema.fields],
        "rows": iceberg_read.render_rows(arrow) if data else [],
    }


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reads", help="JSON file: an array of {table, snapshot}")
    p.add_argument("--fetch-jar", action="store_true")
    args = p.parse_args(argv)
    jar, missing = runtime_jar()
    if missing:
        print(f"iceberg_spark_read.py: {missing}", file=sys.stderr)
        return 3
    if args.fetch_jar:
        return 0
    if not args.reads:
        p.print_usage(sys.stderr)
        return 2
    with open(args.reads, encoding="utf-8") as fh:
        reads = json.load(fh)
    jars = [jar]
    conf: dict[str, str] = {}
    if any(iceberg_read.is_s3(r["table"]) for r in reads):
        s3a, missing = run_local.s3a_jars()
        if missing:
            print(f"iceberg_spark_read.py: {missing}", file=sys.stderr)
            return 3
        conf = run_local.s3a_conf(s3a)
        jars += s3a
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName("iceberg_spark_read")
    for k, v in {**conf, "spark.jars": ",".join(jars), "spark.sql.session.timeZone": "UTC",
                 "spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"}.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for r in reads:
            table = r["table"] if iceberg_read.is_s3(r["table"]) else os.path.abspath(r["table"])
            try:
                out = {"reader": "spark", "table": r["table"], **read_one(spark, table, r.get("snapshot"))}
            except Exception as e:  # noqa: BLE001 - one message per read, whatever Spark raised
                out = {"reader": "spark", "table": r["table"], "error": f"{type(e).__name__}: {str(e)[:2000]}"}
            print(json.dumps(out, ensure_ascii=True), flush=True)
        return 0
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
