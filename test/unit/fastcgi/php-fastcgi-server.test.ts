import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGone, PhpFastCgiServer } from '../../../src/cgi/fastcgi/php-fastcgi-server.ts';
import { childPids, createPhpFixtures, PHP_CGI, processExists, type PhpFixtures } from './php-fixtures.ts';

let php: PhpFixtures;
let socketDir: string;

beforeAll(() => {
  php = createPhpFixtures();
  socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fcgi-sock-'));
});

afterAll(() => {
  php.remove();
  fs.rmSync(socketDir, { recursive: true, force: true });
});

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', FUNCTION_VAR: 'from-the-function' };

describe('PhpFastCgiServer', () => {
  it('starts one php-cgi process (no master, no workers) that accepts connections on a socket in socketDir', async () => {
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: () => {} });
    try {
      expect(path.dirname(server.socketPath)).toBe(socketDir);
      expect(fs.statSync(server.socketPath).isSocket()).toBe(true);
      expect(childPids(server.pid)).toEqual([]);
      const connection = await server.connection();
      const response = await connection.request({ params: php.request('pid.php').env, body: Buffer.alloc(0), log: () => {} });
      // The request ran in php-cgi itself, not in a forked worker.
      expect(response.stdout.toString()).toMatch(new RegExp(`\\r\\n\\r\\n${server.pid}$`));
      expect(server.usable).toBe(true);
      expect(server.requestLimit).toBe(Number.POSITIVE_INFINITY);
    } finally {
      await server.kill();
    }
  });

  it('kills the process group and removes the socket file', async () => {
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: () => {} });
    await server.kill();
    expect(server.running).toBe(false);
    expect(server.usable).toBe(false);
    expect(processExists(server.pid)).toBe(false);
    expect(fs.existsSync(server.socketPath)).toBe(false);
  });

  it('is unusable the moment php-cgi is sent SIGKILL, before Node has heard of its death', async () => {
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: () => {} });
    try {
      expect(server.usable).toBe(true);
      process.kill(server.pid, 'SIGKILL');
      // Synchronously: no event-loop turn passes, so no exit event can arrive; only /proc can tell.
      // The kernel shows a pending SIGKILL, then a process exiting, then a zombie, with a window of a
      // few microseconds between the first two (the signal taken, the exit not yet begun) in which a
      // loaded machine can preempt php-cgi: the loop allows for it, never yielding to the event loop.
      const until = performance.now() + 2000;
      while (server.usable && performance.now() < until);
      expect(server.usable).toBe(false);
    } finally {
      await server.kill();
    }
  });

  it('notices php-cgi dying on its own', async () => {
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: () => {} });
    process.kill(server.pid, 'SIGKILL');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(server.usable).toBe(false);
    await server.kill();
  });

  it('follows an explicit PHP_FCGI_MAX_REQUESTS from the function environment, and stops being usable at it', async () => {
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env: { ...env, PHP_FCGI_MAX_REQUESTS: '2' }, log: () => {} });
    try {
      expect(server.requestLimit).toBe(2);
      const connection = await server.connection();
      for (let i = 0; i < 2; i++) {
        expect(server.usable).toBe(true);
        await connection.request({ params: php.request('pid.php').env, body: Buffer.alloc(0), log: () => {} });
        server.countServedRequest();
      }
      expect(server.usable).toBe(false);
      // php-cgi exits by itself after its second request: the count got there first.
      expect((await server.exited).code).toBe(0);
    } finally {
      await server.kill();
    }
  });

  it('gives callers that ask at the same time one connection: php-cgi would hold a second one back until the first is done', async () => {
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: () => {} });
    try {
      const [first, second] = await Promise.all([server.connection(), server.connection()]);
      expect(second).toBe(first);
      expect(await server.connection()).toBe(first);
    } finally {
      await server.kill();
    }
  });

  it('rejects clearly when the binary does not exist', async () => {
    await expect(PhpFastCgiServer.start({ phpCgiBinary: '/nonexistent/php-cgi', socketDir, env, log: () => {} })).rejects.toThrow(
      /cannot start php-cgi at \/nonexistent\/php-cgi: .*ENOENT/,
    );
  });

  it('rejects with php-cgi’s own words when it exits before listening', async () => {
    const lines: string[] = [];
    const start = PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env: { ...env, PHP_FCGI_MAX_REQUESTS: '-1' }, log: (line) => lines.push(line) });
    await expect(start).rejects.toThrow(/exited \(code \d+\) before answering FastCGI requests: PHP_FCGI_MAX_REQUESTS is not valid/);
    expect(lines).toContain('PHP_FCGI_MAX_REQUESTS is not valid');
    expect(fs.readdirSync(socketDir)).toEqual([]);
  });

  it('rejects when php-cgi does not listen in time, and kills it', async () => {
    // A "php-cgi" that never binds its socket.
    const fake = path.join(socketDir, 'hanging-php-cgi');
    fs.writeFileSync(fake, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    try {
      await expect(PhpFastCgiServer.start({ phpCgiBinary: fake, socketDir, env, log: () => {}, startTimeoutMs: 200 })).rejects.toThrow(/did not answer on .* within 200 ms/);
    } finally {
      fs.rmSync(fake);
    }
  });

  it('refuses a socket directory whose path is too long for a Unix socket', async () => {
    await expect(PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir: path.join(socketDir, 'x'.repeat(100)), env, log: () => {} })).rejects.toThrow(
      /longer than the 107 bytes/,
    );
  });
});

describe('isGone (/proc/<pid>/stat)', () => {
  // Fields 3 (state), 9 (flags) and 31 (pending signals) matter; the rest is a real line's.
  const line = (comm: string, state: string, flags: number, pending: number): Buffer =>
    Buffer.from(`4242 (${comm}) ${state} 1 4242 4242 0 -1 ${flags} 109 0 0 0 0 0 0 0 20 0 1 0 343030 2990080 414 18446744073709551615 1 1 1 0 0 ${pending} 0 0 0 0 0 0 17 0 0 0 0 0 0 1 1 1 1 1 1 1 0\n`);

  it('reads a running process as alive, whatever its name holds', () => {
    for (const comm of ['php-cgi', 'php (cgi) x', 'a) S 1 2 3', '']) expect(isGone(line(comm, 'S', 0x400140, 0)), comm).toBe(false);
    expect(isGone(line('php-cgi', 'R', 0x400040, 1 << 13))).toBe(false);
    // High bits set in both (PF_* flags above 2^31, signals up to 31): still read right.
    expect(isGone(line('php-cgi', 'S', 0x80400140, 0x40000000 | (1 << 14)))).toBe(false);
    expect(isGone(line('php-cgi', 'S', 0x80400144, 0))).toBe(true);
    expect(isGone(line('php-cgi', 'S', 0x80400140, 0x40000100))).toBe(true);
  });

  it('reads a zombie, a dead process, one exiting and one with SIGKILL pending as gone', () => {
    expect(isGone(line('php-cgi', 'Z', 0x400140, 0))).toBe(true);
    expect(isGone(line('php-cgi', 'X', 0x400140, 0))).toBe(true);
    expect(isGone(line('php-cgi', 'R', 0x400144, 0))).toBe(true);
    expect(isGone(line('php (a) b', 'S', 0x400140, 1 << 8))).toBe(true);
  });

  it('agrees with the kernel about this very process', () => {
    expect(isGone(fs.readFileSync('/proc/self/stat'))).toBe(false);
    expect(isGone(Buffer.alloc(0))).toBe(true);
  });
});
