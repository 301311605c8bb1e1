/**
 * FastCGI 1.0 records, as the specification lays them out: an 8-byte header (version, type,
 * request id, content length, padding length), then the content, then the padding.
 * Only what a Responder client needs: BEGIN_REQUEST, PARAMS and STDIN out; STDOUT, STDERR and
 * END_REQUEST in.
 */

export const FCGI_VERSION_1 = 1;
export const HEADER_LENGTH = 8;
/** contentLength is 16 bits; php-cgi also rejects a record whose content plus padding is larger. */
export const MAX_CONTENT_LENGTH = 0xffff;

export const RecordType = {
  BeginRequest: 1,
  AbortRequest: 2,
  EndRequest: 3,
  Params: 4,
  Stdin: 5,
  Stdout: 6,
  Stderr: 7,
  Data: 8,
  GetValues: 9,
  GetValuesResult: 10,
  UnknownType: 11,
} as const;

export const Role = { Responder: 1, Authorizer: 2, Filter: 3 } as const;

/** BEGIN_REQUEST flag: the application keeps the connection open after END_REQUEST. */
export const KEEP_CONN = 1;

export const ProtocolStatus = { RequestComplete: 0, CantMultiplexConnection: 1, Overloaded: 2, UnknownRole: 3 } as const;

export interface RecordHeader {
  version: number;
  type: number;
  requestId: number;
  contentLength: number;
  paddingLength: number;
}

export interface FastCgiRecord {
  type: number;
  requestId: number;
  /** The content without its padding. */
  content: Buffer;
}

export interface EndRequestBody {
  appStatus: number;
  protocolStatus: number;
}

/** The peer broke the protocol (wrong version, impossible lengths): the connection is unusable. */
export class FastCgiProtocolError extends Error {
  override readonly name = 'FastCgiProtocolError';
}

export function encodeHeader(header: RecordHeader): Buffer {
  checkRange('requestId', header.requestId, 0xffff);
  checkRange('contentLength', header.contentLength, MAX_CONTENT_LENGTH);
  checkRange('paddingLength', header.paddingLength, 0xff);
  const bytes = Buffer.allocUnsafe(HEADER_LENGTH);
  bytes[0] = header.version;
  bytes[1] = header.type;
  bytes.writeUInt16BE(header.requestId, 2);
  bytes.writeUInt16BE(header.contentLength, 4);
  bytes[6] = header.paddingLength;
  bytes[7] = 0;
  return bytes;
}

export function decodeHeader(bytes: Buffer, offset = 0): RecordHeader {
  if (bytes.length - offset < HEADER_LENGTH) throw new RangeError(`a FastCGI header needs ${HEADER_LENGTH} bytes, ${bytes.length - offset} given`);
  return {
    version: bytes[offset]!,
    type: bytes[offset + 1]!,
    requestId: bytes.readUInt16BE(offset + 2),
    contentLength: bytes.readUInt16BE(offset + 4),
    paddingLength: bytes[offset + 6]!,
  };
}

/**
 * One record as [header, content]: the content is not copied, so a large body goes out as slices
 * of the caller's buffer. No padding: the specification only recommends 8-byte alignment, and
 * php-cgi reads unpadded records.
 */
export function encodeRecord(type: number, requestId: number, content: Buffer = Buffer.alloc(0)): Buffer[] {
  const header = encodeHeader({ version: FCGI_VERSION_1, type, requestId, contentLength: content.length, paddingLength: 0 });
  return content.length === 0 ? [header] : [header, content];
}

export function encodeBeginRequest(requestId: number, role: number = Role.Responder, flags: number = KEEP_CONN): Buffer[] {
  const body = Buffer.alloc(8);
  body.writeUInt16BE(role, 0);
  body[2] = flags;
  return encodeRecord(RecordType.BeginRequest, requestId, body);
}

export function decodeBeginRequest(content: Buffer): { role: number; flags: number } {
  if (content.length < 8) throw new FastCgiProtocolError(`BEGIN_REQUEST body is ${content.length} bytes, expected 8`);
  return { role: content.readUInt16BE(0), flags: content[2]! };
}

export function encodeEndRequest(requestId: number, body: EndRequestBody): Buffer[] {
  const content = Buffer.alloc(8);
  content.writeUInt32BE(body.appStatus, 0);
  content[4] = body.protocolStatus;
  return encodeRecord(RecordType.EndRequest, requestId, content);
}

export function decodeEndRequest(content: Buffer): EndRequestBody {
  if (content.length < 8) throw new FastCgiProtocolError(`END_REQUEST body is ${content.length} bytes, expected 8`);
  return { appStatus: content.readUInt32BE(0), protocolStatus: content[4]! };
}

/** A name or value length: one byte up to 127, else four bytes with the top bit set. */
export function encodeLength(length: number): Buffer {
  // Checked first: Buffer.from([-1]) would quietly write 0xFF, a 4-byte length's first byte.
  checkRange('name-value length', length, 0x7fffffff);
  if (length <= 0x7f) return Buffer.from([length]);
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE((length | 0x80000000) >>> 0, 0);
  return bytes;
}

export function encodeNameValuePair(name: string | Buffer, value: string | Buffer): Buffer {
  const nameBytes = typeof name === 'string' ? Buffer.from(name) : name;
  const valueBytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([encodeLength(nameBytes.length), encodeLength(valueBytes.length), nameBytes, valueBytes]);
}

export function decodeNameValuePairs(content: Buffer): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let offset = 0;
  const readLength = (): number => {
    if (offset >= content.length) throw new FastCgiProtocolError('name-value pair cut short in its lengths');
    const first = content[offset]!;
    if (first <= 0x7f) {
      offset += 1;
      return first;
    }
    if (offset + 4 > content.length) throw new FastCgiProtocolError('name-value pair cut short in a 4-byte length');
    const length = content.readUInt32BE(offset) & 0x7fffffff;
    offset += 4;
    return length;
  };
  while (offset < content.length) {
    const nameLength = readLength();
    const valueLength = readLength();
    if (offset + nameLength + valueLength > content.length) throw new FastCgiProtocolError('name-value pair longer than its record');
    const name = content.toString('utf8', offset, offset + nameLength);
    offset += nameLength;
    const value = content.toString('utf8', offset, offset + valueLength);
    offset += valueLength;
    pairs.push([name, value]);
  }
  return pairs;
}

/**
 * The PARAMS stream: pairs packed into records of at most 64 KiB, then the empty record that ends
 * the stream, all in one buffer. The specification lets a pair straddle two records, but php-cgi
 * parses each PARAMS record on its own and drops the connection on a cut pair, so pairs are never
 * split; a single pair too large for one record is refused here rather than by a dropped
 * connection later.
 */
export function encodeParams(requestId: number, params: Record<string, string>): Buffer[] {
  // paramsStream writes the id into its headers as characters, which would not refuse it.
  checkRange('requestId', requestId, 0xffff);
  return [Buffer.from(paramsStream(requestId, params), 'latin1')];
}

/** Bodies up to this size are copied into the request's single buffer: one write, one syscall. */
const INLINE_BODY_BYTES = MAX_CONTENT_LENGTH;

/**
 * A whole Responder request: BEGIN_REQUEST, the PARAMS stream and the STDIN stream. A request with
 * a body of up to 64 KiB is one buffer, so it leaves in one write; a larger body follows as slices
 * of the caller's buffer (never copied) behind their record headers.
 */
export function encodeRequest(requestId: number, params: Record<string, string>, body: Buffer, flags: number = KEEP_CONN): Buffer[] {
  checkRange('requestId', requestId, 0xffff);
  const stream = paramsStream(requestId, params);
  const inline = body.length <= INLINE_BODY_BYTES;
  const stdinBytes = inline ? (body.length > 0 ? HEADER_LENGTH + body.length : 0) + HEADER_LENGTH : 0;
  const head = Buffer.allocUnsafe(HEADER_LENGTH + 8 + stream.length + stdinBytes);
  let offset = writeHeader(head, 0, RecordType.BeginRequest, requestId, 8);
  head.writeUInt16BE(Role.Responder, offset);
  head[offset + 2] = flags;
  head.fill(0, offset + 3, offset + 8);
  offset += 8;
  offset += head.write(stream, offset, 'latin1');
  if (!inline) return [head, ...encodeStdin(requestId, body)];
  if (body.length > 0) {
    offset = writeHeader(head, offset, RecordType.Stdin, requestId, body.length);
    offset += body.copy(head, offset);
  }
  writeHeader(head, offset, RecordType.Stdin, requestId, 0);
  return [head];
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The PARAMS stream as a "byte string": one character per byte (latin1), written into the request
 * with a single call. A request has dozens of parameters, and a native call to measure and another
 * to write each name and value cost more than the rest of the FastCGI exchange; names and values
 * are nearly always ASCII, which is its own byte string, and the rest is converted from UTF-8.
 */
function paramsStream(requestId: number, params: Record<string, string>): string {
  let stream = '';
  let record = '';
  for (const key of Object.keys(params)) {
    const name = asUtf8ByteString(key);
    const value = asUtf8ByteString(params[key]!);
    // A byte string's length is its byte count: the same measure environment-limits.ts applies.
    const pairLength = nameValuePairLength(name.length, value.length);
    if (pairLength > MAX_PARAM_PAIR_LENGTH) {
      throw new RangeError(`FastCGI parameter ${key} is ${pairLength} bytes encoded; one parameter must fit in a ${MAX_PARAM_PAIR_LENGTH}-byte record`);
    }
    const pair = lengthChars(name.length) + lengthChars(value.length) + name + value;
    if (record.length + pair.length > MAX_CONTENT_LENGTH) {
      stream += headerChars(RecordType.Params, requestId, record.length) + record;
      record = '';
    }
    record += pair;
  }
  if (record.length > 0) stream += headerChars(RecordType.Params, requestId, record.length) + record;
  return stream + headerChars(RecordType.Params, requestId, 0);
}

/** `text`'s UTF-8 encoding as a byte string. */
function asUtf8ByteString(text: string): string {
  return NON_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

/** A name or value length as a byte string: one byte up to 127, else four with the top bit set. */
function lengthChars(length: number): string {
  if (length <= 0x7f) return String.fromCharCode(length);
  return String.fromCharCode(((length >>> 24) & 0x7f) | 0x80, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
}

/** A record header as a byte string (version 1, no padding). */
function headerChars(type: number, requestId: number, contentLength: number): string {
  return String.fromCharCode(FCGI_VERSION_1, type, requestId >>> 8, requestId & 0xff, contentLength >>> 8, contentLength & 0xff, 0, 0);
}

function writeHeader(bytes: Buffer, offset: number, type: number, requestId: number, contentLength: number): number {
  bytes[offset] = FCGI_VERSION_1;
  bytes[offset + 1] = type;
  bytes.writeUInt16BE(requestId, offset + 2);
  bytes.writeUInt16BE(contentLength, offset + 4);
  bytes[offset + 6] = 0;
  bytes[offset + 7] = 0;
  return offset + HEADER_LENGTH;
}

/** The bytes a name-value pair takes in a PARAMS record, given the UTF-8 lengths of its name and value. */
export function nameValuePairLength(nameBytes: number, valueBytes: number): number {
  return lengthBytes(nameBytes) + lengthBytes(valueBytes) + nameBytes + valueBytes;
}

/** The most a single parameter may take: php-cgi reads each PARAMS record on its own (see encodeParams). */
export const MAX_PARAM_PAIR_LENGTH = MAX_CONTENT_LENGTH;

function lengthBytes(length: number): number {
  return length <= 0x7f ? 1 : 4;
}

/**
 * A management query (request id 0): the application answers with GET_VALUES_RESULT holding the
 * values it knows (FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS).
 */
export function encodeGetValues(names: string[]): Buffer[] {
  return encodeRecord(RecordType.GetValues, 0, Buffer.concat(names.map((name) => encodeNameValuePair(name, ''))));
}

/** The STDIN stream: the body in records of at most 65535 bytes, then the empty record that ends it. */
export function encodeStdin(requestId: number, body: Buffer): Buffer[] {
  const records: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += MAX_CONTENT_LENGTH) {
    records.push(...encodeRecord(RecordType.Stdin, requestId, body.subarray(offset, offset + MAX_CONTENT_LENGTH)));
  }
  records.push(...encodeRecord(RecordType.Stdin, requestId));
  return records;
}

/**
 * Turns a byte stream into records, whatever the chunking: a record split across reads waits for
 * its remainder, several records in one read all come out. Chunks are only joined when a record
 * straddles them, and then once per record (not once per read), so a 64 KiB record arriving in
 * many small reads is not copied over and over.
 */
export class RecordParser {
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** The header of the record being waited for, once its 8 bytes are in. */
  #header: RecordHeader | undefined;

  push(chunk: Buffer): FastCgiRecord[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const records: FastCgiRecord[] = [];
    for (;;) {
      if (!this.#header) {
        if (this.#buffered < HEADER_LENGTH) break;
        const header = decodeHeader(this.#take(HEADER_LENGTH));
        if (header.version !== FCGI_VERSION_1) throw new FastCgiProtocolError(`unsupported FastCGI version ${header.version} (record type ${header.type})`);
        this.#header = header;
      }
      const { type, requestId, contentLength, paddingLength } = this.#header;
      if (this.#buffered < contentLength + paddingLength) break;
      const content = this.#take(contentLength);
      this.#take(paddingLength);
      this.#header = undefined;
      records.push({ type, requestId, content });
    }
    return records;
  }

  /** Bytes of an incomplete record still waiting for the rest of it. */
  get pendingBytes(): number {
    return this.#buffered + (this.#header ? HEADER_LENGTH : 0);
  }

  /** The next `length` buffered bytes, sliced when they lie in one chunk, joined otherwise. */
  #take(length: number): Buffer {
    if (length === 0) return Buffer.alloc(0);
    const first = this.#chunks[0]!;
    let taken: Buffer;
    if (first.length >= length) {
      taken = first.subarray(0, length);
      if (first.length === length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(length);
    } else {
      const parts: Buffer[] = [];
      let missing = length;
      while (missing > 0) {
        const head = this.#chunks[0]!;
        if (head.length <= missing) {
          parts.push(head);
          this.#chunks.shift();
          missing -= head.length;
        } else {
          parts.push(head.subarray(0, missing));
          this.#chunks[0] = head.subarray(missing);
          missing = 0;
        }
      }
      taken = Buffer.concat(parts, length);
    }
    this.#buffered -= length;
    return taken;
  }
}

function checkRange(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`FastCGI ${what} must be an integer from 0 to ${max}, not ${value}`);
}
