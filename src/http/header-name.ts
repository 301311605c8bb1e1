// RFC 7230 §3.2.6 `token`: the only characters a header field name may hold.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Whether `name` can be a real HTTP header name. Events are JSON written by whoever invoked the
 * function, so a "header" named `x y`, `a:b` or `` cannot be trusted to mean anything downstream.
 */
export function isHeaderToken(name: string): boolean {
  return TOKEN.test(name);
}
