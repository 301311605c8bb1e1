import { JsonPayload } from '../runtime/result-serializer.ts';

/** Lambda's limit for a synchronous response (6 MB): the console result must fit in it. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

/**
 * What a console command writes to stdout and stderr, in the order it arrives, keeping only the
 * last `keep` bytes: a command that prints gigabytes must not take the sandbox's memory, and only
 * the tail can be returned anyway.
 */
export class ConsoleOutput {
  #chunks: Buffer[] = [];
  #size = 0;
  #dropped = 0;

  constructor(private readonly keep: number = MAX_RESPONSE_BYTES) {}

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#chunks.length > 1 && this.#size - this.#chunks[0]!.length >= this.keep) {
      const first = this.#chunks.shift()!;
      this.#size -= first.length;
      this.#dropped += first.length;
    }
  }

  /** The kept tail, and how many bytes before it were left out. */
  tail(): { bytes: Buffer; droppedBytes: number } {
    const all = Buffer.concat(this.#chunks);
    const extra = Math.max(0, all.length - this.keep);
    return { bytes: all.subarray(extra), droppedBytes: this.#dropped + extra };
  }
}

/**
 * `{"exitCode": N, "output": "..."}` within `maxBytes` of JSON: when the output does not fit, its
 * start is left out (the end of a command's output is what says how it went), and a first line
 * says how much. Measured on the JSON itself, since escaping can make the text grow.
 */
export function consoleResult(exitCode: number, bytes: Buffer, droppedBytes: number, maxBytes = MAX_RESPONSE_BYTES): JsonPayload {
  // A tail cut inside a UTF-8 sequence starts with continuation bytes: they are part of what is left out.
  let skip = 0;
  while (skip < bytes.length && skip < 3 && (bytes[skip]! & 0xc0) === 0x80) skip++;
  const text = bytes.subarray(skip).toString('utf8');
  let start = 0;
  for (;;) {
    const left = droppedBytes + skip + (start === 0 ? 0 : Buffer.byteLength(text.slice(0, start)));
    const notice = left === 0 ? '' : `[lambda-php: the first ${left} bytes of output were left out to fit Lambda's 6 MB response limit]\n`;
    const json = JSON.stringify({ exitCode, output: notice + text.slice(start) });
    const over = Buffer.byteLength(json) - maxBytes;
    if (over <= 0 || start >= text.length) return new JsonPayload(json);
    // Each character left out takes at least one byte of JSON with it.
    start = Math.min(text.length, start + over);
    if (isLowSurrogate(text.charCodeAt(start))) start++;
  }
}

/** The last `maxChars` characters of `text`, marked as cut when they are not all of it. */
export function textTail(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let start = text.length - maxChars;
  if (isLowSurrogate(text.charCodeAt(start))) start++;
  return `…${text.slice(start)}`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
