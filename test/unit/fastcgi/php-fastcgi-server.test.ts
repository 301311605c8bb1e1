import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhpFastCgiServer } from '../../../src/cgi/fastcgi/php-fastcgi-server.ts';
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
