/**
 * Which Op values a DMS file may hold: I only in a full load; with CdcInsertsOnly, I; with CdcInsertsAndUpdates, I
 * or U; otherwise I, U or D [S3T "Indicating source DB operations in migrated S3 data"]. A bit per Op code.
 */
import type { DmsFormat } from '../types.js'
import { OP_DELETE, OP_INSERT, OP_UPDATE } from '../types.js'

const I = 1 << OP_INSERT
const IU = I | (1 << OP_UPDATE)
const IUD = IU | (1 << OP_DELETE)

/** The Op codes a file of this kind may hold, as a bit mask (bit `op` set when allowed). */
export function allowedOps(format: DmsFormat, loadOnly: boolean): number {
  return loadOnly || format.cdcInsertsOnly ? I : format.cdcInsertsAndUpdates ? IU : IUD
}

/** What the unknown-Op error says was expected. */
export function expectedOps(mask: number, loadOnly: boolean): string {
  if (loadOnly) return 'I in a full-load file'
  return mask === I
    ? 'I: format.cdcInsertsOnly'
    : mask === IU
      ? 'I or U: format.cdcInsertsAndUpdates'
      : 'I, U or D'
}
