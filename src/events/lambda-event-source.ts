import { isJsonObject, type JsonObject } from './json-object.ts';

/**
 * Where a non-HTTP event came from, as PHP sees it in `$_SERVER['LAMBDA_EVENT_SOURCE']`. The name is
 * read off the event's documented shape, the name AWS itself gives the source where the event
 * carries one. It is a hint for routing inside the script, not a proof: whoever may invoke the
 * function can send any shape.
 */
export type LambdaEventSource = (typeof EVENT_SOURCES)[number]['source'] | typeof DIRECT;

/** Nothing identifies the event: a direct invocation (`aws lambda invoke`, an SDK, Step Functions). */
export const DIRECT = 'direct';

/**
 * Tried in order; the first whose shape matches names the event. Each shape is the one the Lambda
 * developer guide documents for that source ("Invoking Lambda with events from other AWS services").
 */
const EVENT_SOURCES = [
  // Batches of records, each naming its source: `Records[0].eventSource` (`EventSource` for SNS).
  { source: 'aws:sqs', matches: (event: JsonObject) => firstRecordSource(event) === 'aws:sqs' },
  { source: 'aws:sns', matches: (event: JsonObject) => firstRecordSource(event) === 'aws:sns' },
  { source: 'aws:s3', matches: (event: JsonObject) => firstRecordSource(event) === 'aws:s3' },
  { source: 'aws:dynamodb', matches: (event: JsonObject) => firstRecordSource(event) === 'aws:dynamodb' },
  { source: 'aws:kinesis', matches: (event: JsonObject) => firstRecordSource(event) === 'aws:kinesis' },
  // EventBridge (rules, schedules, Pipes with an event target): an envelope with `source`,
  // `detail-type` and `detail`; a scheduled rule's is `"source": "aws.events", "detail-type": "Scheduled Event"`.
  {
    source: 'aws:events',
    matches: (event: JsonObject) => typeof event.source === 'string' && typeof event['detail-type'] === 'string' && 'detail' in event,
  },
  // Sources that batch differently name themselves on the event: Amazon MSK, self-managed Kafka,
  // Amazon MQ (ActiveMQ, RabbitMQ).
  { source: 'aws:kafka', matches: (event: JsonObject) => event.eventSource === 'aws:kafka' },
  { source: 'SelfManagedKafka', matches: (event: JsonObject) => event.eventSource === 'SelfManagedKafka' },
  { source: 'aws:mq', matches: (event: JsonObject) => event.eventSource === 'aws:mq' },
  { source: 'aws:rmq', matches: (event: JsonObject) => event.eventSource === 'aws:rmq' },
] as const;

/** The sources this runtime names, in the order they are tried (for the README and the tests). */
export const NAMED_EVENT_SOURCES: readonly string[] = EVENT_SOURCES.map((entry) => entry.source);

/** The event's source name, or `direct` when no documented shape matches (any JSON: a string, `[]`, `{}`). */
export function lambdaEventSource(event: unknown): LambdaEventSource {
  if (!isJsonObject(event)) return DIRECT;
  return EVENT_SOURCES.find((entry) => entry.matches(event))?.source ?? DIRECT;
}

function firstRecordSource(event: JsonObject): unknown {
  const record: unknown = Array.isArray(event.Records) ? event.Records[0] : undefined;
  if (!isJsonObject(record)) return undefined;
  return record.eventSource ?? record.EventSource;
}
