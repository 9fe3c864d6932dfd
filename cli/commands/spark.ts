/**
 * `lakesync run --engine spark`: the Glue job's logic (glue/lakesync_spark) in Spark local mode, on folders. It
 * spawns `.venv/bin/python glue/run_local.py` (pyspark 3.5.6 from scripts/setup-spark.sh, Java 17) and relays its
 * output and exit code. S3 locations are for the Glue job itself: local Spark has no S3 filesystem jars.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../etl/config/run-config.js'
import { ConfigError } from '../../etl/errors.js'
import { type Flags, type Io, required } from '../common.js'

function missingRuntime(python: string): string | undefined {
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' })
  if (java.error !== undefined && !process.env.JAVA_HOME)
    return 'Java is not installed: Spark needs Java 17 (e.g. apt-get install openjdk-17-jre-headless)'
  if (!existsSync(python))
    return `no Python environment at ${python}: run \`bash scripts/setup-spark.sh\` to install pyspark 3.5.6`
  const py = spawnSync(python, ['-c', 'import pyspark'], { stdio: 'ignore' })
  if (py.status !== 0)
    return `pyspark is not installed in ${python}: run \`bash scripts/setup-spark.sh\` to install pyspark 3.5.6`
  return undefined
}

export async function sparkRun(flags: Flags, io: Io, reload: boolean): Promise<number> {
  const source = required(flags, 'source')
  const target = required(flags, 'target')
  for (const [flag, v] of [
    ['--source', source],
    ['--target', target],
  ] as const)
    if (v.startsWith('s3://'))
      throw new ConfigError(
        'bad_usage',
        `${flag} ${v}: --engine spark runs Spark in local mode on folders; S3 is for the Glue job (docs/scale-out.md)`,
      )
  if (typeof flags['glue-database'] === 'string')
    throw new ConfigError('bad_usage', '--glue-database is not supported with --engine spark')
  const root = packageRoot()
  const python = process.env.LAKESYNC_PYTHON ?? join(root, '.venv', 'bin', 'python')
  const missing = missingRuntime(python)
  if (missing !== undefined) throw new ConfigError('bad_config', `spark: ${missing}`)
  const args = [join(root, 'glue', 'run_local.py'), '--source', source, '--target', target]
  for (const name of ['as-of', 'cities', 'config'] as const) {
    const v = flags[name]
    if (typeof v === 'string') args.push(`--${name}`, v)
  }
  if (reload) args.push('--reload')
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (d: Buffer) => io.out.write(d))
    child.stderr.on('data', (d: Buffer) => {
      // Spark's JVM start-up chatter stays out of the way; our own lines (lakesync: ...) pass through.
      for (const line of d.toString().split('\n'))
        if (line.startsWith('lakesync:') || line.startsWith('run_local.py:') || line.startsWith('Traceback'))
          io.err.write(`${line}\n`)
    })
    child.on('error', reject)
    child.on('close', (code) => resolve(code === 0 ? 0 : 1))
  })
}
