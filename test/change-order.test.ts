/**
 * Ordering changes by DMS's commit-timestamp column or a $AR_H_CHANGE_SEQ column (DmsFormat.orderChangesBy): the
 * column decides, file and row order only break ties, and a change older than one already applied stops the run.
 */
import { describe, expect, it } from 'vitest'
import { DEFAULT_DMS_FORMAT, parseDmsFormat } from '../etl/dms/format.js'
import { runPipeline } from '../etl/pipeline.js'
import { tableToCsv } from '../etl/report/csv-export.js'
import type { DmsFormat } from '../etl/types.js'
import { enc } from './helpers/bytes.js'
import { currentTables, rejection, seedOptions } from './helpers/fixtures.js'
import { MemoryStorage } from './helpers/memory-storage.js'

const run = (source: MemoryStorage, target: MemoryStorage, format: DmsFormat) =>
  runPipeline(seedOptions(source, target, { format }))

const users = async (target: MemoryStorage) => tableToCsv((await currentTables(target)).users)

describe('ordering changes by a column', () => {
  const byTimestamp = parseDmsFormat({ timestampColumnName: 'ts', orderChangesBy: 'timestamp' })
  const bySequence = parseDmsFormat({ changeSequenceColumnName: 'seq', orderChangesBy: 'changeSequence' })

  it('applies by commit timestamp across and within files; file order breaks ties', async () => {
    const source = new MemoryStorage()
    const target = new MemoryStorage()
    await source.write(
      'LOAD00000001.csv',
      enc('I,2021-10-01 00:00:00.000000,1,Load,Austin,2021-01-01\n'.slice(2)),
    )
    // File order says: second, first, third; the timestamps say first, second, third.
    await source.write(
      '20211017-000000001.csv',
      enc(
        'U,2021-10-17 10:00:00.000002,1,Second,Austin,2021-10-02\nU,2021-10-17 10:00:00.000001,1,First,Austin,2021-10-01\n',
      ),
    )
    await source.write(
      '20211017-000000002.csv',
      enc(
        'U,2021-10-17 10:00:00.000003,1,Third,Austin,2021-10-03\nI,2021-10-17 10:00:00.000003,2,TieA,Boston,\n',
      ),
    )
    await source.write('20211017-000000003.csv', enc('U,2021-10-17 10:00:00.000003,2,TieB,Boston,\n'))
    const r = await run(source, target, byTimestamp)
    expect(await users(target)).toBe(
      'user_id,name,city,last_login\n1,Third,Austin,2021-10-03\n2,TieB,Boston,\n',
    )
    expect(r.record?.lastSequence).toBe('2021-10-17 10:00:00.000003')
    expect(r.record?.files.map((f) => f.counts?.updates)).toEqual([undefined, 2, 1, 1])
    // Within one file the timestamps decide too: by file order "First" (the later row) would win.
    const one = new MemoryStorage()
    await one.write('LOAD00000001.csv', await source.read('LOAD00000001.csv'))
    await one.write('20211017-000000001.csv', await source.read('20211017-000000001.csv'))
    const byTs = new MemoryStorage()
    const byFile = new MemoryStorage()
    await run(one, byTs, byTimestamp)
    await run(one, byFile, { ...DEFAULT_DMS_FORMAT, timestampColumnName: 'ts' })
    expect(await users(byTs)).toBe('user_id,name,city,last_login\n1,Second,Austin,2021-10-02\n')
    expect(await users(byFile)).toBe('user_id,name,city,last_login\n1,First,Austin,2021-10-01\n')
  })

  it('orders $AR_H_CHANGE_SEQ numerically and stops on a change older than one applied', async () => {
    const source = new MemoryStorage()
    const target = new MemoryStorage()
    await source.write('LOAD00000001.csv', enc('1,Load,Austin,2021-01-01,0\n'))
    await source.write(
      '20211017-000000001.csv',
      enc(
        'U,1,Newer,Austin,2021-10-02,20211017100000000000000000000000200\nU,1,Older,Austin,2021-10-01,20211017100000000000000000000000100\n',
      ),
    )
    await run(source, target, bySequence)
    expect(await users(target)).toBe('user_id,name,city,last_login\n1,Newer,Austin,2021-10-02\n')
    await source.write(
      '20211017-000000002.csv',
      enc('U,1,Stale,Austin,2021-09-01,20211017100000000000000000000000150\n'),
    )
    const err = await rejection(run(source, target, bySequence))
    expect(err.code).toBe('late_file')
    expect(err.message).toContain('20211017-000000002.csv line 1')
    expect(await users(target)).toBe('user_id,name,city,last_login\n1,Newer,Austin,2021-10-02\n')
  })

  it('rejects an empty ordering value and inconsistent settings', async () => {
    const source = new MemoryStorage()
    await source.write('LOAD00000001.csv', enc('1,Load,Austin,2021-01-01,0\n'))
    await source.write('20211017-000000001.csv', enc('U,1,X,Austin,2021-10-02,\n'))
    const err = await rejection(run(source, new MemoryStorage(), bySequence))
    expect(err.code).toBe('bad_sequence')
    expect(err.message).toContain('line 1 column 6')
    expect(() => parseDmsFormat({ orderChangesBy: 'timestamp' })).toThrow(/needs format.timestampColumnName/)
  })
})
