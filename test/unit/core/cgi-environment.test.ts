import { describe, expect, it } from 'vitest';
import { buildCgiEnvironment, phpProcessEnvironment, SERVER_SOFTWARE, type CgiEnvironmentInput, type CgiScript } from '../../../src/cgi/cgi-environment.ts';
import type { HttpRequest } from '../../../src/http/http-message.ts';
import type { Invocation } from '../../../src/runtime-api/invocation.ts';

const DOCROOT = '/var/task/public';

function request(overrides: Partial<HttpRequest> = {}, headers: Record<string, string[]> = {}): HttpRequest {
  return {
    method: 'GET',
    path: '/',
    rawQueryString: '',
    headers: new Map(Object.entries(headers)),
    body: Buffer.alloc(0),
    sourceIp: '203.0.113.7',
    protocol: 'HTTP/1.1',
    requestContext: { requestId: 'ctx-1', stage: '$default' },
    ...overrides,
  };
}

function invocation(overrides: Partial<Invocation> = {}): Invocation {
  return {
    requestId: 'req-123',
    deadlineMs: 1_700_000_000_000,
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:php',
    traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    clientContext: undefined,
    cognitoIdentity: undefined,
    event: Buffer.from('{}'),
    ...overrides,
  };
}

const FRONT: CgiScript = { scriptFilename: `${DOCROOT}/index.php`, scriptName: '/index.php', pathInfo: '' };

function build(input: Partial<CgiEnvironmentInput> = {}): Record<string, string> {
  return buildCgiEnvironment({
    request: request(),
    script: FRONT,
    documentRoot: DOCROOT,
    invocation: invocation(),
    functionEnv: {},
    ...input,
  });
}

describe('buildCgiEnvironment: meta-variables', () => {
  it('sets the fixed CGI variables', () => {
    const env = build({ request: request({ method: 'DELETE', protocol: 'HTTP/2.0' }) });
    expect(env.GATEWAY_INTERFACE).toBe('CGI/1.1');
    expect(env.SERVER_SOFTWARE).toBe(SERVER_SOFTWARE);
    expect(env.SERVER_SOFTWARE).toBe('lambda-php');
    expect(env.SERVER_PROTOCOL).toBe('HTTP/2.0');
    expect(env.REQUEST_METHOD).toBe('DELETE');
    expect(env.REDIRECT_STATUS).toBe('200');
    expect(env.DOCUMENT_ROOT).toBe(DOCROOT);
  });

  it('builds REQUEST_URI from the raw path and the raw query', () => {
    const env = build({ request: request({ path: '/caf%C3%A9/a%2Fb', rawQueryString: 'q=a%20b&x[]=1&x[]=2' }) });
    expect(env.REQUEST_URI).toBe('/caf%C3%A9/a%2Fb?q=a%20b&x[]=1&x[]=2');
    expect(env.QUERY_STRING).toBe('q=a%20b&x[]=1&x[]=2');
  });

  it('has no "?" in REQUEST_URI and an empty QUERY_STRING without a query', () => {
    const env = build({ request: request({ path: '/users/42' }) });
    expect(env.REQUEST_URI).toBe('/users/42');
    expect(env.QUERY_STRING).toBe('');
  });

  it('sets SCRIPT_FILENAME and SCRIPT_NAME from the route', () => {
    const env = build({ script: { scriptFilename: `${DOCROOT}/sub/other.php`, scriptName: '/sub/other.php', pathInfo: '' } });
    expect(env.SCRIPT_FILENAME).toBe(`${DOCROOT}/sub/other.php`);
    expect(env.SCRIPT_NAME).toBe('/sub/other.php');
  });

  it('sets PATH_INFO and PATH_TRANSLATED only when there is a path info', () => {
    const withInfo = build({ script: { scriptFilename: `${DOCROOT}/sub/other.php`, scriptName: '/sub/other.php', pathInfo: '/extra/path' } });
    expect(withInfo.PATH_INFO).toBe('/extra/path');
    expect(withInfo.PATH_TRANSLATED).toBe(`${DOCROOT}/extra/path`);

    const without = build();
    expect('PATH_INFO' in without).toBe(false);
    expect('PATH_TRANSLATED' in without).toBe(false);
  });

  it('returns only strings', () => {
    const env = build({ request: request({}, { host: ['example.com'], cookie: ['a=1'] }), functionEnv: { DB_HOST: 'db' } });
    for (const [name, value] of Object.entries(env)) expect(typeof value, name).toBe('string');
  });
});

describe('buildCgiEnvironment: server address and scheme', () => {
  it('takes SERVER_NAME and SERVER_PORT from Host', () => {
    const env = build({ request: request({}, { host: ['example.com:8443'] }) });
    expect(env.SERVER_NAME).toBe('example.com');
    expect(env.SERVER_PORT).toBe('8443');
  });

  it('defaults the port to 80 over http and 443 over https', () => {
    expect(build({ request: request({}, { host: ['example.com'] }) }).SERVER_PORT).toBe('80');
    const https = build({ request: request({}, { host: ['example.com'], 'x-forwarded-proto': ['https'] }) });
    expect(https.SERVER_PORT).toBe('443');
    expect(https.SERVER_NAME).toBe('example.com');
  });

  it('keeps a bracketed IPv6 host whole', () => {
    const env = build({ request: request({}, { host: ['[::1]:8080'] }) });
    expect(env.SERVER_NAME).toBe('[::1]');
    expect(env.SERVER_PORT).toBe('8080');
    const noPort = build({ request: request({}, { host: ['[2001:db8::1]'] }) });
    expect(noPort.SERVER_NAME).toBe('[2001:db8::1]');
    expect(noPort.SERVER_PORT).toBe('80');
  });

  it('prefers X-Forwarded-Port over the Host port', () => {
    const env = build({ request: request({}, { host: ['example.com:8080'], 'x-forwarded-port': ['443'], 'x-forwarded-proto': ['https'] }) });
    expect(env.SERVER_PORT).toBe('443');
    expect(env.SERVER_NAME).toBe('example.com');
  });

  it("ignores an X-Forwarded-Port that is not 1 to 5 digits, and keeps the Host's port", () => {
    for (const port of ['8443abc', 'abc8443', '123456', '443, 8443']) {
      const env = build({ request: request({}, { host: ['example.com:8080'], 'x-forwarded-port': [port] }) });
      expect(env.SERVER_PORT, port).toBe('8080');
    }
  });

  it("ignores a Host that is not host[:port] as a whole: SERVER_NAME falls back to 'localhost' and the port to the scheme's", () => {
    // An unbracketed IPv6 address, and a port with trailing garbage: no prefix or suffix is taken for the real thing.
    for (const host of ['fe80::1', 'example.com:8080x', 'a:b:8080']) {
      const env = build({ request: request({}, { host: [host] }) });
      expect([env.SERVER_NAME, env.SERVER_PORT], host).toEqual(['localhost', '80']);
    }
  });

  it("falls back to 'localhost' without a Host", () => {
    const env = build();
    expect(env.SERVER_NAME).toBe('localhost');
    expect(env.SERVER_PORT).toBe('80');
  });

  it('sets HTTPS and REQUEST_SCHEME from X-Forwarded-Proto, case-insensitively', () => {
    const https = build({ request: request({}, { 'x-forwarded-proto': ['HTTPS'] }) });
    expect(https.HTTPS).toBe('on');
    expect(https.REQUEST_SCHEME).toBe('https');

    const http = build({ request: request({}, { 'x-forwarded-proto': ['http'] }) });
    expect('HTTPS' in http).toBe(false);
    expect(http.REQUEST_SCHEME).toBe('http');

    const none = build();
    expect('HTTPS' in none).toBe(false);
    expect(none.REQUEST_SCHEME).toBe('http');
  });
});

describe('buildCgiEnvironment: REMOTE_ADDR', () => {
  it("uses the event's source IP over X-Forwarded-For", () => {
    const env = build({ request: request({ sourceIp: '198.51.100.1' }, { 'x-forwarded-for': ['10.0.0.1, 10.0.0.2'] }) });
    expect(env.REMOTE_ADDR).toBe('198.51.100.1');
  });

  it('uses the last X-Forwarded-For entry without a source IP (ALB)', () => {
    const env = build({ request: request({ sourceIp: undefined }, { 'x-forwarded-for': ['1.1.1.1, 2.2.2.2 ,  3.3.3.3'] }) });
    expect(env.REMOTE_ADDR).toBe('3.3.3.3');
  });

  it('uses the last entry of the last X-Forwarded-For header when there are several', () => {
    const env = build({ request: request({ sourceIp: undefined }, { 'x-forwarded-for': ['1.1.1.1', '4.4.4.4, 5.5.5.5'] }) });
    expect(env.REMOTE_ADDR).toBe('5.5.5.5');
  });

  it('takes a last X-Forwarded-For header holding one address whole, not run together with the header before it', () => {
    const env = build({ request: request({ sourceIp: undefined }, { 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'] }) });
    expect(env.REMOTE_ADDR).toBe('2.2.2.2');
  });

  it('falls back to 127.0.0.1', () => {
    expect(build({ request: request({ sourceIp: undefined }) }).REMOTE_ADDR).toBe('127.0.0.1');
    expect(build({ request: request({ sourceIp: '' }, { 'x-forwarded-for': [' , '] }) }).REMOTE_ADDR).toBe('127.0.0.1');
  });
});

describe('buildCgiEnvironment: body', () => {
  it('takes CONTENT_LENGTH from the real body, not the claimed header', () => {
    const env = build({
      request: request({ method: 'POST', body: Buffer.from('héllo') }, { 'content-type': ['text/plain'], 'content-length': ['999'] }),
    });
    expect(env.CONTENT_LENGTH).toBe('6');
    expect(env.CONTENT_TYPE).toBe('text/plain');
    expect('HTTP_CONTENT_LENGTH' in env).toBe(false);
    expect('HTTP_CONTENT_TYPE' in env).toBe(false);
  });

  it('sets CONTENT_LENGTH for a body without a content type, and no CONTENT_TYPE', () => {
    const env = build({ request: request({ method: 'POST', body: Buffer.alloc(1234) }) });
    expect(env.CONTENT_LENGTH).toBe('1234');
    expect('CONTENT_TYPE' in env).toBe(false);
  });

  it("sets CONTENT_LENGTH '0' for an empty body that has a content type", () => {
    const env = build({ request: request({ method: 'POST' }, { 'content-type': ['application/json'] }) });
    expect(env.CONTENT_LENGTH).toBe('0');
    expect(env.CONTENT_TYPE).toBe('application/json');
  });

  it('sets neither without a body or a content type', () => {
    const env = build({ functionEnv: { CONTENT_TYPE: 'text/evil', CONTENT_LENGTH: '5' } });
    expect('CONTENT_TYPE' in env).toBe(false);
    expect('CONTENT_LENGTH' in env).toBe(false);
  });

  it('uses the first content type when a client sends two', () => {
    const env = build({ request: request({ body: Buffer.from('a') }, { 'content-type': ['text/plain', 'text/html'] }) });
    expect(env.CONTENT_TYPE).toBe('text/plain');
  });
});

describe('buildCgiEnvironment: request headers', () => {
  it('maps headers to HTTP_* variables', () => {
    const env = build({
      request: request({}, { host: ['example.com'], 'user-agent': ['curl/8'], 'x-custom-header': ['v'], accept: ['*/*'], authorization: ['Bearer t'] }),
    });
    expect(env.HTTP_HOST).toBe('example.com');
    expect(env.HTTP_USER_AGENT).toBe('curl/8');
    expect(env.HTTP_X_CUSTOM_HEADER).toBe('v');
    expect(env.HTTP_ACCEPT).toBe('*/*');
    expect(env.HTTP_AUTHORIZATION).toBe('Bearer t');
  });

  it("joins repeated headers with ', ' and cookies with '; '", () => {
    const env = build({ request: request({}, { accept: ['text/html', 'application/json'], cookie: ['a=1', 'b=2', 'c=3'] }) });
    expect(env.HTTP_ACCEPT).toBe('text/html, application/json');
    expect(env.HTTP_COOKIE).toBe('a=1; b=2; c=3');
  });

  it('never turns a Proxy header into HTTP_PROXY (httpoxy)', () => {
    const env = build({ request: request({}, { proxy: ['http://evil.example:8080'] }) });
    expect('HTTP_PROXY' in env).toBe(false);
    expect(Object.values(env)).not.toContain('http://evil.example:8080');
  });

  it('drops header names with underscores, so they cannot spoof their dash twin', () => {
    const env = build({
      request: request({ sourceIp: undefined }, { 'x-forwarded-for': ['9.9.9.9'], x_forwarded_for: ['6.6.6.6'], my_header: ['m'] }),
    });
    expect(env.HTTP_X_FORWARDED_FOR).toBe('9.9.9.9');
    expect(env.REMOTE_ADDR).toBe('9.9.9.9');
    expect('HTTP_MY_HEADER' in env).toBe(false);
    expect(Object.values(env)).not.toContain('6.6.6.6');
  });

  it('drops names that are not RFC 7230 tokens', () => {
    const env = build({ request: request({}, { 'bad header': ['1'], 'x=y': ['2'], 'x:y': ['3'], '': ['4'], 'x(y)': ['5'], 'é': ['6'], 'ok-header': ['7'] }) });
    const httpVars = Object.keys(env).filter((k) => k.startsWith('HTTP_'));
    expect(httpVars).toEqual(['HTTP_OK_HEADER']);
  });

  it('cannot set a meta-variable through a header', () => {
    const env = build({
      request: request({}, { https: ['on'], 'script-filename': ['/etc/passwd'], 'remote-addr': ['1.2.3.4'], 'document-root': ['/'] }),
    });
    expect(env.HTTP_HTTPS).toBe('on');
    expect('HTTPS' in env).toBe(false);
    expect(env.SCRIPT_FILENAME).toBe(`${DOCROOT}/index.php`);
    expect(env.REMOTE_ADDR).toBe('203.0.113.7');
    expect(env.DOCUMENT_ROOT).toBe(DOCROOT);
  });
});

describe('buildCgiEnvironment: precedence with the function environment', () => {
  it('passes the function environment through', () => {
    const env = build({ functionEnv: { DB_HOST: 'db.internal', APP_ENV: 'prod', AWS_REGION: 'eu-west-1' } });
    expect(env.DB_HOST).toBe('db.internal');
    expect(env.APP_ENV).toBe('prod');
    expect(env.AWS_REGION).toBe('eu-west-1');
  });

  it('never lets a header override a function variable named HTTP_*', () => {
    const env = build({ request: request({}, { 'x-foo': ['from-client'] }), functionEnv: { HTTP_X_FOO: 'from-function' } });
    expect(env.HTTP_X_FOO).toBe('from-function');
  });

  it('keeps a function HTTP_PROXY (the function chose it), whatever a Proxy header says', () => {
    const env = build({ request: request({}, { proxy: ['http://evil'] }), functionEnv: { HTTP_PROXY: 'http://corp-proxy:3128' } });
    expect(env.HTTP_PROXY).toBe('http://corp-proxy:3128');
  });

  it('lets the request, not the function environment, decide HTTPS, PATH_INFO and the other meta-variables', () => {
    const functionEnv = {
      HTTPS: 'on',
      PATH_INFO: '/stale',
      PATH_TRANSLATED: '/stale',
      REQUEST_METHOD: 'PUT',
      REQUEST_URI: '/stale',
      QUERY_STRING: 'stale=1',
      SCRIPT_FILENAME: '/stale.php',
      SCRIPT_NAME: '/stale.php',
      DOCUMENT_ROOT: '/stale',
      REMOTE_ADDR: '0.0.0.0',
      SERVER_NAME: 'stale',
      SERVER_PORT: '1',
      REQUEST_SCHEME: 'https',
      GATEWAY_INTERFACE: 'x',
      REDIRECT_STATUS: '500',
      LAMBDA_REQUEST_ID: 'stale',
      _X_AMZN_TRACE_ID: 'Root=stale',
    };
    const env = build({
      request: request({ path: '/now', rawQueryString: 'a=1' }, { host: ['example.com'], 'x-forwarded-proto': ['http'] }),
      invocation: invocation({ traceId: undefined }),
      functionEnv,
    });
    expect('HTTPS' in env).toBe(false);
    expect('PATH_INFO' in env).toBe(false);
    expect('PATH_TRANSLATED' in env).toBe(false);
    expect('_X_AMZN_TRACE_ID' in env).toBe(false);
    expect(env).toMatchObject({
      REQUEST_METHOD: 'GET',
      REQUEST_URI: '/now?a=1',
      QUERY_STRING: 'a=1',
      SCRIPT_FILENAME: `${DOCROOT}/index.php`,
      SCRIPT_NAME: '/index.php',
      DOCUMENT_ROOT: DOCROOT,
      REMOTE_ADDR: '203.0.113.7',
      SERVER_NAME: 'example.com',
      SERVER_PORT: '80',
      REQUEST_SCHEME: 'http',
      GATEWAY_INTERFACE: 'CGI/1.1',
      REDIRECT_STATUS: '200',
      LAMBDA_REQUEST_ID: 'req-123',
    });
  });

  it('does not modify the function environment object', () => {
    const functionEnv = Object.freeze({ HTTPS: 'on', PATH_INFO: '/x', DB_HOST: 'db' });
    const env = build({ functionEnv });
    expect(functionEnv).toEqual({ HTTPS: 'on', PATH_INFO: '/x', DB_HOST: 'db' });
    expect(env.DB_HOST).toBe('db');
  });
});

describe('buildCgiEnvironment: Lambda context', () => {
  it('sets LAMBDA_REQUEST_ID and _X_AMZN_TRACE_ID', () => {
    const env = build();
    expect(env.LAMBDA_REQUEST_ID).toBe('req-123');
    expect(env._X_AMZN_TRACE_ID).toBe('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
  });

  it('serialises the invocation context as JSON, parsing client context and identity', () => {
    const env = build({
      invocation: invocation({
        clientContext: '{"client":{"app_title":"demo"},"custom":{"k":"v"}}',
        cognitoIdentity: '{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}',
      }),
    });
    expect(JSON.parse(env.LAMBDA_INVOCATION_CONTEXT!)).toEqual({
      awsRequestId: 'req-123',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:php',
      deadlineMs: 1_700_000_000_000,
      traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      clientContext: { client: { app_title: 'demo' }, custom: { k: 'v' } },
      identity: { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' },
    });
  });

  it('uses null for what the invocation lacks, and the raw text for context that is not JSON', () => {
    const env = build({ invocation: invocation({ traceId: undefined, clientContext: 'not json', cognitoIdentity: undefined }) });
    expect(JSON.parse(env.LAMBDA_INVOCATION_CONTEXT!)).toMatchObject({ traceId: null, clientContext: 'not json', identity: null });
    expect('_X_AMZN_TRACE_ID' in env).toBe(false);
  });

  it('serialises the request context as JSON', () => {
    const context = { requestId: 'abc', http: { method: 'GET', sourceIp: '1.2.3.4' }, authorizer: { jwt: { claims: { sub: 'u1' } } } };
    expect(JSON.parse(build({ request: request({ requestContext: context }) }).LAMBDA_REQUEST_CONTEXT!)).toEqual(context);
    expect(build({ request: request({ requestContext: undefined }) }).LAMBDA_REQUEST_CONTEXT).toBe('null');
  });
});

describe('buildCgiEnvironment: a PHP that inherits the function environment (FastCGI mode)', () => {
  const functionEnv = { DB_HOST: 'db.internal', HTTP_X_FROM_FUNCTION: 'function-value', HTTPS: 'on', PATH_INFO: '/stale' };

  it('builds only the request variables, and still lets no header shadow a function variable', () => {
    const env = build({
      functionEnv,
      inheritsFunctionEnv: true,
      request: request({}, { 'x-from-function': ['from-the-request'], 'x-other': ['other'] }),
    });
    expect(env.DB_HOST).toBeUndefined();
    expect(env.HTTP_X_FROM_FUNCTION).toBeUndefined();
    expect(env.HTTP_X_OTHER).toBe('other');
    expect(env.REQUEST_METHOD).toBe('GET');
    expect(env.SCRIPT_FILENAME).toBe(`${DOCROOT}/index.php`);
    expect(env.HTTPS).toBeUndefined();
  });

  it('gives the long-lived php-cgi the function environment without any per-request variable', () => {
    const processEnv = phpProcessEnvironment({ ...functionEnv, CONTENT_LENGTH: '5', _X_AMZN_TRACE_ID: 'Root=old', LAMBDA_REQUEST_ID: 'old' });
    expect(processEnv).toEqual({ DB_HOST: 'db.internal', HTTP_X_FROM_FUNCTION: 'function-value' });
    expect(functionEnv.HTTPS).toBe('on');
  });
});
