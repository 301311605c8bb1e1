import type { HttpRequest } from '../http/http-message.ts';
import type { Invocation } from '../runtime-api/invocation.ts';

export const SERVER_SOFTWARE = 'lambda-php';

export interface CgiScript {
  scriptFilename: string;
  scriptName: string;
  pathInfo: string;
}

export interface CgiEnvironmentInput {
  request: HttpRequest;
  script: CgiScript;
  documentRoot: string;
  invocation: Invocation;
  /** The function's own environment: PHP sees it through getenv(), $_ENV and $_SERVER. */
  functionEnv: Readonly<Record<string, string>>;
  /**
   * True when PHP already has the function's environment as its process environment (the
   * persistent FastCGI server, started with phpProcessEnvironment()): then it is not repeated in
   * every request, and only the request's own variables are built. False for a php-cgi process
   * per request, whose environment is this whole result.
   */
  inheritsFunctionEnv?: boolean;
}

/** Every variable the runtime sets, or removes, for each request. */
const CGI_META_VARIABLES = [
  'GATEWAY_INTERFACE', 'SERVER_SOFTWARE', 'SERVER_PROTOCOL', 'SERVER_NAME', 'SERVER_PORT', 'REQUEST_METHOD',
  'REQUEST_URI', 'QUERY_STRING', 'DOCUMENT_ROOT', 'SCRIPT_FILENAME', 'SCRIPT_NAME', 'REMOTE_ADDR',
  'REQUEST_SCHEME', 'REDIRECT_STATUS', 'HTTPS', 'PATH_INFO', 'PATH_TRANSLATED', 'CONTENT_TYPE',
  'CONTENT_LENGTH', 'LAMBDA_REQUEST_ID', 'LAMBDA_INVOCATION_CONTEXT', 'LAMBDA_REQUEST_CONTEXT', '_X_AMZN_TRACE_ID',
  // Set for event scripts (php-event-handler.ts) and console commands.
  'LAMBDA_EVENT_SOURCE', 'LAMBDA_DEADLINE_MS', 'LAMBDA_INVOKED_FUNCTION_ARN',
] as const;

/**
 * The function's environment as a long-lived php-cgi's own environment: without the per-request
 * variables, which a request that does not set them (no HTTPS, no PATH_INFO) must not inherit.
 */
export function phpProcessEnvironment(functionEnv: Readonly<Record<string, string>>): Record<string, string> {
  const env = { ...functionEnv };
  for (const name of CGI_META_VARIABLES) delete env[name];
  return env;
}

// Stricter than RFC 7230 tokens on purpose: only names that map to a variable name PHP and shells
// accept ('X.Foo' would become HTTP_X.FOO, which Apache and nginx also drop).
const HEADER_NAME = /^[0-9A-Za-z-]+$/;

/**
 * Builds the RFC 3875 environment PHP expects, in three layers so that request data can never
 * override what the function or the runtime set: request headers (HTTP_*) first, then the
 * function's environment (unless PHP inherits it), then the CGI meta-variables.
 */
export function buildCgiEnvironment(input: CgiEnvironmentInput): Record<string, string> {
  const { request, script, documentRoot, invocation, functionEnv } = input;
  const env: Record<string, string> = {};

  for (const [name, values] of request.headers) {
    const variable = headerVariable(name);
    // A header never shadows a variable of the function, wherever PHP gets those from.
    if (variable === undefined || Object.hasOwn(functionEnv, variable)) continue;
    env[variable] = values.join(name === 'cookie' ? '; ' : ', ');
  }

  if (input.inheritsFunctionEnv !== true) Object.assign(env, functionEnv);

  // A chain of proxies may list several protocols: the first is the one the client used.
  const forwardedProto = firstValue(request, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const https = forwardedProto === 'https';
  const { serverName, serverPort } = serverAddress(request, https);
  const query = request.rawQueryString;

  env.GATEWAY_INTERFACE = 'CGI/1.1';
  env.SERVER_SOFTWARE = SERVER_SOFTWARE;
  env.SERVER_PROTOCOL = request.protocol;
  env.SERVER_NAME = serverName;
  env.SERVER_PORT = serverPort;
  env.REQUEST_METHOD = request.method;
  env.REQUEST_URI = query === '' ? request.path : `${request.path}?${query}`;
  env.QUERY_STRING = query;
  env.DOCUMENT_ROOT = documentRoot;
  env.SCRIPT_FILENAME = script.scriptFilename;
  env.SCRIPT_NAME = script.scriptName;
  env.REMOTE_ADDR = remoteAddress(request);
  env.REQUEST_SCHEME = https ? 'https' : 'http';
  env.REDIRECT_STATUS = '200';
  if (https) env.HTTPS = 'on';
  else delete env.HTTPS;
  if (script.pathInfo !== '') {
    env.PATH_INFO = script.pathInfo;
    env.PATH_TRANSLATED = documentRoot + script.pathInfo;
  } else {
    delete env.PATH_INFO;
    delete env.PATH_TRANSLATED;
  }

  // PHP reads the body only up to CONTENT_LENGTH, so it is the body's real size, whatever the
  // client claimed; the claimed headers themselves are not repeated as HTTP_CONTENT_*.
  const contentType = firstValue(request, 'content-type');
  if (contentType !== undefined) env.CONTENT_TYPE = contentType;
  else delete env.CONTENT_TYPE;
  if (request.body.length > 0 || contentType !== undefined) env.CONTENT_LENGTH = String(request.body.length);
  else delete env.CONTENT_LENGTH;

  env.LAMBDA_REQUEST_ID = invocation.requestId;
  env.LAMBDA_INVOCATION_CONTEXT = JSON.stringify({
    awsRequestId: invocation.requestId,
    invokedFunctionArn: invocation.invokedFunctionArn,
    deadlineMs: invocation.deadlineMs,
    traceId: invocation.traceId ?? null,
    clientContext: parseJsonOrNull(invocation.clientContext),
    identity: parseJsonOrNull(invocation.cognitoIdentity),
  });
  env.LAMBDA_REQUEST_CONTEXT = JSON.stringify(request.requestContext ?? null);
  // Lambda sets _X_AMZN_TRACE_ID only for its managed runtimes; X-Ray SDKs for PHP read it.
  if (invocation.traceId !== undefined) env._X_AMZN_TRACE_ID = invocation.traceId;
  else delete env._X_AMZN_TRACE_ID;

  return env;
}

/**
 * `Content-Type` → undefined (it is CONTENT_TYPE), `X-Foo` → HTTP_X_FOO. Dropped:
 * - `Proxy`, which would become HTTP_PROXY and redirect PHP's outgoing HTTP (httpoxy, CVE-2016-5385);
 * - names with '_', which would collide with their '-' twin (`X_Forwarded_For` vs
 *   `X-Forwarded-For`) and let a client spoof a header a proxy vouches for, as nginx does by default;
 * - names with anything but letters, digits and '-'.
 */
function headerVariable(name: string): string | undefined {
  // Requests repeat the same few header names: remember their variables (bounded, since names are
  // the client's to choose).
  const known = HEADER_VARIABLES.get(name);
  if (known !== undefined || HEADER_VARIABLES.has(name)) return known;
  const variable = name === 'proxy' || name === 'content-type' || name === 'content-length' || !HEADER_NAME.test(name) ? undefined : 'HTTP_' + name.toUpperCase().replaceAll('-', '_');
  if (HEADER_VARIABLES.size >= MAX_REMEMBERED_HEADERS) HEADER_VARIABLES.clear();
  HEADER_VARIABLES.set(name, variable);
  return variable;
}

const HEADER_VARIABLES = new Map<string, string | undefined>();
const MAX_REMEMBERED_HEADERS = 512;

function firstValue(request: HttpRequest, name: string): string | undefined {
  return request.headers.get(name)?.[0];
}

function serverAddress(request: HttpRequest, https: boolean): { serverName: string; serverPort: string } {
  const host = firstValue(request, 'host') ?? '';
  // Bracketed IPv6 hosts ('[::1]:8080') carry colons of their own.
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  const serverName = match?.[1] || 'localhost';
  const forwardedPort = firstValue(request, 'x-forwarded-port')?.match(/^\d{1,5}$/)?.[0];
  const serverPort = forwardedPort ?? match?.[2] ?? (https ? '443' : '80');
  return { serverName, serverPort };
}

/**
 * The event's own source IP when it has one (API Gateway, Function URLs); an ALB event has none,
 * and the ALB appends the address it saw as the last X-Forwarded-For entry.
 */
function remoteAddress(request: HttpRequest): string {
  if (request.sourceIp) return request.sourceIp;
  const forwardedFor = request.headers.get('x-forwarded-for')?.join(',');
  const last = forwardedFor?.split(',').map((s) => s.trim()).filter(Boolean).at(-1);
  return last ?? '127.0.0.1';
}

function parseJsonOrNull(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
