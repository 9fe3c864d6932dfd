/**
 * The Spark job (glue/lakesync_spark) reads DMS CsvNoSupValue and DatePartitionTimezone exactly as the TypeScript
 * engine does (docs/dms-format.md, Settings): each case runs the same DMS files through both engines, and both publish
 * the same table and commit records (files in the same order), or stop with the same error code and message.
 *
 * - `useCsvNoSupValue` + `csvNoSupValue`: a U row's column holding the NOSUP text keeps the key's previous value (from
 *   the same file, an earlier one or the committed table; a date column too); a D row ignores it; in a key column, an
 *   I row or a U of a key the table does not hold it is `nosup_value`.
 * - `datePartitionTimezone`: change-file names are local times, ordered by the UTC time they encode; a name in the
 *   hour repeated when clocks go back is placed by its modification time, or is `ambiguous_file_time`; a name in the
 *   hour skipped when they go forward is `bad_file_name`.
 */
import { describe, expect, it } from 'vitest'
import { queryRows } from './helpers/parquet.js'
import { current, parquetFile } from './helpers/spark.js'
import { type Case, sparkCases } from './helpers/spark-cases.js'

const TABLE = {
  name: 'users',
  columns: [
    { name: 'user_id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'last_login', type: 'date' },
  ],
  primaryKey: 'user_id',
}
const LOAD = '1,Alice,Austin,2021-10-01\n2,Bob,Boston,2021-10-02\n3,Cy,Chicago,2021-10-03\n'
const NOSUP = { useCsvNoSupValue: true, csvNoSupValue: 'NOSUP' }
// The second file keeps values set by the first, by its own earlier rows, and by the full load (dates included).
const KEPT_1 = 'U,1,NOSUP,Houston,2021-10-05\nU,2,Bobby,NOSUP,NOSUP\nD,3,NOSUP,NOSUP,NOSUP\n'
const KEPT_2 =
  'U,2,NOSUP,Dallas,NOSUP\nU,1,NOSUP,NOSUP,NOSUP\nI,3,Cy,Chicago,2021-10-06\nU,3,NOSUP,,NOSUP\nU,3,Cyd,NOSUP,NOSUP\n'
const nosupError = (file: string, text: string): Case => ({
  table: TABLE,
  format: NOSUP,
  files: { 'LOAD00000001.csv': LOAD, '20211017-000000001.csv': file },
  error: { code: 'nosup_value', text },
})

const NY = { datePartitionTimezone: 'America/New_York' }
// 2021-11-07 in New York: 01:00-02:00 happens twice (EDT, UTC-4, then EST, UTC-5).
const BACK = '2021/11/07/20211107-'
const FALL_BACK: Record<string, string> = {
  [`${BACK}012000000.csv`]: 'U,1,A1,Austin,2021-11-07\n', // 05:20Z
  [`${BACK}014500000.csv`]: 'U,1,A2,Austin,2021-11-07\n', // 05:45Z
  [`${BACK}011000000.csv`]: 'U,1,A3,Austin,2021-11-07\n', // 06:10Z: named first, written third
  [`${BACK}015500000.csv`]: 'U,2,B1,Boston,2021-11-07\n', // 06:55Z
  [`${BACK}020500000.csv`]: 'U,2,B2,Boston,2021-11-07\n', // 07:05Z, after the repeated hour
}
const FALL_BACK_MTIMES = {
  [`${BACK}012000000.csv`]: '2021-11-07T05:21:00Z',
  [`${BACK}014500000.csv`]: '2021-11-07T05:46:00Z',
  [`${BACK}011000000.csv`]: '2021-11-07T06:11:00Z',
  [`${BACK}015500000.csv`]: '2021-11-07T06:56:30.250Z',
  [`${BACK}020500000.csv`]: '2021-11-07T07:06:00Z',
}
/** The fall-back files named `times` (HHmmss), with their contents. */
const fallBack = (...times: string[]) =>
  Object.fromEntries(times.map((t) => [`${BACK}${t}000.csv`, FALL_BACK[`${BACK}${t}000.csv`]!]))

const CASES: Record<string, Case> = {
  'nosup-kept': {
    table: TABLE,
    format: NOSUP,
    files: { 'LOAD00000001.csv': LOAD, '20211017-000000001.csv': KEPT_1, '20211017-000000002.csv': KEPT_2 },
  },
  // The TypeScript engine commits the first file, Spark keeps values from its version.
  'nosup-kept-over-runs': {
    table: TABLE,
    format: NOSUP,
    before: { table: TABLE, files: { 'LOAD00000001.csv': LOAD, '20211017-000000001.csv': KEPT_1 } },
    files: { '20211017-000000002.csv': KEPT_2 },
  },
  // Ordered by a column, the previous value is the one the sequence puts before, not the file order.
  'nosup-kept-in-sequence': {
    table: TABLE,
    format: { ...NOSUP, changeSequenceColumnName: 'seq', orderChangesBy: 'changeSequence' },
    files: {
      'LOAD00000001.csv': LOAD.replaceAll('\n', ',\n'),
      '20211017-000000001.csv': 'U,1,NOSUP,Houston,2021-10-05,3\n',
      '20211017-000000002.csv': 'U,1,Al,Austin,NOSUP,2\n',
    },
  },
  'nosup-key-column': nosupError(
    'U,NOSUP,Al,Austin,2021-10-05\n',
    'CsvNoSupValue "NOSUP" in key column user_id',
  ),
  'nosup-i-row': nosupError(
    'I,5,NOSUP,Austin,2021-10-05\n',
    'CsvNoSupValue "NOSUP" in an I row, column name',
  ),
  'nosup-missing-key': nosupError(
    'U,1,Al,Austin,2021-10-05\nU,9,Al,NOSUP,NOSUP\n',
    'CsvNoSupValue in column city of a U row whose key is not in the table',
  ),
  'nosup-deleted-key': nosupError(
    'D,2,,,\nU,2,Bob,Boston,NOSUP\n',
    'CsvNoSupValue in column last_login of a U row whose key is not in the table',
  ),
  'tz-fall-back': {
    table: TABLE,
    format: NY,
    files: { 'LOAD00000001.csv': LOAD, ...FALL_BACK },
    mtimes: FALL_BACK_MTIMES,
  },
  // The file named 01:10 (EST) comes after the applied 01:45 (EDT): not a late file.
  'tz-fall-back-over-runs': {
    table: TABLE,
    format: NY,
    before: { table: TABLE, files: { 'LOAD00000001.csv': LOAD, ...fallBack('012000', '014500') } },
    files: fallBack('011000', '015500', '020500'),
    mtimes: FALL_BACK_MTIMES,
  },
  // 2021-03-14 in New York: 02:00-03:00 does not happen (EST, then EDT).
  'tz-spring-forward': {
    table: TABLE,
    format: NY,
    files: {
      'LOAD00000001.csv': LOAD,
      '2021/03/14/20210314-013000000.csv': 'U,1,A1,Austin,2021-03-14\n', // 06:30Z
      '2021/03/14/20210314-030500000.csv': 'U,1,A2,Austin,2021-03-14\n', // 07:05Z
      '2021/03/14/20210314-015900000.csv': 'U,2,B1,Boston,2021-03-14\n', // 06:59Z
    },
  },
  'tz-spring-forward-skipped-hour': {
    table: TABLE,
    format: NY,
    files: { 'LOAD00000001.csv': LOAD, '2021/03/14/20210314-023000000.csv': 'U,1,A1,Austin,2021-03-14\n' },
    error: {
      code: 'bad_file_name',
      text: 'names 2021-03-14 02:30:00, a time that does not exist in America/New_York',
    },
  },
  // Written before the name's first occurrence: neither instant can be the one DMS meant.
  'tz-ambiguous': {
    table: TABLE,
    format: NY,
    files: { 'LOAD00000001.csv': LOAD, [`${BACK}013000000.csv`]: 'U,1,A1,Austin,2021-11-07\n' },
    mtimes: { [`${BACK}013000000.csv`]: '2021-11-07T05:29:59.500Z' },
    error: {
      code: 'ambiguous_file_time',
      text: 'names 2021-11-07 01:30:00, which happened twice in America/New_York (clocks went back), and its modification time 2021-11-07T05:29:59.500Z does not tell which',
    },
  },
}

describe('the Spark engine reads CsvNoSupValue and DatePartitionTimezone as lakesync does', () => {
  const { dirs } = sparkCases(CASES)

  /** The published rows of a case's Spark target, as DuckDB reads them (dates as text). */
  const rows = async (id: string) =>
    queryRows(
      `SELECT * FROM read_parquet(${await parquetFile(dirs.get(id)!.spark, 'users')}, hive_partitioning = false)`,
    )

  it('keeps the previous value of each NOSUP column of a U row, dates included', async () => {
    const want = [
      [1, 'Alice', 'Houston', '2021-10-05'],
      [2, 'Bobby', 'Dallas', '2021-10-02'],
      [3, 'Cyd', null, '2021-10-06'],
    ]
    expect(await rows('nosup-kept')).toEqual(want)
    expect(await rows('nosup-kept-over-runs')).toEqual(want)
    expect((await rows('nosup-kept-in-sequence'))[0]).toEqual([1, 'Al', 'Houston', '2021-10-05'])
  })

  it('orders local-time names by the UTC time they encode, the repeated hour by modification time', async () => {
    expect(await rows('tz-fall-back')).toEqual([
      [1, 'A3', 'Austin', '2021-11-07'],
      [2, 'B2', 'Boston', '2021-11-07'],
      [3, 'Cy', 'Chicago', '2021-10-03'],
    ])
    const applied = (await current(dirs.get('tz-fall-back')!.spark)).files.map((f) => f.path)
    expect(applied).toEqual([
      'LOAD00000001.csv',
      `${BACK}012000000.csv`,
      `${BACK}014500000.csv`,
      `${BACK}011000000.csv`,
      `${BACK}015500000.csv`,
      `${BACK}020500000.csv`,
    ])
    expect((await current(dirs.get('tz-fall-back-over-runs')!.spark)).version).toBe(2)
    const spring = (await current(dirs.get('tz-spring-forward')!.spark)).files
    expect(spring.map((f) => f.path.replace('2021/03/14/', ''))).toEqual([
      'LOAD00000001.csv',
      '20210314-013000000.csv',
      '20210314-015900000.csv',
      '20210314-030500000.csv',
    ])
  })
})
