import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PhpCrashError } from '../../../src/cgi/php-executor.ts';
import {
  decodeBeginRequest,
  decodeNameValuePairs,
  encodeEndRequest,
  encodeNameValuePair,
  encodeRecord,
  KEEP_CONN,
  RecordParser,
  RecordType,
  Role,
  type FastCgiRecord,
} from '../../../src/cgi/fastcgi/fastcgi-codec.ts';
import { FastCgiConnection, groupBuffers, nextRequestId } from '../../../src/cgi/fastcgi/fastcgi-connection.ts';

/**
 * A scripted FastCGI application on a Unix socket: `respond` receives each complete request
 * (every record up to the empty STDIN record) and the server-side socket.
 */
type Responder = (request: FastCgiRecord[], socket: net.Socket) => void;

let dir: string;
let server: net.Server;
let respond: Responder;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fcgi-conn-'));
  server = net.createServer((socket) => {
    const parser = new RecordParser();
    let request: FastCgiRecord[] = [];
    socket.on('data', (chunk: Buffer) => {
      for (const record of parser.push(chunk)) {
        if (record.type === RecordType.GetValues) {
          const known = new Map([['FCGI_MPXS_CONNS', '0'], ['FCGI_MAX_CONNS', '1']]);
          const answer = decodeNameValuePairs(record.content).map(([name]) => encodeNameValuePair(name, known.get(name) ?? ''));
          socket.end(Buffer.concat(encodeRecord(RecordType.GetValuesResult, 0, Buffer.concat(answer))));
          continue;
        }
        request.push(record);
        if (record.type === RecordType.Stdin && record.content.length === 0) {
          respond(request, socket);
          request = [];
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(path.join(dir, 's.sock'), resolve));
});

afterEach(async () => {
  for (const connection of opened.splice(0)) connection.destroy();
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Every connection a test opened, destroyed after it even when it fails half-way. */
const opened: FastCgiConnection[] = [];
const connect = async (): Promise<FastCgiConnection> => {
  const connection = await FastCgiConnection.connect(path.join(dir, 's.sock'));
  opened.push(connection);
  return connection;
};
// Records for the first request on a connection, which has id 1.
const stdout = (text: string, id = 1): Buffer[] => encodeRecord(RecordType.Stdout, id, Buffer.from(text));
const stderr = (text: string): Buffer[] => encodeRecord(RecordType.Stderr, 1, Buffer.from(text));
const end = (id = 1): Buffer[] => encodeEndRequest(id, { appStatus: 0, protocolStatus: 0 });

describe('FastCgiConnection', () => {
  it('sends BEGIN_REQUEST (Responder, keep-alive), PARAMS and STDIN, and collects STDOUT until END_REQUEST', async () => {
    let received: FastCgiRecord[] = [];
    respond = (request, socket) => {
      received = request;
      socket.write(Buffer.concat([...stdout('Content-Type: text/plain\r\n\r\n'), ...stdout('body'), ...end()]));
    };
    const connection = await connect();
    const response = await connection.request({ params: { REQUEST_METHOD: 'POST', CONTENT_LENGTH: '5' }, body: Buffer.from('hello'), log: () => {} });
    expect(response).toEqual({ stdout: Buffer.from('Content-Type: text/plain\r\n\r\nbody'), appStatus: 0, protocolStatus: 0 });

    expect(received.map((r) => r.type)).toEqual([RecordType.BeginRequest, RecordType.Params, RecordType.Params, RecordType.Stdin, RecordType.Stdin]);
    expect(received.every((r) => r.requestId === 1)).toBe(true);
    expect(decodeBeginRequest(received[0]!.content)).toEqual({ role: Role.Responder, flags: KEEP_CONN });
    expect(decodeNameValuePairs(received[1]!.content)).toEqual([
      ['REQUEST_METHOD', 'POST'],
      ['CONTENT_LENGTH', '5'],
    ]);
    expect(received[3]!.content.toString()).toBe('hello');
    connection.destroy();
  });

  it('splits STDERR into lines for the log, across records, and flushes a last unterminated line', async () => {
    respond = (_request, socket) => {
      socket.write(Buffer.concat([...stderr('first li'), ...stdout('a'), ...stderr('ne\nsecond\r\nthi'), ...stdout('b'), ...stderr('rd'), ...end()]));
    };
    const connection = await connect();
    const lines: string[] = [];
    const response = await connection.request({ params: {}, body: Buffer.alloc(0), log: (line) => lines.push(line) });
    expect(response.stdout.toString()).toBe('ab');
    expect(lines).toEqual(['first line', 'second', 'third']);
    connection.destroy();
  });

  it('copes with a response trickling in byte by byte', async () => {
    respond = (_request, socket) => {
      const bytes = Buffer.concat([...stdout('x'.repeat(100)), ...stderr('warn\n'), ...end()]);
      let offset = 0;
      const next = (): void => {
        if (offset < bytes.length) socket.write(bytes.subarray(offset, ++offset), () => setImmediate(next));
      };
      next();
    };
    const connection = await connect();
    const lines: string[] = [];
    const response = await connection.request({ params: {}, body: Buffer.alloc(0), log: (line) => lines.push(line) });
    expect(response.stdout.toString()).toBe('x'.repeat(100));
    expect(lines).toEqual(['warn']);
    connection.destroy();
  });

  it('carries requests one after another on the same connection', async () => {
    let connections = 0;
    server.on('connection', () => connections++);
    respond = (request, socket) => {
      const [[, value]] = decodeNameValuePairs(request[1]!.content) as [[string, string]];
      const id = request[0]!.requestId;
      socket.write(Buffer.concat([...stdout(`echo ${value}`, id), ...end(id)]));
    };
    const connection = await connect();
    for (let i = 0; i < 50; i++) {
      const response = await connection.request({ params: { N: String(i) }, body: Buffer.alloc(0), log: () => {} });
      expect(response.stdout.toString()).toBe(`echo ${i}`);
    }
    expect(connections).toBe(1);
    expect(connection.isOpen).toBe(true);
    connection.destroy();
  });

  it('writes a body larger than the socket buffers with backpressure, intact', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 13 + (i >> 16)) & 0xff;
    respond = (request, socket) => {
      const received = Buffer.concat(request.filter((r) => r.type === RecordType.Stdin).map((r) => r.content));
      socket.write(Buffer.concat([...stdout(received.equals(body) ? 'intact' : `damaged (${received.length} bytes)`), ...end()]));
    };
    const connection = await connect();
    const response = await connection.request({ params: {}, body, log: () => {} });
    expect(response.stdout.toString()).toBe('intact');
    connection.destroy();
  });

  it('leaves no listener behind on the socket, whether a write waited for drain or not (no MaxListenersExceededWarning)', async () => {
    // A listener left per write, or per wait for drain, would pile up on a connection that lives
    // as long as the runtime: Node warns past 10 on one event.
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      respond = (request, socket) => {
        const id = request[0]!.requestId;
        socket.write(Buffer.concat([...stdout('ok', id), ...end(id)]));
      };
      const connection = await connect();
      // 3 MiB goes out in batches, each waiting for the socket to drain.
      expect((await connection.request({ params: {}, body: Buffer.alloc(3 * 1024 * 1024, 1), log: () => {} })).stdout.toString()).toBe('ok');
      for (let i = 0; i < 20; i++) expect((await connection.request({ params: {}, body: Buffer.from('small'), log: () => {} })).stdout.toString()).toBe('ok');
      // process.emitWarning emits on the next tick.
      await new Promise((resolve) => process.nextTick(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('gives each request on the connection a new id, never 0 (the management id), and the response the id of its request', async () => {
    const ids: number[] = [];
    respond = (request, socket) => {
      const id = request[0]!.requestId;
      ids.push(id);
      expect(request.every((record) => record.requestId === id)).toBe(true);
      socket.write(Buffer.concat([...encodeRecord(RecordType.Stdout, id, Buffer.from(`id ${id}`)), ...encodeEndRequest(id, { appStatus: 0, protocolStatus: 0 })]));
    };
    const connection = await connect();
    for (let i = 0; i < 4; i++) expect((await connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} })).stdout.toString()).toBe(`id ${ids[i]}`);
    expect(ids).not.toContain(0);
    for (let i = 1; i < ids.length; i++) expect(ids[i], `request ${i}`).not.toBe(ids[i - 1]);
    connection.destroy();
  });

  it("drops a stray record of the previous request that arrives during the next one, and records of any other id", async () => {
    let previous: number | undefined;
    respond = (request, socket) => {
      const id = request[0]!.requestId;
      const late = previous === undefined ? [] : [...encodeRecord(RecordType.Stdout, previous, Buffer.from('STRAY STDOUT')), ...encodeRecord(RecordType.Stderr, previous, Buffer.from('stray stderr\n'))];
      const foreign = [...encodeRecord(RecordType.Stdout, 0, Buffer.from('MANAGEMENT')), ...encodeRecord(RecordType.Stdout, id + 100, Buffer.from('OTHER ID')), ...encodeEndRequest(id + 100, { appStatus: 0, protocolStatus: 0 })];
      previous = id;
      socket.write(Buffer.concat([...late, ...foreign, ...encodeRecord(RecordType.Stdout, id, Buffer.from('own output')), ...encodeRecord(RecordType.Stderr, id, Buffer.from('own line\n')), ...encodeEndRequest(id, { appStatus: 0, protocolStatus: 0 })]));
    };
    const connection = await connect();
    for (let i = 0; i < 3; i++) {
      const lines: string[] = [];
      const response = await connection.request({ params: {}, body: Buffer.alloc(0), log: (line) => lines.push(line) });
      expect(response.stdout.toString(), `request ${i}`).toBe('own output');
      expect(lines, `request ${i}`).toEqual(['own line']);
    }
    connection.destroy();
  });

  it('fails the request with PhpCrashError when the application ends it with a non-zero protocol status (FCGI_OVERLOADED, FCGI_UNKNOWN_ROLE, ...)', async () => {
    for (const protocolStatus of [1, 2, 3]) {
      respond = (request, socket) => {
        const id = request[0]!.requestId;
        socket.write(Buffer.concat([...encodeRecord(RecordType.Stdout, id, Buffer.from('Status: 200\r\n\r\nnot an answer')), ...encodeEndRequest(id, { appStatus: 0, protocolStatus })]));
      };
      const connection = await connect();
      const error = await connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PhpCrashError);
      expect((error as Error).message).toBe(`php-cgi refused the request (FastCGI protocol status ${protocolStatus})`);
      connection.destroy();
    }
  });

  it('fails the request with PhpCrashError when the application closes mid-request, and stays closed', async () => {
    respond = (_request, socket) => {
      socket.write(Buffer.concat(stdout('partial')), () => socket.destroy());
    };
    const connection = await connect();
    const error = await connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhpCrashError);
    expect((error as Error).message).toBe('php-cgi closed the FastCGI connection before answering');
    expect(connection.isOpen).toBe(false);
    const next = await connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} }).catch((e: unknown) => e);
    expect(next).toBeInstanceOf(PhpCrashError);
    expect((next as Error).message).toBe('the FastCGI connection to php-cgi is closed');
  });

  it('names the socket error in the failure when the application resets the connection mid-request', async () => {
    // A Unix socket closed with bytes still unread in it resets its peer (ECONNRESET): this
    // application never reads, and closes once the request is in its socket.
    const socketPath = path.join(dir, 'reset.sock');
    let accepted!: (socket: net.Socket) => void;
    const serverSide = new Promise<net.Socket>((resolve) => (accepted = resolve));
    const resetting = net.createServer({ pauseOnConnect: true }, accepted);
    await new Promise<void>((resolve) => resetting.listen(socketPath, resolve));
    const connection = await FastCgiConnection.connect(socketPath);
    opened.push(connection);
    const answer = connection.request({ params: {}, body: Buffer.from('unread'), log: () => {} }).catch((e: unknown) => e);
    (await serverSide).destroy();
    const error = await answer;
    await new Promise((resolve) => resetting.close(resolve));
    expect(error).toBeInstanceOf(PhpCrashError);
    expect((error as Error).message).toBe('php-cgi closed the FastCGI connection before answering (read ECONNRESET)');
  });

  it('fails the request with PhpCrashError on a stream that is not FastCGI', async () => {
    respond = (_request, socket) => {
      socket.write('HTTP/1.1 500 Internal Server Error\r\n\r\n');
    };
    const connection = await connect();
    await expect(connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} })).rejects.toThrow(/invalid FastCGI stream/);
    // Where the stream is lost, no later request could be framed: the connection is closed for good.
    expect(connection.isOpen).toBe(false);
  });

  it('ignores a record type a Responder does not send (FCGI_DATA) on the request’s id, and goes on to END_REQUEST', async () => {
    respond = (request, socket) => {
      const id = request[0]!.requestId;
      socket.write(Buffer.concat([...stdout('before ', id), ...encodeRecord(RecordType.Data, id, Buffer.from('filter data')), ...stdout('after', id), ...end(id)]));
    };
    const connection = await connect();
    const response = await connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} });
    expect(response.stdout.toString()).toBe('before after');
  });

  it('refuses an oversized parameter without writing anything, keeping the connection usable', async () => {
    let requests = 0;
    respond = (request, socket) => {
      requests++;
      socket.write(Buffer.concat([...stdout('ok', request[0]!.requestId), ...end(request[0]!.requestId)]));
    };
    const connection = await connect();
    await expect(connection.request({ params: { HTTP_COOKIE: 'c'.repeat(70_000) }, body: Buffer.alloc(0), log: () => {} })).rejects.toThrow(RangeError);
    const response = await connection.request({ params: { A: 'b' }, body: Buffer.alloc(0), log: () => {} });
    expect(response.stdout.toString()).toBe('ok');
    expect(requests).toBe(1);
    connection.destroy();
  });

  it('asks for management values with GET_VALUES', async () => {
    const connection = await connect();
    const values = await connection.getValues(['FCGI_MPXS_CONNS', 'FCGI_MAX_CONNS']);
    expect(values).toEqual(new Map([['FCGI_MPXS_CONNS', '0'], ['FCGI_MAX_CONNS', '1']]));
    connection.destroy();
  });

  it('fails GET_VALUES with the decoding error when the answer’s name-value pairs are malformed', async () => {
    server.removeAllListeners('connection');
    server.on('connection', (socket) => {
      // A pair announcing a 5-byte name in a 2-byte record.
      socket.on('data', () => socket.end(Buffer.concat(encodeRecord(RecordType.GetValuesResult, 0, Buffer.from([5, 0])))));
    });
    const connection = await connect();
    await expect(connection.getValues(['FCGI_MPXS_CONNS'])).rejects.toThrow('name-value pair longer than its record');
  });

  it('takes only GET_VALUES_RESULT as the answer to GET_VALUES: a record of another type before it is not', async () => {
    server.removeAllListeners('connection');
    server.on('connection', (socket) => {
      const answer = encodeNameValuePair('FCGI_MPXS_CONNS', '0');
      // First an UNKNOWN_TYPE record (what an application answers a management type it lacks), whose
      // body would decode as a name-value pair too, and a late STDOUT record of an earlier request.
      const first = Buffer.concat(encodeRecord(RecordType.UnknownType, 0, encodeNameValuePair('X', 'unknown')));
      socket.on('data', () => socket.end(Buffer.concat([first, ...stdout('late'), ...encodeRecord(RecordType.GetValuesResult, 0, answer)])));
    });
    const connection = await connect();
    expect(await connection.getValues(['FCGI_MPXS_CONNS'])).toEqual(new Map([['FCGI_MPXS_CONNS', '0']]));
  });

  it('refuses GET_VALUES on a closed connection with PhpCrashError', async () => {
    const connection = await connect();
    connection.destroy();
    const error = await connection.getValues(['FCGI_MPXS_CONNS']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhpCrashError);
    expect((error as Error).message).toBe('the FastCGI connection to php-cgi is closed');
  });

  it('refuses GET_VALUES while a request is running, and while another GET_VALUES is', async () => {
    respond = () => {};
    const connection = await connect();
    const first = connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} });
    await expect(connection.getValues(['FCGI_MPXS_CONNS'])).rejects.toThrow('FastCgiConnection carries one exchange at a time');
    connection.destroy();
    await expect(first).rejects.toThrow(PhpCrashError);

    const other = await connect();
    const values = other.getValues(['FCGI_MPXS_CONNS']);
    await expect(other.getValues(['FCGI_MAX_CONNS'])).rejects.toThrow('FastCgiConnection carries one exchange at a time');
    expect(await values).toEqual(new Map([['FCGI_MPXS_CONNS', '0']]));
  });

  it('fails GET_VALUES when the application closes without answering', async () => {
    server.on('connection', (socket) => socket.destroy());
    const connection = await connect();
    await expect(connection.getValues(['FCGI_MPXS_CONNS'])).rejects.toThrow(PhpCrashError);
  });

  it('refuses a second request while one is running', async () => {
    respond = () => {};
    const connection = await connect();
    const first = connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} });
    await expect(connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} })).rejects.toThrow(/one request at a time/);
    connection.destroy();
    await expect(first).rejects.toThrow(PhpCrashError);
  });
});

describe('FastCgiConnection: FastCGI 1.0 §5.5 and §6.2 as written', () => {
  it('§6.2: the Responder’s STDOUT and STDERR streams may interleave, record by record', async () => {
    respond = (_request, socket) => {
      socket.write(Buffer.concat([...stdout('a'), ...stderr('one\n'), ...stdout('b'), ...stderr('two\n'), ...stdout(''), ...stderr(''), ...end()]));
    };
    const connection = await connect();
    const lines: string[] = [];
    const response = await connection.request({ params: {}, body: Buffer.alloc(0), log: (line) => lines.push(line) });
    expect(response.stdout.toString()).toBe('ab');
    expect(lines).toEqual(['one', 'two']);
  });

  it('§5.5: END_REQUEST ends the request, with or without the empty records that end its streams (lenient: it is over either way)', async () => {
    for (const streamEnds of [true, false]) {
      respond = (request, socket) => {
        const id = request[0]!.requestId;
        const ends = streamEnds ? [...stdout('', id), ...encodeRecord(RecordType.Stderr, id)] : [];
        socket.write(Buffer.concat([...stdout('page', id), ...ends, ...end(id)]));
      };
      const connection = await connect();
      expect((await connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} })).stdout.toString(), String(streamEnds)).toBe('page');
    }
  });

  it('§5.5: the application’s appStatus is passed on with the answer (php-cgi’s exit status)', async () => {
    respond = (request, socket) => {
      const id = request[0]!.requestId;
      socket.write(Buffer.concat([...stdout('X-A: 1\r\n\r\n', id), ...encodeEndRequest(id, { appStatus: 255, protocolStatus: 0 })]));
    };
    const connection = await connect();
    expect(await connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} })).toEqual({ stdout: Buffer.from('X-A: 1\r\n\r\n'), appStatus: 255, protocolStatus: 0 });
  });

  it('§5.5: an END_REQUEST body shorter than its 8 bytes breaks the connection', async () => {
    respond = (request, socket) => {
      socket.write(Buffer.concat(encodeRecord(RecordType.EndRequest, request[0]!.requestId, Buffer.alloc(4))));
    };
    const connection = await connect();
    await expect(connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} })).rejects.toThrow(/ended the request with an invalid record/);
    expect(connection.isOpen).toBe(false);
  });
});

describe('nextRequestId', () => {
  it('counts from 1 to 65535 (16 bits), then starts again at 1: 0 is the management id', () => {
    expect(nextRequestId(0)).toBe(1);
    expect(nextRequestId(1)).toBe(2);
    expect(nextRequestId(0xfffe)).toBe(0xffff);
    expect(nextRequestId(0xffff)).toBe(1);
  });
});

describe('groupBuffers', () => {
  it('groups small buffers up to the limit and sends a large one alone', () => {
    const sizes = (groups: Buffer[][]): number[][] => groups.map((group) => group.map((b) => b.length));
    const buffers = [8, 8, 100, 8, 500, 8, 8].map((n) => Buffer.alloc(n));
    expect(sizes([...groupBuffers(buffers, 200)])).toEqual([[8, 8, 100, 8], [500], [8, 8]]);
    expect(sizes([...groupBuffers([], 200)])).toEqual([]);
  });

  it('fills a batch up to exactly the limit, and never yields an empty batch before a first buffer larger than the limit', () => {
    const sizes = (groups: Buffer[][]): number[][] => groups.map((group) => group.map((b) => b.length));
    expect(sizes([...groupBuffers([100, 100, 1].map((n) => Buffer.alloc(n)), 200)])).toEqual([[100, 100], [1]]);
    expect(sizes([...groupBuffers([500, 8].map((n) => Buffer.alloc(n)), 200)])).toEqual([[500], [8]]);
  });
});
