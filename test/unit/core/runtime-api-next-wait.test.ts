/**
 * `/next` blocks for as long as the function is idle, which can be hours: the client must never
 * time it out. undici's defaults would (300 s for the headers, 300 s between body chunks), so the
 * test lets fake time run past them. In a file of its own: undici keeps one module-wide timer for
 * its header and body timeouts, and it must be created under the fake clock for the test to mean
 * anything, which is also why the whole file runs on one fake clock.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as realImmediate } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RuntimeApiClient } from '../../../src/runtime-api/runtime-api-client.ts';

/** Past undici's 300 s defaults, with room to spare. */
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

// One fake clock for the whole file: undici's module-wide timer, once created, stays on the clock
// it was created on.
beforeAll(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});

afterAll(() => {
  vi.useRealTimers();
});

afterEach(async () => {
  pending = undefined;
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
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
    pending!.end('true}');
    const invocation = await next;
    expect(invocation.requestId).toBe('slow-body');
    expect(invocation.event.toString()).toBe('{"slow":true}');
  });
});
