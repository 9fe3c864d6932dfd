/** DMS file discovery and order. */
import { describe, expect, it } from 'vitest'
import { compareTimestamps, listDmsFiles } from '../etl/dms/files.js'
import { LakesyncError } from '../etl/errors.js'

describe('listDmsFiles', () => {
  it('orders LOAD parts by their hexadecimal counter', () => {
    const l = listDmsFiles([
      'LOAD00000010.csv',
      'LOAD0000000A.csv',
      'LOAD00000009.csv',
      'LOAD0000000B.csv.gz',
    ])
    expect(l.loads.map((f) => f.name)).toEqual([
      'LOAD00000009.csv',
      'LOAD0000000A.csv',
      'LOAD0000000B.csv.gz',
      'LOAD00000010.csv',
    ])
  })

  it('orders change files by timestamp value, then by name, across date folders', () => {
    const l = listDmsFiles([
      '2021/10/18/20211018-000000000.csv',
      '2021/10/17/20211017-120000123.csv',
      '2021/10/17/20211017-1200001225.csv',
      '20211017-1200001230.csv.gz',
    ])
    expect(l.changes.map((f) => f.name)).toEqual([
      '20211017-1200001225.csv',
      '20211017-120000123.csv',
      '20211017-1200001230.csv.gz',
      '20211018-000000000.csv',
    ])
    expect(compareTimestamps('20211017120000123', '202110171200001230')).toBe(0)
    expect(compareTimestamps('20211017120000999', '202110171200001')).toBe(1)
  })

  it('ignores files that are not CSV and reports them', () => {
    expect(listDmsFiles(['README.md', '_SUCCESS', 'LOAD00000001.csv']).ignored).toEqual([
      'README.md',
      '_SUCCESS',
    ])
  })

  it.each([
    ['LOADxyz.csv', 'bad_file_name'],
    ['LOAD0000000a.csv', 'bad_file_name'],
    ['2021101-1200.csv', 'bad_file_name'],
    ['20211301-120000000.csv', 'bad_file_name'],
    ['20211017-250000000.csv', 'bad_file_name'],
    ['cities.csv', 'bad_file_name'],
  ])('rejects the malformed name %s', (name, code) => {
    expect(() => listDmsFiles([name])).toThrow(LakesyncError)
    try {
      listDmsFiles([name])
    } catch (e) {
      expect((e as LakesyncError).code).toBe(code)
      expect((e as LakesyncError).message).toContain(name)
    }
  })

  it('rejects one name in two folders and X.csv beside X.csv.gz', () => {
    for (const paths of [
      ['a/20211017-120000000.csv', 'b/20211017-120000000.csv'],
      ['20211017-120000000.csv', '20211017-120000000.csv.gz'],
    ]) {
      expect(() => listDmsFiles(paths)).toThrow(/same DMS file twice/)
    }
  })
})
