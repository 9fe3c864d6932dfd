/**
 * The CLI loads the AWS SDK only for an s3:// location: a local run keeps it out of the process (its modules made
 * the JS heap ~2x larger and a local 1M-row run ~5% slower). Checked in a fresh Node process, against the CommonJS
 * module cache the SDK loads into.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO, SEED, tempDir } from './helpers/fixtures.js'

/** Runs the CLI's `run` in a new process on `target`, then counts the AWS SDK modules it had loaded. */
function sdkModulesAfterRun(target: string): { code: number | 'error'; sdk: number } {
  const script = `
    import { createRequire } from 'node:module'
    import { Writable } from 'node:stream'
    const require = createRequire(import.meta.url)
    const { main } = await import(${JSON.stringify(join(REPO, 'dist', 'cli', 'app.js'))})
    const sink = () => new Writable({ write(_c, _e, done) { done() } })
    let code
    try {
      code = await main(
        ['run', '--source', ${JSON.stringify(SEED)}, '--target', ${JSON.stringify(target)}, '--as-of', '2021-10-17'],
        { out: sink(), err: sink(), errIsTty: false },
      )
    } catch {
      code = 'error' // an unexpected error (here: the refused connection) is the bin's to print
    }
    const sdk = Object.keys(require.cache).filter((k) => /node_modules[\\\\/]@(aws-sdk|smithy)[\\\\/]/.test(k))
    console.log(JSON.stringify({ code, sdk: sdk.length }))
  `
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      // An S3 endpoint that refuses at once, with static credentials and one attempt: nothing leaves the machine.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_MAX_ATTEMPTS: '1',
    },
  })
  expect(r.error).toBeUndefined()
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!)
}

describe('loading the AWS SDK', () => {
  it('a local run does not load it', () => {
    expect(sdkModulesAfterRun(tempDir())).toEqual({ code: 0, sdk: 0 })
  })

  it('an s3:// target loads it on first use (and the run fails against the refusing endpoint)', () => {
    const got = sdkModulesAfterRun('s3://lakesync-test-bucket/lake')
    expect(got.code).not.toBe(0)
    expect(got.sdk).toBeGreaterThan(0)
  })
})
