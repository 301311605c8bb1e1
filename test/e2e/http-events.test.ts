/**
 * Every HTTP event source, end to end: the real bootstrap and php-cgi under the local Runtime API,
 * in both PHP modes. Each test asserts what PHP really saw (the probe app reports it) or what the
 * caller really got back.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvokeOptions, LocalLambda } from '../../src/local/local-lambda.ts';
import { EVENT_SOURCES, eventFor, readResult, type EventSourceName, type RequestSpec } from '../support/sample-events.ts';
import { FUNCTION_ENV, PHP_MODES, startProbeFunction } from '../support/probe-function.ts';
import { HTTP_EVENT_FIXTURES, loadEventFixture } from '../support/event-fixtures.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function multipart(boundary: string, parts: Array<{ name: string; value: Buffer | string; filename?: string; type?: string }>): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

interface FixtureRequest {
  method: string;
  /** REQUEST_URI, as the client sent it. */
  uri: string;
  /** $_GET, $_POST and $_COOKIE as PHP decodes them ([] when empty, as json_encode writes an empty array). */
  get: unknown;
  post?: unknown;
  cookie?: unknown;
  body?: Buffer;
  remoteAddr?: string;
  /** Some of $_SERVER. */
  headers?: Record<string, string>;
}

/** What PHP must see for each HTTP fixture (test/fixtures/events). */
const FIXTURE_REQUESTS: Record<keyof typeof HTTP_EVENT_FIXTURES, FixtureRequest> = {
  'api-gateway-rest.json': {
    method: 'POST', uri: '/orders/42/items?color=green&size=M&size=L', get: { color: 'green', size: 'L' }, cookie: { theme: 'dark', lang: 'fr' },
    body: Buffer.from('{"quantity": 2}'), remoteAddr: '203.0.113.10', headers: { HTTP_X_TAG: 'one, two', CONTENT_TYPE: 'application/json' },
  },
  'api-gateway-rest-single-value.json': {
    method: 'GET', uri: '/hello?name=Ada%20Lovelace&lang=en', get: { name: 'Ada Lovelace', lang: 'en' }, remoteAddr: '198.51.100.44',
  },
  'api-gateway-http-api.json': {
    method: 'GET', uri: '/search?q=caf%C3%A9&tag=php&tag=lambda', get: { q: 'café', tag: 'lambda' }, cookie: { session: '5f2b9c', theme: 'dark' },
    remoteAddr: '203.0.113.77', headers: { HTTP_X_TAG: 'one,two', HTTP_AUTHORIZATION: 'Bearer eyJhbGciOiJSUzI1NiJ9.fixture.signature' },
  },
  'function-url.json': {
    method: 'POST', uri: '/contact?ref=footer', get: { ref: 'footer' }, post: { name: 'Ada', message: 'Hello! Hi' }, cookie: { visited: '1' },
    body: Buffer.from('name=Ada&message=Hello%21+Hi'), remoteAddr: '198.51.100.23',
  },
  'function-url-base64-body.json': {
    method: 'PUT', uri: '/upload/pixel.png', get: [],
    body: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('lambda-php fixture\n')]),
    headers: { CONTENT_TYPE: 'application/octet-stream', CONTENT_LENGTH: '27' },
  },
  'alb.json': {
    method: 'GET', uri: '/products?search=blue%20shoes&page=2', get: { search: 'blue shoes', page: '2' }, cookie: { cart: '3' }, remoteAddr: '198.51.100.23',
  },
  'alb-multi-value.json': {
    method: 'POST', uri: '/cart/items?filter%5B%5D=red&filter%5B%5D=blue&next=%2Fcheckout%3Fstep%3D2',
    get: { filter: ['red', 'blue'], next: '/checkout?step=2' }, post: { sku: 'abc', qty: '2' }, cookie: { cart: '3', theme: 'dark' },
    body: Buffer.from('sku=abc&qty=2'), remoteAddr: '198.51.100.23', headers: { HTTP_ACCEPT: 'text/html, application/json' },
  },
  'alb-health-check.json': { method: 'GET', uri: '/health', get: [] },
};

const binaryFile = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));

describe.each(PHP_MODES)('PHP_CGI_MODE=%s', (mode) => {
  let fn: LocalLambda;
  beforeAll(async () => {
    fn = await startProbeFunction({ mode });
  });
  afterAll(async () => {
    await fn?.stop();
  });

  async function call(source: EventSourceName, spec: RequestSpec, invokeOptions?: InvokeOptions) {
    const result = await fn.invoke(eventFor(source, spec), invokeOptions);
    expect(result.functionError, JSON.stringify(result.functionError)).toBeUndefined();
    return { ...readResult(JSON.parse(result.payload.toString())), requestId: result.requestId, logs: result.logs };
  }

  async function probe(source: EventSourceName, spec: RequestSpec, invokeOptions?: InvokeOptions) {
    const response = await call(source, spec, invokeOptions);
    expect(response.statusCode, response.body.toString()).toBe(200);
    return { ...JSON.parse(response.body.toString()), response };
  }

  describe.each(EVENT_SOURCES)('%s events', (source) => {
    it('gives PHP the method, URI, query arrays, headers and CGI variables', async () => {
      const seen = await probe(source, {
        method: 'GET',
        path: '/hello/world',
        query: 'name=me&a[]=1&a[]=2&q=caf%C3%A9+au+lait',
        headers: { 'X-Custom-Header': 'custom value', 'X-Forwarded-Proto': 'https', 'Accept-Language': 'fr' },
      }, { traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' });
      const server = seen.server;
      expect(server.REQUEST_METHOD).toBe('GET');
      // An ALB target group without multi-value headers passes only the last value of a key.
      expect(seen.get).toEqual({ name: 'me', a: source === 'alb' ? ['2'] : ['1', '2'], q: 'café au lait' });
      // REST delivers decoded values only, so the query is re-encoded (everything but RFC 3986's
      // unreserved characters); an ALB without multi-value headers keeps the last of each key; the
      // others pass the query on as the client sent it.
      const query = {
        rest: 'name=me&a%5B%5D=1&a%5B%5D=2&q=caf%C3%A9%20au%20lait',
        alb: 'name=me&a[]=2&q=caf%C3%A9+au+lait',
      }[source as string] ?? 'name=me&a[]=1&a[]=2&q=caf%C3%A9+au+lait';
      expect(server.QUERY_STRING).toBe(query);
      expect(server.REQUEST_URI).toBe(`/hello/world?${query}`);
      expect(server.SCRIPT_NAME).toBe('/index.php');
      expect(server.SCRIPT_FILENAME).toMatch(/\/probe-app\/public\/index\.php$/);
      expect(server.DOCUMENT_ROOT).toMatch(/\/probe-app\/public$/);
      expect(server.PHP_SELF).toBe('/index.php');
      expect(server.PATH_INFO).toBeUndefined();
      expect(server.GATEWAY_INTERFACE).toBe('CGI/1.1');
      expect(server.SERVER_PROTOCOL).toBe('HTTP/1.1');
      expect(server.SERVER_NAME).toBe('probe.example.com');
      expect(server.HTTPS).toBe('on');
      expect(server.REQUEST_SCHEME).toBe('https');
      expect(server.REDIRECT_STATUS).toBe('200');
      expect(server.HTTP_X_CUSTOM_HEADER).toBe('custom value');
      expect(server.HTTP_ACCEPT_LANGUAGE).toBe('fr');
      expect(server.REMOTE_ADDR).toBe('203.0.113.7');
      expect(server.LAMBDA_REQUEST_ID).toBe(seen.response.requestId);
      expect(JSON.parse(server.LAMBDA_INVOCATION_CONTEXT).awsRequestId).toBe(seen.response.requestId);
      expect(JSON.parse(server.LAMBDA_REQUEST_CONTEXT)).toBeTypeOf('object');
      expect(server._X_AMZN_TRACE_ID).toBe('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
    });

    it('gives PHP the client context and the Cognito identity as the invoker sent them, any character included', async () => {
      const clientContext = { custom: { name: 'Zo\u00eb \u0416\u00e9nya \ud83d\ude00' }, env: { locale: 'fr-FR' } };
      const cognitoIdentity = { cognitoIdentityId: 'eu-west-1:\u00e9\u4e2d', cognitoIdentityPoolId: 'pool' };
      const seen = await probe(source, { path: '/' }, { clientContext, cognitoIdentity });
      const context = JSON.parse(seen.server.LAMBDA_INVOCATION_CONTEXT);
      expect(context.clientContext).toEqual(clientContext);
      expect(context.identity).toEqual(cognitoIdentity);
    });

    it("shows PHP the function's environment, which request headers cannot override", async () => {
      const seen = await probe(source, { path: '/', headers: { 'X-From-Function': 'from-the-request', 'Db-Host': 'evil' } });
      expect(seen.getenv.DB_HOST).toBe(FUNCTION_ENV.DB_HOST);
      expect(seen.server.DB_HOST).toBe(FUNCTION_ENV.DB_HOST);
      expect(seen.getenv.APP_ENV).toBe('production');
      expect(seen.getenv.AWS_LAMBDA_FUNCTION_NAME).toBe('probe');
      expect(seen.server.HTTP_X_FROM_FUNCTION).toBe('function-value');
      expect(seen.server.HTTP_DB_HOST).toBe('evil');
    });

    it('never turns a Proxy header into HTTP_PROXY (httpoxy)', async () => {
      const seen = await probe(source, { path: '/', headers: { Proxy: 'http://attacker.example:8080' } });
      expect(seen.server.HTTP_PROXY).toBeUndefined();
      expect(seen.getenv.HTTP_PROXY).toBeUndefined();
    });

    it('passes request cookies to $_COOKIE and lets every Set-Cookie reach the caller', async () => {
      const response = await call(source, { path: '/cookies.php', cookies: ['session=abc123', 'theme=dark'] });
      expect(response.statusCode).toBe(200);
      expect(response.body.toString()).toContain('{"session":"abc123","theme":"dark"}');
      if (source === 'alb') {
        // An ALB without multi-value headers can return only one value per header.
        expect(response.cookies).toHaveLength(1);
      } else {
        expect(response.cookies).toHaveLength(3);
        expect(response.cookies[0]).toMatch(/^first=one; path=\/; HttpOnly$/i);
        expect(response.cookies[1]).toMatch(/^second=two%3B%20with%20semicolon; path=\/sub$/i);
        expect(response.cookies[2]).toBe('third=3; Secure');
        expect(response.headers.get('x-multi')?.join(', ')).toBe('a, b');
      }
    });

    it('posts a urlencoded form into $_POST', async () => {
      const seen = await probe(source, {
        method: 'POST',
        path: '/form',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'name=Ada+Lovelace&langs[]=php&langs[]=ts&note=a%26b%3Dc',
      });
      expect(seen.post).toEqual({ name: 'Ada Lovelace', langs: ['php', 'ts'], note: 'a&b=c' });
      expect(seen.server.CONTENT_TYPE).toBe('application/x-www-form-urlencoded');
      expect(seen.server.CONTENT_LENGTH).toBe(String('name=Ada+Lovelace&langs[]=php&langs[]=ts&note=a%26b%3Dc'.length));
    });

    it('posts multipart with a binary file into $_FILES, bytes intact', async () => {
      const boundary = 'probe-boundary-7MA4YWxkTrZu0gW';
      const body = multipart(boundary, [
        { name: 'title', value: 'a binary upload' },
        { name: 'upload', value: binaryFile, filename: 'data.bin', type: 'application/octet-stream' },
      ]);
      const seen = await probe(source, { method: 'POST', path: '/upload', headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body });
      expect(seen.post).toEqual({ title: 'a binary upload' });
      expect(seen.files.upload).toEqual({ name: 'data.bin', type: 'application/octet-stream', error: 0, size: binaryFile.length, sha256: sha256(binaryFile) });
    });

    it('gives PHP a raw JSON body through php://input', async () => {
      const json = JSON.stringify({ message: 'héllo', list: [1, 2, 3] });
      const seen = await probe(source, { method: 'PUT', path: '/api/items/7', headers: { 'Content-Type': 'application/json' }, body: json });
      expect(seen.input.text).toBe(json);
      expect(seen.input.length).toBe(Buffer.byteLength(json));
      expect(seen.server.REQUEST_METHOD).toBe('PUT');
    });

    it('keeps an encoded path as the client sent it', async () => {
      const seen = await probe(source, { path: '/hello%20world/caf%C3%A9' });
      expect(seen.server.REQUEST_URI.toLowerCase()).toBe('/hello%20world/caf%c3%a9');
      expect(seen.script).toMatch(/index\.php$/);
    });

    it('runs an existing script with PATH_INFO split off', async () => {
      const response = await call(source, { path: '/sub/other.php/extra/bits', query: 'x=1' });
      expect(JSON.parse(response.body.toString())).toEqual({
        script: 'sub/other.php',
        PATH_INFO: '/extra/bits',
        SCRIPT_NAME: '/sub/other.php',
        PHP_SELF: '/sub/other.php/extra/bits',
        REQUEST_URI: '/sub/other.php/extra/bits?x=1',
      });
    });

    it("answers redirects with PHP's status and Location", async () => {
      const found = await call(source, { path: '/redirect.php' });
      expect(found.statusCode).toBe(302);
      expect(found.headers.get('location')).toEqual(['/target?from=redirect']);
      const moved = await call(source, { path: '/redirect.php', query: 'status=301' });
      expect(moved.statusCode).toBe(301);
      if (source.startsWith('alb')) expect(moved.raw.statusDescription).toBe('301 Moved Permanently');
    });

    it('answers a Location without Status (PHP told to use 200) with a 302 for the client: a local redirect (RFC 3875 §6.2.2) is deliberately not served internally', async () => {
      const response = await call(source, { path: '/redirect.php', query: 'status=200' });
      expect(response.statusCode).toBe(302);
      expect(response.headers.get('location')).toEqual(['/target?from=redirect']);
      // An internal redirect would have answered with the front controller's page for /target.
      expect(response.headers.get('x-probe')).toBeUndefined();
    });

    it('keeps the last of a repeated Content-Type and Location, never the two joined, and logs the duplicates', async () => {
      const response = await call(source, { path: '/duplicate-headers.php' });
      expect(response.statusCode).toBe(302);
      expect(response.headers.get('content-type')).toEqual(['application/json']);
      expect(response.headers.get('location')).toEqual(['/second']);
      const warnings = response.logs.filter((line) => line.includes('/duplicate-headers.php: php-cgi sent'));
      expect(warnings).toEqual([
        expect.stringMatching(/\tWARN\t\/duplicate-headers\.php: php-cgi sent Content-Type twice: "application\/json" is kept, "text\/plain;charset=UTF-8" dropped$/),
        expect.stringMatching(/\tWARN\t\/duplicate-headers\.php: php-cgi sent Location twice: "\/second" is kept, "\/first" dropped$/),
      ]);
      for (const line of warnings) expect(line).toContain(response.requestId);
    });

    it("passes the script's own reason phrase on where the event source carries one (the ALB's statusDescription)", async () => {
      const response = await call(source, { path: '/reason.php' });
      expect(response.statusCode).toBe(404);
      expect(response.body.toString()).toBe('gone fishing');
      if (source.startsWith('alb')) expect(response.raw.statusDescription).toBe('404 Gone Fishing');
    });

    it('passes header bytes above 0x7f through unchanged, a trailing UTF-8 "à" (c3 a0) included', async () => {
      const response = await call(source, { path: '/utf8-header.php' });
      // Header strings carry one byte per character (latin1), as HTTP header strings do.
      const asUtf8 = (value: string | undefined) => (value === undefined ? undefined : Buffer.from(value, 'latin1').toString('utf8'));
      expect(asUtf8(response.headers.get('x-name')?.[0])).toBe('voilà');
      expect(response.cookies.map(asUtf8)).toEqual(['name=voilà']);
    });

    it('returns binary responses base64-encoded, byte for byte', async () => {
      const response = await call(source, { path: '/binary.php', query: 'repeat=3' });
      const expected = Buffer.concat([0, 1, 2].map(() => Buffer.from(Array.from({ length: 256 }, (_, i) => i))));
      expect(response.raw.isBase64Encoded).toBe(true);
      expect(response.body.equals(expected)).toBe(true);
      expect(response.headers.get('content-type')).toEqual(['image/png']);
    });

    it('serves static files without PHP, with their content type', async () => {
      const css = await call(source, { path: '/assets/style.css' });
      expect(css.statusCode).toBe(200);
      expect(css.headers.get('content-type')?.[0]).toMatch(/^text\/css/);
      expect(css.body.toString()).toContain('font-family: sans-serif');
      const png = await call(source, { path: '/assets/pixel.png' });
      expect(png.raw.isBase64Encoded).toBe(true);
      expect(png.body.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
      const text = await call(source, { path: '/notes.txt' });
      expect(text.body.toString()).toBe('not php: <?php echo "TEXT FILE RAN AS PHP";\n');
    });

    it('never reads or runs anything outside the document root or in dotfiles', async () => {
      for (const path of ['/../outside.php', '/%2e%2e/outside.php', '/sub/..%2f..%2foutside.php', '/.env', '/.hidden/run.php', '/link-to-secret.txt', '/%2e%2e/secret.txt']) {
        const response = await call(source, { path });
        const body = response.body.toString();
        expect(body, path).not.toContain('OUTSIDE DOCROOT RAN');
        expect(body, path).not.toContain('SECRET');
        expect(body, path).not.toContain('HIDDEN FOLDER SCRIPT RAN');
        // It went to the front controller, which the app can answer with its own 404.
        expect(JSON.parse(body).script, path).toMatch(/public\/index\.php$/);
      }
    });

    it('sends a URL segment longer than a file name may be (a long slug) to the front controller', async () => {
      // Over the 255 bytes Linux allows a file name: looking it up fails with ENAMETOOLONG, not ENOENT.
      const slug = 'a-long-article-title-'.repeat(15);
      const seen = await probe(source, { path: `/${slug}` });
      expect(seen.script).toMatch(/public\/index\.php$/);
      expect(seen.server.REQUEST_URI).toBe(`/${slug}`);
    });

    it("a folder runs its own index.php", async () => {
      const response = await call(source, { path: '/folder/' });
      expect(response.body.toString()).toBe('folder index: /folder/index.php');
    });
  });

  it('answers every HTTP event fixture with the request each describes', async () => {
    for (const [file, expected] of Object.entries(FIXTURE_REQUESTS)) {
      const result = await fn.invoke(loadEventFixture(file));
      expect(result.functionError, file).toBeUndefined();
      const response = readResult(JSON.parse(result.payload.toString()));
      expect(response.statusCode, file).toBe(200);
      const seen = JSON.parse(response.body.toString());
      expect(seen.server.REQUEST_METHOD, file).toBe(expected.method);
      expect(seen.server.REQUEST_URI, file).toBe(expected.uri);
      expect(seen.server.QUERY_STRING, file).toBe(expected.uri.includes('?') ? expected.uri.slice(expected.uri.indexOf('?') + 1) : '');
      expect(seen.get, file).toEqual(expected.get);
      expect(seen.post, file).toEqual(expected.post ?? []);
      expect(seen.cookie, file).toEqual(expected.cookie ?? []);
      expect(seen.input.sha256, file).toBe(sha256(expected.body ?? Buffer.alloc(0)));
      if (expected.remoteAddr) expect(seen.server.REMOTE_ADDR, file).toBe(expected.remoteAddr);
      if (expected.headers) expect(seen.server, file).toMatchObject(expected.headers);
    }
  });

  it('ALB query values reach PHP decoded exactly once', async () => {
    const single = await fn.invoke(loadEventFixture('alb.json'));
    expect(JSON.parse(readResult(JSON.parse(single.payload.toString())).body.toString()).get).toEqual({ search: 'blue shoes', page: '2' });
    const multi = await fn.invoke(loadEventFixture('alb-multi-value.json'));
    expect(JSON.parse(readResult(JSON.parse(multi.payload.toString())).body.toString()).get).toEqual({ filter: ['red', 'blue'], next: '/checkout?step=2' });
  });

  it('gives PHP the query of multiValueQueryStringParameters alone, as Apache would (REST and ALB): foo[]=bar&foo[]=baz stays an array', async () => {
    for (const source of ['rest', 'alb-multi'] as const) {
      const event = eventFor(source, { path: '/', query: 'foo[]=bar&foo[]=baz&myvar=abc' });
      // A single-value map that disagrees with the multi-value one (Bref's ag-v1-query-string-multivalue shape).
      event.queryStringParameters = { foo: 'bar', myvar: 'abc' };
      const seen = JSON.parse(readResult(JSON.parse((await fn.invoke(event)).payload.toString())).body.toString());
      expect(seen.get, source).toEqual({ foo: ['bar', 'baz'], myvar: 'abc' });
    }
  });

  it('leaks nothing of one invocation into the next', async () => {
    await probe('function-url', { path: '/', headers: { 'X-Leak-Test': 'first' }, cookies: ['leak=1'], query: 'leak=1' });
    const second = await probe('function-url', { path: '/' });
    expect(second.server.HTTP_X_LEAK_TEST).toBeUndefined();
    // PHP's json_encode writes an empty array as [].
    expect(second.cookie).toEqual([]);
    expect(second.get).toEqual([]);
    expect(second.server.HTTP_COOKIE).toBeUndefined();
  });
});
