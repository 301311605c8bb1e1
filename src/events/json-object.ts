/** A JSON object (not null, not an array): what every field access on an untrusted event needs first. */
export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** API Gateway WebSocket frames reuse the REST event shape; these fields are what give them away. */
export function isWebSocketRequestContext(requestContext: unknown): boolean {
  if (!isJsonObject(requestContext)) return false;
  return typeof requestContext.eventType === 'string' || typeof requestContext.connectionId === 'string';
}
