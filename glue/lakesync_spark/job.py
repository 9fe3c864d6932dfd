"""One run of a table on Spark: the Python twin of etl/pipeline.ts.

List the source, plan (plan.py), read and apply every pending file with one Spark plan (failing closed before
anything is written), claim the next version in the commit log, write the table (and its features table, when the
table's config has a features section) as single Parquet files at the paths and with the Parquet types the
TypeScript engine uses (parquet_footer.py), and commit by compare-and-swap. The plan is joins and windows: every
change row is numbered (file index, row index); a window over the key (one or more columns) keeps the last change
and the one before it (for the per-file counts); an anti-join with the base keeps untouched rows; features are
window aggregates. Values travel with the types values.py lists.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

from . import ENGINE_NAME, ENGINE_VERSION
from .dms import (DEFAULT_FORMAT, USERS_SPEC, NameClock, compare_sequence, format_date, layout, list_dms_files,
                  parse_city_map, parse_csv, parse_parquet)
from .errors import InputError, LakesyncError, StateError, executor_error, from_spark
from .lease import DEFAULT_LEASE_MS, Lease
from .parquet_footer import patch_footer
from .nosup import keep_previous, refuse_kept_of_missing
from .settings import check_format, nosup_text
from .plan import (commit_path, encode, features_table_name, lineage, plan_run, read_commit_log, version_file,
                   version_name)
from .storage import sha256
from .values import features_columns, key_text, parse_table_spec, spark_type

COUNT_KEYS = ["inserts", "replaces", "updates", "upsertsOfMissing", "deletes", "deletesOfMissing"]
CLAIM_TTL_MS = DEFAULT_LEASE_MS  # the lease, renewed every third of it while the job writes (lease.py)


def spark_session(master: str | None = None, conf: dict[str, str] | None = None):
    """A session with the settings the job relies on (also applied to Glue's session by glue_entry.py)."""
    from pyspark.sql import SparkSession

    b = SparkSession.builder.appName("lakesync-spark")
    for k, v in (conf or {}).items():
        b = b.config(k, v)
    if master:
        b = b.master(master)
        b = b.config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "4")
        b = b.config("spark.driver.memory", os.environ.get("LAKESYNC_SPARK_DRIVER_MEMORY", "2g"))
    spark = b.getOrCreate()
    configure(spark)
    return spark


def configure(spark) -> None:
    c = spark.conf
    c.set("spark.sql.session.timeZone", "UTC")
    # Dates are proleptic Gregorian days, like Parquet's DATE and the TypeScript engine: never rebase.
    c.set("spark.sql.parquet.datetimeRebaseModeInWrite", "CORRECTED")
    c.set("spark.sql.parquet.datetimeRebaseModeInRead", "CORRECTED")
    c.set("spark.sql.parquet.int96RebaseModeInWrite", "CORRECTED")
    c.set("spark.sql.parquet.compression.codec", "snappy")
    c.set("spark.sql.parquet.writeLegacyFormat", "false")
    c.set("spark.sql.adaptive.enabled", "true")
    spark.sparkContext._jsc.hadoopConfiguration().set("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")


def _utf8_key(s):
    return (1, b"") if s is None else (0, s.encode("utf-8"))


class Context:
    def __init__(self, source, target, as_of: int, city_to_state: dict, city_aliases: dict,
                 spec: dict | None = None, fmt: dict | None = None, reload: bool = False,
                 staging_expiry_days: float = 30, max_commits: int = 10, now=None, warn=None,
                 glue_database: str | None = None):
        self.source = source
        self.target = target
        self.as_of = as_of
        self.city_to_state = city_to_state
        self.city_aliases = city_aliases
        self.spec = spec or USERS_SPEC
        self.fmt = dict(DEFAULT_FORMAT, **(fmt or {}))
        check_format(fmt or {}, DEFAULT_FORMAT)  # a setting this engine cannot read is refused, never ignored
        self.reload = reload
        self.staging_expiry_days = staging_expiry_days
        self.max_commits = max_commits
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.warn = warn or (lambda m: None)
        self.glue_database = glue_database  # the catalog run() switches after each commit; None: no catalog
        self.order = self.fmt.get("orderChangesBy", "file")


def _iso(d: datetime) -> str:
    return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _norm(p: str) -> str:
    if p.startswith("file:"):
        p = p[5:]
        while p.startswith("//"):
            p = p[1:]
    return unquote(p)


def _fail_from_spark(e: BaseException):
    err = from_spark(e)
    if err is not None:
        raise err from None
    raise e


def build(spark, ctx: Context, plan: dict, log: dict, objects: dict) -> dict:
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    spec, fmt, source = ctx.spec, ctx.fmt, ctx.source
    cols = [c["name"] for c in spec["columns"]]
    keys = spec["primaryKey"]
    date_cols = [c["name"] for c in spec["columns"] if c["type"] == "date"]
    files = plan["toRead"]
    t0 = time.perf_counter()
    schema = T.StructType(
        [T.StructField("f", T.IntegerType(), False), T.StructField("r", T.IntegerType(), False),
         T.StructField("line", T.IntegerType(), False), T.StructField("op", T.StringType(), False)]
        + [T.StructField(c["name"], spark_type(c), c["name"] not in keys) for c in spec["columns"]]
        + [T.StructField("_seq", T.StringType(), True), T.StructField("_kept", T.ArrayType(T.IntegerType()), True),
           T.StructField("_kf", T.IntegerType(), True)])
    index = {_norm(source.url(f.path)): i for i, f in enumerate(files)}
    meta = [(source.name(f.path), f.kind, f.gzip, f.format) for f in files]
    layouts = {k: layout(spec, fmt, k) for k in ("load", "change")}
    # The Op rule of CdcInsertsOnly/CdcInsertsAndUpdates is for .csv only: Parquet change rows keep Op.
    csv_only = dict(fmt, cdcInsertsOnly=False, cdcInsertsAndUpdates=False)
    parquet_layouts = {k: layout(spec, csv_only, k) for k in ("load", "change")}
    file_rows = [0] * len(files)
    file_meta: list[tuple[int, str]] = [(0, "")] * len(files)
    if files:
        binary = spark.read.format("binaryFile").load([source.url(f.path) for f in files])

        def parse(row):
            i = index[_norm(row.path)]
            name, kind, gz, form = meta[i]
            raw = bytes(row.content)
            n = 0
            try:
                # DMS Parquet files (DataFormat=parquet) are read whole by pyarrow in the task, like a CSV file:
                # one file per task, rows numbered in the file's order.
                rows = (parse_parquet(raw, name, spec, parquet_layouts[kind]) if form == "parquet"
                        else parse_csv(raw, name, spec, layouts[kind], fmt, gz))
                for r, t in enumerate(rows):
                    n += 1
                    yield (i, r, *t)
            except InputError as e:
                raise executor_error(e.code, e.message) from None
            # One summary row per file (r = -1): its row count, stored size and SHA-256, so one job reads all.
            yield (i, -1, n, f"#{len(raw)}:{sha256(raw)}", *([None] * len(cols)), None, None, None)

        every = spark.createDataFrame(binary.rdd.flatMap(parse), schema, verifySchema=False)
        every = every.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            for row in every.filter(F.col("r") < 0).select("f", "line", "op").collect():
                file_rows[row["f"]] = row["line"]
                size, _, digest = row["op"][1:].partition(":")
                file_meta[row["f"]] = (int(size), digest)
        except Exception as e:  # noqa: BLE001 - a Spark job failure carrying an input error
            _fail_from_spark(e)
        parsed = every.filter(F.col("r") >= 0)
        for i, f in enumerate(files):
            if file_meta[i][1] == "":
                # Spark's file sources skip 0-byte files; an empty file is valid and changes nothing.
                o = objects.get(f.path)
                if o is None or o.size != 0:
                    raise StateError("read_failed", f"spark: {source.name(f.path)} was not read by Spark")
                file_meta[i] = (0, sha256(b""))
    else:
        parsed = spark.createDataFrame([], schema)
    t1 = time.perf_counter()

    load_idx = [i for i, f in enumerate(files) if f.kind == "load"]
    change_idx = [i for i, f in enumerate(files) if f.kind == "change"]
    if plan["rebuild"]:
        load = parsed.filter(F.col("f").isin(load_idx)) if load_idx else parsed.limit(0)
        dup = load.groupBy(*keys).count().filter(F.col("count") > 1).limit(1).collect()
        if dup:
            w = Window.partitionBy(*keys).orderBy("f", "r")
            second = (load.withColumn("_n", F.row_number().over(w)).filter(F.col("_n") == 2).orderBy("f", "r")
                      .first())
            same = None
            for k in keys:
                cond = F.col(k) == F.lit(second[k])
                same = cond if same is None else same & cond
            first = load.filter(same).orderBy("f", "r").first()
            column = cols.index(keys[0]) + 1
            raise InputError("duplicate_key", f"dms csv: duplicate key {key_text(spec, [second[k] for k in keys])} in "
                             f"the full load in {meta[second['f']][0]} line {second['line']} column {column} (first "
                             f"seen in {meta[first['f']][0]} line {first['line']}; expected each key once across all "
                             "LOAD files)")
        base = load.select(*cols)
    else:
        current = log["current"]
        paths = current["outputs"]["users"]
        if not paths:  # several files are one table (a large version cut at publish.targetFileMiB)
            raise StateError("corrupt_state", f"commit: version {current['version']} lists no users file")
        # The published types read back as the job's own (an explicit schema: Spark has no TIME type, and reads
        # time and timestamps as their INT64 micros this way); dates as DATE, then day numbers.
        read_schema = T.StructType([T.StructField(c["name"], spark_type(c, dates_as_days=False), True)
                                    for c in spec["columns"]])
        prev = spark.read.schema(read_schema).parquet(*[ctx.target.url(p) for p in paths])
        base = prev.select(*[F.expr(f"unix_date(`{c}`)").alias(c) if c in date_cols else F.col(c) for c in cols])

    counts_by_file: dict[int, dict] = {i: {k: 0 for k in COUNT_KEYS} for i in change_idx}
    persisted = []
    # Ordered by a column (applyInSequence): the column's value, then file and row. A rebuild starts a new lineage,
    # whose sequence starts over; otherwise no change may be older than the newest one already applied.
    by_column = ctx.order != "file"
    last_sequence = None
    if by_column and not plan["rebuild"]:
        last_sequence = next((r["lastSequence"] for r in reversed(lineage(log)) if "lastSequence" in r), None)
    if change_idx:
        changes = parsed.filter(F.col("f").isin(change_idx))
        order = ["f", "r"]
        if by_column:
            digits = F.col("_seq").rlike("^[0-9]+$")
            stripped = F.regexp_replace(F.col("_seq"), "^0+", "")
            # compareSequence as a sort key: digit strings by (length, digits) without leading zeros, others as
            # text (a column mixing digit strings and other text has no consistent order in either engine).
            changes = (changes.withColumn("_sd", F.when(digits, 0).otherwise(1))
                       .withColumn("_sl", F.when(digits, F.length(stripped)).otherwise(0))
                       .withColumn("_ss", F.when(digits, stripped).otherwise(F.col("_seq"))))
            if last_sequence is not None:
                older = _older_than(F, last_sequence)
                late = changes.filter(older).orderBy("f", "r").select("f", "line", "_seq").first()
                if late is not None:
                    raise InputError("late_file", f"dms files: the change in {meta[late['f']][0]} line {late['line']} "
                                     f"has {ctx.order} {late['_seq']}, older than {last_sequence} already applied; "
                                     "applying it would overwrite newer data (run lakesync reload to rebuild in "
                                     "order)")
            newest = changes.orderBy(F.col("_sd").desc(), F.col("_sl").desc(), F.col("_ss").desc(), "f", "r") \
                .select("_seq").first()
            if newest is not None and (last_sequence is None or compare_sequence(newest["_seq"], last_sequence) > 0):
                last_sequence = newest["_seq"]
            order = ["_sd", "_sl", "_ss", "f", "r"]
        w = Window.partitionBy(*keys).orderBy(*order)
        ch = changes.withColumn("_prev", F.lag("op").over(w)).withColumn("_next", F.lead("op").over(w))
        base_keys = base.select(*keys).withColumn("_in_base", F.lit(True))
        ch = ch.join(base_keys, on=keys, how="left")
        present = F.when(F.col("_prev").isNull(), F.coalesce(F.col("_in_base"), F.lit(False))).otherwise(
            F.col("_prev") != "D")
        if nosup_text(fmt) is not None and any(f.format == "csv" for f in (files[i] for i in change_idx)):
            ch = ch.persist(StorageLevel.MEMORY_AND_DISK)
            persisted.append(ch)
            refuse_kept_of_missing(F, ch, present, order, [m[0] for m in meta], spec)
            ch = keep_previous(F, Window, ch, base, keys, spec, order)
        what = (F.when(F.col("op") == "I", F.when(present, "replaces").otherwise("inserts"))
                .when(F.col("op") == "U", F.when(present, "updates").otherwise("upsertsOfMissing"))
                .otherwise(F.when(present, "deletes").otherwise("deletesOfMissing")))
        ch = ch.persist(StorageLevel.MEMORY_AND_DISK)
        persisted.append(ch)
        for row in ch.groupBy("f", what.alias("what")).count().collect():
            counts_by_file[row["f"]][row["what"]] = row["count"]
        last = ch.filter(F.col("_next").isNull())
        kept = base.join(last.select(*keys), on=keys, how="left_anti")
        users = kept.unionByName(last.filter(F.col("op") != "D").select(*cols))
    else:
        users = base
    users = users.persist(StorageLevel.MEMORY_AND_DISK)
    t2 = time.perf_counter()

    users_out = users.repartition(1).sortWithinPartitions(*[F.col(k).asc() for k in keys])
    features_out = None
    cleanup = [parsed, users] + ([every] if files else []) + persisted
    summary = None
    if "features" in spec:
        features_out, summary, fe = _features(spark, ctx, users)
        cleanup.append(fe)
    t3 = time.perf_counter()

    file_records = []
    for i, f in enumerate(files):
        o = objects.get(f.path)
        rec = {"path": f.path, "kind": f.kind, "size": file_meta[i][0], "sha256": file_meta[i][1]}
        if o is not None and o.etag is not None:
            rec["etag"] = o.etag
        if o is not None and o.mtime_ms is not None:
            rec["mtimeMs"] = o.mtime_ms
        rec["rows"] = file_rows[i]
        if f.kind == "change":
            rec["counts"] = counts_by_file[i]
        file_records.append(rec)
    return {"users": users_out, "features": features_out, "files": file_records, "summary": summary,
            "lastSequence": last_sequence,
            "timings": {"read": (t1 - t0) * 1000, "apply": (t2 - t1) * 1000, "features": (t3 - t2) * 1000},
            "cleanup": cleanup}


def _features(spark, ctx: Context, users):
    """The per-city features of the merged table (dates as day numbers), in the features table's row order, and
    their summary (etl/city-features.ts)."""
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    roles = ctx.spec["features"]
    uid, name, city_col, login = roles["id"], roles["name"], roles["city"], roles["lastLogin"]
    city = F.col(city_col)
    if ctx.city_aliases:
        amap = F.create_map(*[F.lit(x) for kv in ctx.city_aliases.items() for x in kv])
        city = F.coalesce(amap[F.col(city_col)], F.col(city_col))
    states = spark.createDataFrame(list(ctx.city_to_state.items()) or [("", "")],
                                   "_city string, state string")
    if not ctx.city_to_state:
        states = states.limit(0)
    wc = Window.partitionBy(city_col)
    fe = (users.select(uid, name, city.alias(city_col), login)
          .join(F.broadcast(states), F.col(city_col) == F.col("_city"), "left").drop("_city")
          .withColumn("last_login_rank_by_city",
                      F.dense_rank().over(Window.partitionBy(city_col).orderBy(F.col(login).desc_nulls_last())))
          .withColumn("_k", F.sum(F.when(F.col(login).isNotNull()
                                         & (F.lit(ctx.as_of) - F.col(login) <= 90), 1).otherwise(0)).over(wc))
          .withColumn("users_by_city", F.count(F.lit(1)).over(wc).cast("int"))
          .withColumn("login_rate_last_3_months_by_city",
                      F.col("_k").cast("double") / F.col("users_by_city").cast("double")))
    fe = fe.persist(StorageLevel.MEMORY_AND_DISK)
    groups = fe.groupBy(city_col).agg(F.count(F.lit(1)).alias("n"), F.first("state").alias("state")).collect()
    without = [g for g in groups if g["state"] is None]
    summary = {"rows": sum(g["n"] for g in groups), "cities": len(groups),
               "rowsWithoutState": sum(g["n"] for g in without),
               "citiesWithoutState": sorted((g[city_col] for g in without), key=_utf8_key)}
    fc = [c["name"] for c in features_columns(ctx.spec)]
    out = (fe.repartition(1)
           .sortWithinPartitions(F.col(city_col).asc_nulls_last(), F.col("last_login_rank_by_city").desc(),
                                 F.col(uid).asc())
           .select(*fc))
    return out, summary, fe


def _older_than(F, last: str):
    """compareSequence(_seq, last) < 0 as a Spark condition."""
    import re

    seq = F.col("_seq")
    text_older = seq < F.lit(last)
    if not re.match(r"^[0-9]+$", last):
        return text_older
    y = last.lstrip("0")
    x = F.regexp_replace(seq, "^0+", "")
    numeric_older = (F.length(x) < len(y)) | ((F.length(x) == len(y)) & (x < F.lit(y)))
    return F.when(seq.rlike("^[0-9]+$") & (F.length(seq) != len(last)), numeric_older).otherwise(text_older)


def _typed(df, columns: list[dict], keys: list[str]):
    """Day numbers back to DATE; the key columns REQUIRED and every other column OPTIONAL, as the TypeScript writer
    declares them (Spark writes a column REQUIRED exactly when it knows it is never NULL)."""
    from pyspark.sql import functions as F

    out = []
    for c in columns:
        name = c["name"]
        e = F.col(name)
        if name in keys:
            # Never NULL (the readers reject NULL keys): coalesce with a constant marks the column non-nullable.
            e = F.coalesce(e, F.lit(False if c["type"] == "boolean" else "" if c["type"] == "string" else 0)
                           .cast(df.schema[name].dataType))
        elif not df.schema[name].nullable:
            # Computed columns (rank, counts) are never NULL, but the TypeScript writer declares every column but
            # the key OPTIONAL; nullif with a value they never take makes Spark declare them nullable too.
            sentinel = "CAST('NaN' AS DOUBLE)" if df.schema[name].dataType.typeName() == "double" else "-2147483648"
            e = F.expr(f"nullif(`{name}`, {sentinel})")
        if c["type"] == "date":
            e = F.date_from_unix_date(e)
        out.append(e.alias(name))
    return df.select(*out)


def _write_one(ctx: Context, df, columns: list[dict], keys: list[str], stage_url: str, path: str) -> int:
    """Writes one table as one Parquet file at `path`: Spark writes the data, then the footer gets the logical types
    and field ids of etl/parquet/schema.ts (parquet_footer.py). Returns the number of rows (from the footer)."""
    _typed(df, columns, keys).write.mode("overwrite").parquet(stage_url)
    parts = ctx.target.staged_parts(stage_url)
    if len(parts) != 1:
        raise StateError("write_failed", f"spark: expected one Parquet part in {stage_url}, found {len(parts)}")
    written = {}

    def patch(footer: bytes) -> bytes:
        out, written["rows"] = patch_footer(footer, columns, keys)
        return out

    ctx.target.move_in_patched(parts[0], path, patch)
    return written["rows"]


def _abandon(target, entry: dict, reason: str, now: datetime) -> bool:
    r = entry["record"]
    rec = {"state": "abandoned", "version": r["version"], "table": r["table"], "runId": r["runId"],
           "abandonedAt": _iso(now), "reason": reason}
    return target.replace_if_match(commit_path(r["table"], r["version"]), encode(rec), entry["etag"]) is not None


def _publish_catalog(ctx: Context, record: dict) -> None:
    """Points the catalog at record's version unless it already does (etl/pipeline.ts publishCatalog)."""
    if ctx.glue_database is None:
        return
    from .catalog import publish

    publish(ctx.glue_database, ctx.target.root, ctx.spec, record)


def run(spark, ctx: Context) -> dict:
    """runPipeline: returns {committed, version, records, message}."""
    source, target, spec = ctx.source, ctx.target, ctx.spec
    table = spec["name"]
    as_of_text = format_date(ctx.as_of)
    run_id = str(uuid.uuid4())
    records: list[dict] = []
    reload = ctx.reload

    def result(message: str, version: int) -> dict:
        return {"committed": bool(records), "version": version, "records": records, "message": message}

    attempt = 0
    while True:
        if attempt > ctx.max_commits * 4:
            raise StateError("commit_conflict", f"commit: {table} kept changing under this run; run again")
        t0 = time.perf_counter()
        log = read_commit_log(target, table)
        # A catalog switch that failed after an earlier commit is repaired here, before anything else.
        if log["current"] is not None:
            _publish_catalog(ctx, log["current"])
        head = log["head"]
        if head is not None and head["record"]["state"] == "pending":
            hr = head["record"]
            expires = datetime.fromisoformat(hr["expiresAt"].replace("Z", "+00:00"))
            if ctx.now() < expires:
                by = f"version {hr['version']} is being written by run {hr['runId']} (claimed {hr['claimedAt']})"
                return result(f"committed version {records[-1]['version']}; {by}, which will apply what arrived since"
                              if records else f"{by}: it applies every file it finds, so nothing is left for this run",
                              log["current"]["version"] if log["current"] else 0)
            _abandon(target, head, f"claim expired at {hr['expiresAt']}", ctx.now())
            ctx.warn(f"abandoned the expired claim of version {hr['version']} by run {hr['runId']}")
            attempt += 1
            continue
        listed = source.list()
        objects = {o.path: o for o in listed}
        clock = NameClock(ctx.fmt["datePartitionTimezone"], lambda p: objects[p].mtime_ms, source.name)
        loads, changes, ignored = list_dms_files([o.path for o in listed], clock)
        if attempt == 0:
            for p in ignored:
                ctx.warn(f"ignoring {p}: not a DMS .csv, .csv.gz or .parquet file")
        plan = plan_run(loads, changes, objects, log, source, reload, ctx.staging_expiry_days,
                        ctx.now().timestamp() * 1000, file_order=ctx.order == "file",
                        time_zone=ctx.fmt["datePartitionTimezone"])
        for f in plan["recheck"]:
            known = plan["applied"].get(f.path) or plan["skipped"][f.path]
            if sha256(source.read(f.path)) != known["sha256"]:
                what = "applied" if f.path in plan["applied"] else "set aside"
                raise InputError("changed_file", f"dms files: {source.name(f.path)} changed after it was {what} (same "
                                 "size, different content); run lakesync reload to rebuild the table from the files "
                                 "now in the source")
        current = log["current"]
        # A new as_of only matters to a table with features (the daily refresh); a mirror is up to date (as pipeline.ts).
        if plan["nothingNew"] and current is not None and (current["asOf"] == as_of_text or "features" not in ctx.spec):
            if records:
                n = sum(len(r["files"]) for r in records)
                msg = (f"committed version {current['version']} ({commit_path(table, current['version'])}): {n} "
                       f"file(s), {current['rows']['users']} rows")
            else:
                msg = (f"up to date: version {current['version']} already has every file in {source.root} and as_of "
                       f"{as_of_text}")
            return result(msg, current["version"])
        if len(records) >= ctx.max_commits:
            return result(f"committed {len(records)} versions; more files are waiting for the next run",
                          current["version"] if current else 0)

        built = build(spark, ctx, plan, log, objects)
        version = (head["record"]["version"] if head else 0) + 1
        claimed_at = ctx.now()
        claim = {"state": "pending", "version": version, "table": table, "runId": run_id,
                 "claimedAt": _iso(claimed_at), "expiresAt": _iso(claimed_at + timedelta(milliseconds=CLAIM_TTL_MS))}
        claim_etag = target.create_exclusive(commit_path(table, version), encode(claim))
        if claim_etag is None:
            attempt += 1
            continue
        lease = Lease(target, claim, claim_etag, CLAIM_TTL_MS, ctx.now, ctx.warn)
        vn = version_name(version)
        stage = target.url(f"_lakesync/{table}/spark-staging/{run_id}-{vn}")
        try:
            t3 = time.perf_counter()
            outputs = {"users": [version_file(table, version)]}
            if built["features"] is not None:
                outputs["users_features"] = [version_file(features_table_name(table), version)]
            rows = {}
            try:
                rows["users"] = _write_one(ctx, built["users"], spec["columns"], spec["primaryKey"],
                                           f"{stage}/users", outputs["users"][0])
                if built["features"] is not None:
                    rows["users_features"] = _write_one(ctx, built["features"], features_columns(spec),
                                                        [spec["features"]["id"]], f"{stage}/features",
                                                        outputs["users_features"][0])
            finally:
                target.remove_tree(stage)
            t4 = time.perf_counter()
            totals = {k: 0 for k in COUNT_KEYS}
            for f in built["files"]:
                for k, v in f.get("counts", {}).items():
                    totals[k] += v
            tm = built["timings"]
            record = {
                "state": "committed", "version": version, "table": table, "runId": run_id, "asOf": as_of_text,
                "committedAt": _iso(ctx.now()), "engine": {"name": ENGINE_NAME, "version": ENGINE_VERSION},
                "source": source.root, "files": built["files"], "fullLoad": plan["rebuild"], "reload": reload,
                "counts": totals, "rows": rows, "outputs": outputs,
                **({"features": built["summary"]} if built["summary"] is not None else {}),
                **({"lastSequence": built["lastSequence"]} if built["lastSequence"] is not None else {}),
                "timingsMs": {"read": round(tm["read"]), "apply": round(tm["apply"]),
                              "features": round(tm["features"]), "write": round((t4 - t3) * 1000),
                              "total": round((time.perf_counter() - t0) * 1000)},
            }
        except BaseException as e:
            try:
                etag = lease.release()
                if etag is not None:
                    _abandon(target, {"record": claim, "etag": etag}, f"run failed: {e}", ctx.now())
            except Exception:  # noqa: BLE001 - best effort: the claim expires otherwise
                pass
            raise
        finally:
            for df in built["cleanup"]:
                df.unpersist()
        # The swap is on the last renewal's ETag: it fails if another run abandoned the claim (a lost lease).
        lease_etag = lease.release()
        if lease_etag is None or target.replace_if_match(commit_path(table, version), encode(record),
                                                         lease_etag) is None:
            ctx.warn(f"the claim of version {version} was abandoned by another run before this run committed "
                     "(its lease lapsed); retrying")
            attempt += 1
            continue
        records.append(record)
        reload = False
        _publish_catalog(ctx, record)
        attempt += 1


def catalog_database(config_file: str | None, glue_database: str | None) -> str | None:
    """The Glue database this job switches: only a Hive-style table's (`"publish": {"tableFormat": "hive"}`). An
    Iceberg table's catalog entry follows its metadata, which lakesync's TypeScript code publishes after this job
    (etl/pipeline.ts publishCommitted): this job never writes a Hive definition over an Iceberg table."""
    raw: dict = {}
    if config_file is not None:
        with open(config_file, encoding="utf-8") as fh:
            raw = json.load(fh)
    table_format = (raw.get("publish") or {}).get("tableFormat", "iceberg")
    if table_format not in ("iceberg", "hive"):
        raise LakesyncError("bad_config", f'config: publish.tableFormat must be "iceberg" or "hive", got {table_format!r}')
    return glue_database if table_format == "hive" else None


def load_config(config_file: str | None, cities_flag: str | None, data_dir: str):
    """The CLI's --config (format, table, cityAliases, cities) over the bundled data (etl/config/run-config.ts)."""
    raw: dict = {}
    if config_file is not None:
        with open(config_file, encoding="utf-8") as fh:
            raw = json.load(fh)
    fmt = dict(DEFAULT_FORMAT, **raw.get("format", {}))
    if fmt.get("preserveTransactions", False) is not False or fmt.get("cdcPath") is not None:
        raise LakesyncError("bad_config", "config: format.preserveTransactions/cdcPath (CDC_TXN-<timestamp>.csv "
                            "transaction files) is not read by the Spark engine; run the table with the lakesync "
                            "engine (the merge Lambda keeps such tables), or leave PreserveTransactions false on the "
                            "S3 endpoint so that each table's changes go to its own folder")
    spec = parse_table_spec(raw["table"]) if "table" in raw else USERS_SPEC
    if "cityAliases" in raw:
        aliases = raw["cityAliases"]
    else:
        with open(os.path.join(data_dir, "city_aliases.json"), encoding="utf-8") as fh:
            aliases = json.load(fh)
    cities = os.path.join(data_dir, "city_to_state.csv")
    if isinstance(raw.get("cities"), str):
        cities = os.path.join(os.path.dirname(config_file or "."), raw["cities"])
    if cities_flag is not None:
        cities = cities_flag
    with open(cities, "rb") as fh:
        city_map = parse_city_map(fh.read(), cities)
    return spec, fmt, aliases, city_map
