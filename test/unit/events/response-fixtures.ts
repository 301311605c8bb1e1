import type { HttpResponse } from '../../../src/http/http-message.ts';

/** The 8-byte PNG signature: not valid UTF-8 (0x89 cannot start a sequence). */
export const PNG_BYTES = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function htmlResponseWithTwoCookies(): HttpResponse {
  return {
    statusCode: 200,
    headers: new Map([
      ['content-type', ['text/html; charset=UTF-8']],
      ['set-cookie', ['session=abc; Path=/; HttpOnly', 'theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT']],
      ['vary', ['Accept', 'Cookie']],
      ['x-powered-by', ['PHP/8.4']],
    ]),
    body: Buffer.from('<p>héllo</p>', 'utf8'),
  };
}

export function pngResponse(): HttpResponse {
  return { statusCode: 200, headers: new Map([['content-type', ['image/png']]]), body: PNG_BYTES };
}

export function gzipJsonResponse(): HttpResponse {
  return {
    statusCode: 200,
    headers: new Map([['content-type', ['application/json']], ['content-encoding', ['gzip']]]),
    // Valid UTF-8 on purpose: the encoding alone must make it binary.
    body: Buffer.from('{"gzip":"pretend"}'),
  };
}

export function notFoundResponse(): HttpResponse {
  return { statusCode: 404, headers: new Map([['content-type', ['text/plain']]]), body: Buffer.from('no such page') };
}
