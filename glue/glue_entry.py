"""AWS Glue entry of the lakesync Spark job: Glue-only APIs (awsglue job arguments and context) stay here; the logic
is plain PySpark in lakesync_spark (shipped with --extra-py-files), the same code `glue/run_local.py` runs locally.

Job arguments (set by the merge Lambda's StartJobRun): --table, --source s3://..., --target s3://..., --as-of
YYYY-MM-DD, --config JSON (the table's LAKESYNC_TABLES config), optional --glue-database, --pending-from/--pending-to
(informational: the run applies every pending file it finds, in DMS order, like the Lambda), --cities s3://... (an
override of the bundled map, shipped with --extra-files as city_to_state.csv otherwise).
"""

import json
import os
import sys
import tempfile

from awsglue.context import GlueContext  # type: ignore[import-not-found]
from awsglue.job import Job  # type: ignore[import-not-found]
from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
from pyspark.context import SparkContext

from lakesync_spark.dms import parse_date
from lakesync_spark.errors import LakesyncError
from lakesync_spark.job import Context, catalog_database, configure, load_config, run
from lakesync_spark.storage import open_storage

REQUIRED = ["JOB_NAME", "table", "source", "target", "as_of", "config"]
OPTIONAL = ["glue_database", "pending_from", "pending_to", "cities"]


def main() -> int:
    opts = getResolvedOptions(sys.argv, REQUIRED + [o for o in OPTIONAL if f"--{o}" in sys.argv
                                                    or f"--{o.replace('_', '-')}" in sys.argv])
    sc = SparkContext.getOrCreate()
    glue_context = GlueContext(sc)
    spark = glue_context.spark_session
    configure(spark)
    job = Job(glue_context)
    job.init(opts["JOB_NAME"], opts)
    print(f"lakesync: table {opts['table']} pending {opts.get('pending_from')} .. {opts.get('pending_to')}")
    with tempfile.TemporaryDirectory() as tmp:
        config_file = os.path.join(tmp, "config.json")
        raw = json.loads(opts["config"] or "{}")
        cities = None
        if opts.get("cities"):
            src = open_storage(opts["cities"].rsplit("/", 1)[0])
            cities = os.path.join(tmp, "cities.csv")
            with open(cities, "wb") as fh:
                fh.write(src.read(opts["cities"].rsplit("/", 1)[1]))
        raw.pop("cities", None)
        with open(config_file, "w", encoding="utf-8") as fh:
            json.dump(raw, fh)
        data_dir = os.environ.get("LAKESYNC_DATA_DIR", os.getcwd())  # --extra-files land in the working directory
        spec, fmt, aliases, city_map = load_config(config_file, cities, data_dir)
        database = catalog_database(config_file, opts.get("glue_database") or None)
    as_of = parse_date(opts["as_of"])
    if as_of is None:
        raise LakesyncError("bad_usage", f"--as-of {opts['as_of']!r} is not a date (expected YYYY-MM-DD)")
    target = open_storage(opts["target"])
    ctx = Context(open_storage(opts["source"]), target, as_of, city_map, aliases, spec=spec, fmt=fmt,
                  warn=lambda m: print(f"lakesync: warning: {m}"), glue_database=database)
    result = run(spark, ctx)
    print(f"lakesync: {result['message']}")
    job.commit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
