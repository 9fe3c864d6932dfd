"""DMS CsvNoSupValue (UseCsvNoSupValue=true): a column missing from the source's supplemental log, as the TypeScript
engine reads it (etl/dms/csv.ts and keepValues/refuseKeptOfMissing in etl/apply-changes.ts).

In a change file, an unquoted field equal to the NOSUP text: on a U row the column keeps its previous value (the row
the key had just before this change, from an earlier file, the same one or the committed table); in a D row's
non-key columns it is ignored; in a key column or an I row it stops the reader, and on a U of a key the table does not
hold it stops the apply. The reader marks a row's kept columns (`_kept`: column indexes, ascending; `_kf`: the file's
field of the first); the plan fills them from the key's previous row with a window.
"""

from __future__ import annotations

from .errors import InputError
from .values import quote_value


def reader_error(value: str, column: str, is_key: bool) -> str:
    """The reader's message for the NOSUP text where no previous value can be kept (the caller adds the place)."""
    where = "key column" if is_key else "an I row, column"
    return (f"CsvNoSupValue {quote_value(value)} in {where} {column} (expected a value: only a U row's non-key "
            "columns can keep their previous value)")


def refuse_kept_of_missing(F, ch, present, order: list[str], files: list[str], spec: dict) -> None:
    """refuseKeptOfMissing: the first U row, in apply order, keeping a column of a key the table does not hold."""
    bad = (ch.filter((F.col("op") == "U") & F.col("_kept").isNotNull() & ~present).orderBy(*order)
           .select("f", "line", "_kept", "_kf").first())
    if bad is None:
        return
    column = spec["columns"][bad["_kept"][0]]["name"]
    raise InputError("nosup_value", f"dms csv: CsvNoSupValue in column {column} of a U row whose key is not in the "
                     f"table in {files[bad['f']]} line {bad['line']} column {bad['_kf']} (expected a value: there is "
                     "no previous value to keep)")


def keep_previous(F, Window, ch, base, keys: list[str], spec: dict, order: list[str]):
    """The change rows with each kept column holding the key's previous value: that of the latest earlier change row
    of the key that did not keep it, else the committed table's (a run of kept U rows on a present key reaches one)."""
    kept = sorted(r["c"] for r in ch.select(F.explode("_kept").alias("c")).distinct().collect())
    if not kept:
        return ch
    names = [spec["columns"][c]["name"] for c in kept]
    was = base.select(*keys, *[F.col(n).alias(f"_was_{n}") for n in names])
    out = ch.join(was, on=keys, how="left")
    upto = Window.partitionBy(*keys).orderBy(*order).rowsBetween(Window.unboundedPreceding, Window.currentRow)
    for c, n in zip(kept, names):
        keeps = F.coalesce(F.array_contains(F.col("_kept"), c), F.lit(False))
        # A struct is never NULL, so a NULL value written by a row still counts as that row's value.
        own = F.last(F.when(~keeps, F.struct(F.col(n).alias("v"))), ignorenulls=True).over(upto)
        out = out.withColumn(n, F.when(keeps, F.when(own.isNull(), F.col(f"_was_{n}")).otherwise(own["v"]))
                             .otherwise(F.col(n)))
    return out.drop(*[f"_was_{n}" for n in names])
