/**
 * An incremental HTTP/1.1 response parser (RFC 9112) for the Runtime API client: bytes in, as the
 * socket delivers them, complete responses out. It frames bodies the three ways a server may: by
 * Content-Length, by chunked transfer coding (Lambda's Runtime API is a Go net/http server, which
 * chunks a body it was not given the length of), or by closing the connection.
 *
 * Why by hand rather than through an HTTP client library: the Runtime API is the runtime's one
 * peer, on loopback, and every invocation makes two round trips to it. A general client (undici)
 * costs a WebAssembly parser compiled at start, a few thousand lines of module code evaluated at
 * every cold start, and per request a request object, header validation and stream plumbing. What
 * this runtime needs of HTTP is this file and runtime-api-connection.ts.
 */
import { isOws, trimOws } from '../http/optional-whitespace.ts';

export type ResponseHeaders = Record<string, string | string[]>;

export interface ParsedResponse {
  statusCode: number;
  /** Names lower-cased; a repeated header keeps every value, in order. */
  headers: ResponseHeaders;
  body: Buffer;
  /** Whether the server keeps the connection open after this response. */
  keepAlive: boolean;
}

/** The server broke HTTP: the connection cannot be trusted for another response. */
export class HttpProtocolError extends Error {
  override readonly name = 'HttpProtocolError';
}

/** A response head (blank line included) larger than this is refused (Go's server sends well under 1 KiB); so is a chunk size or trailer line (CRLF included). */
const MAX_HEAD_BYTES = 64 * 1024;
/** Lambda's payloads are 6 MB at most; this only stops a broken peer from exhausting memory. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const CRLF_CRLF = Buffer.from('\r\n\r\n');

type Framing =
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailers'; remaining: number }
  | { kind: 'close' };

interface Head {
  statusCode: number;
  headers: ResponseHeaders;
  keepAlive: boolean;
  framing: Framing;
}

export class HttpResponseParser {
  /** Bytes received and not yet consumed; joined lazily. */
  #pending: Buffer[] = [];
  #pendingLength = 0;
  #head: Head | undefined;
  #body: Buffer[] = [];
  #bodyLength = 0;

  /** Feeds bytes; returns every response they complete (usually none or one). */
  push(chunk: Buffer): ParsedResponse[] {
    this.#pending.push(chunk);
    this.#pendingLength += chunk.length;
    const complete: ParsedResponse[] = [];
    for (;;) {
      if (this.#head === undefined && !this.#readHead()) break;
      const head = this.#head!;
      if (!this.#readBody(head.framing)) break;
      complete.push(this.#finish(head));
    }
    return complete;
  }

  /**
   * The connection was closed by the server: completes a response whose body ends with the
   * connection, and throws if one was cut short. Nothing pending: undefined.
   */
  end(): ParsedResponse | undefined {
    const head = this.#head;
    if (head === undefined) {
      if (this.#pendingLength > 0) throw new HttpProtocolError('the connection closed in the middle of a response head');
      return undefined;
    }
    if (head.framing.kind !== 'close') throw new HttpProtocolError('the connection closed before the response body was complete');
    // push() has already moved every byte received into the body.
    return this.#finish(head);
  }

  /** True while part of a response has been received. */
  get inProgress(): boolean {
    return this.#head !== undefined || this.#pendingLength > 0;
  }

  #readHead(): boolean {
    if (this.#pendingLength === 0) return false;
    const bytes = this.#joined();
    const end = bytes.indexOf(CRLF_CRLF);
    if (end < 0) {
      // The head needs at least one more byte: refused as soon as that is over the limit, so that
      // where the socket cuts the bytes does not change what is refused.
      if (bytes.length + 1 > MAX_HEAD_BYTES) throw new HttpProtocolError(`the response head is larger than ${MAX_HEAD_BYTES} bytes`);
      return false;
    }
    if (end + 4 > MAX_HEAD_BYTES) throw new HttpProtocolError(`the response head is larger than ${MAX_HEAD_BYTES} bytes`);
    this.#consume(end + 4);
    // Field values are bytes to HTTP. The ones the runtime reads beyond ASCII, the client context and
    // the Cognito identity, are JSON text that Lambda's Runtime API writes as UTF-8.
    const head = parseHead(bytes.toString('utf8', 0, end));
    // 1xx answers (100 Continue, 103 Early Hints) come before the real one and have no body.
    if (head.statusCode < 200) return this.#readHead();
    this.#head = head;
    return true;
  }

  /** Moves body bytes out of #pending; true once the body is complete. */
  #readBody(framing: Framing): boolean {
    if (framing.kind === 'length') {
      const take = Math.min(framing.remaining, this.#pendingLength);
      if (take > 0) this.#takeBody(take);
      framing.remaining -= take;
      return framing.remaining === 0;
    }
    if (framing.kind === 'close') {
      if (this.#pendingLength > 0) this.#takeBody(this.#pendingLength);
      return false;
    }
    return this.#readChunked(framing);
  }

  #readChunked(framing: Extract<Framing, { kind: 'chunked' }>): boolean {
    for (;;) {
      if (framing.state === 'data') {
        const take = Math.min(framing.remaining, this.#pendingLength);
        if (take > 0) this.#takeBody(take);
        framing.remaining -= take;
        if (framing.remaining > 0) return false;
        framing.state = 'data-end';
        continue;
      }
      const line = this.#takeLine();
      if (line === undefined) return false;
      if (framing.state === 'data-end') {
        if (line !== '') throw new HttpProtocolError('a chunk is longer than its declared size');
        framing.state = 'size';
      } else if (framing.state === 'size') {
        const size = line.split(';', 1)[0]!.trim();
        if (!/^[0-9a-fA-F]{1,8}$/.test(size)) throw new HttpProtocolError(`invalid chunk size line ${JSON.stringify(line.slice(0, 40))}`);
        framing.remaining = Number.parseInt(size, 16);
        framing.state = framing.remaining === 0 ? 'trailers' : 'data';
      } else if (line === '') {
        // The empty line after the last chunk (and any trailer fields, which are ignored).
        return true;
      }
    }
  }

  /** One CRLF-terminated line, without its CRLF, or undefined until it is all there. */
  #takeLine(): string | undefined {
    if (this.#pendingLength === 0) return undefined;
    const bytes = this.#joined();
    const end = bytes.indexOf('\r\n');
    // As for the head: the same limit whether the line comes whole or in pieces.
    if (end < 0) {
      if (bytes.length + 1 > MAX_HEAD_BYTES) throw new HttpProtocolError('a chunk size or trailer line is too long');
      return undefined;
    }
    if (end + 2 > MAX_HEAD_BYTES) throw new HttpProtocolError('a chunk size or trailer line is too long');
    this.#consume(end + 2);
    return bytes.toString('latin1', 0, end);
  }

  #takeBody(length: number): void {
    if (this.#bodyLength + length > MAX_BODY_BYTES) throw new HttpProtocolError(`the response body is larger than ${MAX_BODY_BYTES} bytes`);
    const bytes = this.#joined();
    this.#body.push(bytes.subarray(0, length));
    this.#bodyLength += length;
    this.#consume(length);
  }

  #finish(head: Head): ParsedResponse {
    const body = this.#body.length === 1 ? this.#body[0]! : Buffer.concat(this.#body, this.#bodyLength);
    this.#head = undefined;
    this.#body = [];
    this.#bodyLength = 0;
    return { statusCode: head.statusCode, headers: head.headers, body, keepAlive: head.keepAlive };
  }

  #joined(): Buffer {
    if (this.#pending.length > 1) this.#pending = [Buffer.concat(this.#pending, this.#pendingLength)];
    return this.#pending[0]!;
  }

  #consume(length: number): void {
    const bytes = this.#joined();
    this.#pendingLength -= length;
    this.#pending = this.#pendingLength > 0 ? [bytes.subarray(length)] : [];
  }
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |$)/;

function parseHead(text: string): Head {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const statusLine = text.slice(0, lineEnd);
  const status = STATUS_LINE.exec(statusLine);
  if (!status) throw new HttpProtocolError(`invalid status line ${JSON.stringify(statusLine.slice(0, 80))}`);
  const minorVersion = status[1];
  const statusCode = Number(status[2]);
  const headers: ResponseHeaders = {};
  // Line by line in place (no array of lines). Names are lower-cased afresh: a cache of them
  // measured no faster than toLowerCase() on names this short.
  let lastName: string | undefined;
  for (let start = lineEnd + 2; start < text.length; start = lineEnd + 2) {
    lineEnd = text.indexOf('\r\n', start);
    if (lineEnd < 0) lineEnd = text.length;
    if (isOws(text.charCodeAt(start))) {
      // Obsolete line folding: a user agent replaces it with a space (RFC 9112 §5.2). Before the
      // first field it is whitespace after the status line, refused (§2.2).
      if (lastName === undefined) throw invalidHeaderLine(text, start, lineEnd);
      const folded = trimOws(text, start, lineEnd);
      if (folded === '') continue;
      const existing = headers[lastName]!;
      if (typeof existing === 'string') headers[lastName] = `${existing} ${folded}`;
      else existing[existing.length - 1] += ` ${folded}`;
      continue;
    }
    const colon = text.indexOf(':', start);
    if (colon <= start || colon > lineEnd) throw invalidHeaderLine(text, start, lineEnd);
    const name = text.slice(start, colon).toLowerCase();
    const value = trimOws(text, colon + 1, lineEnd);
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (typeof existing === 'string') headers[name] = [existing, value];
    else existing.push(value);
    lastName = name;
  }

  const connection = listOf(headers.connection);
  const keepAlive = minorVersion === '1' ? !connection.includes('close') : connection.includes('keep-alive');
  return { statusCode, headers, keepAlive, framing: framingOf(statusCode, headers) };
}

function invalidHeaderLine(text: string, start: number, lineEnd: number): HttpProtocolError {
  return new HttpProtocolError(`invalid header line ${JSON.stringify(text.slice(start, Math.min(lineEnd, start + 80)))}`);
}

/** How the body of a response with these headers ends (RFC 9112 §6.3). */
function framingOf(statusCode: number, headers: ResponseHeaders): Framing {
  if (statusCode === 204 || statusCode === 304) return { kind: 'length', remaining: 0 };
  const length = headers['content-length'];
  // The usual answer: one plain length, no transfer coding.
  if (typeof length === 'string' && headers['transfer-encoding'] === undefined && /^\d{1,15}$/.test(length)) return { kind: 'length', remaining: Number(length) };
  const codings = listOf(headers['transfer-encoding']);
  if (codings.length > 0) {
    if (codings.at(-1) === 'chunked') return { kind: 'chunked', state: 'size', remaining: 0 };
    return { kind: 'close' };
  }
  if (length === undefined) return { kind: 'close' };
  const values = new Set(listOf(length));
  const [only] = values;
  if (values.size !== 1 || !/^\d{1,15}$/.test(only!)) throw new HttpProtocolError(`invalid Content-Length ${JSON.stringify(length)}`);
  return { kind: 'length', remaining: Number(only) };
}

/** A comma-separated header (possibly repeated) as trimmed, lower-cased items. */
function listOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const joined = typeof value === 'string' ? value : value.join(',');
  return joined
    .split(',')
    .map((item) => trimOws(item).toLowerCase())
    .filter((item) => item !== '');
}
