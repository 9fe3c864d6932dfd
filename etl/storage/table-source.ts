/**
 * The source of one table of a DMS root: its folder `<schema>/<table>/`, plus the root's CdcPath folder when DMS
 * preserves transactions. The one place the CLI commands, the many-tables run and the Lambda get it from.
 */
import type { DmsFormat } from '../types.js'
import { PrefixedStorage } from './prefixed.js'
import type { Storage, StoredObject } from './storage.js'
import { TransactionSource } from './transaction-source.js'

/** `listed`: the root's listing (paths relative to the root) handed over, so that the first list asks nothing. */
export function tableSource(
  root: Storage,
  folder: string,
  format: Pick<DmsFormat, 'preserveTransactions' | 'cdcPath'>,
  listed: StoredObject[] | null = null,
): Storage {
  if (format.preserveTransactions && format.cdcPath !== null)
    return new TransactionSource(root, folder, format.cdcPath, listed)
  return new PrefixedStorage(root, folder, listed?.filter((o) => o.path.startsWith(`${folder}/`)) ?? null)
}
