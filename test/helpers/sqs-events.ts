/** SQS events as the Lambda service hands them to the merge handler, and the S3 notifications their bodies carry. */
import { createHash } from 'node:crypto'
import { PutBucketNotificationConfigurationCommand, type S3Client } from '@aws-sdk/client-s3'
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { SQSEvent, SQSRecord } from 'aws-lambda'

/** The body S3 sends when a notification is configured (no object behind it). */
export const S3_TEST_EVENT = { Event: 's3:TestEvent' }

/** An S3 event notification for objects created under `bucket`. */
export function s3Notification(bucket: string, ...keys: string[]) {
  return {
    Records: keys.map((key) => ({
      eventSource: 'aws:s3',
      s3: { bucket: { name: bucket }, object: { key } },
    })),
  }
}

/** One SQS message as a Lambda record; `body` is sent as is when a string, else as JSON. */
export function sqsRecord(
  messageId: string,
  body: unknown,
  receiptHandle = `receipt-${messageId}`,
): SQSRecord {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return {
    messageId,
    receiptHandle,
    body: text,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'lakesync-test',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(text).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:lakesync',
    awsRegion: 'us-east-1',
  }
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records }
}

/**
 * A queue that `bucket`'s object-created notifications reach (on moto), as the stack wires the staging bucket; its
 * URL. `attributes` as SQS takes them (VisibilityTimeout, ...).
 */
export async function notifiedQueue(
  s3: S3Client,
  sqs: SQSClient,
  bucket: string,
  queueName: string,
  attributes: Record<string, string> = {},
): Promise<string> {
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes })))
    .QueueUrl!
  const arn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: { QueueConfigurations: [{ QueueArn: arn, Events: ['s3:ObjectCreated:*'] }] },
    }),
  )
  return queueUrl
}
