import { isJsonObject, isWebSocketRequestContext, type JsonObject } from './json-object.ts';

// `Records[0].eventSource` (`EventSource` for SNS), or the event's own `eventSource` for the sources
// that batch records differently (Kafka, Amazon MQ), of the event sources people most often wire by mistake.
const RECORD_SOURCES: Readonly<Record<string, string>> = {
  'aws:sqs': 'an SQS event',
  'aws:s3': 'an S3 event',
  'aws:sns': 'an SNS event',
  'aws:dynamodb': 'a DynamoDB Streams event',
  'aws:kinesis': 'a Kinesis event',
  'aws:kafka': 'an Amazon MSK event',
  SelfManagedKafka: 'a self-managed Apache Kafka event',
  'aws:mq': 'an Amazon MQ event',
  'aws:ses': 'an SES event',
  'aws:codecommit': 'a CodeCommit event',
};
const MAX_LISTED_KEYS = 6;
const MAX_QUOTED_LENGTH = 40;

/**
 * Says in a few words what an event that is not an HTTP request looks like, so that the error in
 * the caller's logs points at the misconfigured trigger rather than at this runtime.
 */
export function describeUnsupportedEvent(event: unknown): string {
  if (event === null) return 'the event is JSON null';
  if (Array.isArray(event)) return `the event is a JSON array of ${event.length} item${event.length === 1 ? '' : 's'}`;
  if (!isJsonObject(event)) return `the event is a JSON ${typeof event === 'undefined' ? 'nothing' : typeof event}`;

  const record = Array.isArray(event.Records) ? event.Records[0] : undefined;
  if (isJsonObject(record)) return describeRecord(record);
  if (typeof event.eventSource === 'string') return `this looks like ${describeSource(event.eventSource)}`;
  if (isWebSocketRequestContext(event.requestContext)) return describeWebSocket(event.requestContext as JsonObject);
  if (typeof event.source === 'string' && typeof event['detail-type'] === 'string') {
    return `this looks like an EventBridge event (source ${quote(event.source)}, detail-type ${quote(event['detail-type'])})`;
  }
  if (isJsonObject(event.awslogs)) return 'this looks like a CloudWatch Logs subscription event';
  if (typeof event.RequestType === 'string' && typeof event.ResponseURL === 'string') {
    return 'this looks like a CloudFormation custom resource event';
  }

  const keys = Object.keys(event);
  if (keys.length === 0) return 'the event is an empty JSON object';
  const listed = keys.slice(0, MAX_LISTED_KEYS).map(quote).join(', ');
  const more = keys.length > MAX_LISTED_KEYS ? ` and ${keys.length - MAX_LISTED_KEYS} more` : '';
  return `the event is a JSON object with keys ${listed}${more}, none of which make an HTTP request`;
}

function describeRecord(record: JsonObject): string {
  const source = typeof record.eventSource === 'string' ? record.eventSource : record.EventSource;
  if (typeof source === 'string') return `this looks like ${describeSource(source)}`;
  if (isJsonObject(record.cf)) return 'this looks like a CloudFront Lambda@Edge event';
  return 'this looks like a batch of Records from a non-HTTP event source';
}

function describeSource(source: string): string {
  return RECORD_SOURCES[source] ?? `an event from ${quote(source)}`;
}

function describeWebSocket(requestContext: JsonObject): string {
  const details = [
    typeof requestContext.eventType === 'string' ? `eventType ${quote(requestContext.eventType)}` : undefined,
    typeof requestContext.routeKey === 'string' ? `routeKey ${quote(requestContext.routeKey)}` : undefined,
  ].filter((detail) => detail !== undefined);
  const suffix = details.length > 0 ? ` (${details.join(', ')})` : '';
  return `this looks like an API Gateway WebSocket message${suffix}, which is not an HTTP request`;
}

function quote(text: string): string {
  const clipped = text.length > MAX_QUOTED_LENGTH ? text.slice(0, MAX_QUOTED_LENGTH) + '…' : text;
  return JSON.stringify(clipped);
}
