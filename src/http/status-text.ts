// node:http's reason phrases, taken without importing node:http as an ES module: such an import
// evaluates every export of the module, and node:http's lazy ones (WebSocket and friends) load
// Node's own copy of undici, about 12 ms of every cold start. getBuiltinModule() hands over the
// CommonJS module as it is.
const { STATUS_CODES } = process.getBuiltinModule('node:http');

/** 'Not Found' for 404; undefined for a code Node has no phrase for. */
export function statusText(code: number): string | undefined {
  return STATUS_CODES[code];
}
