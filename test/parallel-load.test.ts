/**
 * Parallel full load [S3T "Parallel load of partitioned sources"]: segments named SEGMENT<n>_LOAD<counter> in the
 * table folder, or LOAD<counter> files in one folder per partition or named segment, are parts of one full load.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readCommitLog } from '../etl/commit/log.js'
import { listDmsFiles } from '../etl/dms/files.js'
import { LocalStorage } from '../etl/storage/local.js'
import { cli } from './helpers/cli.js'
import { currentTables, rejection, runEngine, SEED_CITIES, tempDir } from './helpers/fixtures.js'
import { sourceDir } from './helpers/source-files.js'
import { tableRows } from './helpers/tables.js'

describe('parallel full-load segments', () => {
  it('orders SEGMENT<n>_LOAD files by segment (numerically), then by counter, as the DMS docs list them', () => {
    const l = listDmsFiles([
      'SEGMENT10_LOAD00000001.csv',
      'SEGMENT2_LOAD00000009.csv',
      'SEGMENT1_LOAD00000002.csv',
      'SEGMENT3_LOAD0000000A.csv',
      'SEGMENT1_LOAD00000001.csv',
      '20211017-194324349.csv',
    ])
    expect(l.loads.map((f) => f.path)).toEqual([
      'SEGMENT1_LOAD00000001.csv',
      'SEGMENT1_LOAD00000002.csv',
      'SEGMENT2_LOAD00000009.csv',
      'SEGMENT3_LOAD0000000A.csv',
      'SEGMENT10_LOAD00000001.csv',
    ])
    expect(l.changes.map((f) => f.path)).toEqual(['20211017-194324349.csv'])
  })

  it('takes LOAD files in partition folders as segments, each with its own counter', () => {
    const l = listDmsFiles([
      'custom_segment2/LOAD00000001.csv',
      'custom_segment10/LOAD00000001.csv',
      'custom_segment1/LOAD00000002.csv',
      'custom_segment1/LOAD00000001.csv',
    ])
    expect(l.loads.map((f) => [f.segment, f.part])).toEqual([
      ['custom_segment1', 1],
      ['custom_segment1', 2],
      ['custom_segment2', 1],
      ['custom_segment10', 1],
    ])
  })

  it('still refuses one LOAD name twice in one folder, and one change name in two folders', () => {
    expect(() => listDmsFiles(['p1/LOAD00000001.csv', 'p1/LOAD00000001.csv.gz'])).toThrow(
      /same DMS file twice/,
    )
    expect(() => listDmsFiles(['p1/20211017-194324349.csv', 'p2/20211017-194324349.csv'])).toThrow(
      /same DMS file twice/,
    )
  })

  it.each([
    [
      'SEGMENT<n>_ prefixes',
      {
        'SEGMENT1_LOAD00000001.csv': '1,Ann,Austin,2021-10-01\n2,Bob,Dallas,2021-10-02\n',
        'SEGMENT1_LOAD00000002.csv': '3,Cy,Houston,2021-10-03\n',
        'SEGMENT2_LOAD00000001.csv': '10,Dee,Austin,2021-10-04\n',
      },
    ],
    [
      'partition folders',
      {
        'custom_segment1/LOAD00000001.csv': '1,Ann,Austin,2021-10-01\n2,Bob,Dallas,2021-10-02\n',
        'custom_segment1/LOAD00000002.csv': '3,Cy,Houston,2021-10-03\n',
        'custom_segment2/LOAD00000001.csv': '10,Dee,Austin,2021-10-04\n',
      },
    ],
  ])('mirrors a full load split into segments by %s, then applies the change files', async (_, load) => {
    const source = sourceDir({
      ...load,
      '20211017-194324349.csv': 'U,2,Bob,Austin,2021-10-05\nD,10,Dee,Austin,2021-10-04\n',
    })
    const { result, target } = await runEngine(source, '2021-10-17', SEED_CITIES)
    expect(result.record?.files.map((f) => f.path)).toEqual([...Object.keys(load), '20211017-194324349.csv'])
    expect(result.record?.fullLoad).toBe(true)
    const { users } = await currentTables(target)
    expect(tableRows(users)).toEqual([
      ['1', 'Ann', 'Austin', '2021-10-01'],
      ['2', 'Bob', 'Austin', '2021-10-05'],
      ['3', 'Cy', 'Houston', '2021-10-03'],
    ])
  })

  it.each([
    ['SEGMENT1_LOAD00000001.csv', 'SEGMENT2_LOAD00000001.csv'],
    ['custom_segment1/LOAD00000001.csv', 'custom_segment2/LOAD00000001.csv'],
  ])('stops on one key in two segments (%s, %s), naming both files', async (first, second) => {
    const source = sourceDir({
      [first]: '1,Ann,Austin,2021-10-01\n',
      [second]: '2,Bob,Dallas,2021-10-02\n1,Al,Waco,2021-10-03\n',
    })
    const e = await rejection(runEngine(source, '2021-10-17', SEED_CITIES))
    expect(e.code).toBe('duplicate_key')
    expect(e.message).toContain(first)
    expect(e.message).toContain(second)
    expect(e.location).toMatchObject({ line: 2, column: 1 })
    expect(e.location?.file).toContain(second)
  })

  it('reads the segments of each table in a DMS root of <schema>/<table>/ folders', async () => {
    const root = sourceDir({
      'app/a/custom_segment1/LOAD00000001.csv': '1,x\n',
      'app/a/custom_segment2/LOAD00000001.csv': '2,y\n',
      'app/b/SEGMENT1_LOAD00000001.csv': '1,x\n',
      'app/b/SEGMENT2_LOAD00000001.csv': '2,y\n',
    })
    const columns = [
      { name: 'id', type: 'int32' },
      { name: 'v', type: 'string' },
    ]
    const config = join(tempDir(), 'config.json')
    writeFileSync(
      config,
      JSON.stringify({
        tables: ['a', 'b'].map((name) => ({ name, schema: 'app', columns, primaryKey: 'id' })),
      }),
    )
    const target = tempDir()
    const run = await cli(
      'run',
      '--source',
      root,
      '--target',
      target,
      '--config',
      config,
      '--as-of',
      '2021-10-17',
    )
    expect(run.code).toBe(0)
    for (const [table, files] of [
      ['a', ['custom_segment1/LOAD00000001.csv', 'custom_segment2/LOAD00000001.csv']],
      ['b', ['SEGMENT1_LOAD00000001.csv', 'SEGMENT2_LOAD00000001.csv']],
    ] as const) {
      const log = await readCommitLog(new LocalStorage(target), table)
      expect(log.current?.files.map((f) => f.path)).toEqual(files)
      expect(log.current?.rows.users).toBe(2)
    }
  })
})
