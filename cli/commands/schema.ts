/** `lakesync schema`: print the config of PostgreSQL tables, read from the source's catalog. */
import { parseTablePatterns, readSchema } from '../../etl/capture/schema.js'
import { type Flags, type Io, required } from '../common.js'
import { EXIT } from '../exit-codes.js'

export async function schemaCommand(flags: Flags, io: Io): Promise<number> {
  const url = required(flags, 'pg')
  const patterns = parseTablePatterns(required(flags, 'tables'))
  const { tables, skipped, notes } = await readSchema(url, patterns)
  for (const n of notes) io.err.write(`lakesync schema: note: ${n}\n`)
  for (const s of skipped) io.err.write(`lakesync schema: left out ${s}\n`)
  io.out.write(`${JSON.stringify({ tables }, null, 2)}\n`)
  return skipped.length > 0 ? EXIT.input : EXIT.ok
}
