/** `lakesync report`: one self-contained HTML page with the pipeline's health, recent commits and the features. */
import { mkdir, writeFile } from 'node:fs/promises'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { loadRunConfig, pickTable } from '../../etl/config/run-config.js'
import { readReportData } from '../../etl/report/data.js'
import { type IndexEntry, indexHtml, reportHtml } from '../../etl/report/html.js'
import { tableSource as tableSourceOf } from '../../etl/storage/table-source.js'
import { type Flags, type Io, openStorage, required } from '../common.js'
import { printJson, wantsJson } from '../json-output.js'

export async function reportCommand(flags: Flags, io: Io): Promise<number> {
  const target = openStorage(required(flags, 'target'), '--target')
  const out = required(flags, 'out')
  const sourceFlag = flags.source as string | undefined
  const source = sourceFlag ? openStorage(sourceFlag, '--source') : undefined
  const config = await loadRunConfig(flags.config as string | undefined)
  if (config.tables.length > 1 && typeof flags.table !== 'string') {
    // Every table: an index page at --out and one page per table beside it.
    const entries: IndexEntry[] = []
    for (const t of config.tables) {
      const tableSource =
        source && t.folder !== null ? tableSourceOf(source, t.folder, config.format) : source
      const data = await readReportData(target, t.spec, {
        ...(tableSource ? { source: { storage: tableSource, format: config.format } } : {}),
      })
      const file = `${basename(out, extname(out))}-${t.spec.name}${extname(out) || '.html'}`
      await mkdir(dirname(resolve(out)), { recursive: true })
      await writeFile(join(dirname(resolve(out)), file), reportHtml(data))
      entries.push({ table: t.spec.name, file, health: data.health })
    }
    await writeFile(out, indexHtml(entries, new Date()))
    if (wantsJson(flags))
      printJson(io, {
        out,
        tables: entries.map((e) => ({ table: e.table, file: join(dirname(out), e.file), health: e.health })),
      })
    else
      io.out.write(
        `wrote ${out}: ${entries.length} tables (${entries.map((e) => `${e.table} ${e.health.level}`).join(', ')})\n`,
      )
    return 0
  }
  const { table } = pickTable(config, flags.table as string | undefined)
  const tableSource =
    source && table.folder !== null ? tableSourceOf(source, table.folder, config.format) : source
  const data = await readReportData(target, table.spec, {
    ...(tableSource ? { source: { storage: tableSource, format: config.format } } : {}),
  })
  await mkdir(dirname(resolve(out)), { recursive: true })
  await writeFile(out, reportHtml(data))
  const h = data.health
  if (wantsJson(flags)) {
    printJson(io, { out, tables: [{ table: table.spec.name, file: out, health: h }] })
    return 0
  }
  io.out.write(
    `wrote ${out}: ${h.level}; version ${h.currentVersion ?? 'none'}${h.asOf ? ` as_of ${h.asOf}` : ''}, ${data.features ? `${data.features.rows} users` : `table ${table.spec.name}`}\n`,
  )
  return 0
}
