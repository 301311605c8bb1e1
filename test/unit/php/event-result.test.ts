import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '../../../src/http/http-message.ts';
import { EventInvocationError, eventFailure, eventResult, MAX_ERROR_MESSAGE_CHARS } from '../../../src/php/event-result.ts';
import { JsonPayload, ResultSerializer } from '../../../src/runtime/result-serializer.ts';

/** What the runtime loop posts to /response for `body`. */
function posted(body: string | Buffer): string {
  const json = new ResultSerializer().toJson(eventResult(Buffer.isBuffer(body) ? body : Buffer.from(body)));
  return typeof json === 'string' ? json : json.toString('utf8');
}

describe('eventResult: the output of a script that succeeded is the result', () => {
  it('passes valid JSON through as it is, byte for byte', () => {
    const batch = '{"batchItemFailures":[{"itemIdentifier":"0f6c8b5e-1a2b-4c3d-8e9f-0a1b2c3d4e02"}]}';
    expect(posted(batch)).toBe(batch);
    // JSON.parse + JSON.stringify would round 2^64 and drop the spacing.
    expect(posted('{ "id": 18446744073709551616, "ok": true }\n')).toBe('{ "id": 18446744073709551616, "ok": true }\n');
    expect(posted('[1, 2, 3]')).toBe('[1, 2, 3]');
  });

  it('passes JSON scalars through: a number, true, null, a JSON string', () => {
    expect(posted('42')).toBe('42');
    expect(posted('true')).toBe('true');
    expect(posted('null')).toBe('null');
    expect(posted('"done"')).toBe('"done"');
  });

  it('makes no output, or only whitespace, null', () => {
    expect(posted('')).toBe('null');
    expect(posted(' \n\t\r\n')).toBe('null');
  });

  it('makes any other output a JSON string of it', () => {
    expect(posted('processed 3 messages')).toBe('"processed 3 messages"');
    expect(posted('line one\nline "two"\n')).toBe('"line one\\nline \\"two\\"\\n"');
    expect(posted('{"almost": json')).toBe(JSON.stringify('{"almost": json'));
    expect(posted('café ✓')).toBe('"café ✓"');
  });

  it('replaces bytes that are not UTF-8, so that what is posted is valid JSON', () => {
    const json = posted(Buffer.from([0x6f, 0x6b, 0xff, 0xfe]));
    expect(JSON.parse(json)).toBe('ok\ufffd\ufffd');
    expect(posted(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3]), Buffer.from('"}')]))).toBe('{"a":"\ufffd"}');
  });

  it('is a JsonPayload the serializer posts unchanged', () => {
    expect(eventResult(Buffer.from('{"x":1}'))).toBeInstanceOf(JsonPayload);
  });
});

function response(statusCode: number, body = '', headers: Array<[string, string]> = []): HttpResponse {
  const map = new Map<string, string[]>();
  for (const [name, value] of headers) map.set(name, [...(map.get(name) ?? []), value]);
  return { statusCode, headers: map, body: Buffer.from(body) };
}

function failureOf(r: HttpResponse, phpError?: string) {
  const warnings: string[] = [];
  const error = eventFailure(r, { scriptName: '/worker.php', phpError, warn: (message) => warnings.push(message) });
  return { error, warnings };
}

describe('eventFailure: a status of 400 or more fails the invocation', () => {
  it('is Php.<status>, with the output as the message', () => {
    for (const status of [400, 404, 422, 500, 503, 599]) {
      const { error, warnings } = failureOf(response(status, `failed with ${status}\n`));
      expect(error).toBeInstanceOf(EventInvocationError);
      expect(error.errorType).toBe(`Php.${status}`);
      expect(error.message).toBe(`failed with ${status}`);
      expect(warnings).toEqual([]);
    }
  });

  it("takes the error type from the script's Lambda-Error-Type header", () => {
    expect(failureOf(response(503, 'busy', [['lambda-error-type', 'OrderService.Busy']])).error.errorType).toBe('OrderService.Busy');
    expect(failureOf(response(400, 'x', [['lambda-error-type', '  Spaced Name  ']])).error.errorType).toBe('Spaced Name');
  });

  it('refuses an error type a Runtime API header cannot carry or Lambda would not show, and says so', () => {
    for (const bad of ['', 'x'.repeat(257), 'caf\u00e9', 'tab\there']) {
      const { error, warnings } = failureOf(response(500, 'boom', [['lambda-error-type', bad]]));
      expect(error.errorType, JSON.stringify(bad)).toBe('Php.500');
      expect(warnings, JSON.stringify(bad)).toEqual([expect.stringContaining('/worker.php: the Lambda-Error-Type header')]);
    }
    expect(failureOf(response(500, 'boom', [['lambda-error-type', 'x'.repeat(256)]])).error.errorType).toBe('x'.repeat(256));
  });

  it('takes the first Lambda-Error-Type when the script sent several', () => {
    expect(failureOf(response(500, 'x', [['lambda-error-type', 'First'], ['lambda-error-type', 'Second']])).error.errorType).toBe('First');
  });

  it("carries the start of a long output, marked as cut", () => {
    const { error } = failureOf(response(500, 'a'.repeat(MAX_ERROR_MESSAGE_CHARS + 10)));
    expect(error.message).toBe(`${'a'.repeat(MAX_ERROR_MESSAGE_CHARS)}…`);
  });

  it('carries the PHP error that ended the script when there is no output (a fatal error with display_errors off)', () => {
    const fatal = 'PHP Fatal error:  Uncaught Error: Call to undefined function f() in /var/task/worker.php:3\nStack trace:\n#0 {main}\n  thrown in /var/task/worker.php on line 3';
    const { error } = failureOf(response(500), fatal);
    expect(error.errorType).toBe('Php.500');
    expect(error.message).toBe(fatal);
    // Output wins over the log: it is what the script chose to say.
    expect(failureOf(response(500, 'partial'), fatal).error.message).toBe('partial');
  });

  it('says what happened when there is neither output nor a PHP error', () => {
    expect(failureOf(response(503, '  \n')).error.message).toBe('/worker.php answered status 503 without output');
  });
});
