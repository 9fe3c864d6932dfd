#!/usr/bin/env node
// The `lakesync` executable: runs the CLI on this process's arguments and streams (cli/app.ts holds the logic).
import { main } from './app.js'

// `lakesync status | head -1`: a reader that stops early is not an error of ours.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e
    process.exit(process.exitCode ?? 0)
  })

main(process.argv.slice(2), {
  out: process.stdout,
  err: process.stderr,
  errIsTty: process.stderr.isTTY === true,
}).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    process.stderr.write(`lakesync: internal error: ${(e as Error).stack ?? String(e)}\n`)
    process.exitCode = 70
  },
)
