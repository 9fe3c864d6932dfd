/**
 * A moto server (a local fake of S3, SQS, Glue and friends) for the test suite (test/global-setup.ts) and
 * `npm run e2e` (scripts/e2e.ts): on a free port of 127.0.0.1 only, stopped with its whole process group.
 *
 * The server comes from the project's .venv (scripts/setup-test-env.sh, run by `npm test`); a moto_server on PATH
 * is used only when there is no .venv. Startup takes about a second.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { freePort } from './pg-cluster.js'

const ROOT = join(import.meta.dirname, '..')
const STARTUP_TIMEOUT_MS = 30_000

function motoExecutable(): string {
  const venv = join(ROOT, '.venv', 'bin', 'moto_server')
  if (existsSync(join(ROOT, '.venv'))) {
    if (!existsSync(venv)) throw new Error(`${venv} is missing: run scripts/setup-test-env.sh`)
    return venv
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'moto_server'))) return join(dir, 'moto_server')
  }
  throw new Error('moto_server not found (no .venv and none on PATH): run scripts/setup-test-env.sh')
}

/** Kills the server's whole process group (it was started detached, as the group leader). */
function kill(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {
    child.kill('SIGTERM')
  }
}

/** Starts moto on `port` and resolves once it answers, or rejects with its output when it exits or hangs. */
async function start(executable: string, port: number): Promise<ChildProcess> {
  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString()
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let exited = false
  child.on('exit', () => {
    exited = true
  })
  const spawnError = new Promise<never>((_, reject) => child.on('error', reject))
  spawnError.catch(() => {})

  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  for (;;) {
    try {
      const res = await Promise.race([fetch(`${url}/moto-api/`), spawnError])
      if (res.ok) break
    } catch (e) {
      if (!(e instanceof TypeError)) throw e // not a connection error: spawning failed
    }
    if (exited) throw new Error(`moto_server exited during startup:\n${output}`)
    if (Date.now() > deadline) {
      kill(child)
      throw new Error(`moto_server did not answer on ${url} within ${STARTUP_TIMEOUT_MS} ms:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  // Past startup its request log is noise; keep draining the pipes so a chatty server never blocks on them.
  child.stdout?.off('data', keep).resume()
  child.stderr?.off('data', keep).resume()
  return child
}

export interface MotoServer {
  endpoint: string // http://127.0.0.1:<port>
  stop: () => Promise<void>
}

/** Starts moto on a free port (a lost port race is retried) and stops it on process exit at the latest. */
export async function startMoto(): Promise<MotoServer> {
  const executable = motoExecutable()
  let child: ChildProcess | undefined
  let port = 0
  for (let attempt = 1; child === undefined; attempt++) {
    port = await freePort()
    try {
      child = await start(executable, port)
    } catch (e) {
      if (attempt >= 3) throw e
    }
  }
  const running = child
  const onExit = () => kill(running)
  process.on('exit', onExit)

  const stop = async () => {
    process.off('exit', onExit)
    if (running.exitCode !== null || running.signalCode !== null) return
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
    kill(running)
    const timer = setTimeout(() => {
      try {
        if (running.pid !== undefined) process.kill(-running.pid, 'SIGKILL')
      } catch {}
    }, 5_000)
    await exited
    clearTimeout(timer)
  }
  return { endpoint: `http://127.0.0.1:${port}`, stop }
}
