/** Drives the local Spark job (glue/run_local.py) from the tests: every run of a file in one Spark session. */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO, tempDir } from './fixtures.js'

export const PYTHON = join(REPO, '.venv', 'bin', 'python')
export const RUN_LOCAL = join(REPO, 'glue', 'run_local.py')

export interface SparkRun {
  id: string
  source: string
  target: string
  asOf: string
  cities?: string
  config?: string
  glueDatabase?: string
}

export interface SparkResult {
  ok: boolean
  message?: string
  code?: string
  error?: string
  version?: number
  ms?: number // the run's wall time in the shared session
}

/** Runs the project's Python with `args` (environment inherited: useMoto()'s AWS variables reach boto3 and S3A). */
export function python(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: REPO, env: process.env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Runs every job in one Spark session (`run_local.py --batch`); results by id. */
export async function sparkBatch(runs: SparkRun[]): Promise<Map<string, SparkResult>> {
  const file = join(tempDir('lakesync-spark-batch-'), 'batch.json')
  writeFileSync(file, JSON.stringify(runs))
  const { code, stdout, stderr } = await python([RUN_LOCAL, '--batch', file, '--master', 'local[2]'])
  if (code !== 0) throw new Error(`run_local.py --batch exited ${code}:\n${stderr.slice(-4000)}`)
  const lines = stdout.trim().split('\n')
  if (lines.length !== runs.length) throw new Error(`expected ${runs.length} results, got:\n${stdout}`)
  return new Map(runs.map((r, i) => [r.id, JSON.parse(lines[i]!) as SparkResult]))
}
