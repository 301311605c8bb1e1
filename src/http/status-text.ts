// node:http's reason phrases, taken without importing node:http as an ES module: such an import
// evaluates every export of the module, and node:http's lazy ones (WebSocket and friends) load
// Node's own copy of undici, about 12 ms of every cold start. getBuiltinModule() hands over the
// CommonJS module as it is, and is called only when a phrase is first needed (an ALB answer):
// loading node:http's own modules still costs a few ms that most cold starts need not pay.
let statusCodes: Record<number, string | undefined> | undefined;

/** 'Not Found' for 404; undefined for a code Node has no phrase for. */
export function statusText(code: number): string | undefined {
  statusCodes ??= process.getBuiltinModule('node:http').STATUS_CODES;
  return statusCodes[code];
}
