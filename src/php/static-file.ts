import { readFile, stat } from 'node:fs/promises';
import type { HttpRequest, HttpResponse } from '../http/http-message.ts';

/**
 * Serves a file of the document root without starting PHP, with the content type a browser
 * expects, and answers conditional requests so that browsers and CDNs can revalidate cheaply.
 */
export async function serveStaticFile(request: HttpRequest, filePath: string): Promise<HttpResponse> {
  // mime's table of types is loaded when the first static file is served, not at every cold start
  // (building it takes a few ms, and many functions serve no static file at all).
  const { default: mime } = await import('mime');
  const stats = await stat(filePath);
  const lastModified = new Date(Math.floor(stats.mtimeMs / 1000) * 1000).toUTCString();
  const type = mime.getType(filePath) ?? 'application/octet-stream';
  const headers = new Map<string, string[]>([
    ['content-type', [type.startsWith('text/') || type === 'application/javascript' || type === 'application/json' ? `${type}; charset=utf-8` : type]],
    ['last-modified', [lastModified]],
  ]);

  if (request.method !== 'GET' && request.method !== 'HEAD') {
    headers.set('allow', ['GET, HEAD']);
    return { statusCode: 405, headers, body: Buffer.alloc(0) };
  }
  const since = request.headers.get('if-modified-since')?.[0];
  if (since !== undefined && Date.parse(since) >= Date.parse(lastModified)) {
    return { statusCode: 304, headers, body: Buffer.alloc(0) };
  }
  const body = request.method === 'HEAD' ? Buffer.alloc(0) : await readFile(filePath);
  return { statusCode: 200, headers, body };
}
