/**
 * `PreserveTransactions` with `CdcPath` [S3T "Capturing data changes (CDC) including transaction order"]: DMS writes
 * the changes of every table to `CDC_TXN-<timestamp>.csv` files in one folder, rows
 * `operation,table_name,database_schema_name,field_value,...`. lakesync does not read them yet: the setting and the
 * files are refused by name, never misread.
 */
import { describe, expect, it } from 'vitest'
import { listDmsFiles } from '../etl/dms/files.js'
import { parseDmsFormat } from '../etl/dms/format.js'
import { LakesyncError } from '../etl/errors.js'

describe('PreserveTransactions / CdcPath', () => {
  it('refuses format.preserveTransactions true and a cdcPath as not supported yet', () => {
    for (const format of [
      { preserveTransactions: true },
      { cdcPath: 'cdc' },
      { preserveTransactions: true, cdcPath: 'cdc' },
    ])
      expect(() => parseDmsFormat(format)).toThrow(
        /is not supported yet: DMS PreserveTransactions with CdcPath/,
      )
  })

  it('accepts the settings switched off, as DMS defaults them', () => {
    expect(parseDmsFormat({ preserveTransactions: false, cdcPath: null })).toEqual(parseDmsFormat({}))
  })

  it('names a CDC_TXN file found in a source as a transaction file, not as a malformed name', () => {
    let error: unknown
    try {
      listDmsFiles(['LOAD00000001.csv', 'cdc/CDC_TXN-20201117153046033.csv'])
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(LakesyncError)
    expect((error as LakesyncError).code).toBe('bad_file_name')
    expect((error as LakesyncError).location?.file).toBe('cdc/CDC_TXN-20201117153046033.csv')
    expect((error as LakesyncError).message).toContain(
      'is a DMS transaction file (PreserveTransactions with CdcPath)',
    )
  })
})
