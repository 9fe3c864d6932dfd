#!/usr/bin/env bash
# Installs pyspark (pinned to the 3.5 line AWS Glue 5.1 runs) and pyarrow (DMS Parquet input), requirements-spark.txt,
# into the project's .venv, for the Spark job's local mode (glue/run_local.py, `lakesync run --engine spark`, test/spark-conformance.test.ts).
# Idempotent and silent when already done: pip runs only when requirements-spark.txt changed since the last install
# (a hash stamp inside the venv) or pyspark is missing. Java 17 must be installed (Spark runs on the JVM).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/requirements-spark.txt"
stamp="$venv/.requirements-spark.sha256"

# The S3A jars local Spark needs for s3:// locations (test/spark-s3.test.ts), fetched once from Maven Central into
# .venv/spark-jars by glue/run_local.py's own function, and the Iceberg Spark runtime the tests read published tables
# with (test/helpers/iceberg_spark_read.py), so no test downloads anything.
fetch_s3a_jars() {
  "$venv/bin/python" "$root/test/helpers/iceberg_spark_read.py" --fetch-jar
  "$venv/bin/python" -c "
import sys
sys.path.insert(0, '$root/glue')
import run_local
jars, err = run_local.s3a_jars()
if err:
    sys.exit('setup-spark: ' + err)
"
}

hash="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$hash" ]] &&
  "$venv/bin/python" -c 'import pyspark, pyarrow' >/dev/null 2>&1; then
  fetch_s3a_jars
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  echo "setup-spark: python3 is required for the Spark job (pyspark)" >&2
  exit 1
fi
if ! command -v java >/dev/null 2>&1 && [[ -z "${JAVA_HOME:-}" ]]; then
  echo "setup-spark: warning: Java is not installed; Spark needs Java 17 (apt-get install openjdk-17-jre-headless)" >&2
fi

echo "setup-spark: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into .venv (a ~320 MB download the first time)" >&2
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
"$venv/bin/python" -c 'import pyspark, pyarrow' || {
  echo "setup-spark: pip finished but pyspark or pyarrow does not import from $venv" >&2
  exit 1
}
echo "$hash" >"$stamp"
fetch_s3a_jars
