/**
 * The project's own Lambda event fixtures (test/fixtures/events, see its README.md): one per event
 * source and shape, written from the AWS documentation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { HeaderMap } from '../../src/http/http-message.ts';

export const EVENT_FIXTURES_DIR = new URL('../fixtures/events/', import.meta.url);

/** Every fixture's file name, sorted. */
export function listEventFixtures(): string[] {
  return readdirSync(EVENT_FIXTURES_DIR).filter((file) => file.endsWith('.json')).sort();
}

/** A fresh copy each time, so a test may change it freely. */
export function loadEventFixture(file: string): any {
  return JSON.parse(readFileSync(new URL(file, EVENT_FIXTURES_DIR), 'utf8'));
}

export function headersAsObject(headers: HeaderMap): Record<string, string[]> {
  return Object.fromEntries(headers);
}

/** The HTTP fixtures, each with the source it must be read as. */
export const HTTP_EVENT_FIXTURES = {
  'alb-health-check.json': 'alb',
  'alb-multi-value.json': 'alb',
  'alb.json': 'alb',
  'api-gateway-http-api.json': 'api-gateway-v2',
  'api-gateway-rest-single-value.json': 'api-gateway-v1',
  'api-gateway-rest.json': 'api-gateway-v1',
  'function-url-base64-body.json': 'api-gateway-v2',
  'function-url.json': 'api-gateway-v2',
} as const;

/** The fixtures of sources that are not HTTP, which the runtime rejects, with what the error must say. */
export const REJECTED_EVENT_FIXTURES: Readonly<Record<string, RegExp>> = {
  'cloudformation-custom-resource.json': /this looks like a CloudFormation custom resource event/,
  'cloudfront-origin-request.json': /this looks like a CloudFront Lambda@Edge event/,
  'cloudwatch-logs.json': /this looks like a CloudWatch Logs subscription event/,
  'dynamodb-stream.json': /this looks like a DynamoDB Streams event/,
  'eventbridge-scheduled.json': /this looks like an EventBridge event \(source "aws\.events", detail-type "Scheduled Event"\)/,
  'kinesis.json': /this looks like a Kinesis event/,
  'msk.json': /this looks like an Amazon MSK event/,
  's3.json': /this looks like an S3 event/,
  'sns.json': /this looks like an SNS event/,
  'sqs.json': /this looks like an SQS event/,
  'websocket-connect.json': /this looks like an API Gateway WebSocket message \(eventType "CONNECT", routeKey "\$connect"\), which is not an HTTP request/,
  'websocket-message.json': /this looks like an API Gateway WebSocket message \(eventType "MESSAGE", routeKey "sendMessage"\), which is not an HTTP request/,
};
