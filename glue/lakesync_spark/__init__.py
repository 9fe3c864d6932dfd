"""lakesync's Spark engine: the same DMS semantics, commit log and output layout as the TypeScript engine (etl/).

Plain PySpark, runnable in local mode (glue/run_local.py) and on AWS Glue (glue/glue_entry.py)."""

ENGINE_NAME = "lakesync-spark"
ENGINE_VERSION = "0.1.0"
