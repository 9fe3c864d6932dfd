/**
 * The one test that bundles the merge Lambda for real: local esbuild, no Docker. The bundle must hold the ESM
 * handler, the data/ folder and the tables file, stay under a size bound, and load and answer an event in a plain Node process.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../lib/app.js'
import { S3_TEST_EVENT, sqsEvent, sqsRecord } from '../helpers/sqs-events.js'
import { outdir, removeOutdirs } from './synth.js'

const MAX_BUNDLE_BYTES = 3 * 1024 * 1024 // index.mjs, minified with the AWS SDK inside (about 0.6 MB today)

describe('merge Lambda bundle (esbuild, no Docker)', () => {
  let asset: string

  beforeAll(() => {
    const { app } = createApp({ outdir: outdir() }, { nag: false })
    const assembly = app.synth()
    const assets = readdirSync(assembly.directory)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => join(assembly.directory, d))
      .filter((d) => existsSync(join(d, 'index.mjs')))
    expect(assets).toHaveLength(1)
    asset = assets[0]!
  }, 120_000)

  afterAll(removeOutdirs)

  it('holds the ESM handler and the data folder, under the size bound', () => {
    const size = statSync(join(asset, 'index.mjs')).size
    console.log(`merge bundle: index.mjs ${(size / 1024).toFixed(0)} KiB`)
    expect(size).toBeGreaterThan(50_000)
    expect(size).toBeLessThan(MAX_BUNDLE_BYTES)
    expect(existsSync(join(asset, 'data', 'city_to_state.csv'))).toBe(true)
    expect(existsSync(join(asset, 'data', 'city_aliases.json'))).toBe(true)
    expect(Object.keys(JSON.parse(readFileSync(join(asset, 'tables.json'), 'utf8')))).toEqual(['users'])
  })

  it('loads in Node with the stack environment and ignores an s3:TestEvent without touching AWS', () => {
    const script = `
      const { handler } = await import(${JSON.stringify(join(asset, 'index.mjs'))})
      const res = await handler(${JSON.stringify(sqsEvent([sqsRecord('m1', S3_TEST_EVENT)]))})
      process.stdout.write(JSON.stringify(res))`
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        STAGING_BUCKET: 'staging',
        FINAL_BUCKET: 'final',
        LAKESYNC_TABLES_FILE: join(asset, 'tables.json'),
        LAKESYNC_DATA_DIR: join(asset, 'data'),
        POWERTOOLS_DEV: 'false',
      },
      encoding: 'utf8',
    })
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ batchItemFailures: [] })
  })
})
