import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectEventSource } from '../../../src/events/detect-event-source.ts';
import { lambdaEventSource, NAMED_EVENT_SOURCES } from '../../../src/events/lambda-event-source.ts';
import { loadEventFixture, REJECTED_EVENT_FIXTURES } from '../../support/event-fixtures.ts';

/** What each non-HTTP fixture is named, read off the fixture (and AWS's documentation) by hand. */
const FIXTURE_SOURCES: Record<keyof typeof REJECTED_EVENT_FIXTURES, string> = {
  'sqs.json': 'aws:sqs',
  's3.json': 'aws:s3',
  'sns.json': 'aws:sns',
  'dynamodb-stream.json': 'aws:dynamodb',
  'kinesis.json': 'aws:kinesis',
  'eventbridge-scheduled.json': 'aws:events',
  'msk.json': 'aws:kafka',
  // Documented shapes that carry no name of their own: direct, as any JSON.
  'cloudwatch-logs.json': 'direct',
  'cloudformation-custom-resource.json': 'direct',
  'cloudfront-origin-request.json': 'direct',
  'websocket-connect.json': 'direct',
  'websocket-message.json': 'direct',
};

/** The ready events of examples/events that are not HTTP, and what the worker example's script sees. */
const EXAMPLE_EVENT_SOURCES: Record<string, string> = {
  'sqs.json': 'aws:sqs',
  's3.json': 'aws:s3',
  'sns.json': 'aws:sns',
  'dynamodb.json': 'aws:dynamodb',
  'kinesis.json': 'aws:kinesis',
  'scheduled.json': 'aws:events',
  'eventbridge.json': 'aws:events',
  'direct.json': 'direct',
};

describe('lambdaEventSource', () => {
  it.each(Object.entries(FIXTURE_SOURCES))('%s is %s', (file, source) => {
    expect(lambdaEventSource(loadEventFixture(file))).toBe(source);
  });

  it('covers every non-HTTP fixture', () => {
    expect(Object.keys(FIXTURE_SOURCES).sort()).toEqual(Object.keys(REJECTED_EVENT_FIXTURES).sort());
  });

  it.each(Object.entries(EXAMPLE_EVENT_SOURCES))('examples/events/%s is %s, and is no HTTP event', (file, source) => {
    const event = JSON.parse(readFileSync(new URL(`../../../examples/events/${file}`, import.meta.url), 'utf8'));
    expect(detectEventSource(event)).toBeUndefined();
    expect(lambdaEventSource(event)).toBe(source);
  });

  it('names every source in its table by the documented field', () => {
    const record = (field: string, value: string) => ({ Records: [{ [field]: value }] });
    expect(lambdaEventSource(record('eventSource', 'aws:sqs'))).toBe('aws:sqs');
    expect(lambdaEventSource(record('EventSource', 'aws:sns'))).toBe('aws:sns');
    expect(lambdaEventSource(record('eventSource', 'aws:s3'))).toBe('aws:s3');
    expect(lambdaEventSource(record('eventSource', 'aws:dynamodb'))).toBe('aws:dynamodb');
    expect(lambdaEventSource(record('eventSource', 'aws:kinesis'))).toBe('aws:kinesis');
    expect(lambdaEventSource({ source: 'com.example', 'detail-type': 'Order Shipped', detail: {} })).toBe('aws:events');
    expect(lambdaEventSource({ eventSource: 'aws:kafka', records: {} })).toBe('aws:kafka');
    expect(lambdaEventSource({ eventSource: 'SelfManagedKafka', records: {} })).toBe('SelfManagedKafka');
    expect(lambdaEventSource({ eventSource: 'aws:mq', messages: [] })).toBe('aws:mq');
    expect(lambdaEventSource({ eventSource: 'aws:rmq', rmqMessagesByQueue: {} })).toBe('aws:rmq');
    expect(NAMED_EVENT_SOURCES).toEqual(['aws:sqs', 'aws:sns', 'aws:s3', 'aws:dynamodb', 'aws:kinesis', 'aws:events', 'aws:kafka', 'SelfManagedKafka', 'aws:mq', 'aws:rmq']);
  });

  it('is direct for any other JSON: scalars, arrays, objects without a documented shape', () => {
    for (const event of ['hello', 42, true, null, [], [{ eventSource: 'aws:sqs' }], {}, { orderId: 1001 }, { console: 3 }]) {
      expect(lambdaEventSource(event), JSON.stringify(event)).toBe('direct');
    }
  });

  it('does not name a source from a shape that only looks like it', () => {
    // Empty or malformed batches, a source it does not know, an EventBridge envelope without detail.
    expect(lambdaEventSource({ Records: [] })).toBe('direct');
    expect(lambdaEventSource({ Records: ['aws:sqs'] })).toBe('direct');
    expect(lambdaEventSource({ Records: {} })).toBe('direct');
    expect(lambdaEventSource({ Records: [{ eventSource: 'aws:custom' }] })).toBe('direct');
    expect(lambdaEventSource({ Records: [{ eventSource: 'aws:codecommit' }] })).toBe('direct');
    expect(lambdaEventSource({ Records: [{ EventSource: 'aws:sqs' }] })).toBe('aws:sqs');
    expect(lambdaEventSource({ source: 'aws.events', 'detail-type': 'Scheduled Event' })).toBe('direct');
    expect(lambdaEventSource({ source: 1, 'detail-type': 'x', detail: {} })).toBe('direct');
    expect(lambdaEventSource({ eventSource: 'my-app' })).toBe('direct');
  });

  it('names the first record: a batch is of one source', () => {
    expect(lambdaEventSource({ Records: [{ eventSource: 'aws:s3' }, { eventSource: 'aws:sqs' }] })).toBe('aws:s3');
  });

  it('has an example event for each named AWS source a worker is most often wired to', () => {
    const examples = readdirSync(new URL('../../../examples/events/', import.meta.url));
    for (const file of Object.keys(EXAMPLE_EVENT_SOURCES)) expect(examples).toContain(file);
  });
});
