#!/usr/bin/env bash
# Prepares the Python side of the test suite: a project-local virtualenv (.venv) holding moto's server, which the
# S3 and Glue adapter tests run against (no AWS account is ever used), and the independent Iceberg readers (DuckDB
# with its iceberg extension, pyiceberg) that read the published tables. Idempotent and silent when already done:
# the venv is rebuilt only when it lacks moto_server or requirements-test.txt changed since the last install
# (tracked by a hash stamp inside the venv). Also installs Chromium when missing (scripts/install-chromium.sh), and
# PostgreSQL when missing (for the capture tests and the local end-to-end flow).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian's Chromium for the report's browser test (skipped when /usr/bin/chromium exists).
bash "$root/scripts/install-chromium.sh"
# pyspark 3.5.6 for the Spark job's conformance tests (same .venv; its own stamp; silent when done).
bash "$root/scripts/setup-spark.sh"

# PostgreSQL for the capture tests and `npm run e2e` (scripts/pg-cluster.ts runs throwaway clusters of the newest
# installed version, 12 or later). Debian's postgresql-15 when none is installed; no default cluster is created.
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  if [[ "$(id -u)" != "0" ]]; then
    echo "setup-test-env: PostgreSQL is missing; run as root (or: sudo apt-get install -y postgresql-15)" >&2
    exit 1
  fi
  echo "setup-test-env: installing Debian's postgresql-15 for the capture tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p /etc/postgresql-common
  [[ -f /etc/postgresql-common/createcluster.conf ]] ||
    echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
  apt-get update -qq >/dev/null
  package=postgresql-15
  apt-cache show postgresql-15 >/dev/null 2>&1 || package=postgresql
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "$package" >/dev/null
fi

venv="$root/.venv"
requirements="$root/requirements-test.txt"
stamp="$venv/.requirements-test.sha256"

hash="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -x "$venv/bin/moto_server" && -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  echo "setup-test-env: python3 is required to run moto (the S3/Glue test server)" >&2
  exit 1
fi

echo "setup-test-env: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into .venv" >&2
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
if [[ ! -x "$venv/bin/moto_server" ]]; then
  echo "setup-test-env: pip finished but $venv/bin/moto_server is missing" >&2
  exit 1
fi
# The independent Iceberg readers (test/helpers/iceberg_read.py): DuckDB must find the extension files its wheels ship.
"$venv/bin/python" -c '
import duckdb, pyiceberg.table, importlib.util, os
for name in ("iceberg", "avro", "httpfs"):
    folder = importlib.util.find_spec("duckdb_extension_" + name).submodule_search_locations[0]
    path = os.path.join(folder, "extensions", "v" + duckdb.__version__, name + ".duckdb_extension")
    if not os.path.isfile(path):
        raise SystemExit("setup-test-env: duckdb-extension-%s has no build for duckdb %s" % (name, duckdb.__version__))
'
echo "$hash" >"$stamp"
