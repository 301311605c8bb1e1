import { isJsonObject } from './json-object.ts';

export type QueryPair = readonly [key: string, value: string];

/**
 * The key/value pairs of a REST or ALB event's query, from `multiValueQueryStringParameters` when
 * present (every `a[]=1&a[]=2` survives) and from `queryStringParameters` for any key it lacks.
 * Values are returned as the event holds them: decoded for API Gateway, still encoded for ALB.
 */
export function queryPairs(singleValues: unknown, multiValues: unknown): QueryPair[] {
  const pairs: QueryPair[] = [];
  const seen = new Set<string>();
  if (isJsonObject(multiValues)) {
    for (const [key, values] of Object.entries(multiValues)) {
      if (!Array.isArray(values)) continue;
      seen.add(key);
      for (const value of values) if (isScalar(value)) pairs.push([key, String(value)]);
    }
  }
  if (isJsonObject(singleValues)) {
    for (const [key, value] of Object.entries(singleValues)) {
      if (seen.has(key) || !isScalar(value)) continue;
      pairs.push([key, String(value)]);
    }
  }
  return pairs;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
