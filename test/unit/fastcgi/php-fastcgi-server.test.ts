import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
    // Also without a connection ever opened: the executor checks this after every response.
    expect(server.retiring).toBe(true);
    await server.kill();
  });

  it('retires when its connection is closed, though php-cgi still runs', async () => {
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: () => {} });
    try {
      (await server.connection()).destroy();
      expect(server.running).toBe(true);
      expect(server.retiring).toBe(true);
      expect(server.usable).toBe(false);
    } finally {
      await server.kill();
    }
  });

  it('counts the requests served itself: retiring at PHP_FCGI_MAX_REQUESTS before php-cgi has closed anything', async () => {
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env: { ...env, PHP_FCGI_MAX_REQUESTS: '2' }, log: () => {} });
    try {
      await server.connection();
      server.countServedRequest();
      expect(server.retiring).toBe(false);
      server.countServedRequest();
      expect(server.retiring).toBe(true);
      expect(server.openConnection).toBeDefined();
      expect(server.running).toBe(true);
    } finally {
      await server.kill();
    }
  });

  it('overrides PHP_FCGI_CHILDREN with 0 and defaults PHP_FCGI_MAX_REQUESTS to 0, as scripts see them', async () => {
    fs.writeFileSync(path.join(php.dir, 'fcgi-env.php'), `<?php echo getenv('PHP_FCGI_CHILDREN'), ' ', getenv('PHP_FCGI_MAX_REQUESTS');`);
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env: { ...env, PHP_FCGI_CHILDREN: '4' }, log: () => {} });
    try {
      expect(childPids(server.pid)).toEqual([]);
      const response = await (await server.connection()).request({ params: php.request('fcgi-env.php').env, body: Buffer.alloc(0), log: () => {} });
      expect(response.stdout.toString()).toMatch(/\r\n\r\n0 0$/);
    } finally {
      await server.kill();
    }
  });

  it('gives php-cgi an empty stdin: a script reading php://stdin gets end-of-file, not a wait', async () => {
    fs.writeFileSync(path.join(php.dir, 'read-stdin.php'), `<?php var_dump(fread(fopen('php://stdin', 'r'), 10));`);
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: () => {} });
    try {
      const response = await (await server.connection()).request({ params: php.request('read-stdin.php').env, body: Buffer.alloc(0), log: () => {} });
      expect(response.stdout.toString()).toMatch(/\r\n\r\nstring\(0\) ""\n$/);
    } finally {
      await server.kill();
    }
  });

  it('logs what php-cgi writes to its stderr once it serves requests', async () => {
    const lines: string[] = [];
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: (line) => lines.push(line) });
    try {
      await (await server.connection()).request({ params: php.request('stderr.php', { query: 'id=after-start' }).env, body: Buffer.alloc(0), log: () => {} });
      await expect.poll(() => lines, { timeout: 10_000 }).toContain('marker-php-stderr after-start');
    } finally {
      await server.kill();
    }
  });

  it('lets go of php-cgi’s output when killed: what php-cgi started and outlives it gets EPIPE writing there', async () => {
    // Started out of php-cgi's process group (setsid), so the group kill spares it; it inherits
    // php-cgi's stderr (and its ignored SIGPIPE) and writes to it until that pipe has no reader.
    const pidFile = path.join(php.dir, 'writer.pid');
    fs.writeFileSync(
      path.join(php.dir, 'orphan-writer.php'),
      `<?php exec("setsid sh -c 'echo \\$\\$ > ${pidFile}; while echo tick >&2; do sleep 0.05; done' > /dev/null &");`,
    );
    const lines: string[] = [];
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: (line) => lines.push(line) });
    let writer = 0;
    try {
      await (await server.connection()).request({ params: php.request('orphan-writer.php').env, body: Buffer.alloc(0), log: () => {} });
      await expect.poll(() => lines, { timeout: 10_000 }).toContain('tick');
      writer = Number(fs.readFileSync(pidFile, 'utf8'));
      await server.kill();
      // Exited (a zombie, should nothing reap it) or reaped.
      const ended = (): boolean => {
        try {
          return isGone(fs.readFileSync(`/proc/${writer}/stat`));
        } catch {
          return true;
        }
      };
      await expect.poll(ended, { timeout: 10_000 }).toBe(true);
    } finally {
      if (processExists(writer)) process.kill(writer, 'SIGKILL');
      await server.kill();
    }
  });

  it('leaves no timer behind, started or not', async () => {
    // Timers faked (advancing with real time) only to count the pending ones: a start timeout left
    // running would keep a bootstrap's event loop alive for startTimeoutMs.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
    try {
      const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: () => {}, startTimeoutMs: 600_000 });
      await server.kill();
      expect(vi.getTimerCount()).toBe(0);
      const fake = fakePhpCgi('quitting-php-cgi', '#!/bin/sh\nexit 6\n');
      await expect(PhpFastCgiServer.start({ phpCgiBinary: fake, socketDir, env, log: () => {}, startTimeoutMs: 600_000 })).rejects.toThrow(/exited \(code 6\)/);
      // The 200 ms grace for php-cgi's pipes may still be pending; the start timeout must not.
      expect(vi.getTimerCount()).toBeLessThanOrEqual(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('kills php-cgi should this process exit, and forgets it once php-cgi is gone', async () => {
    const before = process.listeners('exit');
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: () => {} });
    try {
      const added = process.listeners('exit').filter((listener) => !before.includes(listener));
      expect(added).toHaveLength(1);
      // What process.exit() runs: php-cgi (spawned detached) must not outlive the bootstrap.
      (added[0] as () => void)();
      expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
      // A bootstrap restarting php-cgi again and again must not pile up 'exit' listeners.
      expect(process.listeners('exit')).toEqual(before);
    } finally {
      await server.kill();
    }
  });

  it('reads /proc/<pid>/stat through one open file while php-cgi runs, and closes it once php-cgi is gone', async () => {
    const statFiles = (pid: number): number =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${pid}/stat`;
        } catch {
          return false;
        }
      }).length;
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir, env, log: () => {} });
    expect(statFiles(server.pid)).toBe(1);
    await server.kill();
    expect(statFiles(server.pid)).toBe(0);
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
      // Once that connection is gone, the next caller gets a new one, not the finished connect's.
      first.destroy();
      const next = await server.connection();
      expect(next).not.toBe(first);
      expect(next.isOpen).toBe(true);
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
    // A "php-cgi" that never binds its socket, and ignores SIGTERM: only SIGKILL ends it.
    const fake = path.join(socketDir, 'hanging-php-cgi');
    fs.writeFileSync(fake, "#!/bin/sh\ntrap '' TERM\nexec sleep 30\n", { mode: 0o755 });
    try {
      await expect(PhpFastCgiServer.start({ phpCgiBinary: fake, socketDir, env, log: () => {}, startTimeoutMs: 200 })).rejects.toThrow(/did not answer on .* within 200 ms/);
    } finally {
      fs.rmSync(fake);
    }
  });

  it('rejects when php-cgi accepts connections but never answers, and kills it', async () => {
    // A "php-cgi" that listens on its socket (`-b <path>`) and never answers a FastCGI record.
    const fake = fakePhpCgi('mute-php-cgi', `#!${process.execPath}\nrequire('net').createServer().listen(process.argv[3]);\n`);
    await expect(PhpFastCgiServer.start({ phpCgiBinary: fake, socketDir, env, log: () => {}, startTimeoutMs: 1000 })).rejects.toThrow(/did not answer on .* within 1000 ms/);
  });

  it('rejects with the first 20 lines php-cgi wrote before exiting, and its exit code', async () => {
    const fake = fakePhpCgi('chatty-php-cgi', '#!/bin/sh\nfor i in $(seq 1 25); do echo "line $i"; done\nexit 3\n');
    const lines: string[] = [];
    const start = PhpFastCgiServer.start({ phpCgiBinary: fake, socketDir, env, log: (line) => lines.push(line) });
    const first20 = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join(' | ');
    await expect(start).rejects.toThrow(new Error(`${fake} exited (code 3) before answering FastCGI requests: ${first20}`));
    // The log has them all.
    expect(lines).toHaveLength(25);
  });

  it('rejects with the exit status alone when php-cgi said nothing', async () => {
    const fake = fakePhpCgi('silent-php-cgi', '#!/bin/sh\nexit 4\n');
    await expect(PhpFastCgiServer.start({ phpCgiBinary: fake, socketDir, env, log: () => {} })).rejects.toThrow(
      new Error(`${fake} exited (code 4) before answering FastCGI requests`),
    );
  });

  it('rejects with php-cgi’s last line even without a final newline, and the signal that killed it', async () => {
    const fake = fakePhpCgi('killed-php-cgi', "#!/bin/sh\nprintf 'last words' >&2\nkill -KILL $$\n");
    await expect(PhpFastCgiServer.start({ phpCgiBinary: fake, socketDir, env, log: () => {} })).rejects.toThrow(
      new Error(`${fake} exited (signal SIGKILL) before answering FastCGI requests: last words`),
    );
  });

  it('rejects once php-cgi exits, even while something it started still holds its output open', async () => {
    // The background process leaves php-cgi's process group (setsid), so killing the group spares it
    // and the pipes never close: the start must not wait on them for ever.
    const pidFile = path.join(php.dir, 'holder.pid');
    const fake = fakePhpCgi('orphaning-php-cgi', `#!/bin/sh\nsetsid sh -c 'echo $$ > ${pidFile}; exec sleep 30' &\nwhile [ ! -s ${pidFile} ]; do :; done\nexit 5\n`);
    try {
      await expect(PhpFastCgiServer.start({ phpCgiBinary: fake, socketDir, env, log: () => {} })).rejects.toThrow(
        new Error(`${fake} exited (code 5) before answering FastCGI requests`),
      );
    } finally {
      process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
      fs.rmSync(pidFile);
    }
  });

  it('accepts a socket path of exactly 107 bytes, the most a Unix socket allows', async () => {
    // The next start's socket name is as long as the refused one's with the counter at its end one
    // higher (the time in it is 8 base-36 digits until 2059).
    const refused = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir: path.join(socketDir, 'x'.repeat(100)), env, log: () => {} }).catch((error: Error) => error);
    const [, prefix, counter] = /\/(php-fcgi-\d+-[0-9a-z]+-)(\d+)\.sock is longer/.exec((refused as Error).message)!;
    const nextName = `${prefix}${Number(counter) + 1}.sock`;
    const dir = path.join(socketDir, 'd'.repeat(107 - socketDir.length - 2 - nextName.length));
    const server = await PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir: dir, env, log: () => {} });
    try {
      expect(path.dirname(server.socketPath)).toBe(dir);
      expect(Buffer.byteLength(server.socketPath)).toBe(107);
      expect(server.usable).toBe(true);
    } finally {
      await server.kill();
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('refuses a socket directory whose path is too long for a Unix socket', async () => {
    await expect(PhpFastCgiServer.start({ phpCgiBinary: PHP_CGI, socketDir: path.join(socketDir, 'x'.repeat(100)), env, log: () => {} })).rejects.toThrow(
      /longer than the 107 bytes/,
    );
  });
});

/** An executable standing in for php-cgi, removed with the fixtures. */
function fakePhpCgi(name: string, script: string): string {
  const file = path.join(php.dir, name);
  fs.writeFileSync(file, script, { mode: 0o755 });
  return file;
}

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
    expect(isGone(line('php-cgi', 'x', 0x400140, 0))).toBe(true);
    expect(isGone(line('php-cgi', 'R', 0x400144, 0))).toBe(true);
    expect(isGone(line('php (a) b', 'S', 0x400140, 1 << 8))).toBe(true);
  });

  it('agrees with the kernel about this very process', () => {
    expect(isGone(fs.readFileSync('/proc/self/stat'))).toBe(false);
    expect(isGone(Buffer.alloc(0))).toBe(true);
  });

  it('reads a line it cannot parse as gone', () => {
    // Cut after the command name, with or without the space before the state; no command name at all.
    expect(isGone(Buffer.from('4242 (php-cgi)'))).toBe(true);
    expect(isGone(Buffer.from('4242 (php-cgi) '))).toBe(true);
    expect(isGone(Buffer.from('4242 php-cgi S 1 4242 4242 0 -1 4194624 109 0 0 0'))).toBe(true);
  });
});
