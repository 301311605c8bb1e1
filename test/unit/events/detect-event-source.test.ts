import { describe, expect, it } from 'vitest';
import { albAdapter } from '../../../src/events/alb.ts';
import { apiGatewayV1Adapter } from '../../../src/events/api-gateway-v1.ts';
import { apiGatewayV2Adapter } from '../../../src/events/api-gateway-v2.ts';
import { detectEventSource, toHttpRequest, UnsupportedEventError } from '../../../src/events/detect-event-source.ts';
import { htmlResponseWithTwoCookies } from './response-fixtures.ts';
import { loadEventFixture } from '../../support/event-fixtures.ts';

const SQS_EVENT = {
  Records: [{ messageId: '1', body: 'hi', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q', awsRegion: 'us-east-1' }],
};
const S3_EVENT = { Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' } } }] };
const SNS_EVENT = { Records: [{ EventSource: 'aws:sns', EventVersion: '1.0', Sns: { Message: 'hi' } }] };
const WEBSOCKET_V2_FRAME = {
  requestContext: { routeKey: '$default', eventType: 'MESSAGE', connectionId: 'L0SM9cOFvHcCIhw=', messageId: 'x', apiId: 'a', stage: 'prod' },
  body: '{"action":"send"}',
  isBase64Encoded: false,
};

function errorFor(event: unknown): UnsupportedEventError {
  try {
    toHttpRequest(event);
  } catch (error) {
    if (error instanceof UnsupportedEventError) return error;
    throw error;
  }
  throw new Error('toHttpRequest accepted the event');
}

describe('detectEventSource', () => {
  it('picks the adapter for each HTTP source', () => {
    expect(detectEventSource(loadEventFixture('api-gateway-rest.json'))).toBe(apiGatewayV1Adapter);
    expect(detectEventSource(loadEventFixture('api-gateway-http-api.json'))).toBe(apiGatewayV2Adapter);
    expect(detectEventSource(loadEventFixture('function-url.json'))).toBe(apiGatewayV2Adapter);
    expect(detectEventSource(loadEventFixture('alb-multi-value.json'))).toBe(albAdapter);
  });

  it('returns undefined for any other JSON, without throwing', () => {
    const notHttp: unknown[] = [
      null, undefined, [], [1, 2], 'GET /', 42, true, {}, SQS_EVENT, S3_EVENT, SNS_EVENT, WEBSOCKET_V2_FRAME,
      { Records: [] }, { Records: [null] }, { requestContext: null }, { httpMethod: 5, path: '/' }, { httpMethod: 'GET', path: '/', requestContext: 'x' },
      { rawPath: '/', requestContext: { http: { method: 1 } } }, { rawPath: 7, requestContext: { http: { method: 'GET' } } },
      loadEventFixture('websocket-connect.json'), loadEventFixture('websocket-message.json'), loadEventFixture('msk.json'),
    ];
    for (const event of notHttp) expect(detectEventSource(event)).toBeUndefined();
  });

  it('rejects a WebSocket frame even when it carries httpMethod and path', () => {
    expect(detectEventSource({ ...WEBSOCKET_V2_FRAME, httpMethod: 'POST', path: '/' })).toBeUndefined();
    expect(detectEventSource({ httpMethod: 'GET', path: '/', requestContext: { connectionId: 'abc' } })).toBeUndefined();
  });
});

describe('toHttpRequest', () => {
  it('returns the request and a toResult shaped for the event it came from', () => {
    const single = toHttpRequest(loadEventFixture('alb.json'));
    expect(single.source).toBe('alb');
    expect(single.request.rawQueryString).toBe('search=blue%20shoes&page=2');
    expect(single.toResult(htmlResponseWithTwoCookies())).toMatchObject({ headers: { 'set-cookie': 'theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT' } });

    const multi = toHttpRequest(loadEventFixture('alb-multi-value.json'));
    expect(multi.toResult(htmlResponseWithTwoCookies())).toMatchObject({
      multiValueHeaders: { 'set-cookie': ['session=abc; Path=/; HttpOnly', 'theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT'] },
    });

    const functionUrl = toHttpRequest(loadEventFixture('function-url.json'));
    expect(functionUrl.source).toBe('api-gateway-v2');
    expect(functionUrl.toResult(htmlResponseWithTwoCookies())).toMatchObject({ cookies: ['session=abc; Path=/; HttpOnly', 'theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT'] });
  });
});

describe('UnsupportedEventError', () => {
  it('is an Error with the Runtime.UnsupportedEvent errorType', () => {
    const error = errorFor({});
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('UnsupportedEventError');
    expect(error.errorType).toBe('Runtime.UnsupportedEvent');
    expect(error.message).toBe(
      'Unsupported event: the event is an empty JSON object; this runtime answers HTTP events (API Gateway REST and HTTP APIs, Lambda Function URLs and Application Load Balancer target groups); ' +
        'set PHP_EVENT_HANDLER to a PHP script to handle other events',
    );
  });

  it('names the event source it recognises', () => {
    expect(errorFor(SQS_EVENT).message).toContain('this looks like an SQS event');
    expect(errorFor(S3_EVENT).message).toContain('this looks like an S3 event');
    expect(errorFor(SNS_EVENT).message).toContain('this looks like an SNS event');
    expect(errorFor({ Records: [{ eventSource: 'aws:custom' }] }).message).toContain('this looks like an event from "aws:custom"');
    expect(errorFor({ Records: [{ cf: { request: {} } }] }).message).toContain('this looks like a CloudFront Lambda@Edge event');
    expect(errorFor(WEBSOCKET_V2_FRAME).message).toContain('this looks like an API Gateway WebSocket message (eventType "MESSAGE", routeKey "$default"), which is not an HTTP request');
    expect(errorFor({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }).message).toContain(
      'this looks like an EventBridge event (source "aws.events", detail-type "Scheduled Event")',
    );
    expect(errorFor({ awslogs: { data: 'H4sI' } }).message).toContain('CloudWatch Logs subscription event');
  });

  it.each([
    ['aws:sqs', 'an SQS event'],
    ['aws:s3', 'an S3 event'],
    ['aws:sns', 'an SNS event'],
    ['aws:dynamodb', 'a DynamoDB Streams event'],
    ['aws:kinesis', 'a Kinesis event'],
    ['aws:kafka', 'an Amazon MSK event'],
    ['SelfManagedKafka', 'a self-managed Apache Kafka event'],
    ['aws:mq', 'an Amazon MQ event'],
    ['aws:ses', 'an SES event'],
    ['aws:codecommit', 'a CodeCommit event'],
  ])('names the source %s, in a record or on the event itself', (source, description) => {
    expect(errorFor({ Records: [{ eventSource: source }] }).message).toContain(`this looks like ${description};`);
    expect(errorFor({ eventSource: source, records: {} }).message).toContain(`this looks like ${description};`);
  });

  it('says a batch of Records it cannot name is one', () => {
    expect(errorFor({ Records: [{ messageId: '1' }] }).message).toContain('this looks like a batch of Records from a non-HTTP event source;');
  });

  it('names a WebSocket message with the details it has, and without parentheses when it has none', () => {
    expect(errorFor({ requestContext: { eventType: 'CONNECT', connectionId: 'c' } }).message).toContain(
      'this looks like an API Gateway WebSocket message (eventType "CONNECT"), which is not an HTTP request',
    );
    expect(errorFor({ requestContext: { routeKey: '$connect', connectionId: 'c' } }).message).toContain(
      'this looks like an API Gateway WebSocket message (routeKey "$connect"), which is not an HTTP request',
    );
    expect(errorFor({ requestContext: { connectionId: 'c' } }).message).toContain(
      'this looks like an API Gateway WebSocket message, which is not an HTTP request',
    );
  });

  it('takes an event for a CloudFormation custom resource only when it has both RequestType and ResponseURL', () => {
    expect(errorFor({ RequestType: 'Create', ResponseURL: 'https://cloudformation-custom-resource-response.example/x' }).message).toContain(
      'this looks like a CloudFormation custom resource event',
    );
    expect(errorFor({ RequestType: 'Create' }).message).toContain('the event is a JSON object with keys "RequestType", none of which');
    expect(errorFor({ ResponseURL: 'https://x.example' }).message).toContain('the event is a JSON object with keys "ResponseURL", none of which');
  });

  it('quotes names of up to 40 characters whole, and cuts longer ones with an ellipsis', () => {
    const forty = 'x'.repeat(40);
    expect(errorFor({ Records: [{ eventSource: forty }] }).message).toContain(`an event from "${forty}";`);
    expect(errorFor({ Records: [{ eventSource: forty + 'yz' }] }).message).toContain(`an event from "${forty}…";`);
  });

  it('describes an event whose requestContext is null as an object, without failing on it', () => {
    expect(errorFor({ requestContext: null, id: 1 }).message).toContain('the event is a JSON object with keys "requestContext", "id", none of which');
  });

  it('says what kind of JSON it got otherwise', () => {
    expect(errorFor(null).message).toContain('the event is JSON null');
    expect(errorFor([1, 2]).message).toContain('the event is a JSON array of 2 items');
    expect(errorFor([{}]).message).toContain('the event is a JSON array of 1 item;');
    expect(errorFor(true).message).toContain('the event is a JSON boolean;');
    expect(errorFor(undefined).message).toContain('the event is a JSON nothing;');
    expect(errorFor('hello').message).toContain('the event is a JSON string');
    expect(errorFor(3).message).toContain('the event is a JSON number');
    expect(errorFor({ name: 'x', httpMethod: 'GET' }).message).toContain('the event is a JSON object with keys "name", "httpMethod", none of which make an HTTP request');
    const manyKeys = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, i]));
    expect(errorFor(manyKeys).message).toContain('keys "k0", "k1", "k2", "k3", "k4", "k5" and 3 more');
    const sixKeys = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, i]));
    expect(errorFor(sixKeys).message).toContain('keys "k0", "k1", "k2", "k3", "k4", "k5", none of which');
  });
});
