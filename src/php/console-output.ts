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
 * says how much. Measured on the JSON itself, since escaping can make the text grow sixfold.
 */
export function consoleResult(exitCode: number, bytes: Buffer, droppedBytes: number, maxBytes = MAX_RESPONSE_BYTES): JsonPayload {
  // A tail cut inside a UTF-8 sequence starts with continuation bytes: they are part of what is left out.
  let skip = 0;
  while (skip < bytes.length && skip < 3 && (bytes[skip]! & 0xc0) === 0x80) skip++;
  const text = bytes.subarray(skip).toString('utf8');
  const whole = JSON.stringify({ exitCode, output: text });
  if (droppedBytes + skip === 0 && Buffer.byteLength(whole) <= maxBytes) return new JsonPayload(whole);

  // The notice for the most that can be left out has at least as many digits as the real one.
  const most = droppedBytes + skip + Buffer.byteLength(text);
  let budget = maxBytes - Buffer.byteLength(JSON.stringify({ exitCode, output: leftOutNotice(most) }));
  // The longest tail whose JSON fits the budget, taken from the end, a whole character at a time.
  let start = text.length;
  while (start > 0) {
    const pair = start >= 2 && isLowSurrogate(text.charCodeAt(start - 1)) && isHighSurrogate(text.charCodeAt(start - 2));
    const cost = pair ? 4 : jsonBytes(text.charCodeAt(start - 1));
    if (cost > budget) break;
    budget -= cost;
    start -= pair ? 2 : 1;
  }
  const left = droppedBytes + skip + Buffer.byteLength(text.slice(0, start));
  return new JsonPayload(JSON.stringify({ exitCode, output: leftOutNotice(left) + text.slice(start) }));
}

function leftOutNotice(bytes: number): string {
  return `[lambda-php: the first ${bytes} bytes of output were left out to fit Lambda's 6 MB response limit]\n`;
}

/** The bytes of UTF-8 JSON that JSON.stringify writes for one UTF-16 code unit (not half of a pair). */
function jsonBytes(code: number): number {
  if (code === 0x22 || code === 0x5c) return 2; // \" \\
  if (code < 0x20) return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6; // \n or \u0001
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdfff) return 6; // a lone surrogate is escaped: \udXXX
  return 3;
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

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
