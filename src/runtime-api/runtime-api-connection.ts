import net from 'node:net';
import { HttpProtocolError, HttpResponseParser, type ParsedResponse } from './http-response-parser.ts';

/**
 * The connection failed, or closed before the answer came. `code` says how: ECONNREFUSED,
 * ECONNRESET, EPIPE… from the socket, or ECONNCLOSED when the server just closed it.
 */
export class ConnectionFault extends Error {
  override readonly name = 'ConnectionFault';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

interface Waiting {
  /** The socket the request went out on: events of an earlier, dropped socket are not its own. */
  socket: net.Socket;
  resolve: (response: ParsedResponse) => void;
  reject: (error: Error) => void;
}

/**
 * One keep-alive HTTP/1.1 connection to the Runtime API, carrying one request at a time: a
 * request is written in one system call (head and body together), and its response is parsed
 * from the socket's own reads (http-response-parser.ts). It opens on the first request and opens
 * again on the next request after the server closes it. It never retries: that is the client's
 * call, which knows which requests may be sent twice.
 *
 * No timeout: /next blocks for as long as the function is idle.
 */
export class RuntimeApiConnection {
  readonly #host: string;
  readonly #port: number;
  /** The Host header, as the address was given. */
  readonly #authority: string;
  #socket: net.Socket | undefined;
  #waiting: Waiting | undefined;
  readonly #readBuffer = Buffer.allocUnsafe(64 * 1024);

  /** `address` is the Runtime API's host:port, as AWS_LAMBDA_RUNTIME_API gives it ([v6]:port too). */
  constructor(address: string) {
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
    const port = Number(match?.[3]);
    if (!match || !(port > 0 && port < 65536)) throw new TypeError(`the Runtime API address must be host:port, not '${address}'`);
    this.#host = match[1] ?? match[2]!;
    this.#port = port;
    this.#authority = address;
  }

  request(method: 'GET' | 'POST', path: string, headers: Readonly<Record<string, string>>, body?: string | Buffer): Promise<ParsedResponse> {
    if (this.#waiting) return Promise.reject(new Error('RuntimeApiConnection carries one request at a time'));
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.#authority}\r\n`;
    for (const name in headers) {
      const value = headers[name]!;
      // A CR or LF would end the header early and let the rest pass for headers of its own.
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) return Promise.reject(new TypeError(`invalid header ${JSON.stringify(name)}: ${JSON.stringify(value)}`));
      head += `${name}: ${value}\r\n`;
    }
    if (body !== undefined) head += `Content-Length: ${typeof body === 'string' ? Buffer.byteLength(body) : body.length}\r\n`;
    head += '\r\n';

    const socket = this.#socket ?? this.#connect();
    return new Promise<ParsedResponse>((resolve, reject) => {
      this.#waiting = { socket, resolve, reject };
      // The head in UTF-8 like a string body (and the Go Runtime API reads it so): latin1 would
      // cut any character above U+00FF to its low byte.
      if (body === undefined) socket.write(head);
      else if (typeof body === 'string') socket.write(head + body);
      else {
        // Corked, the two buffers leave together in one writev, without copying the body.
        socket.cork();
        socket.write(head);
        socket.write(body);
        socket.uncork();
      }
    });
  }

  close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  #connect(): net.Socket {
    const parser = new HttpResponseParser();
    const socket: net.Socket = net.connect({
      host: this.#host,
      port: this.#port,
      noDelay: true,
      // Reads land in one buffer of ours and come straight to the parser, without the Readable
      // stream's buffering and 'data' events (a good share of the CPU each response costs).
      // The bytes are copied out, since the buffer is read into again.
      onread: { buffer: this.#readBuffer, callback: (length: number, buffer: Uint8Array): boolean => this.#onData(socket, parser, Buffer.copyBytesFrom(buffer, 0, length)) },
    });
    this.#socket = socket;
    let lastError: NodeJS.ErrnoException | undefined;
    socket.on('error', (error: NodeJS.ErrnoException) => {
      lastError = error;
    });
    socket.on('close', () => this.#onClose(socket, parser, lastError));
    return socket;
  }

  #onData(socket: net.Socket, parser: HttpResponseParser, chunk: Buffer): true {
    // Bytes nobody asked for: the connection is out of step. No request waits on it to be told.
    if (this.#waiting?.socket !== socket) {
      this.#drop(socket);
      return true;
    }
    let responses: ParsedResponse[];
    try {
      responses = parser.push(chunk);
      if (responses.length > 1) throw new HttpProtocolError('the Runtime API sent more responses than it was sent requests');
    } catch (error) {
      this.#drop(socket);
      this.#settle(socket)?.reject(error as Error);
      return true;
    }
    const [response] = responses;
    if (response === undefined) return true;
    if (!response.keepAlive) this.#drop(socket);
    this.#settle(socket)!.resolve(response);
    // Keep reading (false would pause the socket).
    return true;
  }

  #onClose(socket: net.Socket, parser: HttpResponseParser, error: NodeJS.ErrnoException | undefined): void {
    if (this.#socket === socket) this.#socket = undefined;
    const waiting = this.#settle(socket);
    if (!waiting) return;
    let response: ParsedResponse | undefined;
    try {
      // A body delimited by the end of the connection is complete now.
      response = parser.end();
    } catch {
      // A response cut short is no answer: the fault below says the connection closed.
    }
    if (response) return waiting.resolve(response);
    waiting.reject(
      error?.code
        ? new ConnectionFault(`the connection to the Runtime API failed: ${error.message}`, error.code)
        : new ConnectionFault('the Runtime API closed the connection without answering', 'ECONNCLOSED'),
    );
  }

  /** The request waiting on `socket`, no longer waiting. */
  #settle(socket: net.Socket): Waiting | undefined {
    const waiting = this.#waiting;
    if (waiting?.socket !== socket) return undefined;
    this.#waiting = undefined;
    return waiting;
  }

  /** Stops using `socket`: the next request opens a new connection. */
  #drop(socket: net.Socket): void {
    if (this.#socket === socket) this.#socket = undefined;
    socket.destroy();
  }
}
