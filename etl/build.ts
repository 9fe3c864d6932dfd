/**
 * What a version publishes, built from its merged users table before the version is claimed (so that the claimed
 * section only writes): the features table, and the bytes of both Parquet files and of the snapshot. On one thread,
 * or on two for tables of parallelMinRows() rows and more (etl/threads/policy.ts).
 */
import { type CityFeatureOptions, type CityFeatures, cityFeatures } from './city-features.js'
import { encodeSnapshot } from './commit/snapshot.js'
import { writeParquet } from './parquet/writer.js'
import { encodeParquetParallel } from './threads/parquet-parallel.js'
import { parallelMinRows } from './threads/policy.js'
import { encodeParquetAsync, workerCount } from './threads/worker-pool.js'
import type { Table } from './types.js'

/** The bytes of a version's files. */
export interface EncodedOutputs {
  users: Uint8Array
  features: Uint8Array
  snapshot: Uint8Array
}

export interface VersionOutputs {
  features: CityFeatures
  encoded: EncodedOutputs
  timings: { features: number; encode: number } // ms: computing the features, then encoding what was left
}

/** `onFeatures` is called as the features step starts (the CLI's progress line). */
export async function versionOutputs(
  users: Table,
  options: CityFeatureOptions,
  onFeatures: () => void = () => {},
): Promise<VersionOutputs> {
  const t0 = performance.now()
  let features: CityFeatures
  let encoded: EncodedOutputs
  let t1: number
  if (workerCount() > 0 && users.length >= parallelMinRows()) {
    // Both threads: the worker encodes the users table (a copy of its arrays) while this thread computes the
    // features, then they share the features' columns; this thread encodes the snapshot while the worker finishes.
    const usersParquet = encodeParquetAsync(users)
    usersParquet.catch(() => {}) // awaited below; this only keeps an early failure from going unhandled meanwhile
    onFeatures()
    features = cityFeatures(users, options)
    t1 = performance.now()
    const featuresParquet = encodeParquetParallel(features.table)
    featuresParquet.catch(() => {}) // awaited below
    const snapshot = encodeSnapshot(users)
    encoded = { users: await usersParquet, features: await featuresParquet, snapshot }
  } else {
    onFeatures()
    features = cityFeatures(users, options)
    t1 = performance.now()
    encoded = {
      users: writeParquet(users),
      features: writeParquet(features.table),
      snapshot: encodeSnapshot(users),
    }
  }
  return { features, encoded, timings: { features: t1 - t0, encode: performance.now() - t1 } }
}
