import net from 'node:net';
import { LineSplitter } from '../stderr-lines.ts';
import { PhpCrashError } from '../php-executor.ts';
import {
  decodeEndRequest,
  decodeNameValuePairs,
  encodeGetValues,
  encodeRequest,
  KEEP_CONN,
  ProtocolStatus,
  RecordParser,
  RecordType,
  type EndRequestBody,
} from './fastcgi-codec.ts';

/**
 * The largest request id: ids run 1, 2, ... up to it, then start again at 1 (0 is the management
 * id). One request at a time would do with a single id, but then a record php-cgi wrote late for
 * the previous request (after its END_REQUEST) would land in the next one's output; with a new id
 * per request it is recognised and dropped.
 */
const MAX_REQUEST_ID = 0xffff;
/** What one read takes at most: php-cgi writes its output in records of up to 64 KiB. */
const READ_BUFFER_BYTES = 64 * 1024;
/** Consecutive records go out in one writev of up to about this size (a hello world: one syscall). */
const WRITE_BATCH_BYTES = 128 * 1024;

export interface FastCgiRequest {
  params: Record<string, string>;
  body: Buffer;
  /** Receives each line of the request's STDERR stream (error_log, PHP warnings). */
  log: (line: string) => void;
}

export interface FastCgiResponse extends EndRequestBody {
  /** The STDOUT stream: for php-cgi, CGI headers, a blank line, then the body. */
  stdout: Buffer;
}

interface ActiveRequest {
  requestId: number;
  stdout: Buffer[];
  /** Made when the first STDERR record comes: most requests write none. */
  stderr: LineSplitter | undefined;
  log: (line: string) => void;
  resolve: (response: FastCgiResponse) => void;
  reject: (error: Error) => void;
}

/**
 * A keep-alive FastCGI connection to a Responder over a Unix socket, carrying one request at a
 * time. It never retries: once a request's records have been written, PHP may have acted on
 * them, so a broken connection fails that request (PhpCrashError) and the connection for good.
 */
export class FastCgiConnection {
  readonly #socket: net.Socket;
  readonly #parser = new RecordParser();
  #active: ActiveRequest | undefined;
  #valuesQuery: { resolve: (values: Map<string, string>) => void; reject: (error: Error) => void } | undefined;
  #closed = false;
  #lastError: Error | undefined;
  /** The id of the request running now, or of the last one. */
  #requestId = 0;

  /**
   * The keep-alive connection requests go over. Its reads land in one buffer of its own and come
   * straight to the record parser, without the Readable stream's buffering and 'data' events: a
   * good share of what each answer costs the runtime, on the invocation's critical path. The bytes
   * are copied out, since the buffer is read into again.
   */
  static connect(socketPath: string): Promise<FastCgiConnection> {
    return new Promise((resolve, reject) => {
      const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      let connection: FastCgiConnection | undefined;
      const socket = net.createConnection({
        path: socketPath,
        onread: {
          buffer,
          callback: (length: number, bytes: Uint8Array): boolean => {
            if (connection) connection.#onData(Buffer.copyBytesFrom(bytes, 0, length));
            return true;
          },
        },
      });
      socket.once('connect', () => {
        socket.off('error', reject);
        connection = new FastCgiConnection(socket, false);
        resolve(connection);
      });
      socket.once('error', reject);
    });
  }

  /** `readsData`: take the socket's 'data' events (false when connect() delivers the reads itself). */
  constructor(socket: net.Socket, readsData = true) {
    this.#socket = socket;
    if (readsData) socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => {
      this.#lastError = error;
    });
    socket.on('close', () => this.#onClose());
  }

  /** False once either side closed the connection or it failed. */
  get isOpen(): boolean {
    return !this.#closed && !this.#socket.destroyed && !this.#socket.readableEnded;
  }

  request(request: FastCgiRequest): Promise<FastCgiResponse> {
    if (this.#active || this.#valuesQuery) return Promise.reject(new Error('FastCgiConnection carries one request at a time'));
    if (!this.isOpen) return Promise.reject(new PhpCrashError('the FastCGI connection to php-cgi is closed'));
    const requestId = nextRequestId(this.#requestId);
    let records: Buffer[];
    try {
      records = encodeRequest(requestId, request.params, request.body, KEEP_CONN);
    } catch (error) {
      // Refused before a byte was written: the connection is still clean for the next request.
      return Promise.reject(error);
    }
    this.#requestId = requestId;
    return new Promise((resolve, reject) => {
      this.#active = { requestId, stdout: [], stderr: undefined, log: request.log, resolve, reject };
      this.#write(records).catch((error: Error) => this.#fail(new PhpCrashError(`writing the request to php-cgi failed: ${error.message}`)));
    });
  }

  /**
   * Asks the application for management values (FCGI_GET_VALUES). Answering proves more than an
   * accepted connection: php-cgi listens before it has finished checking its settings, but only
   * answers from inside its request loop. php-cgi closes the connection after answering.
   */
  getValues(names: string[]): Promise<Map<string, string>> {
    if (this.#valuesQuery || this.#active) return Promise.reject(new Error('FastCgiConnection carries one exchange at a time'));
    if (!this.isOpen) return Promise.reject(new PhpCrashError('the FastCGI connection to php-cgi is closed'));
    return new Promise((resolve, reject) => {
      this.#valuesQuery = { resolve, reject };
      this.#write(encodeGetValues(names)).catch((error: Error) => this.#fail(new PhpCrashError(`writing to php-cgi failed: ${error.message}`)));
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /**
   * Writes with backpressure: PHP reads its body only as the script asks for it, so a large body
   * must wait in PHP's socket buffer rather than pile up in ours.
   */
  async #write(records: Buffer[]): Promise<void> {
    if (records.length === 1) {
      // The usual request: one buffer, one write.
      this.#socket.write(records[0]!);
      if (this.#socket.writableNeedDrain) await this.#drained();
      return;
    }
    for (const batch of groupBuffers(records, WRITE_BATCH_BYTES)) {
      if (!this.isOpen) return; // #onClose has already failed the request.
      // Corked writes leave as one writev when uncorked, without copying the body into one buffer.
      this.#socket.cork();
      for (const buffer of batch) this.#socket.write(buffer);
      this.#socket.uncork();
      if (this.#socket.writableNeedDrain) await this.#drained();
    }
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
  }

  #onData(chunk: Buffer): void {
    let records;
    try {
      records = this.#parser.push(chunk);
    } catch (error) {
      this.#fail(new PhpCrashError(`php-cgi sent an invalid FastCGI stream: ${(error as Error).message}`));
      this.#socket.destroy();
      return;
    }
    for (const record of records) {
      if (record.type === RecordType.GetValuesResult && this.#valuesQuery) {
        const query = this.#valuesQuery;
        this.#valuesQuery = undefined;
        try {
          query.resolve(new Map(decodeNameValuePairs(record.content)));
        } catch (error) {
          query.reject(error as Error);
        }
        continue;
      }
      const active = this.#active;
      // Management records (request id 0), late records of an earlier request and anything
      // outside a request are not ours to act on.
      if (!active || record.requestId !== active.requestId) continue;
      if (record.type === RecordType.Stdout) active.stdout.push(record.content);
      else if (record.type === RecordType.Stderr) (active.stderr ??= new LineSplitter(active.log)).push(record.content);
      else if (record.type === RecordType.EndRequest) this.#end(active, record.content);
    }
  }

  /** END_REQUEST: the request is over, answered only if the application says it completed it. */
  #end(active: ActiveRequest, content: Buffer): void {
    this.#active = undefined;
    active.stderr?.flush();
    let end: EndRequestBody;
    try {
      end = decodeEndRequest(content);
    } catch (error) {
      active.reject(new PhpCrashError(`php-cgi ended the request with an invalid record: ${(error as Error).message}`));
      this.#socket.destroy();
      return;
    }
    // FCGI_CANT_MPX_CONN, FCGI_OVERLOADED, FCGI_UNKNOWN_ROLE: the request was rejected, not run,
    // and whatever STDOUT came with it is no answer.
    if (end.protocolStatus !== ProtocolStatus.RequestComplete) {
      active.reject(new PhpCrashError(`php-cgi refused the request (FastCGI protocol status ${end.protocolStatus})`));
      return;
    }
    active.resolve({ stdout: Buffer.concat(active.stdout), ...end });
  }

  #onClose(): void {
    this.#closed = true;
    const reason = this.#lastError ? ` (${this.#lastError.message})` : '';
    this.#fail(new PhpCrashError(`php-cgi closed the FastCGI connection before answering${reason}`));
  }

  #fail(error: PhpCrashError): void {
    const query = this.#valuesQuery;
    this.#valuesQuery = undefined;
    query?.reject(error);
    const active = this.#active;
    if (!active) return;
    this.#active = undefined;
    active.stderr?.flush();
    active.reject(error);
  }
}

/** The id after `previous`: 1 to 65535 in turn, never 0 (FCGI_NULL_REQUEST_ID, for management records). */
export function nextRequestId(previous: number): number {
  return (previous % MAX_REQUEST_ID) + 1;
}

/** Groups consecutive buffers into batches of up to `limit` bytes; a larger buffer goes alone. */
export function* groupBuffers(buffers: Buffer[], limit: number): Generator<Buffer[]> {
  let batch: Buffer[] = [];
  let batchLength = 0;
  for (const buffer of buffers) {
    if (batchLength + buffer.length > limit && batch.length > 0) {
      yield batch;
      batch = [];
      batchLength = 0;
    }
    batch.push(buffer);
    batchLength += buffer.length;
  }
  if (batch.length > 0) yield batch;
}
