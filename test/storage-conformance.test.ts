/**
 * One contract, three adapters: the local folder, the in-memory test double and S3 (moto's server, through the same
 * openStorage the CLI uses) must behave alike, above all the two conditional writes the commit protocol rests on.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, StateError } from '../etl/errors.js'
import { LocalStorage } from '../etl/storage/local.js'
import { openStorage } from '../etl/storage/open.js'
import { S3Storage } from '../etl/storage/s3.js'
import { parseS3Url } from '../etl/storage/s3-url.js'
import { readInPieces, type Storage } from '../etl/storage/storage.js'
import { dec, enc } from './helpers/bytes.js'
import { MemoryStorage } from './helpers/memory-storage.js'
import { useMoto } from './helpers/moto.js'

const moto = useMoto()
const bucket = moto.bucket('conformance')
const temps: string[] = []

afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true })
})

interface Adapter {
  name: string
  /** A fresh, empty storage whose root does not exist yet. */
  make(): Promise<Storage>
}

const adapters: Adapter[] = [
  {
    name: 'local',
    make: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'lakesync-conformance-'))
      temps.push(dir)
      return new LocalStorage(join(dir, 'lake'))
    },
  },
  { name: 'memory', make: async () => new MemoryStorage() },
  {
    name: 's3',
    make: async () => {
      await moto.reset()
      await moto.s3.send(new CreateBucketCommand({ Bucket: bucket }))
      return openStorage(`s3://${bucket}/some/lake`)
    },
  },
]

const allBytes = Uint8Array.from({ length: 256 * 4 }, (_, i) => (i * 7) % 256)

describe.each(adapters)('$name storage', (adapter) => {
  let store: Storage
  beforeEach(async () => {
    store = await adapter.make()
  })

  describe('list', () => {
    it('lists a missing or empty root as empty', async () => {
      expect(await store.list()).toEqual([])
      expect(await store.list('nothing/here/')).toEqual([])
    })

    it('lists every object recursively, sorted by path, with sizes', async () => {
      const paths = ['c', 'b.txt', 'a/sub/x.json', 'a/2.bin', 'ab/y', 'a/1.bin', 'a/sub/deeper/z']
      for (const p of paths) await store.write(p, enc(p))
      const all = await store.list()
      expect(all.map((o) => o.path)).toEqual([...paths].sort())
      for (const o of all) expect(o.size).toBe(enc(o.path).length)
    })

    it('filters by prefix: a folder prefix, a name prefix, a missing folder', async () => {
      for (const p of ['a/1', 'a/sub/2', 'ab/3', 'b/4']) await store.write(p, enc(p))
      expect((await store.list('a/')).map((o) => o.path)).toEqual(['a/1', 'a/sub/2'])
      expect((await store.list('a/sub/')).map((o) => o.path)).toEqual(['a/sub/2'])
      expect((await store.list('a')).map((o) => o.path)).toEqual(['a/1', 'a/sub/2', 'ab/3'])
      expect(await store.list('zzz/')).toEqual([])
    })
  })

  describe('read and write', () => {
    it('round-trips binary data, including an empty object', async () => {
      await store.write('bin/all.bytes', allBytes)
      await store.write('bin/empty', new Uint8Array())
      expect(Buffer.from(await store.read('bin/all.bytes')).equals(Buffer.from(allBytes))).toBe(true)
      expect((await store.read('bin/empty')).length).toBe(0)
      expect((await store.list('bin/')).map((o) => [o.path, o.size])).toEqual([
        ['bin/all.bytes', allBytes.length],
        ['bin/empty', 0],
      ])
    })

    it('overwrites whole objects', async () => {
      await store.write('x', enc('first, longer content'))
      await store.write('x', enc('second'))
      expect(dec(await store.read('x'))).toBe('second')
    })

    it('rejects reading a missing object', async () => {
      await expect(store.read('missing/object')).rejects.toThrow()
      await expect(readInPieces(store, 'missing/object', () => {})).rejects.toThrow()
    })

    it('reads in pieces: growing prefixes of the object, then the whole of it (empty included)', async () => {
      const big = Uint8Array.from({ length: 9 << 20 }, (_, i) => (i * 31 + (i >> 12)) % 251) // > 2 pieces
      for (const [path, bytes] of [
        ['big', big],
        ['small', allBytes],
        ['empty', new Uint8Array()],
      ] as const) {
        await store.write(path, bytes)
        const ends: number[] = []
        const whole = await readInPieces(store, path, (b, end) => {
          expect(Buffer.from(b.subarray(0, end)).equals(Buffer.from(bytes.subarray(0, end)))).toBe(true)
          ends.push(end)
        })
        expect(Buffer.from(whole).equals(Buffer.from(bytes))).toBe(true)
        expect(ends.at(-1)).toBe(bytes.length)
        expect(ends).toEqual([...ends].sort((a, b) => a - b))
      }
    })

    it('stops reading in pieces at a throw from the caller, with its error', async () => {
      await store.write('big', new Uint8Array(9 << 20))
      const stop = new Error('caller stops')
      await expect(
        readInPieces(store, 'big', () => {
          throw stop
        }),
      ).rejects.toBe(stop)
    })

    it('readVersioned: null when absent, bytes and an ETag that follows the content when present', async () => {
      expect(await store.readVersioned('v.json')).toBeNull()
      await store.write('v.json', enc('one'))
      const one = await store.readVersioned('v.json')
      expect(one && dec(one.bytes)).toBe('one')
      await store.write('v.json', enc('two'))
      const two = await store.readVersioned('v.json')
      expect(two && dec(two.bytes)).toBe('two')
      expect(two?.etag).toBeTypeOf('string')
      expect(two?.etag).not.toBe(one?.etag)
    })
  })

  describe('createExclusive', () => {
    it('creates once: an ETag, then null, and the first content stays', async () => {
      const etag = await store.createExclusive('claims/1.json', enc('winner'))
      expect(etag).toBeTypeOf('string')
      expect(await store.createExclusive('claims/1.json', enc('loser'))).toBeNull()
      const now = await store.readVersioned('claims/1.json')
      expect(now && dec(now.bytes)).toBe('winner')
      expect(now?.etag).toBe(etag)
    })

    it('refuses to create over an object written plainly', async () => {
      await store.write('plain', enc('plain'))
      expect(await store.createExclusive('plain', enc('claim'))).toBeNull()
      expect(dec(await store.read('plain'))).toBe('plain')
    })

    it('lets exactly one of 10 concurrent creates of one key win', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.createExclusive('race/1.json', enc(`run ${i}`))),
      )
      const winners = results.flatMap((etag, i) => (etag === null ? [] : [{ etag, i }]))
      expect(winners).toHaveLength(1)
      const now = await store.readVersioned('race/1.json')
      expect(now && dec(now.bytes)).toBe(`run ${winners[0]?.i}`)
      expect(now?.etag).toBe(winners[0]?.etag)
    })
  })

  describe('replaceIfMatch', () => {
    it('replaces with the current ETag and returns the new one', async () => {
      const claim = await store.createExclusive('c.json', enc('pending'))
      expect(claim).not.toBeNull()
      const committed = await store.replaceIfMatch('c.json', enc('committed'), claim!)
      expect(committed).toBeTypeOf('string')
      expect(committed).not.toBe(claim)
      const now = await store.readVersioned('c.json')
      expect(now && dec(now.bytes)).toBe('committed')
      expect(now?.etag).toBe(committed)
    })

    it('returns null for a stale ETag and leaves the object alone', async () => {
      const stale = await store.createExclusive('c.json', enc('pending'))
      const current = await store.replaceIfMatch('c.json', enc('abandoned'), stale!)
      expect(current).not.toBeNull()
      expect(await store.replaceIfMatch('c.json', enc('committed late'), stale!)).toBeNull()
      const now = await store.readVersioned('c.json')
      expect(now && dec(now.bytes)).toBe('abandoned')
      expect(now?.etag).toBe(current)
    })

    it('returns null when the object is gone', async () => {
      const etag = await store.createExclusive('gone.json', enc('x'))
      await store.remove('gone.json')
      expect(await store.replaceIfMatch('gone.json', enc('y'), etag!)).toBeNull()
      expect(await store.readVersioned('gone.json')).toBeNull()
    })

    it('lets exactly one of 10 concurrent swaps from one ETag win', async () => {
      const etag = await store.createExclusive('swap.json', enc('pending'))
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.replaceIfMatch('swap.json', enc(`run ${i}`), etag!)),
      )
      const winners = results.flatMap((e, i) => (e === null ? [] : [{ e, i }]))
      expect(winners).toHaveLength(1)
      expect(dec(await store.read('swap.json'))).toBe(`run ${winners[0]?.i}`)
    })
  })

  describe('list while others write', () => {
    it('lists through concurrent swaps and removals (files that vanish mid-listing are not listed)', async () => {
      let etag = (await store.createExclusive('c/claim.json', enc('0')))!
      const swaps = (async () => {
        for (let i = 1; i <= 60; i++) {
          etag = (await store.replaceIfMatch('c/claim.json', enc(String(i)), etag))!
          await store.write('c/scratch', enc(String(i)))
          await store.remove('c/scratch')
        }
      })()
      let lists = 0
      let swapping = true
      swaps.finally(() => {
        swapping = false
      })
      while (swapping) {
        const listed = (await store.list('c/')).map((o) => o.path)
        expect(listed).toContain('c/claim.json')
        lists++
      }
      await swaps
      expect(lists).toBeGreaterThan(0)
      expect(dec(await store.read('c/claim.json'))).toBe('60')
    })
  })

  describe('remove', () => {
    it('deletes an object and ignores a missing one', async () => {
      await store.write('keep', enc('k'))
      await store.write('drop/me', enc('d'))
      await store.remove('drop/me')
      await store.remove('drop/me')
      await store.remove('never/existed')
      expect(await store.readVersioned('drop/me')).toBeNull()
      expect((await store.list()).map((o) => o.path)).toEqual(['keep'])
    })
  })
})

describe('S3Storage specifics', () => {
  beforeEach(async () => {
    await moto.reset()
    await moto.s3.send(new CreateBucketCommand({ Bucket: bucket }))
  })

  it('keeps paths relative to its prefix and reports S3 ETags and times', async () => {
    const before = Date.now() - 5_000
    const store = new S3Storage(moto.s3, bucket, 'lake')
    expect(store.root).toBe(`s3://${bucket}/lake`)
    await moto.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'lake2/not-mine', Body: 'x' }))
    await moto.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'outside', Body: 'x' }))
    const etag = await store.createExclusive('t/1.json', enc('{}'))
    const listed = await store.list()
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ path: 't/1.json', size: 2, etag })
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/) // as S3 returns it: the MD5 of a single-part upload, quoted
    expect(listed[0]?.mtimeMs).toBeGreaterThan(before)
  })

  it('relies on moto answering failed conditional writes with 412 Precondition Failed, as S3 does', async () => {
    const put = (condition: { IfNoneMatch: string } | { IfMatch: string }) =>
      moto.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', ...condition }))
    const first = await put({ IfNoneMatch: '*' })
    const failed = { name: 'PreconditionFailed', $metadata: expect.objectContaining({ httpStatusCode: 412 }) }
    await expect(put({ IfNoneMatch: '*' })).rejects.toMatchObject(failed)
    await expect(put({ IfMatch: '"00000000000000000000000000000000"' })).rejects.toMatchObject(failed)
    await expect(put({ IfMatch: first.ETag! })).resolves.toMatchObject({ ETag: first.ETag }) // same bytes, same MD5
  })

  it('uses the whole bucket when the prefix is empty', async () => {
    const store = openStorage(`s3://${bucket}`)
    expect(store.root).toBe(`s3://${bucket}/`)
    await store.write('top', enc('t'))
    await store.write('a/b', enc('ab'))
    expect((await store.list()).map((o) => o.path)).toEqual(['a/b', 'top'])
  })

  it('names the bucket and key in errors', async () => {
    const store = openStorage(`s3://${bucket}/lake/`)
    await expect(store.read('no/such.json')).rejects.toThrow(StateError)
    await expect(store.read('no/such.json')).rejects.toThrow(`s3: no object s3://${bucket}/lake/no/such.json`)
    const missing = openStorage(`s3://${moto.bucket('absent')}/lake`)
    await expect(missing.list()).rejects.toThrow(ConfigError)
    await expect(missing.write('x', enc('x'))).rejects.toThrow(
      `s3: bucket "${moto.bucket('absent')}" does not exist`,
    )
    await expect(missing.readVersioned('x')).rejects.toThrow(ConfigError)
  })
})

describe('parseS3Url', () => {
  it('splits a URL into bucket and a prefix ending in /', () => {
    expect(parseS3Url('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' })
    expect(parseS3Url('s3://my-bucket/')).toEqual({ bucket: 'my-bucket', prefix: '' })
    expect(parseS3Url('s3://my.bucket/lake')).toEqual({ bucket: 'my.bucket', prefix: 'lake/' })
    expect(parseS3Url('s3://b12/lake/final/')).toEqual({ bucket: 'b12', prefix: 'lake/final/' })
  })

  it.each([
    ['s3://', 'names no bucket'],
    ['s3:///lake', 'names no bucket'],
    ['s3:/bucket/lake', 'is not an s3://bucket/prefix URL'],
    ['https://bucket/lake', 'is not an s3://bucket/prefix URL'],
    ['s3://Bucket/lake', 'is not a valid bucket name'],
    ['s3://ab/lake', 'is not a valid bucket name'],
    ['s3://bucket//lake', 'has an empty path segment'],
    ['s3://bucket/a//b/', 'has an empty path segment'],
  ])('rejects %s', (url, message) => {
    expect(() => parseS3Url(url)).toThrow(ConfigError)
    expect(() => parseS3Url(url)).toThrow(`s3: ${JSON.stringify(url)}`)
    expect(() => parseS3Url(url)).toThrow(message)
  })
})
