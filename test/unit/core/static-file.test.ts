import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpRequest } from '../../../src/http/http-message.ts';
import { serveStaticFile } from '../../../src/php/static-file.ts';

let dir: string;
let css: string;
let png: string;
// Whole seconds are all HTTP dates carry: the .678 must not make a same-second date look older.
const MODIFIED = new Date('2024-01-02T03:04:05.678Z');
const LAST_MODIFIED = 'Tue, 02 Jan 2024 03:04:05 GMT';

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'static-file-'));
  css = path.join(dir, 'style.css');
  writeFileSync(css, 'body { color: red }');
  png = path.join(dir, 'pixel.png');
  writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  for (const file of [css, png]) utimesSync(file, MODIFIED, MODIFIED);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function request(method: string, headers: Record<string, string> = {}): HttpRequest {
  return {
    method,
    path: '/style.css',
    rawQueryString: '',
    headers: new Map(Object.entries(headers).map(([name, value]) => [name, [value]])),
    body: Buffer.alloc(0),
    sourceIp: undefined,
    protocol: 'HTTP/1.1',
    requestContext: {},
  };
}

describe('serveStaticFile', () => {
  it('answers GET with the file, its content type and its Last-Modified date', async () => {
    const response = await serveStaticFile(request('GET'), css);
    expect(response.statusCode).toBe(200);
    expect(response.body.toString()).toBe('body { color: red }');
    expect(Object.fromEntries(response.headers)).toEqual({ 'content-type': ['text/css; charset=utf-8'], 'last-modified': [LAST_MODIFIED] });
    expect((await serveStaticFile(request('GET'), png)).headers.get('content-type')).toEqual(['image/png']);
  });

  it('answers HEAD with the headers of a GET and no body', async () => {
    const response = await serveStaticFile(request('HEAD'), css);
    expect(response.statusCode).toBe(200);
    expect(response.body.length).toBe(0);
    expect(Object.fromEntries(response.headers)).toEqual({ 'content-type': ['text/css; charset=utf-8'], 'last-modified': [LAST_MODIFIED] });
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('answers %s with 405, Allow: GET, HEAD, and no body', async (method) => {
    const response = await serveStaticFile(request(method), css);
    expect(response.statusCode).toBe(405);
    expect(response.headers.get('allow')).toEqual(['GET, HEAD']);
    expect(response.body.length).toBe(0);
  });

  it('answers 304 without a body when the file has not changed since If-Modified-Since', async () => {
    for (const since of [LAST_MODIFIED, 'Tue, 02 Jan 2024 03:04:06 GMT', 'Wed, 01 Jan 2025 00:00:00 GMT']) {
      for (const method of ['GET', 'HEAD']) {
        const response = await serveStaticFile(request(method, { 'if-modified-since': since }), css);
        expect(response.statusCode, `${method} since ${since}`).toBe(304);
        expect(response.body.length).toBe(0);
        expect(response.headers.get('last-modified')).toEqual([LAST_MODIFIED]);
      }
    }
  });

  it('answers 200 with the file when it changed after If-Modified-Since, or the date cannot be read', async () => {
    for (const since of ['Tue, 02 Jan 2024 03:04:04 GMT', 'Mon, 01 Jan 2024 00:00:00 GMT', 'yesterday', '']) {
      const response = await serveStaticFile(request('GET', { 'if-modified-since': since }), css);
      expect(response.statusCode, since).toBe(200);
      expect(response.body.toString()).toBe('body { color: red }');
    }
  });
});
