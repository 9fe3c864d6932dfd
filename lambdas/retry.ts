/**
 * Messages of a busy table (another run holds its lease) come back soon: they are reported as batch item failures
 * and their visibility is set to the lease's expiry (SQS ChangeMessageVisibility), so if the holder dies its files are
 * applied about one lease later instead of after the queue's visibility timeout (6 x the function's timeout). If the
 * holder lives, it re-lists after its commit and the returning message finds nothing left.
 *
 * A message near the dead-letter queue's receive count is not failed again (a long run could otherwise push healthy
 * messages there): it is deleted, and the holder, or the periodic sweep if the holder dies, applies its files.
 */
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { SQSRecord } from 'aws-lambda'

// SQS's limit on a message's visibility timeout (12 hours) and on a batch request's entries.
const MAX_VISIBILITY_SECONDS = 43_200
const BATCH = 10

/** Seconds until the lease ends, plus one so the message returns after it (at least 1). */
export function visibilityUntil(expiresAt: string, now: number): number {
  const seconds = Math.ceil((Date.parse(expiresAt) - now) / 1000) + 1
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, Number.isFinite(seconds) ? seconds : 1))
}

export interface RetryPlan {
  retry: SQSRecord[] // failed, back at the lease's end
  release: SQSRecord[] // near the dead-letter queue: deleted, left to the holder and the sweep
}

/** Which busy messages to fail and which to let go (`maxReceiveCount`: the queue's; undefined: fail them all). */
export function planRetry(records: SQSRecord[], maxReceiveCount: number | undefined): RetryPlan {
  const plan: RetryPlan = { retry: [], release: [] }
  for (const r of records) {
    const received = Number(r.attributes.ApproximateReceiveCount ?? '1')
    if (maxReceiveCount !== undefined && received >= maxReceiveCount - 1) plan.release.push(r)
    else plan.retry.push(r)
  }
  return plan
}

/** Makes `records` visible again `seconds` from now: the ids whose visibility could not be changed. */
export async function returnIn(
  sqs: SQSClient,
  queueUrl: string,
  records: SQSRecord[],
  seconds: number,
): Promise<string[]> {
  const failed: string[] = []
  for (let i = 0; i < records.length; i += BATCH) {
    const chunk = records.slice(i, i + BATCH)
    const res = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((r, j) => ({
          Id: String(j),
          ReceiptHandle: r.receiptHandle,
          VisibilityTimeout: seconds,
        })),
      }),
    )
    for (const f of res.Failed ?? []) failed.push(chunk[Number(f.Id)]!.messageId)
  }
  return failed
}
