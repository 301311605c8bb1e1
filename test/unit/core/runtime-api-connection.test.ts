/**
 * RuntimeApiConnection against a raw TCP server, so that each test says byte for byte what the
 * "Runtime API" answers: what the connection must do with answers a well-behaved server never
 * sends, and when it must stop using a socket (RFC 9112 §9.3, §9.6).
 */
import net, { type AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpProtocolError } from '../../../src/runtime-api/http-response-parser.ts';
import { ConnectionFault, RuntimeApiConnection } from '../../../src/runtime-api/runtime-api-connection.ts';

interface RawRequest {
  /** Which connection it came on, from 0. */
  connection: number;
  head: string;
  body: string;
}

/** A TCP server that reads HTTP/1.1 requests (framed by Content-Length) and writes what `answer` returns. */
class RawServer {
  readonly sockets: net.Socket[] = [];
  readonly closed = new Set<number>();
  readonly requests: RawRequest[] = [];
  readonly #server: net.Server;

  constructor(answer: (request: RawRequest, socket: net.Socket) => string | undefined) {
    this.#server = net.createServer((socket) => {
      const connection = this.sockets.push(socket) - 1;
      socket.on('close', () => this.closed.add(connection));
      socket.on('error', () => {});
      let received = '';
      socket.on('data', (data: Buffer) => {
        received += data.toString('latin1');
        for (;;) {
          const headEnd = received.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(received.slice(0, headEnd))?.[1] ?? 0);
          if (received.length < headEnd + 4 + length) return;
          const request = { connection, head: received.slice(0, headEnd), body: received.slice(headEnd + 4, headEnd + 4 + length) };
          received = received.slice(headEnd + 4 + length);
          this.requests.push(request);
          const bytes = answer(request, socket);
          if (bytes !== undefined) socket.write(bytes, 'latin1');
        }
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

const ACCEPTED = 'HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{"status":"OK"}';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function start(answer: (request: RawRequest, socket: net.Socket) => string | undefined): Promise<{ server: RawServer; connection: RuntimeApiConnection }> {
  const server = new RawServer(answer);
  const connection = new RuntimeApiConnection(await server.listen());
  cleanups.push(() => server.close(), () => connection.close());
  return { server, connection };
}

/** Lets real I/O run until `condition` holds (or gives up after many turns, for the test to fail on). */
async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 20_000 && !condition(); turn++) await nextTurn();
}

describe('RuntimeApiConnection: the address', () => {
  it.each(['127.0.0.1:1', '127.0.0.1:65535', 'localhost:9001', '[::1]:9001'])('accepts %s', (address) => {
    expect(() => new RuntimeApiConnection(address)).not.toThrow();
  });

  it.each([
    ['an IPv6 address without brackets', '::1:9001'],
    ['bytes after the port', '127.0.0.1:9001x'],
    ['port 0', '127.0.0.1:0'],
    ['a port over 65535', '127.0.0.1:65536'],
    ['no port', 'localhost'],
  ])('refuses %s', (_what, address) => {
    expect(() => new RuntimeApiConnection(address)).toThrow(new TypeError(`the Runtime API address must be host:port, not '${address}'`));
  });
});

describe('RuntimeApiConnection: faults', () => {
  it('says the connection was refused', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const connection = new RuntimeApiConnection(`127.0.0.1:${port}`);
    cleanups.push(() => connection.close());
    const error = (await connection.request('GET', '/next', {}).catch((e: unknown) => e)) as ConnectionFault;
    expect(error).toBeInstanceOf(ConnectionFault);
    expect(error.name).toBe('ConnectionFault');
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).toMatch(/^the connection to the Runtime API failed: .*ECONNREFUSED/);
  });

  it('says the server closed the connection without answering', async () => {
    const { connection } = await start((_request, socket) => void socket.end());
    const error = (await connection.request('GET', '/next', {}).catch((e: unknown) => e)) as ConnectionFault;
    expect(error).toBeInstanceOf(ConnectionFault);
    expect(error.code).toBe('ECONNCLOSED');
    expect(error.message).toBe('the Runtime API closed the connection without answering');
  });

  it('treats an answer cut short by the close as no answer', async () => {
    const { connection } = await start((_request, socket) => void socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"cut'));
    const error = (await connection.request('GET', '/next', {}).catch((e: unknown) => e)) as ConnectionFault;
    expect(error).toBeInstanceOf(ConnectionFault);
    expect(error.code).toBe('ECONNCLOSED');
  });

  it('refuses a second request while the first waits, and still answers the first', async () => {
    const { server, connection } = await start(() => undefined);
    const first = connection.request('GET', '/next', {});
    await expect(connection.request('POST', '/response', {}, '{}')).rejects.toThrow(/^RuntimeApiConnection carries one request at a time$/);
    await until(() => server.requests.length === 1);
    server.sockets[0]!.write(ACCEPTED);
    expect((await first).statusCode).toBe(202);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['a name', { 'X-A\r\nX-Injected': '1' }],
    ['a value', { 'X-A': '1\nX-Injected: 1' }],
  ])('refuses a line break in %s of a header, before sending anything', async (_what, headers) => {
    const { server, connection } = await start(() => ACCEPTED);
    const error = await connection.request('POST', '/error', headers, '{}').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^invalid header "X-A/);
    expect(server.sockets).toHaveLength(0);
  });
});

describe('RuntimeApiConnection: when to stop using a connection', () => {
  it('drops a connection that answers one request twice, and opens a new one for the next', async () => {
    const { server, connection } = await start((request) => (request.connection === 0 ? ACCEPTED + ACCEPTED : ACCEPTED));
    const error = await connection.request('POST', '/response', {}, '{}').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpProtocolError);
    expect((error as Error).message).toBe('the Runtime API sent more responses than it was sent requests');
    await until(() => server.closed.has(0));
    expect(server.closed.has(0)).toBe(true);
    expect((await connection.request('POST', '/response', {}, '{}')).statusCode).toBe(202);
    expect(server.requests.map((r) => r.connection)).toEqual([0, 1]);
  });

  it('drops a connection that sends bytes nobody asked for', async () => {
    const { server, connection } = await start(() => ACCEPTED);
    expect((await connection.request('POST', '/response', {}, '{}')).statusCode).toBe(202);
    // The start of an answer to no request: read with the next answer, it would corrupt it.
    server.sockets[0]!.write('HTTP/1.1 200 OK\r\nX-Stale: 1\r\n');
    await until(() => server.closed.has(0));
    expect(server.closed.has(0)).toBe(true);
    const response = await connection.request('POST', '/response', {}, '{}');
    expect(response.headers['x-stale']).toBeUndefined();
    expect(server.requests.map((r) => r.connection)).toEqual([0, 1]);
  });

  it('sends nothing more on a connection answered with Connection: close (RFC 9112 §9.6), and keeps the next one', async () => {
    // The server leaves the first connection open: closing it is the client's part.
    const { server, connection } = await start((request) => (request.connection === 0 ? 'HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}' : ACCEPTED));
    expect((await connection.request('POST', '/response', {}, '{}')).keepAlive).toBe(false);
    // At once, before the first socket's close event: that event must not take the new socket away.
    expect((await connection.request('POST', '/response', {}, '{}')).keepAlive).toBe(true);
    await until(() => server.closed.has(0));
    expect(server.closed.has(0)).toBe(true);
    expect((await connection.request('POST', '/response', {}, '{}')).statusCode).toBe(202);
    expect(server.requests.map((r) => r.connection)).toEqual([0, 1, 1]);
  });

  it('writes a request with its body as one HTTP/1.1 message, string or bytes', async () => {
    const { server, connection } = await start(() => ACCEPTED);
    await connection.request('GET', '/next', {});
    await connection.request('POST', '/response', { 'Content-Type': 'application/json' }, '{"caf\u00e9":1}');
    await connection.request('POST', '/response', {}, Buffer.from([0x7b, 0xff, 0x7d]));
    expect(server.requests[0]!.head.split('\r\n')[1]).toMatch(/^Host: 127\.0\.0\.1:\d+$/);
    expect(server.requests.map((r) => [r.head.split('\r\n')[0], Buffer.from(r.body, 'latin1').toString('hex')])).toEqual([
      ['GET /next HTTP/1.1', ''],
      ['POST /response HTTP/1.1', Buffer.from('{"caf\u00e9":1}').toString('hex')],
      ['POST /response HTTP/1.1', '7bff7d'],
    ]);
    expect(server.requests[1]!.head).toContain('\r\nContent-Length: 11');
    expect(server.requests[1]!.head).toContain('\r\nContent-Type: application/json');
    expect(server.requests[0]!.head).not.toMatch(/content-length/i);
  });

  it('writes header values as UTF-8 whatever the body (none, a string, bytes), as the Go Runtime API reads them', async () => {
    const { server, connection } = await start(() => ACCEPTED);
    const type = 'PHP.\u00dcber\u0416'; // Ü (one latin1 byte, two in UTF-8) and Ж (no latin1 byte at all)
    await connection.request('POST', '/error', { 'Lambda-Runtime-Function-Error-Type': type });
    await connection.request('POST', '/error', { 'Lambda-Runtime-Function-Error-Type': type }, '{}');
    await connection.request('POST', '/error', { 'Lambda-Runtime-Function-Error-Type': type }, Buffer.from('{}'));
    const sent = server.requests.map((r) => Buffer.from(r.head, 'latin1').toString('utf8').split('\r\n').find((line) => line.startsWith('Lambda-Runtime-Function-Error-Type')));
    expect(sent).toEqual(Array(3).fill(`Lambda-Runtime-Function-Error-Type: ${type}`));
  });
});
