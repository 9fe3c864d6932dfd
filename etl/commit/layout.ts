/**
 * Where everything of a table lives in the target, in one place: the published tables' version folders, the
 * features table's name, the commit log and the snapshots. Every path starts with the table's own name, so tables
 * sharing a lake never share a file. The Spark job follows the same rule (glue/lakesync_spark/plan.py).
 */

export const VERSION_DIGITS = 20

export function versionName(version: number): string {
  return String(version).padStart(VERSION_DIGITS, '0')
}

/** The table a mirrored table's city features publish to: its own, so that no two tables share a folder. */
export function featuresTableName(table: string): string {
  return `${table}_features`
}

/** The prefix under which every version folder of a published table lies. */
export function versionsPrefix(table: string): string {
  return `${table}/v=`
}

/** The folder of a published table's version, relative to the target. */
export function versionDir(table: string, version: number): string {
  return `${versionsPrefix(table)}${versionName(version)}/`
}

/** The one Parquet file of a published table's version, relative to the target. */
export function versionFile(table: string, version: number, part = 0): string {
  return `${versionDir(table, version)}part-${String(part).padStart(5, '0')}.parquet`
}

/**
 * About how large a published Parquet file grows before a version's table is cut into the next (row groups stay
 * whole): Iceberg's and Spark's default target, so a key-range filter reads only some files of a large table.
 */
export const TARGET_FILE_BYTES = 128 * 1024 * 1024

/** The version of a path under a published table's folders (`<table>/v=<20 digits>/...`), or null. */
export function versionOfPath(path: string): number | null {
  const m = /^[^/]+\/v=(\d{20})\//.exec(path)
  return m ? Number(m[1]) : null
}

export function commitsPrefix(table: string): string {
  return `_lakesync/${table}/commits/`
}

export function commitPath(table: string, version: number): string {
  return `${commitsPrefix(table)}${versionName(version)}.json`
}

export function snapshotsPrefix(table: string): string {
  return `_lakesync/${table}/snapshots/`
}

export function snapshotPath(table: string, version: number): string {
  return `${snapshotsPrefix(table)}v=${versionName(version)}.lsnap`
}
