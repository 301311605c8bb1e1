/**
 * The examples of examples/, end to end: each app runs on the real bootstrap and php-cgi under the
 * local Runtime API, in both PHP modes, and each test asserts what a client really gets back.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambda } from '../../src/local/local-lambda.ts';
import { mutationTestingEnvironment } from '../support/mutation/child-environment.ts';
import { BOOTSTRAP, PHP_MODES, type PhpMode } from '../support/probe-function.ts';
import { EVENT_SOURCES, eventFor, readResult, type EventSourceName, type RequestSpec } from '../support/sample-events.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const SITE = path.join(EXAMPLES, 'site');

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** One example app as a Lambda function: the real bootstrap, as in test/support/probe-function.ts. */
function startExample(app: string, handler: string, mode: PhpMode, env: Record<string, string> = {}): Promise<LocalLambda> {
  return LocalLambda.start({
    command: [process.execPath, BOOTSTRAP],
    taskRoot: path.join(EXAMPLES, app),
    handler,
    env: { PHP_CGI_MODE: mode, ...env, ...mutationTestingEnvironment() },
    timeoutMs: 15_000,
    functionName: `example-${app}`,
    log: () => {},
  });
}

/** Invokes the function with an event of the given source and reads the answer as that source's client would. */
async function request(fn: LocalLambda, source: EventSourceName, spec: RequestSpec) {
  const result = await fn.invoke(eventFor(source, spec));
  expect(result.functionError, JSON.stringify(result.functionError)).toBeUndefined();
  const response = readResult(JSON.parse(result.payload.toString()));
  const text = response.body.toString('utf8');
  /** For failure messages: the body and what PHP printed to its log. */
  const context = `${response.statusCode} ${text.slice(0, 2000)}\n--- logs ---\n${result.logs.join('\n')}`;
  return { ...response, text, context, header: (name: string) => response.headers.get(name)?.join(', ') };
}

function multipart(boundary: string, parts: Array<{ name: string; value: Buffer | string; filename?: string; type?: string }>): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Forwarded-Proto': 'https' };

describe.each(PHP_MODES)('PHP_CGI_MODE=%s', (mode) => {
  describe('examples/hello (handler index.php)', () => {
    let fn: LocalLambda;
    beforeAll(async () => {
      fn = await startExample('hello', 'index.php', mode);
    });
    afterAll(async () => {
      await fn?.stop();
    });

    it.each(EVENT_SOURCES)('answers Hello World with the request URI (%s events)', async (source) => {
      const response = await request(fn, source, { path: '/some/path', query: 'x=1' });
      expect(response.statusCode, response.context).toBe(200);
      expect(response.header('content-type')).toBe('text/plain; charset=utf-8');
      expect(response.text).toBe("Hello World! You've reached /some/path?x=1\n");
    });
  });

  describe('examples/site (handler public/index.php)', () => {
    let fn: LocalLambda;
    beforeAll(async () => {
      // As the layer does on Lambda: the app's php/conf.d is scanned after PHP's own ini files.
      fn = await startExample('site', 'public/index.php', mode, { PHP_INI_SCAN_DIR: `:${path.join(SITE, 'php', 'conf.d')}` });
    });
    afterAll(async () => {
      await fn?.stop();
    });

    it('shows the home page with both forms and the stylesheet link', async () => {
      const response = await request(fn, 'function-url', { path: '/' });
      expect(response.statusCode, response.context).toBe(200);
      expect(response.header('content-type')).toBe('text/html; charset=utf-8');
      expect(response.text).toContain('<link rel="stylesheet" href="/style.css">');
      expect(response.text).toContain('Hello, stranger!');
      expect(response.text).toContain('<form method="post" action="/hello">');
      expect(response.text).toContain('<form method="post" action="/upload" enctype="multipart/form-data">');
      expect(response.cookies).toEqual([]);
    });

    describe.each(EVENT_SOURCES)('%s events', (source) => {
      it('POST /hello sets the cookie and redirects (303); the next GET greets the visitor, escaped', async () => {
        const posted = await request(fn, source, {
          method: 'POST',
          path: '/hello',
          headers: FORM,
          body: new URLSearchParams({ name: '  Ada <b>Lovelace</b> & co ' }).toString(),
        });
        expect(posted.statusCode, posted.context).toBe(303);
        expect(posted.header('location')).toBe('/');
        expect(posted.cookies).toHaveLength(1);
        const setCookie = posted.cookies[0]!;
        expect(setCookie).toMatch(/^visitor_name=Ada%20%3Cb%3ELovelace%3C%2Fb%3E%20%26%20co; expires=[^;]+; Max-Age=\d+; path=\/; secure; HttpOnly; SameSite=Lax$/);

        const followed = await request(fn, source, { path: '/', cookies: [setCookie.split(';')[0]!] });
        expect(followed.statusCode, followed.context).toBe(200);
        expect(followed.text).toContain('<h1>Welcome back, Ada &lt;b&gt;Lovelace&lt;/b&gt; &amp; co!</h1>');
        expect(followed.text).not.toContain('<b>Lovelace');
        expect(followed.text).toContain('<form method="post" action="/forget">');
      });

      it('POST /upload reports the name, size and SHA-256 of the file', async () => {
        const file = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919 + 13) % 256));
        const boundary = 'ExampleBoundary7MA4YWxkTrZu0gW';
        const response = await request(fn, source, {
          method: 'POST',
          path: '/upload',
          headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
          body: multipart(boundary, [{ name: 'file', filename: 'pixels.bin', type: 'application/octet-stream', value: file }]),
        });
        expect(response.statusCode, response.context).toBe(200);
        expect(response.text).toContain('<dd class="file-name">pixels.bin</dd>');
        expect(response.text).toContain('<dd class="file-size">70000 bytes (68.4 KiB)</dd>');
        expect(response.text).toContain(`<dd class="sha256"><code>${sha256(file)}</code></dd>`);
      });
    });

    it('keeps the name form on invalid input: 422, the message, no cookie', async () => {
      const response = await request(fn, 'function-url', { method: 'POST', path: '/hello', headers: FORM, body: 'name=+++' });
      expect(response.statusCode, response.context).toBe(422);
      expect(response.text).toContain('<p class="error">Please tell us your name.</p>');
      expect(response.text).toContain('aria-invalid="true"');
      expect(response.cookies).toEqual([]);

      const tooLong = await request(fn, 'function-url', { method: 'POST', path: '/hello', headers: FORM, body: `name=${'é'.repeat(51)}` });
      expect(tooLong.statusCode, tooLong.context).toBe(422);
      expect(tooLong.text).toContain('Please use at most 50 characters.');
    });

    it('POST /forget deletes the cookie and redirects home', async () => {
      const response = await request(fn, 'http-api', { method: 'POST', path: '/forget', cookies: ['visitor_name=Ada'], headers: FORM, body: '' });
      expect(response.statusCode, response.context).toBe(303);
      expect(response.header('location')).toBe('/');
      expect(response.cookies).toHaveLength(1);
      expect(response.cookies[0]).toMatch(/^visitor_name=deleted; expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; path=\//);
    });

    it('escapes the uploaded file name and answers 422 when no file was chosen', async () => {
      const boundary = 'b0undary';
      const named = await request(fn, 'function-url', {
        method: 'POST',
        path: '/upload',
        headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        body: multipart(boundary, [{ name: 'file', filename: '<img src=x>.txt', type: 'text/plain', value: 'hello\n' }]),
      });
      expect(named.statusCode, named.context).toBe(200);
      expect(named.text).toContain('<dd class="file-name">&lt;img src=x&gt;.txt</dd>');
      expect(named.text).toContain(sha256(Buffer.from('hello\n')));

      const empty = await request(fn, 'function-url', {
        method: 'POST',
        path: '/upload',
        headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        body: multipart(boundary, [{ name: 'file', filename: '', type: 'application/octet-stream', value: '' }]),
      });
      expect(empty.statusCode, empty.context).toBe(422);
      expect(empty.text).toContain('Please choose a file to upload.');
    });

    it('serves public/style.css as a static file with text/css', async () => {
      const response = await request(fn, 'function-url', { path: '/style.css' });
      expect(response.statusCode, response.context).toBe(200);
      expect(response.header('content-type')).toBe('text/css; charset=utf-8');
      expect(response.body.equals(readFileSync(path.join(SITE, 'public', 'style.css')))).toBe(true);
    });

    it('answers unknown paths with the 404 page, the path escaped', async () => {
      const response = await request(fn, 'function-url', { path: '/no/such/page' });
      expect(response.statusCode, response.context).toBe(404);
      expect(response.header('content-type')).toBe('text/html; charset=utf-8');
      expect(response.text).toContain('<h1>Page not found</h1>');
      expect(response.text).toContain('<code>/no/such/page</code>');

      const hostile = await request(fn, 'function-url', { path: '/%3Cscript%3Ealert(1)%3C/script%3E' });
      expect(hostile.statusCode, hostile.context).toBe(404);
      expect(hostile.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(hostile.text).not.toContain('<script>');
    });

    it('never exposes what lies outside public/: app/ and php/ paths reach the 404 page', async () => {
      for (const requestPath of ['/app/helpers.php', '/../app/helpers.php', '/php/conf.d/site.ini']) {
        const response = await request(fn, 'function-url', { path: requestPath });
        expect(response.statusCode, `${requestPath}: ${response.context}`).toBe(404);
        expect(response.text).not.toContain('function h(');
        expect(response.text).not.toContain('upload_max_filesize =');
      }
    });

    it('answers a known path with the wrong method with 405 and Allow', async () => {
      const response = await request(fn, 'function-url', { path: '/upload' });
      expect(response.statusCode, response.context).toBe(405);
      expect(response.header('allow')).toBe('POST');
    });

    it('shows the PHP settings of the app\'s php/conf.d on /about', async () => {
      const response = await request(fn, 'function-url', { path: '/about' });
      expect(response.statusCode, response.context).toBe(200);
      expect(response.text).toContain('<dd data-fact="upload_max_filesize">4M</dd>');
      expect(response.text).toContain('<dd data-fact="post_max_size">5M</dd>');
      expect(response.text).toContain(`<dd data-fact="PHP_CGI_MODE">${mode}</dd>`);
      expect(response.text).toContain('<dd data-fact="Lambda function">example-site</dd>');
    });
  });

  describe('examples/api (handler index.php)', () => {
    let fn: LocalLambda;
    let dataDir: string;
    let dataFile: string;
    beforeAll(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), 'example-api-'));
      dataFile = path.join(dataDir, 'items.json');
      fn = await startExample('api', 'index.php', mode, { API_DATA_FILE: dataFile });
    });
    afterAll(async () => {
      await fn?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    async function api(source: EventSourceName, method: string, requestPath: string, body?: unknown, contentType = 'application/json') {
      const response = await request(fn, source, {
        method,
        path: requestPath,
        headers: body === undefined ? {} : { 'Content-Type': contentType },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      if (response.statusCode !== 204) expect(response.header('content-type'), response.context).toBe('application/json');
      return { ...response, json: response.statusCode === 204 ? undefined : JSON.parse(response.text) };
    }

    it('starts with no items and describes itself on /', async () => {
      const list = await api('function-url', 'GET', '/items');
      expect(list.statusCode, list.context).toBe(200);
      expect(list.json).toEqual({ items: [], count: 0 });
      const index = await api('function-url', 'GET', '/');
      expect(index.statusCode, index.context).toBe(200);
      expect(index.json.endpoints).toContain('POST /items');
      expect(index.json.data_file).toBe(dataFile);
    });

    describe.each(['function-url', 'http-api', 'rest', 'alb'] as const)('%s events', (source) => {
      it('creates, reads, lists, replaces and deletes an item', async () => {
        const created = await api(source, 'POST', '/items', { name: ' Green tea ', price: 3.5 });
        expect(created.statusCode, created.context).toBe(201);
        const id = created.json.id;
        expect(id).toBeTypeOf('number');
        expect(created.json).toEqual({ id, name: 'Green tea', price: 3.5 });
        expect(created.header('location')).toBe(`/items/${id}`);
        // The state lives in the data file, under the temporary directory of the function.
        expect(JSON.parse(readFileSync(dataFile, 'utf8')).items[String(id)]).toEqual({ name: 'Green tea', price: 3.5 });

        const read = await api(source, 'GET', `/items/${id}`);
        expect(read.statusCode, read.context).toBe(200);
        expect(read.json).toEqual({ id, name: 'Green tea', price: 3.5 });

        const list = await api(source, 'GET', '/items');
        expect(list.statusCode, list.context).toBe(200);
        expect(list.json.items).toContainEqual({ id, name: 'Green tea', price: 3.5 });
        expect(list.json.count).toBe(list.json.items.length);

        const replaced = await api(source, 'PUT', `/items/${id}`, { name: 'Sencha', price: 4 });
        expect(replaced.statusCode, replaced.context).toBe(200);
        expect(replaced.json).toEqual({ id, name: 'Sencha', price: 4 });
        expect((await api(source, 'GET', `/items/${id}`)).json).toEqual({ id, name: 'Sencha', price: 4 });

        const deleted = await api(source, 'DELETE', `/items/${id}`);
        expect(deleted.statusCode, deleted.context).toBe(204);
        expect(deleted.text).toBe('');

        const gone = await api(source, 'GET', `/items/${id}`);
        expect(gone.statusCode, gone.context).toBe(404);
        expect(gone.json).toEqual({ error: 'not_found', message: `There is no item ${id}.` });
        expect((await api(source, 'DELETE', `/items/${id}`)).statusCode).toBe(404);
        expect((await api(source, 'PUT', `/items/${id}`, { name: 'x', price: 1 })).statusCode).toBe(404);
      });
    });

    it('answers 422 with every invalid field', async () => {
      const response = await api('function-url', 'POST', '/items', { name: '', price: -1, colour: 'red' });
      expect(response.statusCode, response.context).toBe(422);
      expect(response.json).toEqual({
        error: 'validation_failed',
        message: 'The item is not valid.',
        errors: { name: 'Required: a non-empty string.', price: 'Must be zero or more.', colour: 'Unknown field.' },
      });
      const missing = await api('function-url', 'POST', '/items', {});
      expect(missing.statusCode, missing.context).toBe(422);
      expect(Object.keys(missing.json.errors)).toEqual(['name', 'price']);
      const wrongType = await api('function-url', 'POST', '/items', { name: 'Tea', price: '3.50' });
      expect(wrongType.statusCode, wrongType.context).toBe(422);
      expect(wrongType.json.errors).toEqual({ price: 'Required: a number.' });
    });

    it('answers 400 for a body that is not a JSON object and 415 for one that is not JSON at all', async () => {
      const broken = await api('function-url', 'POST', '/items', '{"name": "Tea",');
      expect(broken.statusCode, broken.context).toBe(400);
      expect(broken.json.error).toBe('invalid_json');
      const list = await api('function-url', 'POST', '/items', [1, 2]);
      expect(list.statusCode, list.context).toBe(400);
      const form = await api('function-url', 'POST', '/items', 'name=Tea&price=3', 'application/x-www-form-urlencoded');
      expect(form.statusCode, form.context).toBe(415);
      expect(form.json.error).toBe('unsupported_media_type');
    });

    it('answers 405 with Allow for a wrong method, and 404 for unknown paths', async () => {
      const onList = await api('function-url', 'DELETE', '/items');
      expect(onList.statusCode, onList.context).toBe(405);
      expect(onList.header('allow')).toBe('GET, POST');
      expect(onList.json.error).toBe('method_not_allowed');
      const onItem = await api('rest', 'PATCH', '/items/1', { price: 1 });
      expect(onItem.statusCode, onItem.context).toBe(405);
      expect(onItem.header('allow')).toBe('GET, PUT, DELETE');

      for (const requestPath of ['/nope', '/items/abc', '/items/0', '/items/1/extra']) {
        const response = await api('function-url', 'GET', requestPath);
        expect(response.statusCode, `${requestPath}: ${response.context}`).toBe(404);
        expect(response.json.error).toBe('not_found');
      }
    });

    it('keeps items across requests (and php-cgi processes) in the data file', async () => {
      const created = await api('function-url', 'POST', '/items', { name: 'Oolong', price: 5 });
      expect(created.statusCode, created.context).toBe(201);
      const second = await api('alb-multi', 'POST', '/items', { name: 'Matcha', price: 9.25 });
      expect(second.json.id).toBe(created.json.id + 1);
      const list = await api('http-api', 'GET', '/items');
      expect(list.json.items.slice(-2)).toEqual([created.json, second.json]);
      expect(existsSync(dataFile)).toBe(true);
    });
  });
});
