/**
 * A body this long (UTF-16 code units) is escaped piece by piece: below it, one JSON.stringify is
 * fastest. Both are far below V8's large-object size (128 KiB), where strings and buffers get
 * expensive: on Node 24, JSON.stringify of one 420 KB HTML string takes about 0.8 ms, the same
 * text in 32 K pieces about 0.5 ms.
 */
const PIECE = 32 * 1024;
const WHOLE_UP_TO = 2 * PIECE;

/**
 * Payloads up to this size are written into one buffer kept from call to call: a fresh buffer of
 * that size per invocation is external memory, which drives V8 into full collections (the median
 * gained, the mean did not). Beyond it, a buffer each time: a rare large answer should not pin
 * megabytes in the sandbox for good, and Lambda refuses over 6 MB with a 413 that may come before
 * the body is all sent, while a kept buffer must not change under a write still under way.
 */
const REUSED_BUFFER_MAX = 1024 * 1024;

/**
 * A result that is JSON text already (what an event script printed): posted exactly as it is, not
 * parsed and written again, which would change its numbers (2^53 and beyond) and its spacing.
 */
export class JsonPayload {
  constructor(readonly json: string) {}
}

/**
 * The Lambda result as the JSON posted to /response. The same JSON as JSON.stringify(result), with
 * `body` moved last; what the text body costs is made cheaper for large bodies (see PIECE).
 *
 * A Buffer returned by toJson() is only valid until the next call: post it before serializing the
 * next result (the runtime loop answers one invocation at a time).
 */
export class ResultSerializer {
  #buffer: Buffer = Buffer.alloc(0);

  toJson(result: unknown): string | Buffer {
    if (!isPlainObject(result) || typeof result.body !== 'string' || result.body.length <= WHOLE_UP_TO) {
      return result instanceof JsonPayload ? result.json : JSON.stringify(result);
    }
    const { body, ...rest } = result;
    const fields = JSON.stringify(rest);
    const opening = fields === '{}' ? '{"body":"' : `${fields.slice(0, -1)},"body":"`;
    const pieces = escapedPieces(body);
    let size = Buffer.byteLength(opening) + 2; // + the closing '"}'
    for (const piece of pieces) size += Buffer.byteLength(piece) - 2;

    // The buffer holds at least `size` bytes, and write() encodes each string to exactly the
    // Buffer.byteLength() counted above (the same UTF-8; JSON.stringify leaves no lone surrogate
    // unescaped), so every string is written whole and the bytes end at `size`.
    const out = this.#bufferFor(size);
    let at = out.write(opening, 0);
    // Each piece is a JSON string: its own quotes are left out.
    for (const piece of pieces) at += out.write(piece.slice(1, -1), at);
    out.write('"}', at, 'latin1');
    return out.subarray(0, size);
  }

  #bufferFor(size: number): Buffer {
    if (size > REUSED_BUFFER_MAX) return Buffer.allocUnsafeSlow(size);
    if (this.#buffer.length < size) this.#buffer = Buffer.allocUnsafeSlow(Math.min(REUSED_BUFFER_MAX, Math.max(size, 2 * this.#buffer.length)));
    return this.#buffer;
  }
}

/** `text` as JSON strings of about PIECE code units each, never splitting a surrogate pair. */
function escapedPieces(text: string): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + PIECE, text.length);
    // A high surrogate at the end would be escaped on its own as \udXXX, and its pair broken. (At
    // the text's end, a lone one: end then passes the length, which slice() and the loop allow.)
    if (isHighSurrogate(text.charCodeAt(end - 1))) end++;
    pieces.push(JSON.stringify(text.slice(start, end)));
    start = end;
  }
  return pieces;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  // A toJSON() of its own would decide the JSON: leave such objects to JSON.stringify.
  return (prototype === Object.prototype || prototype === null) && !('toJSON' in value);
}
