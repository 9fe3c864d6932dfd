/** Runs the CLI in-process (cli/app.ts main) or as a real child process (the built dist/cli/main.js). */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { main } from '../../cli/app.js'
import { REPO } from './fixtures.js'

export interface CliResult {
  code: number
  out: string
  err: string
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk))
      cb()
    },
  })
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
}

export async function cli(...argv: string[]): Promise<CliResult> {
  return cliOn(false, ...argv)
}

/** The CLI with stderr seen as a terminal (`tty`) or a pipe: progress is shown only on a terminal. */
export async function cliOn(tty: boolean, ...argv: string[]): Promise<CliResult> {
  const out = sink()
  const err = sink()
  const code = await main(argv, { out: out.stream, err: err.stream, errIsTty: tty })
  return { code, out: out.text(), err: err.text() }
}

/** The built executable, as `npx lakesync` runs it (requires `npm run build`, which `npm test` does first). */
export function cliProcess(...argv: string[]): CliResult {
  const r = spawnSync(process.execPath, [join(REPO, 'dist', 'cli', 'main.js'), ...argv], { encoding: 'utf8' })
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr }
}

/** The built executable started with extra environment (LAKESYNC_FAULT_AT): the child, and its result once it exits. */
export function cliChild(
  env: NodeJS.ProcessEnv,
  ...argv: string[]
): { child: ChildProcess; done: Promise<CliResult & { signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [join(REPO, 'dist', 'cli', 'main.js'), ...argv], {
    env: { ...process.env, ...env },
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString('utf8')
  })
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString('utf8')
  })
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? -1, out, err, signal })),
  )
  return { child, done }
}

/** The data rows of an aligned table printed by `lakesync show` (or the seed README), cells trimmed. */
export function cells(table: string): string[][] {
  return table
    .split('\n')
    .filter((l) => /^\|\d/.test(l))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    )
}

/** `lakesync run` from `source` into `target` as of 2021-10-17 (the seed data's day), more flags after. */
export function cliRun(source: string, target: string, ...flags: string[]): Promise<CliResult> {
  return cli('run', '--source', source, '--target', target, '--as-of', '2021-10-17', ...flags)
}
