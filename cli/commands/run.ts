/** `lakesync run` and `lakesync reload`: apply pending DMS files (or rebuild from all of them) and publish. */

import { loadRunConfig, runOptionsFor } from '../../etl/config/run-config.js'
import { ConfigError } from '../../etl/errors.js'
import { runPipeline } from '../../etl/pipeline.js'
import { asOfFlag, type Flags, type Io, openStorage, required } from '../common.js'
import { sparkRun } from './spark.js'

export async function runCommand(flags: Flags, io: Io, reload = false): Promise<number> {
  const engine = flags.engine ?? 'lakesync'
  if (engine === 'spark') return sparkRun(flags, io, reload)
  if (engine !== 'lakesync')
    throw new ConfigError('bad_usage', `--engine ${JSON.stringify(engine)}: expected lakesync or spark`)
  const source = openStorage(required(flags, 'source'), '--source')
  const target = openStorage(required(flags, 'target'), '--target')
  const asOf = asOfFlag(flags)
  const config = await loadRunConfig(flags.config as string | undefined, flags.cities as string | undefined)
  // The Glue client (and the AWS SDK) is loaded only when a catalog is asked for: local runs never need it.
  const database = flags['glue-database']
  const catalog =
    typeof database === 'string'
      ? (await import('../../etl/catalog/glue.js')).openGlueCatalog(database)
      : undefined
  const started = performance.now()
  const result = await runPipeline(
    runOptionsFor(config, {
      source,
      target,
      asOf,
      engineVersion: io.version,
      reload,
      ...(catalog ? { catalog } : {}),
      onWarning: (m) => io.err.write(`lakesync: warning: ${m}\n`),
      onPhase: io.errIsTty ? (phase) => io.err.write(`\r${phase}...\x1b[K`) : undefined,
      onProgress: io.errIsTty
        ? (rows, file) => {
            const s = (performance.now() - started) / 1000
            io.err.write(`\rread ${rows} rows (${Math.round(rows / Math.max(s, 1e-3))} rows/s) ${file}\x1b[K`)
          }
        : undefined,
    }),
  )
  if (io.errIsTty) io.err.write('\r\x1b[K')
  io.out.write(`${result.message}\n`)
  for (const rec of result.records) {
    const c = rec.counts
    io.out.write(
      `  v${rec.version} as_of ${rec.asOf}: ${rec.files.length} file(s); inserts ${c.inserts}, replaces ${c.replaces}, updates ${c.updates}, upserts-of-missing ${c.upsertsOfMissing}, deletes ${c.deletes}, deletes-of-missing ${c.deletesOfMissing}\n`,
    )
  }
  const f = result.record?.features
  if (f && f.rowsWithoutState > 0) {
    const n = f.citiesWithoutState.length
    const shown = f.citiesWithoutState
      .slice(0, 10)
      .map((c) => (c === null ? 'NULL' : JSON.stringify(c)))
      .join(', ')
    io.out.write(
      `  ${f.rowsWithoutState} row(s) in ${n} cit${n === 1 ? 'y' : 'ies'} without a state: ${shown}${n > 10 ? ', ...' : ''}\n`,
    )
  }
  return 0
}
