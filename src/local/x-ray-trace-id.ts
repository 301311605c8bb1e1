import { randomBytes } from 'node:crypto';

/**
 * A trace header in X-Ray's format. Lambda sends one with every event, traced or not (Sampled=0 when
 * active tracing is off), so a local invoke without one gets a fresh one too.
 */
export function newTraceId(now = Date.now()): string {
  const epochSeconds = Math.floor(now / 1000).toString(16).padStart(8, '0');
  return `Root=1-${epochSeconds}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}
