/**
 * `/next` blocks for as long as the function is idle, which can be hours: the client must never
 * time it out. The test lets fake time run far past any timeout a client would plausibly set
 * (general-purpose HTTP clients default to minutes: undici, which this client replaced, to 300 s for
 * the headers and 300 s between body chunks), and checks that the client's socket never gets an
 * idle timeout either (net.Socket timeouts run on Node's internal timers, which no fake clock moves).
 * The whole file runs on one fake clock, so that a timer made at module load is on it too.
 */
import { createServer, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { setImmediate as realImmediate } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RuntimeApiClient } from '../../../src/runtime-api/runtime-api-client.ts';

/** Far past any client's default timeout (minutes), with room to spare. */
const LONGER_THAN_ANY_DEFAULT_MS = 20 * 60 * 1000;

let pending: ServerResponse | undefined;
let cleanups: Array<() => Promise<void>> = [];

async function startApi(): Promise<string> {
  const server = createServer((_req, res) => {
    pending = res;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  server.on('connection', (socket) => cleanups.push(async () => void socket.destroy()));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Real I/O while the clock is fake: lets the request reach the server, or the answer the client. */
async function untilTrue(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await realImmediate();
  expect(condition()).toBe(true);
}

/** Every idle timeout set on a client socket while the test runs (0 turns a timeout off). */
let socketTimeouts: number[] = [];

// One fake clock for the whole file: a module-wide timer, once created, stays on the clock it was
// created on.
beforeAll(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  const setSocketTimeout = net.Socket.prototype.setTimeout;
  vi.spyOn(net.Socket.prototype, 'setTimeout').mockImplementation(function (this: net.Socket, ...args: Parameters<net.Socket['setTimeout']>) {
    // Server-side sockets (the fake Runtime API's keep-alive timeout) are not the client's.
    if (!(this as net.Socket & { server?: unknown }).server) socketTimeouts.push(args[0]);
    return setSocketTimeout.apply(this, args);
  });
});

afterAll(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

afterEach(async () => {
  pending = undefined;
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  socketTimeouts = [];
});

describe('RuntimeApiClient: a /next that blocks', () => {
  it('waits past any header timeout for /next to answer', async () => {
    const client = new RuntimeApiClient(await startApi());
    cleanups.push(() => client.close());
    let settled: 'answered' | 'failed' | undefined;
    const next = client.nextInvocation().then(
      (invocation) => ((settled = 'answered'), invocation),
      (error: unknown) => ((settled = 'failed'), Promise.reject(error)),
    );
    await untilTrue(() => pending !== undefined);
    await vi.advanceTimersByTimeAsync(LONGER_THAN_ANY_DEFAULT_MS);
    expect(settled).toBeUndefined();
    expect(socketTimeouts.filter((ms) => ms > 0)).toEqual([]);
    pending!.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': 'late', 'Lambda-Runtime-Deadline-Ms': '1' }).end('{"late":true}');
    const invocation = await next;
    expect(invocation.requestId).toBe('late');
    expect(invocation.event.toString()).toBe('{"late":true}');
  });

  it('waits past any body timeout between the headers of /next and its event', async () => {
    const client = new RuntimeApiClient(await startApi());
    cleanups.push(() => client.close());
    let settled: 'answered' | 'failed' | undefined;
    const next = client.nextInvocation().then(
      (invocation) => ((settled = 'answered'), invocation),
      (error: unknown) => ((settled = 'failed'), Promise.reject(error)),
    );
    await untilTrue(() => pending !== undefined);
    pending!.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': 'slow-body', 'Content-Length': '13' });
    pending!.write('{"slow":');
    await vi.advanceTimersByTimeAsync(LONGER_THAN_ANY_DEFAULT_MS);
    expect(settled).toBeUndefined();
    expect(socketTimeouts.filter((ms) => ms > 0)).toEqual([]);
    pending!.end('true}');
    const invocation = await next;
    expect(invocation.requestId).toBe('slow-body');
    expect(invocation.event.toString()).toBe('{"slow":true}');
  });
});
