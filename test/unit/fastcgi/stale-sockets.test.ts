import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { boundPathsIn, removeStaleSockets } from '../../../src/cgi/fastcgi/stale-sockets.ts';

/** A socket file left by a process killed with SIGKILL while it listened (no cleanup ran). */
async function staleSocket(socketPath: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  await new Promise((resolve) => child.once('exit', resolve));
  expect(existsSync(socketPath)).toBe(true);
}

describe('removeStaleSockets', () => {
  let dir: string;
  const servers: net.Server[] = [];
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'stale-sockets-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  it("removes php-cgi sockets nothing serves, and only those", async () => {
    const stale = path.join(dir, 'php-fcgi-stale.sock');
    await staleSocket(stale);
    // The early php-cgi's (php-build/early-php-cgi.sh), named after the start script's pid.
    const staleEarly = path.join(dir, 'lambda-php-early-4242.sock');
    await staleSocket(staleEarly);
    const listening = path.join(dir, 'php-fcgi-listening.sock');
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(listening, resolve));
    // A php-cgi that has bound its socket and not yet listened: connections are refused, but it is bound.
    // The spaces in its name must survive the reading of /proc/net/unix's space-separated columns.
    const bound = path.join(dir, 'php-fcgi-bound,  not listening.sock');
    const binder = spawn('php-cgi', ['-q', '-d', 'output_buffering=0'], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(binder);
    binder.stdin.end(`<?php $s = socket_create(AF_UNIX, SOCK_STREAM, 0); socket_bind($s, ${JSON.stringify(bound)}); echo "bound\\n"; flush(); sleep(30);`);
    await new Promise((resolve) => binder.stdout.once('data', resolve));
    const ours = path.join(dir, 'php-fcgi-ours.sock');
    await staleSocket(ours);
    const otherName = path.join(dir, 'other.sock');
    await staleSocket(otherName);
    // The names must match whole: these only contain a php-cgi socket's name.
    const containsOurName = path.join(dir, 'not-php-fcgi-1.sock');
    await staleSocket(containsOurName);
    const containsEarlyName = path.join(dir, 'x-lambda-php-early-1.sock');
    await staleSocket(containsEarlyName);
    const notASocket = path.join(dir, 'php-fcgi-file.sock');
    writeFileSync(notASocket, '');

    expect((await removeStaleSockets(dir, ours)).sort()).toEqual([staleEarly, stale]);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(staleEarly)).toBe(false);
    for (const kept of [listening, bound, ours, otherName, containsOurName, containsEarlyName, notASocket]) expect(existsSync(kept), kept).toBe(true);
  });

  it('keeps a socket that accepts connections though /proc/net/unix lists it under another path', async () => {
    // /proc/net/unix shows the path given to bind(): one bound through a symlink (or from a container
    // that mounts the folder elsewhere) is not found there, and only a connection tells it is served.
    const alias = path.join(dir, 'alias');
    symlinkSync(dir, alias);
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path.join(alias, 'php-fcgi-served.sock'), resolve));

    expect(await removeStaleSockets(dir, '')).toEqual([]);
    expect(existsSync(path.join(dir, 'php-fcgi-served.sock'))).toBe(true);
    // The probe closes its connection itself, rather than leave it open on the live server.
    await expect.poll(() => new Promise((resolve) => server.getConnections((_, count) => resolve(count))), { timeout: 10_000 }).toBe(0);
  });

  it('never fails: a folder that does not exist has nothing to clean', async () => {
    expect(await removeStaleSockets(path.join(dir, 'missing'), '')).toEqual([]);
  });

  it('is what a FastCGI executor does once its php-cgi is up', async () => {
    const { FastCgiExecutor } = await import('../../../src/cgi/fastcgi/fastcgi-executor.ts');
    const stale = path.join(dir, 'php-fcgi-left-by-a-killed-bootstrap.sock');
    await staleSocket(stale);
    const executor = new FastCgiExecutor({ phpCgiBinary: 'php-cgi', socketDir: dir, env: { PATH: process.env.PATH ?? '' }, log: () => {} });
    try {
      await executor.start();
      expect(await executor.staleSocketsRemoved).toEqual([stale]);
      expect(existsSync(stale)).toBe(false);
    } finally {
      await executor.stop();
    }
  });
});

describe('boundPathsIn (/proc/net/unix)', () => {
  it('reads the path after the inode, short inodes padded to five places, spaces in the path kept; skips the header and unbound sockets', () => {
    const table = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '000000004110fa12: 00000002 00000000 00010000 0001 01 7436614 /tmp/php-fcgi-1.sock',
      '00000000e3a1b2c3: 00000002 00000000 00010000 0001 01   812 /tmp/low inode/php-fcgi-2.sock',
      '000000008ed027b0: 00000002 00000000 00000000 0001 03 7344546',
      '00000000aa11bb22: 00000003 00000000 00000000 0001 03 99999 /tmp/two  spaces/php-fcgi-3.sock',
      '',
    ].join('\n');
    expect(boundPathsIn(table)).toEqual(new Set(['/tmp/php-fcgi-1.sock', '/tmp/low inode/php-fcgi-2.sock', '/tmp/two  spaces/php-fcgi-3.sock']));
  });
});
