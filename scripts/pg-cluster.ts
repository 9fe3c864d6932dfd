/**
 * A throwaway PostgreSQL cluster for the local end-to-end flow and its tests: `initdb` in a fresh temporary folder,
 * `wal_level=logical`, listening on 127.0.0.1 only, on a free port, with trust authentication (nothing but this
 * machine can reach it, and it lives for one run). Durability is switched off (fsync, full_page_writes): a crashed
 * cluster is simply thrown away.
 *
 * `initdb` and `postgres` refuse to run as root, and sessions and CI run as root: then every PostgreSQL program
 * runs as the `postgres` user (created by Debian's postgresql package) through `runuser`, in a folder that user owns.
 *
 * As a script: `tsx scripts/pg-cluster.ts start` prints `PGURL=...` and `PGCLUSTER_DIR=...` and leaves the cluster
 * running; `tsx scripts/pg-cluster.ts stop DIR` stops it and removes the folder.
 */
import { execFile, execFileSync } from 'node:child_process'
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

const exec = promisify(execFile)

export interface PgCluster {
  url: string // postgres://postgres@127.0.0.1:PORT/postgres
  port: number
  dir: string // the temporary folder: data/ and postgres.log
  /** Stops the server (immediate shutdown) and removes the folder. Safe to call twice. */
  stop(): Promise<void>
}

/** The newest installed PostgreSQL's bin folder (Debian layout), or PG_BIN when set. */
export function pgBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  if (versions.length === 0 || Number(versions[0]) < 12)
    throw new Error(
      'PostgreSQL 12 or newer is not installed under /usr/lib/postgresql: run scripts/setup-test-env.sh (it installs postgresql-15), or set PG_BIN',
    )
  return join(root, versions[0]!, 'bin')
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

const isRoot = () => process.getuid?.() === 0

/** The command line that runs `program` as the cluster's owner: itself, or through runuser when we are root. */
function asOwner(program: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args]
}

async function run(program: string, args: string[]): Promise<string> {
  const [cmd, argv] = asOwner(program, args)
  try {
    const { stdout } = await exec(cmd, argv, { encoding: 'utf8' })
    return stdout
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string }
    throw new Error(`${program} ${args.join(' ')} failed: ${err.stderr || err.stdout || err.message}`)
  }
}

function stopSync(bin: string, data: string): void {
  const [cmd, argv] = asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
  try {
    execFileSync(cmd, argv, { stdio: 'ignore' })
  } catch {}
}

/** Creates and starts a cluster; the caller must `stop()` it (a process exit stops it too). */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = pgBin()
  // /tmp rather than $TMPDIR: the postgres user must be able to reach the folder.
  const dir = mkdtempSync(join(isRoot() ? '/tmp' : tmpdir(), 'lakesync-pg-'))
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(dir, uid, gid)
  }
  chmodSync(dir, 0o700)
  const data = join(dir, 'data')
  let started = false
  const onExit = () => {
    if (started) stopSync(bin, data)
    rmSync(dir, { recursive: true, force: true })
  }
  process.on('exit', onExit) // also when a signal handler exits mid-start
  try {
    await run(join(bin, 'initdb'), [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ])
    for (let attempt = 1; ; attempt++) {
      const port = await freePort()
      appendFileSync(
        join(data, 'postgresql.conf'),
        [
          '',
          '# lakesync throwaway cluster',
          "listen_addresses = '127.0.0.1'",
          `port = ${port}`,
          `unix_socket_directories = '${dir}'`,
          'wal_level = logical',
          'max_wal_senders = 10',
          'max_replication_slots = 10',
          'fsync = off',
          'full_page_writes = off',
          "datestyle = 'iso, ymd'",
          "timezone = 'UTC'",
          '',
        ].join('\n'),
      )
      try {
        await run(join(bin, 'pg_ctl'), [
          '-D',
          data,
          '-l',
          join(dir, 'postgres.log'),
          '-w',
          '-t',
          '30',
          'start',
        ])
      } catch (e) {
        if (attempt >= 3) throw e // a lost race for the port: try another (the later settings win)
        continue
      }
      started = true
      let stopped = false
      return {
        url: `postgres://postgres@127.0.0.1:${port}/postgres`,
        port,
        dir,
        async stop() {
          if (stopped) return
          stopped = true
          process.off('exit', onExit)
          await run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
          rmSync(dir, { recursive: true, force: true })
        },
      }
    }
  } catch (e) {
    process.off('exit', onExit)
    onExit()
    throw e
  }
}

async function cli(argv: string[]): Promise<void> {
  const [command, dir] = argv
  if (command === 'start') {
    const cluster = await startPgCluster()
    process.removeAllListeners('exit') // leave it running
    process.stdout.write(`PGURL=${cluster.url}\nPGCLUSTER_DIR=${cluster.dir}\n`)
  } else if (command === 'stop' && dir) {
    stopSync(pgBin(), join(dir, 'data'))
    rmSync(dir, { recursive: true, force: true })
  } else {
    process.stderr.write('usage: tsx scripts/pg-cluster.ts start | stop DIR\n')
    process.exitCode = 2
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await cli(process.argv.slice(2))
