"""The Glue Data Catalog switch after a commit (etl/catalog/glue.ts): each table's location follows the newest
committed version, with the version kept as the table parameter `lakesync_version`; a switch that failed earlier is
repaired by the next run. Used on Glue (boto3); local runs have no catalog."""

from __future__ import annotations

from .values import features_columns, hive_type


def _input(name: str, location: str, columns: list[dict], version: int) -> dict:
    return {
        "Name": name, "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE", "lakesync_version": str(version)},
        "StorageDescriptor": {
            "Location": location, "Columns": [{"Name": c["name"], "Type": hive_type(c)} for c in columns],
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
        },
    }


def _version(glue, database: str, name: str) -> str | None:
    try:
        return glue.get_table(DatabaseName=database, Name=name)["Table"].get("Parameters", {}).get("lakesync_version")
    except glue.exceptions.EntityNotFoundException:
        return None


def publish(database: str, target_root: str, spec: dict, record: dict, client=None) -> None:
    """Points the table (and its features table, when the version published one) at record's version; a catalog
    already there is left alone (each run checks it)."""
    from .plan import features_table_name, version_dir
    from .storage import aws_client

    glue = client or aws_client("glue")
    root = target_root.rstrip("/")
    tables = [(spec["name"], spec["columns"])]
    if "features" in spec and record.get("outputs", {}).get("users_features"):
        tables.append((features_table_name(spec["name"]), features_columns(spec)))
    if all(_version(glue, database, name) == str(record["version"]) for name, _ in tables):
        return
    try:
        glue.create_database(DatabaseInput={"Name": database})
    except glue.exceptions.AlreadyExistsException:
        pass
    for name, columns in tables:
        ti = _input(name, f"{root}/{version_dir(name, record['version'])}", columns, record["version"])
        try:
            cur = glue.get_table(DatabaseName=database, Name=name)["Table"]
            if cur.get("Parameters", {}).get("lakesync_version") == str(record["version"]):
                continue
            glue.update_table(DatabaseName=database, TableInput=ti, SkipArchive=True)
        except glue.exceptions.EntityNotFoundException:
            try:
                glue.create_table(DatabaseName=database, TableInput=ti)
            except glue.exceptions.AlreadyExistsException:
                glue.update_table(DatabaseName=database, TableInput=ti, SkipArchive=True)
