/**
 * One run over a DMS source root holding many tables (`<schema>/<table>/...`, as a DMS task writes them): the root is
 * listed once, each configured table with files under its folder runs (etl/pipeline.ts) with a bounded number at a
 * time, and a table that fails is reported without stopping the others. Each table's files, commit log and catalog
 * tables are its own (keyed by its published name), so nothing one table does touches another's.
 */
import type { SourceTable } from './config/run-config.js'
import { type RunOptions, type RunResult, runPipeline } from './pipeline.js'
import type { Storage, StoredObject } from './storage/storage.js'
import { tableSource } from './storage/table-source.js'

/** What a many-tables run takes: RunOptions but the source is the root and the spec comes from each table. */
export interface TablesRunOptions extends Omit<RunOptions, 'spec' | 'source'> {
  source: Storage // the DMS source root
  tables: SourceTable[] // the configured tables, each with its folder under the root
  only?: readonly string[] // published names to run (`--tables a,b`); default: all
  concurrency?: number // tables at once; default 2
}

export type TableOutcome =
  | { table: string; status: 'ran'; result: RunResult }
  | { table: string; status: 'failed'; error: unknown }
  | { table: string; status: 'no files' } // nothing under its folder: not touched

/** The outcome of every configured table (in config order; those `only` leaves out are absent). */
export async function runTables(opts: TablesRunOptions): Promise<TableOutcome[]> {
  const { source, tables, only, concurrency = 2 } = opts
  const chosen = only ? tables.filter((t) => only.includes(t.spec.name)) : tables
  const listed = await source.list()
  const under = new Map<string, StoredObject[]>()
  for (const t of chosen) under.set(t.spec.name, [])
  for (const o of listed) {
    const slash = o.path.indexOf('/', o.path.indexOf('/') + 1)
    const folder = slash < 0 ? '' : o.path.slice(0, slash)
    for (const t of chosen) if (t.folder === folder) under.get(t.spec.name)!.push(o)
  }
  // PreserveTransactions: the CDC_TXN files in <cdcPath>/ feed every table (etl/storage/transaction-source.ts).
  const { cdcPath } = opts.format
  const transactions =
    opts.format.preserveTransactions && cdcPath !== null
      ? listed.filter((o) => o.path.startsWith(`${cdcPath}/`))
      : []
  const outcomes: TableOutcome[] = new Array(chosen.length)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < chosen.length; i = next++) {
      const t = chosen[i]!
      const objects = under.get(t.spec.name)!
      if (objects.length === 0) {
        outcomes[i] = { table: t.spec.name, status: 'no files' }
        continue
      }
      try {
        const result = await runPipeline({
          ...opts,
          spec: t.spec,
          source:
            t.folder === null
              ? source
              : tableSource(source, t.folder, opts.format, [...objects, ...transactions]),
        })
        outcomes[i] = { table: t.spec.name, status: 'ran', result }
      } catch (error) {
        outcomes[i] = { table: t.spec.name, status: 'failed', error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, chosen.length)) }, worker))
  return outcomes
}
