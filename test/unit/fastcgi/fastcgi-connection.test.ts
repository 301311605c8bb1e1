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
import { FastCgiConnection, groupBuffers } from '../../../src/cgi/fastcgi/fastcgi-connection.ts';

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
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

const connect = (): Promise<FastCgiConnection> => FastCgiConnection.connect(path.join(dir, 's.sock'));
const stdout = (text: string): Buffer[] => encodeRecord(RecordType.Stdout, 1, Buffer.from(text));
const stderr = (text: string): Buffer[] => encodeRecord(RecordType.Stderr, 1, Buffer.from(text));
const end = (): Buffer[] => encodeEndRequest(1, { appStatus: 0, protocolStatus: 0 });

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
      socket.write(Buffer.concat([...stdout(`echo ${value}`), ...end()]));
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

  it('fails the request with PhpCrashError when the application closes mid-request, and stays closed', async () => {
    respond = (_request, socket) => {
      socket.write(Buffer.concat(stdout('partial')), () => socket.destroy());
    };
    const connection = await connect();
    await expect(connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} })).rejects.toThrow(PhpCrashError);
    expect(connection.isOpen).toBe(false);
    await expect(connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} })).rejects.toThrow(PhpCrashError);
  });

  it('fails the request with PhpCrashError on a stream that is not FastCGI', async () => {
    respond = (_request, socket) => {
      socket.write('HTTP/1.1 500 Internal Server Error\r\n\r\n');
    };
    const connection = await connect();
    await expect(connection.request({ params: {}, body: Buffer.alloc(0), log: () => {} })).rejects.toThrow(/invalid FastCGI stream/);
  });

  it('refuses an oversized parameter without writing anything, keeping the connection usable', async () => {
    let requests = 0;
    respond = (_request, socket) => {
      requests++;
      socket.write(Buffer.concat([...stdout('ok'), ...end()]));
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

describe('groupBuffers', () => {
  it('groups small buffers up to the limit and sends a large one alone', () => {
    const sizes = (groups: Buffer[][]): number[][] => groups.map((group) => group.map((b) => b.length));
    const buffers = [8, 8, 100, 8, 500, 8, 8].map((n) => Buffer.alloc(n));
    expect(sizes([...groupBuffers(buffers, 200)])).toEqual([[8, 8, 100, 8], [500], [8, 8]]);
    expect(sizes([...groupBuffers([], 200)])).toEqual([]);
  });
});
