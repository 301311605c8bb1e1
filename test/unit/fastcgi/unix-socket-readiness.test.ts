import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connectWhenListening } from '../../../src/cgi/fastcgi/unix-socket-readiness.ts';

describe('connectWhenListening', () => {
  let dir: string;
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'socket-readiness-'));
  });
  afterEach(async () => {
    vi.useRealTimers();
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  const listen = async (socketPath: string): Promise<net.Server> => {
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return server;
  };

  it('connects to a server already listening, and hands the socket over with no listener of its own left on it', async () => {
    const socketPath = path.join(dir, 's.sock');
    const server = await listen(socketPath);
    const accepted = new Promise((resolve) => server.once('connection', resolve));
    const socket = await connectWhenListening(socketPath, AbortSignal.timeout(10_000));
    sockets.push(socket);
    await accepted;
    // The caller owns the socket from here: its errors are the caller's to handle, not taken
    // for a failed connection attempt.
    expect(socket.listenerCount('error')).toBe(0);
    expect(socket.listenerCount('connect')).toBe(0);
  });

  it('keeps trying while the socket file refuses connections (left by a server killed with SIGKILL, or bound but not listening yet)', async () => {
    const socketPath = path.join(dir, 's.sock');
    const killed = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(killed.stdout!, 'data');
    killed.kill('SIGKILL');
    await once(killed, 'exit');
    expect(existsSync(socketPath)).toBe(true);
    const connecting = connectWhenListening(socketPath, AbortSignal.timeout(10_000));
    // Refused for a while (ECONNREFUSED), then served.
    await new Promise((resolve) => setTimeout(resolve, 100));
    rmSync(socketPath);
    const server = await listen(socketPath);
    const accepted = new Promise((resolve) => server.once('connection', resolve));
    sockets.push(await connecting);
    await accepted;
  });

  it('rejects with the reason of a signal aborted before the call, even with a server listening', async () => {
    const socketPath = path.join(dir, 's.sock');
    await listen(socketPath);
    const reason = new Error('php-cgi exited');
    await expect(connectWhenListening(socketPath, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('rejects with the abort reason while waiting for a socket that never appears', async () => {
    const controller = new AbortController();
    const waiting = connectWhenListening(path.join(dir, 's.sock'), controller.signal);
    const reason = new Error('php-cgi exited');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('makes no connect attempt after an abort, not even the one that was due on the next turn', async () => {
    // Retries run on the (frozen) fake setTimeout: an attempt made after the abort would leave one.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const controller = new AbortController();
    const waiting = connectWhenListening(path.join(dir, 's.sock'), controller.signal);
    const reason = new Error('php-cgi exited');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    // The turn on which the first attempt was due, then a connect of our own to a missing socket:
    // its ENOENT is reported after that of any attempt started before it.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => net.createConnection(path.join(dir, 'sentinel.sock')).once('error', resolve));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no retry timer pending after an abort during the back-off', async () => {
    // A pending retry would keep the event loop busy, and then try to connect, for nothing.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const controller = new AbortController();
    const waiting = connectWhenListening(path.join(dir, 's.sock'), controller.signal);
    // The first attempt finds no socket (ENOENT) and schedules a retry on the frozen clock.
    for (let turn = 0; vi.getTimerCount() === 0 && turn < 10_000; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(vi.getTimerCount()).toBe(1);
    const reason = new Error('php-cgi exited');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects when the socket’s directory cannot be watched (it does not exist)', async () => {
    const missing = path.join(dir, 'missing');
    const error = await connectWhenListening(path.join(missing, 's.sock'), AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(new RegExp(`^cannot watch ${missing} for php-cgi's socket: ENOENT`));
  });

  it('rejects at once on an error other than "not there yet" (ENOTDIR), without waiting for the signal', async () => {
    // The socket's "directory" is a regular file: it can be watched, but no connect can succeed.
    const file = path.join(dir, 'file');
    writeFileSync(file, '');
    const error = await connectWhenListening(path.join(file, 's.sock'), AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('ENOTDIR');
  });

  it('connects as the directory watch reports the socket file, without waiting for the back-off timer', async () => {
    // With the back-off's timers frozen, only the watch can bring the next attempt.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const socketPath = path.join(dir, 's.sock');
    // AbortSignal.timeout runs on Node's own timers, not the faked ones.
    const connecting = connectWhenListening(socketPath, AbortSignal.timeout(10_000));
    // The first attempt finds no socket (ENOENT) and schedules a retry on the frozen clock.
    // (Polled by event-loop turns: vi.waitFor would advance the fake clock.)
    for (let turn = 0; vi.getTimerCount() === 0 && turn < 10_000; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(vi.getTimerCount()).toBe(1);
    const server = await listen(socketPath);
    const accepted = new Promise((resolve) => server.once('connection', resolve));
    sockets.push(await connecting);
    await accepted;
  });
});
