/** Reads one DMS file from storage: CSV (gunzipped when named .gz) or Parquet, parsed with the layout of its kind. */
import { gunzipSync } from 'node:zlib'
import { parallelCsvThreshold, parseDmsCsvParallel } from './csv-parallel.js'
import { parseDmsCsv } from './csv-reader.js'
import type { DmsFile } from './dms-files.js'
import { csvLayout } from './dms-layout.js'
import { parseDmsParquet } from './dms-parquet.js'
import { InputError } from './errors.js'
import { objectName, type Storage } from './storage.js'
import type { DmsFormat, ParsedFile, TableSpec } from './types.js'
import { workerCount } from './worker-pool.js'

export interface ReadFile {
  raw: Uint8Array // the stored bytes (compressed for .gz), which the commit record fingerprints
  parsed: ParsedFile
}

export async function readDmsFile(
  source: Storage,
  f: DmsFile,
  spec: TableSpec,
  format: DmsFormat,
): Promise<ReadFile> {
  const raw = await source.read(f.path)
  // Errors name the file as the operator finds it: the full S3 key or local path.
  const name = objectName(source, f.path)
  const layout = csvLayout(spec, format, f.kind)
  if (f.format === 'parquet') return { raw, parsed: await parseDmsParquet(raw, name, spec, layout) }
  let bytes = raw
  if (f.gzip)
    try {
      bytes = gunzipSync(raw)
    } catch (e) {
      throw new InputError(
        'truncated_gzip',
        `dms files: cannot gunzip ${name}: ${(e as Error).message} (expected a complete gzip file)`,
        { file: name },
        { cause: e },
      )
    }
  // Large files (a full load) are parsed on every core; the result and errors are the serial parser's. A full load's
  // repetitive string columns come back as dictionary columns, which the merge keeps (change files are small).
  const parsed =
    bytes.length >= parallelCsvThreshold() && workerCount() > 0
      ? await parseDmsCsvParallel(bytes, name, spec, layout, format)
      : parseDmsCsv(bytes, name, spec, layout, format, { dictionary: f.kind === 'load' })
  return { raw, parsed }
}
