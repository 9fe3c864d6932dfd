/**
 * `DatePartitionTimezone` [API-S3]: with DatePartitionEnabled, DMS names CDC files (and date folders) in the local
 * time of an IANA zone. lakesync orders them by that time converted to UTC, so the hour repeated when clocks go back
 * (America/New_York, 2021-11-07 01:00-02:00) cannot make names go backwards.
 */
import { utimesSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_DMS_FORMAT, parseDmsFormat } from '../etl/dms/format.js'
import { instantsOf, utcTimestamp } from '../etl/dms/time-zone.js'
import { runPipeline } from '../etl/pipeline.js'
import { LocalStorage } from '../etl/storage/local.js'
import { currentTables, rejection, seedOptions, tempDir } from './helpers/fixtures.js'
import { sourceDir } from './helpers/source-files.js'
import { tableRows } from './helpers/tables.js'

const NY = 'America/New_York'
const at = (iso: string) => Date.parse(iso)

describe('format.datePartitionTimezone', () => {
  it('accepts IANA Area/Location names and rejects anything else', () => {
    expect(parseDmsFormat({ datePartitionTimezone: 'Asia/Seoul' }).datePartitionTimezone).toBe('Asia/Seoul')
    expect(parseDmsFormat({}).datePartitionTimezone).toBeNull()
    for (const bad of ['Mars/Olympus_Mons', '+09:00', 'KST', '', 9])
      expect(() => parseDmsFormat({ datePartitionTimezone: bad })).toThrow(
        /datePartitionTimezone must be an IANA/,
      )
  })

  it('converts a local name time to UTC; the repeated hour is decided by the modification time', () => {
    expect(utcTimestamp('20211017194324349', 'Asia/Seoul', undefined, 'f')).toBe('20211017104324349')
    expect(instantsOf(at('2021-11-07T01:30:00Z'), NY)).toEqual([
      at('2021-11-07T05:30:00Z'),
      at('2021-11-07T06:30:00Z'),
    ])
    expect(utcTimestamp('202111070130000001', NY, at('2021-11-07T05:31:00Z'), 'f')).toBe('202111070530000001')
    expect(utcTimestamp('202111070130000001', NY, at('2021-11-07T06:31:00Z'), 'f')).toBe('202111070630000001')
  })

  it('names the file when its time does not exist or cannot be placed', async () => {
    expect(() => utcTimestamp('20210314023000000', NY, undefined, 'x/20210314-023000000.csv')).toThrow(
      /20210314-023000000\.csv.*2021-03-14 02:30:00.*does not exist in America\/New_York/,
    )
    const source = sourceDir({
      'LOAD00000001.csv': '1,Ann,Austin,2021-10-01\n',
      '2021/11/07/20211107-013000000.csv': 'U,1,Ann,Dallas,2021-11-07\n',
    })
    utimesSync(
      join(source, '2021/11/07/20211107-013000000.csv'),
      new Date('2021-11-01'),
      new Date('2021-11-01'),
    )
    const e = await rejection(
      runPipeline(
        seedOptions(new LocalStorage(source), new LocalStorage(tempDir()), {
          format: { ...DEFAULT_DMS_FORMAT, datePartitionTimezone: NY },
        }),
      ),
    )
    expect(e.code).toBe('ambiguous_file_time')
    expect(e.location?.file).toContain('20211107-013000000.csv')
  })

  it('applies a change file named earlier but written later (clocks went back) after the one before it', async () => {
    const source = sourceDir({
      'LOAD00000001.csv': '1,Ann,Austin,2021-10-01\n',
      // 01:30 EDT = 05:30Z, written first
      '2021/11/07/20211107-013000000.csv': 'U,1,Ann,Houston,2021-11-07\n',
    })
    const touch = (path: string, iso: string) => utimesSync(join(source, path), new Date(iso), new Date(iso))
    touch('2021/11/07/20211107-013000000.csv', '2021-11-07T05:30:01Z')
    const target = new LocalStorage(tempDir())
    const run = (datePartitionTimezone: string | null) =>
      runPipeline(
        seedOptions(new LocalStorage(source), target, {
          format: { ...DEFAULT_DMS_FORMAT, datePartitionTimezone },
        }),
      )
    await run(NY)
    // 01:10 EST = 06:10Z: its name sorts before the applied 01:30, its time after it.
    sourceDir({ '2021/11/07/20211107-011000000.csv': 'U,1,Ann,Dallas,2021-11-07\n' }, source)
    touch('2021/11/07/20211107-011000000.csv', '2021-11-07T06:10:01Z')
    expect((await rejection(run(null))).code).toBe('late_file') // read as UTC names, it would reorder changes
    const second = await run(NY)
    expect(second.record?.files.map((f) => f.path)).toEqual(['2021/11/07/20211107-011000000.csv'])
    expect(tableRows((await currentTables(target)).users)).toEqual([['1', 'Ann', 'Dallas', '2021-11-07']])
  })
})
