import type { UncarriableVariable } from '../cgi/environment-limits.ts';

/** The variables built from the request's URI: too large, they make a 414 rather than a 431. */
const URI_VARIABLES = new Set(['REQUEST_URI', 'QUERY_STRING', 'PATH_INFO', 'PATH_TRANSLATED', 'SCRIPT_NAME']);

export interface RequestRefusal {
  statusCode: 400 | 414 | 431;
  /** For the log: which part of the request, and what is wrong with it. */
  reason: string;
}

/**
 * The client's answer to a request PHP cannot be given: the request is at fault, not PHP, so it is
 * a 4xx (RFC 9110 §5.5 lets a recipient reject a field value holding NUL; RFC 6585 §5 has 431 for
 * a header too large, RFC 9110 §15.5.15 has 414 for a URI).
 */
export function refusalFor(variable: UncarriableVariable): RequestRefusal {
  const subject = describeVariable(variable.name);
  if (variable.problem === 'nul-byte') {
    return { statusCode: 400, reason: `${subject} holds a NUL byte, which no CGI environment can carry` };
  }
  return {
    statusCode: URI_VARIABLES.has(variable.name) ? 414 : 431,
    reason: `${subject} is ${variable.pairBytes} bytes as a FastCGI parameter, over the ${variable.maxPairBytes} one can carry`,
  };
}

/** 'HTTP_X_FORWARDED_FOR' → "the request's X-Forwarded-For header (HTTP_X_FORWARDED_FOR)". */
function describeVariable(name: string): string {
  if (name.startsWith('HTTP_')) return `the request's ${headerName(name.slice('HTTP_'.length))} header (${name})`;
  if (name === 'CONTENT_TYPE') return `the request's Content-Type header (${name})`;
  if (URI_VARIABLES.has(name)) return `the request's URI (${name})`;
  return `the CGI variable ${name}`;
}

function headerName(variablePart: string): string {
  return variablePart
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('-');
}
