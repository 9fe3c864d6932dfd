/** What every command shares: the streams, flag access, storage from a location, the as_of date. */

import { parseDateString, todayUtc } from '../etl/dms/values.js'
import { ConfigError } from '../etl/errors.js'
import { LocalStorage } from '../etl/storage/local.js'
import type { Storage } from '../etl/storage/storage.js'
import { DeferredS3Storage } from './deferred-storage.js'

export interface Io {
  out: NodeJS.WritableStream // results
  err: NodeJS.WritableStream // warnings, progress, errors
  errIsTty: boolean // show progress only on a terminal
  version: string // package version
}

export type Flags = Record<string, string | boolean | undefined>

/** A folder path or an s3:// URL (the AWS SDK is loaded on its first use). */
export function openStorage(location: string, flag: string): Storage {
  try {
    return location.startsWith('s3://') ? new DeferredS3Storage(location) : new LocalStorage(location)
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError('bad_usage', `${flag}: ${e.message}`)
    throw e
  }
}

export function required(flags: Flags, name: string): string {
  const v = flags[name]
  if (typeof v !== 'string' || v === '') throw new ConfigError('bad_usage', `--${name} is required`)
  return v
}

/** --as-of as days since epoch; today's UTC date by default. */
export function asOfFlag(flags: Flags): number {
  const v = flags['as-of']
  if (typeof v !== 'string') return todayUtc()
  const days = parseDateString(v)
  if (days === undefined)
    throw new ConfigError('bad_usage', `--as-of ${JSON.stringify(v)} is not a date (expected YYYY-MM-DD)`)
  return days
}
