import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as realImmediate, setTimeout as realSleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { bodyPhpWillRead, FastCgiExecutor } from '../../../src/cgi/fastcgi/fastcgi-executor.ts';
import { CgiExecutor } from '../../../src/cgi/cgi-executor.ts';
import { PhpCrashError, PhpTimeoutError } from '../../../src/cgi/php-executor.ts';
import { createPhpFixtures, parseCgiOutput, PHP_CGI, processExists, waitFor, type PhpFixtures } from './php-fixtures.ts';

let php: PhpFixtures;
let socketDir: string;
const executors: FastCgiExecutor[] = [];
const ownSocketDirs: string[] = [];

beforeAll(() => {
  php = createPhpFixtures();
  socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fcgi-exec-'));
});

afterEach(async () => {
  await Promise.all(executors.splice(0).map((executor) => executor.stop()));
});

afterAll(() => {
  php.remove();
  fs.rmSync(socketDir, { recursive: true, force: true });
  for (const dir of ownSocketDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function newExecutor(extraEnv: Record<string, string> = {}, log?: (line: string) => void, dir = socketDir): FastCgiExecutor {
  const executor = new FastCgiExecutor({
    phpCgiBinary: PHP_CGI,
    socketDir: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FUNCTION_VAR: 'from-the-function', ...extraEnv },
    log: log ?? (() => {}),
  });
  executors.push(executor);
  return executor;
}

/** A socket directory of the test's own, where the php-cgi that listens can be told by its socket. */
function ownSocketDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fcgi-own-'));
  ownSocketDirs.push(dir);
  return dir;
}

/**
 * An ini file whose extension cannot load: php-cgi then writes one startup warning before it
 * listens, logged to stderr (displayed, it would go to stdout, which php-cgi flushes only at exit).
 */
function startupWarningEnv(): Record<string, string> {
  const ini = path.join(php.dir, 'startup-warning.ini');
  fs.writeFileSync(ini, 'display_startup_errors=0\nlog_errors=1\nextension=no_such_extension_for_the_test\n');
  return { PHPRC: ini };
}

const isStartupWarning = (line: string): boolean => line.includes("Unable to load dynamic library 'no_such_extension_for_the_test'");

async function pidOf(executor: FastCgiExecutor): Promise<number> {
  return Number(parseCgiOutput(await executor.execute(php.request('pid.php'))).body.toString());
}

describe('FastCgiExecutor against php-cgi', () => {
  it('runs hello world, with the function environment visible to getenv() without being a request parameter', async () => {
    const executor = newExecutor();
    await executor.start();
    const request = php.request('hello.php');
    expect(request.env.FUNCTION_VAR).toBeUndefined();
    const response = parseCgiOutput(await executor.execute(request));
    expect(response.headers.get('content-type')).toEqual(['text/plain;charset=UTF-8']);
    expect(response.body.toString()).toMatch(/^Hello, world! pid=\d+ function_var=from-the-function$/);
  });

  it('starts lazily, and a request sent while start() is still booting waits for the same php-cgi', async () => {
    const executor = newExecutor();
    const started = executor.start();
    const first = executor.execute(php.request('pid.php'));
    await started;
    const pid = Number(parseCgiOutput(await first).body.toString());
    expect(await pidOf(executor)).toBe(pid);

    const lazy = newExecutor();
    expect(parseCgiOutput(await lazy.execute(php.request('hello.php'))).body.toString()).toMatch(/^Hello, world!/);
  });

  it('echoes a 1 MB POST body intact', async () => {
    const executor = newExecutor();
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7919 + (i >> 12)) & 0xff;
    const response = parseCgiOutput(await executor.execute(php.request('echo-body.php', { body })));
    expect(response.headers.get('x-body-length')).toEqual([String(body.length)]);
    expect(response.headers.get('x-body-sha256')).toEqual([createHash('sha256').update(body).digest('hex')]);
    expect(response.body.equals(body)).toBe(true);
  });

  it('keeps working after a script that did not read its body, and after a body longer than CONTENT_LENGTH', async () => {
    const executor = newExecutor();
    const pid = await pidOf(executor);
    const ignored = await executor.execute(php.request('ignore-body.php', { body: Buffer.alloc(300_000, 'x') }));
    expect(parseCgiOutput(ignored).body.toString()).toBe('ignored a body of 300000');
    const overlong = await executor.execute(php.request('ignore-body.php', { body: Buffer.alloc(100_000, 'y'), env: { CONTENT_LENGTH: '10' } }));
    expect(parseCgiOutput(overlong).body.toString()).toBe('ignored a body of 10');
    const undeclared = php.request('ignore-body.php', { body: Buffer.from('stray') });
    delete undeclared.env.CONTENT_LENGTH;
    expect(parseCgiOutput(await executor.execute(undeclared)).body.toString()).toBe('ignored a body of (none)');
    expect(await pidOf(executor)).toBe(pid);
  });

  it('returns a response above 64 KiB byte for byte', async () => {
    const executor = newExecutor();
    const size = 300_000;
    const response = parseCgiOutput(await executor.execute(php.request('big-response.php', { query: `size=${size}` })));
    expect(response.body.length).toBe(size);
    let expected = '';
    for (let i = 0; expected.length < size; i++) expected += `${String(i % 1024).padStart(7, '0')}|`;
    expect(response.body.toString()).toBe(expected.slice(0, size));
  });

  it('sends error_log(), php://stderr and warnings to the request’s log, never to the next request’s', async () => {
    const idle: string[] = [];
    const executor = newExecutor({}, (line) => idle.push(line));
    const logs: string[][] = [[], []];
    for (const id of [0, 1]) {
      const output = await executor.execute(php.request('stderr.php', { query: `id=${id}`, log: (line) => logs[id]!.push(line) }));
      expect(parseCgiOutput(output).body.toString()).toBe('one\ntwo\nthree\nfour\n');
    }
    for (const id of [0, 1]) {
      expect(logs[id]).toContain(`marker-error-log ${id}`);
      expect(logs[id]).toContain(`marker-php-stderr ${id}`);
      expect(logs[id]!.some((line) => line.includes(`marker-warning ${id}`))).toBe(true);
      expect(logs[id]!.join('\n')).not.toContain(`${1 - id}\n`);
      expect(logs[id]).toHaveLength(3);
    }
    expect(idle.filter((line) => line.includes('marker'))).toEqual([]);
  });

  it('has every line of a request in its log once logsFlushed() settles, though the answer comes first', async () => {
    const executor = newExecutor();
    for (let id = 0; id < 20; id++) {
      const lines: string[] = [];
      await executor.execute(php.request('stderr.php', { query: `id=${id}`, log: (line) => lines.push(line) }));
      await executor.logsFlushed();
      expect(lines).toContain(`marker-php-stderr ${id}`);
      expect(lines).toContain(`marker-error-log ${id}`);
    }
  });

  it('answers a fatal error or an exit() as a complete response on the same php-cgi', async () => {
    const executor = newExecutor();
    const pid = await pidOf(executor);
    const lines: string[] = [];
    const fatal = parseCgiOutput(await executor.execute(php.request('fatal.php', { log: (line) => lines.push(line) })));
    expect(fatal.headers.get('status')).toEqual(['500 Internal Server Error']);
    expect(lines.some((line) => line.includes('PHP Fatal error') && line.includes('no_such_function'))).toBe(true);
    const exited = parseCgiOutput(await executor.execute(php.request('exit.php')));
    expect(exited.body.toString()).toBe('leaving early');
    expect(await pidOf(executor)).toBe(pid);
  });

  it('runs 1000 requests on one php-cgi with nothing leaking from one request to the next', async () => {
    const executor = newExecutor();
    const reports: Array<Record<string, unknown>> = [];
    for (let n = 0; n < 1000; n++) {
      const odd = n % 2 === 1;
      const request = php.request('state.php', {
        query: `n=${n}${odd ? '&only_odd=1' : ''}`,
        env: odd ? { HTTP_COOKIE: 'session=abc', HTTP_X_ONCE: 'once' } : {},
      });
      const response = parseCgiOutput(await executor.execute(request));
      expect(response.headers.has('x-odd')).toBe(odd);
      expect(response.headers.has('set-cookie')).toBe(odd);
      expect(response.headers.get('status')).toEqual(odd ? ['201 Created'] : undefined);
      reports.push(JSON.parse(response.body.toString()) as Record<string, unknown>);
    }
    // The reference is the same script in a php-cgi that never ran anything (CGI mode, one process
    // for this request alone), not the persistent one's first answer.
    const pristine = JSON.parse(parseCgiOutput(await new CgiExecutor({ phpCgiBinary: PHP_CGI }).execute(php.request('state.php', { query: 'n=0' }))).body.toString());
    expect(pristine).toMatchObject({ global_set: false, static_count: 1, cookie: [], server_x_once: null, getenv_x_once: false, response_code: 200 });
    const pid = reports[0]!.pid;
    for (const [n, report] of reports.entries()) {
      const odd = n % 2 === 1;
      expect(report, `request ${n}`).toEqual({
        ...pristine,
        pid,
        cookie: odd ? { session: 'abc' } : [],
        get: odd ? { n: String(n), only_odd: '1' } : { n: String(n) },
        server_x_once: odd ? 'once' : null,
        getenv_x_once: odd ? 'once' : false,
      });
    }
  });

  it('crosses php-cgi’s default 500-request limit without a restart', async () => {
    const executor = newExecutor();
    const pid = await pidOf(executor);
    for (let i = 0; i < 600; i++) await executor.execute(php.request('pid.php'));
    expect(await pidOf(executor)).toBe(pid);
  });

  it('restarts transparently when the function asks php-cgi to recycle (PHP_FCGI_MAX_REQUESTS)', async () => {
    const executor = newExecutor({ PHP_FCGI_MAX_REQUESTS: '50' });
    const pids: number[] = [];
    for (let i = 0; i < 120; i++) pids.push(await pidOf(executor));
    const distinct = [...new Set(pids)];
    expect(distinct).toHaveLength(3);
    expect(pids.filter((pid) => pid === distinct[0])).toHaveLength(50);
    expect(pids.filter((pid) => pid === distinct[1])).toHaveLength(50);
  });

  it('replaces a php-cgi killed between requests before sending the next one', async () => {
    const executor = newExecutor();
    const pid = await pidOf(executor);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !processExists(pid), 'php-cgi to be gone');
    const next = await pidOf(executor);
    expect(next).not.toBe(pid);
    expect(await pidOf(executor)).toBe(next);
  });

  it('moves a request not yet written to a new php-cgi when the current one cannot be reached', async () => {
    const executor = newExecutor();
    await executor.start();
    // The keep-alive connection opens on the first request: without the socket file it cannot.
    for (const file of fs.readdirSync(socketDir)) fs.rmSync(path.join(socketDir, file));
    const response = parseCgiOutput(await executor.execute(php.request('hello.php')));
    expect(response.body.toString()).toMatch(/^Hello, world!/);
    expect(fs.readdirSync(socketDir)).toHaveLength(1);
  });

  it('fails a request whose php-cgi is killed mid-way with PhpCrashError, starts its replacement at once, and serves the next one', async () => {
    const dir = ownSocketDir();
    const executor = newExecutor({}, undefined, dir);
    const pid = await pidOf(executor);
    const [socket] = fs.readdirSync(dir);
    const running = executor.execute(php.request('sleep.php', { query: 'seconds=5' }));
    setTimeout(() => process.kill(pid, 'SIGKILL'), 100);
    await expect(running).rejects.toThrow(PhpCrashError);
    // Before the next request, not on its time: the dead one's socket goes, a new php-cgi's comes.
    await waitFor(() => {
      const sockets = fs.readdirSync(dir);
      return sockets.length === 1 && sockets[0] !== socket;
    }, 'a replacement php-cgi to be listening');
    const next = await pidOf(executor);
    expect(next).not.toBe(pid);
  });

  it('kills php-cgi when the clock reaches the deadline, not before, with PhpTimeoutError, and serves the next request', async () => {
    const executor = newExecutor();
    const pid = await pidOf(executor);
    // Only the deadline runs on the fake clock: the clock is real again before php-cgi's replacement starts.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let running: Promise<unknown>;
    let settled = false;
    try {
      running = executor.execute(php.request('sleep.php', { query: 'seconds=5', timeoutMs: 300 }));
      running.then(() => (settled = true), () => (settled = true));
      for (let turn = 0; turn < 10_000 && vi.getTimerCount() === 0; turn++) await realImmediate();
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(299);
      await realSleep(50);
      expect(settled).toBe(false);
      expect(processExists(pid)).toBe(true);
      vi.advanceTimersByTime(1);
    } finally {
      vi.useRealTimers();
    }
    await expect(running).rejects.toThrow(new PhpTimeoutError('php-cgi was still running the request at the deadline and was killed'));
    await waitFor(() => !processExists(pid), 'the timed-out php-cgi to be gone', 1000);
    const response = parseCgiOutput(await executor.execute(php.request('hello.php')));
    expect(response.body.toString()).toMatch(/^Hello, world!/);
  });

  it('at the deadline also kills what the script started (the whole process group)', async () => {
    const executor = newExecutor();
    const pidFile = path.join(php.dir, 'grandchild.pid');
    await expect(executor.execute(php.request('spawn-and-sleep.php', { query: `pidfile=${pidFile}`, timeoutMs: 500 }))).rejects.toThrow(PhpTimeoutError);
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    // Reparented to init once php-cgi died: gone when init has reaped it.
    await waitFor(() => !processExists(grandchild) || fs.readFileSync(`/proc/${grandchild}/stat`, 'utf8').includes(') Z '), 'the sleep started by PHP to be killed', 2000);
  });

  it('refuses a request whose deadline has already passed without touching php-cgi', async () => {
    const executor = newExecutor();
    const pid = await pidOf(executor);
    await expect(executor.execute(php.request('hello.php', { timeoutMs: -1 }))).rejects.toThrow(
      new PhpTimeoutError('the deadline had passed before the request was sent to php-cgi'),
    );
    expect(await pidOf(executor)).toBe(pid);
  });

  it('refuses a request whose deadline is exactly now, as one already passed', async () => {
    const executor = newExecutor();
    const pid = await pidOf(executor);
    // A frozen clock: the deadline is neither a millisecond ahead nor behind when execute() reads it.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await expect(executor.execute(php.request('hello.php', { timeoutMs: 0 }))).rejects.toThrow(
        new PhpTimeoutError('the deadline had passed before the request was sent to php-cgi'),
      );
    } finally {
      vi.useRealTimers();
    }
    expect(await pidOf(executor)).toBe(pid);
  });

  it('rejects start() clearly when the binary is missing', async () => {
    const executor = new FastCgiExecutor({ phpCgiBinary: '/nonexistent/php-cgi', socketDir, env: {} });
    await expect(executor.start()).rejects.toThrow(/cannot start php-cgi at \/nonexistent\/php-cgi: .*ENOENT/);
    await expect(executor.execute(php.request('hello.php'))).rejects.toThrow(PhpCrashError);
    await executor.stop();
  });

  it('replaces a php-cgi killed the moment before a request, before Node has seen it die', async () => {
    const executor = newExecutor();
    const pid = await pidOf(executor);
    await executor.logsFlushed();
    // No event-loop turn between the kill and the request: its keep-alive connection still looks open.
    process.kill(pid, 'SIGKILL');
    const next = await pidOf(executor);
    expect(next).not.toBe(pid);
  });

  it('leaves php-cgi running past the deadline of a request refused before it was written (a parameter too long)', async () => {
    const executor = newExecutor();
    const pid = await pidOf(executor);
    await executor.logsFlushed();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const refused = executor.execute(php.request('hello.php', { env: { HTTP_X_HUGE: 'x'.repeat(70_000) }, timeoutMs: 300 }));
      await expect(refused).rejects.toThrow(/^FastCGI parameter HTTP_X_HUGE is 70\d+ bytes encoded/);
      // That request's deadline is no business of php-cgi's any more.
      vi.advanceTimersByTime(300);
    } finally {
      vi.useRealTimers();
    }
    expect(await pidOf(executor)).toBe(pid);
  });

  it('gives up with PhpCrashError when the replacement of an unreachable php-cgi cannot be reached either', async () => {
    // A stand-in for php-cgi that stops listening and removes its socket, then passes the readiness
    // handshake (an empty GET_VALUES_RESULT), and stays alive: every later connect fails.
    const binary = path.join(php.dir, 'unreachable-php-cgi');
    fs.writeFileSync(
      binary,
      `#!${process.execPath}
const fs = require('node:fs');
const net = require('node:net');
const socketPath = process.argv[process.argv.indexOf('-b') + 1];
const server = net.createServer((connection) => {
  connection.once('data', () => {
    server.close();
    fs.rmSync(socketPath, { force: true });
    connection.end(Buffer.from([1, 10, 0, 0, 0, 0, 0, 0]));
  });
});
server.listen(socketPath);
setInterval(() => {}, 60_000);
`,
      { mode: 0o755 },
    );
    const executor = new FastCgiExecutor({ phpCgiBinary: binary, socketDir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, log: () => {} });
    executors.push(executor);
    await executor.start();
    // The request moves once (nothing was written), then fails rather than starting php-cgi after php-cgi.
    const failure = await executor.execute(php.request('hello.php')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PhpCrashError);
    expect((failure as Error).message).toMatch(/^cannot connect to php-cgi at (\/\S+\.sock): connect ENOENT \1$/);
  });

  it('refuses a second request while one runs, with a clear error, and runs the first to its end', async () => {
    const executor = newExecutor();
    await executor.start();
    const first = executor.execute(php.request('sleep.php', { query: 'seconds=1' }));
    await expect(executor.execute(php.request('hello.php'))).rejects.toThrow(new Error('FastCgiExecutor runs one request at a time'));
    expect(parseCgiOutput(await first).body.toString()).toMatch(/^pid=\d+woke up$/);
    expect(parseCgiOutput(await executor.execute(php.request('hello.php'))).body.toString()).toMatch(/^Hello, world!/);
  });

  it('fails a request sent after stop() with PhpCrashError, starting no php-cgi', async () => {
    const dir = ownSocketDir();
    const executor = newExecutor({}, undefined, dir);
    await pidOf(executor);
    await executor.stop();
    await expect(executor.execute(php.request('hello.php'))).rejects.toThrow(
      new PhpCrashError('php-cgi is not running and could not be restarted: the FastCGI executor is stopped'),
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('fails a request still waiting for the first php-cgi when stop() comes, starting no php-cgi', async () => {
    const dir = ownSocketDir();
    const executor = newExecutor({}, undefined, dir);
    // Lazily started: the request asks for php-cgi, and stop() comes before it has been spawned.
    const request = executor.execute(php.request('hello.php'));
    await executor.stop();
    await expect(request).rejects.toThrow(new PhpCrashError('php-cgi is not running and could not be restarted: the FastCGI executor is stopped'));
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('fails a request whose deadline comes while php-cgi is still booting with PhpTimeoutError, and never runs it', async () => {
    const executor = newExecutor();
    const marker = path.join(php.dir, 'booting-deadline.ran');
    // Only the deadline is on the fake clock, and only until it has fired: php-cgi boots on the real one.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let late: Promise<unknown>;
    try {
      late = executor.execute(php.request('touch.php', { query: `file=${encodeURIComponent(marker)}`, timeoutMs: 1000 }));
      vi.advanceTimersByTime(1000);
    } finally {
      vi.useRealTimers();
    }
    await expect(late).rejects.toThrow(new PhpTimeoutError('php-cgi was not ready by the deadline'));
    // The next request goes to the same php-cgi, once booted: the timed-out one must not have gone first.
    // It may wait 5 s: the timed-out request's own connection, opened as php-cgi became ready, can be
    // the one php-cgi accepted first, and it waits that long for a record before taking the next.
    await executor.start();
    expect(parseCgiOutput(await executor.execute(php.request('hello.php', { timeoutMs: 30_000 }))).body.toString()).toMatch(/^Hello, world!/);
    await executor.logsFlushed();
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('starts the next php-cgi as soon as one reaches PHP_FCGI_MAX_REQUESTS, before the next request', async () => {
    const dir = ownSocketDir();
    const executor = newExecutor({ PHP_FCGI_MAX_REQUESTS: '2' }, undefined, dir);
    const pid = await pidOf(executor);
    const [socket] = fs.readdirSync(dir);
    expect(await pidOf(executor)).toBe(pid);
    await waitFor(() => {
      const sockets = fs.readdirSync(dir);
      return sockets.length === 1 && sockets[0] !== socket;
    }, 'the next php-cgi to be listening');
    expect(await pidOf(executor)).not.toBe(pid);
  });

  it('sends php-cgi’s lines outside any request (a startup warning) to the log option, not to the last request’s log', async () => {
    const idle: string[] = [];
    // Recycled after each request: the next php-cgi's startup warning comes after the request's answer.
    const executor = newExecutor({ ...startupWarningEnv(), PHP_FCGI_MAX_REQUESTS: '1' }, (line) => idle.push(line));
    await executor.start();
    const requestLines: string[] = [];
    await executor.execute(php.request('hello.php', { log: (line) => requestLines.push(line) }));
    await waitFor(() => idle.filter(isStartupWarning).length === 2, 'the second php-cgi’s startup warning in the log option');
    expect(requestLines.filter(isStartupWarning)).toEqual([]);
  });

  it('starts one php-cgi for the first request when not started beforehand', async () => {
    const idle: string[] = [];
    const executor = newExecutor(startupWarningEnv(), (line) => idle.push(line));
    const pid = await pidOf(executor);
    expect(await pidOf(executor)).toBe(pid);
    await executor.logsFlushed();
    // Every php-cgi started says it once, before it listens.
    expect(idle.filter(isStartupWarning)).toHaveLength(1);
  });

  it('writes php-cgi’s lines outside any request to stderr when no log is given', async () => {
    const written: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const executor = new FastCgiExecutor({ phpCgiBinary: PHP_CGI, socketDir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...startupWarningEnv() } });
      executors.push(executor);
      await executor.start();
      await waitFor(() => written.some(isStartupWarning), 'the startup warning on stderr');
    } finally {
      write.mockRestore();
    }
    const line = written.find(isStartupWarning)!;
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
  });

  it('does not keep a failed start: once php-cgi can be started, the next request starts it', async () => {
    const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fcgi-bin-'));
    try {
      const binary = path.join(binDir, 'php-cgi');
      const executor = new FastCgiExecutor({ phpCgiBinary: binary, socketDir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, log: () => {} });
      executors.push(executor);
      await expect(executor.start()).rejects.toThrow(/ENOENT/);
      fs.symlinkSync(PHP_CGI, binary);
      expect(parseCgiOutput(await executor.execute(php.request('hello.php'))).body.toString()).toMatch(/^Hello, world!/);
    } finally {
      fs.rmSync(binDir, { recursive: true, force: true });
    }
  });

  it('says why the php-cgi started before the runtime was not taken over, and starts one', async () => {
    // A pid that is no child of this process any more: a child already reaped.
    const child = spawn('true');
    await new Promise((resolve) => child.once('exit', resolve));
    const warnings: string[] = [];
    const executor = new FastCgiExecutor({
      phpCgiBinary: PHP_CGI,
      socketDir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      log: () => {},
      early: { pid: child.pid!, path: path.join(socketDir, 'never-started') },
      warn: (message) => warnings.push(message),
    });
    executors.push(executor);
    expect(parseCgiOutput(await executor.execute(php.request('hello.php'))).body.toString()).toMatch(/^Hello, world!/);
    expect(warnings).toEqual([
      `the php-cgi started before the runtime (pid ${child.pid}) was not taken over: process ${child.pid} is not a child of this runtime; starting one`,
    ]);
  });

  it('stop() kills php-cgi and removes its socket', async () => {
    const executor = newExecutor();
    const pid = await pidOf(executor);
    await executor.stop();
    expect(processExists(pid)).toBe(false);
    expect(fs.readdirSync(socketDir)).toEqual([]);
  });
});

describe('bodyPhpWillRead', () => {
  const body = Buffer.from('0123456789');
  it.each([
    ['10', 10],
    ['4', 4],
    ['20', 10],
    ['4 trailing', 4],
    ['0', 0],
    ['-3', 0],
    ['', 0],
    [undefined, 0],
  ])('CONTENT_LENGTH=%s sends %i bytes', (contentLength, expected) => {
    const env: Record<string, string> = contentLength === undefined ? {} : { CONTENT_LENGTH: contentLength };
    expect(bodyPhpWillRead(env, body).length).toBe(expected);
  });
});
