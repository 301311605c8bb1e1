import { isJsonObject } from './json-object.ts';

export type QueryPair = readonly [key: string, value: string];

/**
 * The key/value pairs of a REST or ALB event's query. When the event has
 * `multiValueQueryStringParameters` it is the one source: it holds every value (`a[]=1&a[]=2`),
 * while `queryStringParameters` holds only the last value of each key, under the same key, so it
 * can add nothing true (a key only it holds would give PHP `foo=bar` after `foo[]=bar&foo[]=baz`,
 * turning the array back into a string). Without it, `queryStringParameters` is used.
 * Values are returned as the event holds them: decoded for API Gateway, still encoded for ALB.
 */
export function queryPairs(singleValues: unknown, multiValues: unknown): QueryPair[] {
  const pairs: QueryPair[] = [];
  if (isJsonObject(multiValues)) {
    for (const [key, values] of Object.entries(multiValues)) {
      if (!Array.isArray(values)) continue;
      for (const value of values) if (isScalar(value)) pairs.push([key, String(value)]);
    }
  } else if (isJsonObject(singleValues)) {
    for (const [key, value] of Object.entries(singleValues)) if (isScalar(value)) pairs.push([key, String(value)]);
  }
  return pairs;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
