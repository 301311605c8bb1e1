import { randomUUID } from 'node:crypto';
import { httpToEvent } from '../../src/local/http-to-event.ts';

/** The event every invocation sends: a Lambda Function URL GET /, as `lambda-php serve` would make it. */
export function functionUrlGetEvent(): Buffer {
  const event = httpToEvent(
    'function-url',
    {
      method: 'GET',
      target: '/',
      headers: [
        ['Host', 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws'],
        ['User-Agent', 'lambda-php-bench/1.0'],
        ['Accept', 'text/html,application/xhtml+xml'],
        ['Accept-Encoding', 'gzip, deflate'],
        ['Accept-Language', 'en-US,en;q=0.9'],
      ],
      body: Buffer.alloc(0),
      sourceIp: '203.0.113.7',
      protocol: 'HTTP/1.1',
      port: 443,
    },
    { requestId: randomUUID(), now: new Date(), region: 'us-east-1' },
  );
  return Buffer.from(JSON.stringify(event));
}

/** The body of a Function URL result, decoded; throws on anything but a 200. */
export function resultBody(payload: Buffer | string): string {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  let result: { statusCode?: unknown; body?: unknown; isBase64Encoded?: unknown };
  try {
    result = JSON.parse(text) as typeof result;
  } catch {
    throw new Error(`the function's result is not JSON: ${text.slice(0, 300)}`);
  }
  if (result.statusCode !== 200) throw new Error(`expected statusCode 200, got ${String(result.statusCode)}: ${text.slice(0, 300)}`);
  if (typeof result.body !== 'string') throw new Error(`the result has no body: ${text.slice(0, 300)}`);
  return result.isBase64Encoded === true ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
}
