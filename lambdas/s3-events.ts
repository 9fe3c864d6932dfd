/**
 * Which tables an SQS batch of S3 notifications concerns. The event only says "something arrived": the run lists
 * the source itself, so all that matters here is which configured table a key falls under. Event content is
 * untrusted: keys outside the configured bucket and prefixes, test events and malformed bodies are reported and
 * ignored, never acted on.
 */
import type { SQSRecord } from 'aws-lambda'
import type { LambdaConfig } from './config.js'

export interface Routed {
  byTable: Map<string, string[]> // table -> SQS message ids that mention it
  ignored: { messageId: string; reason: string }[] // messages that concern no table (deleted from the queue)
}

/** S3 event keys are URL-encoded with `+` for space. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '))
}

interface S3EventBody {
  Event?: string // s3:TestEvent when the notification is first configured
  Records?: { eventSource?: string; s3?: { bucket?: { name?: string }; object?: { key?: string } } }[]
}

export function routeRecords(records: SQSRecord[], config: LambdaConfig): Routed {
  const byTable = new Map<string, string[]>()
  const ignored: Routed['ignored'] = []
  for (const r of records) {
    let body: S3EventBody
    try {
      body = JSON.parse(r.body) as S3EventBody
    } catch {
      ignored.push({ messageId: r.messageId, reason: 'body is not JSON' })
      continue
    }
    if (body.Event === 's3:TestEvent') {
      ignored.push({ messageId: r.messageId, reason: 's3:TestEvent' })
      continue
    }
    const tables = new Set<string>()
    for (const rec of body.Records ?? []) {
      const bucket = rec.s3?.bucket?.name
      const rawKey = rec.s3?.object?.key
      if (rec.eventSource !== 'aws:s3' || bucket !== config.stagingBucket || rawKey === undefined) continue
      let key: string
      try {
        key = decodeS3Key(rawKey)
      } catch {
        continue
      }
      const route = config.tables.find((t) => key.startsWith(t.stagingPrefix))
      if (route) tables.add(route.table)
      // A CDC_TXN file (PreserveTransactions) holds the changes of every table: each one routed with it runs.
      for (const t of config.tables)
        if (t.transactions && key.startsWith(t.transactions.prefix)) tables.add(t.table)
    }
    if (tables.size === 0)
      ignored.push({ messageId: r.messageId, reason: 'no key under a configured staging prefix' })
    for (const t of tables) byTable.set(t, [...(byTable.get(t) ?? []), r.messageId])
  }
  return { byTable, ignored }
}
