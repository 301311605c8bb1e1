import { MAX_PARAM_PAIR_LENGTH, nameValuePairLength } from './fastcgi/fastcgi-codec.ts';

/** Why a CGI variable cannot reach PHP. */
export type UncarriableVariable =
  | { name: string; problem: 'nul-byte' }
  | { name: string; problem: 'too-large'; pairBytes: number; maxPairBytes: number };

/**
 * The first variable of `env` that one of the two transports could not carry to PHP, or undefined.
 * Both limits are applied whatever the mode, so that a request gets the same answer in both:
 * - a NUL byte: a process environment (CGI mode) ends a string there, so execve() cannot take it;
 * - a variable larger than one FastCGI PARAMS record (64 KiB with its lengths): php-cgi cannot read
 *   a parameter split across records, and CGI mode would otherwise serve what FastCGI cannot.
 * Request headers can hold either (an event is JSON written by anyone); nothing else PHP gets can.
 */
export function findUncarriableVariable(env: Readonly<Record<string, string>>): UncarriableVariable | undefined {
  for (const name in env) {
    const value = env[name]!;
    if (value.includes('\0') || name.includes('\0')) return { name, problem: 'nul-byte' };
    // A UTF-16 code unit is at most 3 UTF-8 bytes: most variables are far too short to need counting.
    if ((name.length + value.length) * 3 + 8 <= MAX_PARAM_PAIR_LENGTH) continue;
    const pairBytes = nameValuePairLength(Buffer.byteLength(name), Buffer.byteLength(value));
    if (pairBytes > MAX_PARAM_PAIR_LENGTH) return { name, problem: 'too-large', pairBytes, maxPairBytes: MAX_PARAM_PAIR_LENGTH };
  }
  return undefined;
}
