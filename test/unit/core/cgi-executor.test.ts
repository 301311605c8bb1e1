import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as realSleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCgiEnvironment } from '../../../src/cgi/cgi-environment.ts';
import { CgiExecutor } from '../../../src/cgi/cgi-executor.ts';
import { parseCgiResponse } from '../../../src/cgi/cgi-response-parser.ts';
import { PhpCrashError, PhpTimeoutError, type PhpRequest } from '../../../src/cgi/php-executor.ts';
import { decodeWaitStatus } from '../../../src/cgi/spawner/cgi-spawner.ts';
import type { HttpRequest } from '../../../src/http/http-message.ts';
import { processInfo, stillRunning } from '../../support/processes.ts';

const PHP_CGI = '/usr/bin/php-cgi';
// `./run test` installs php-cgi: without it these tests must fail, not skip.
if (!existsSync(PHP_CGI)) throw new Error(`these tests need php-cgi at ${PHP_CGI}`);
// Built with dist/ by the tests' global setup (scripts/build.mjs; ./run test installs a C compiler).
const SPAWNER = path.resolve('dist/cgi-spawner');
if (!existsSync(SPAWNER)) throw new Error(`these tests need ${SPAWNER}: node scripts/build.mjs builds it when a C compiler (cc) is installed`);

let dir: string;
const marker = `cgi-executor-test-${randomUUID()}`;

function script(name: string, code: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, code);
  return file;
}

function cgiEnv(scriptFilename: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SCRIPT_FILENAME: scriptFilename,
    SCRIPT_NAME: '/' + path.basename(scriptFilename),
    REQUEST_METHOD: 'GET',
    REQUEST_URI: '/' + path.basename(scriptFilename),
    QUERY_STRING: '',
    SERVER_PROTOCOL: 'HTTP/1.1',
    DOCUMENT_ROOT: dir,
    REDIRECT_STATUS: '200',
    ...extra,
  };
}

function phpRequest(env: Record<string, string>, overrides: Partial<PhpRequest> = {}): PhpRequest & { lines: string[] } {
  const lines: string[] = [];
  return { env, body: Buffer.alloc(0), deadline: Date.now() + 20_000, log: (line) => lines.push(line), lines, ...overrides };
}

/** PIDs of processes whose environment holds `needle` (php-cgi has no arguments to grep for). */
function pidsWithEnvironment(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`).includes(needle)) pids.push(Number(entry));
    } catch {
      // Gone, or not ours.
    }
  }
  return pids;
}

function pgrep(pattern: string): string {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim();
  } catch {
    return ''; // exit code 1: nothing matched
  }
}

/** An executable shell script standing in for php-cgi (or for what a broken layer ships as php-cgi). */
function fakeBinary(name: string, shell: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${shell}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Whether `pid` still runs (a zombie no longer does), polled until it stops or `ms` have passed. */
async function stillRunningAfter(pid: number, ms: number): Promise<boolean> {
  const info = processInfo(pid);
  const running = () => info !== undefined && stillRunning(info);
  // realSleep, not pollUntil: the timers may be fake here.
  for (let waited = 0; waited < ms && running(); waited += 20) await realSleep(20);
  return running();
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The deadline timers run on a fake clock; real waits (realSleep) and child processes do not. */
const FAKE_CLOCK: Parameters<typeof vi.useFakeTimers>[0] = { toFake: ['setTimeout', 'clearTimeout', 'Date'] };

/** A promise and whether it has settled yet, for checks of what has not happened so far. */
function settledState<T>(promise: Promise<T>): { promise: Promise<T>; readonly settled: boolean } {
  const state = { promise, settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'cgi-executor-test-')));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ['spawned from Node', undefined],
  ['started by cgi-spawner', SPAWNER],
])('CgiExecutor with the real php-cgi, %s', (_, spawnerBinary) => {
  const executor = new CgiExecutor({ phpCgiBinary: PHP_CGI, spawnerBinary });

  it('start() succeeds with the real binary', async () => {
    await expect(executor.start()).resolves.toBeUndefined();
  });

  it('runs hello world', async () => {
    const file = script('hello.php', '<?php header("X-Hello: world"); echo "Hello, World!";');
    const output = await executor.execute(phpRequest(cgiEnv(file)));
    expect(output.toString('latin1')).toMatch(/\r\n\r\nHello, World!$/);
    const response = parseCgiResponse(output);
    expect(response.statusCode).toBe(200);
    expect(response.headers.get('x-hello')).toEqual(['world']);
    expect(response.headers.get('content-type')).toEqual(['text/html; charset=UTF-8']);
    expect(response.body.toString()).toBe('Hello, World!');
  });

  it('pipes a 2 MB POST body to PHP and gets it back intact', async () => {
    const file = script(
      'echo.php',
      '<?php $in = file_get_contents("php://input"); header("Content-Type: application/octet-stream"); header("X-Length: " . strlen($in)); header("X-Sha256: " . hash("sha256", $in)); echo $in;',
    );
    const body = randomBytes(2 * 1024 * 1024);
    const env = cgiEnv(file, { REQUEST_METHOD: 'POST', CONTENT_LENGTH: String(body.length), CONTENT_TYPE: 'application/octet-stream' });
    const response = parseCgiResponse(await executor.execute(phpRequest(env, { body })));
    expect(response.statusCode).toBe(200);
    expect(response.headers.get('x-length')).toEqual([String(body.length)]);
    expect(response.headers.get('x-sha256')).toEqual([sha256(body)]);
    expect(response.body.length).toBe(body.length);
    expect(sha256(response.body)).toBe(sha256(body));
  });

  it('does not fail when PHP ignores a large body it never reads', async () => {
    const file = script('ignore-body.php', '<?php echo "ignored";');
    const body = randomBytes(4 * 1024 * 1024);
    const env = cgiEnv(file, { REQUEST_METHOD: 'PUT', CONTENT_LENGTH: String(body.length), CONTENT_TYPE: 'application/octet-stream' });
    const response = parseCgiResponse(await executor.execute(phpRequest(env, { body })));
    expect(response.body.toString()).toBe('ignored');
  });

  it('rejects with PhpCrashError, and nothing else breaks, when PHP dies before reading a large body', async () => {
    // Our end of its stdin then fails with EPIPE while the body is still being written.
    const file = script('die-before-body.php', '<?php posix_kill(getmypid(), 9);');
    const body = randomBytes(4 * 1024 * 1024);
    const env = cgiEnv(file, { REQUEST_METHOD: 'PUT', CONTENT_LENGTH: String(body.length), CONTENT_TYPE: 'application/octet-stream' });
    const error = await executor.execute(phpRequest(env, { body })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhpCrashError);
    expect((error as Error).message).toBe('php-cgi was killed by signal SIGKILL after writing 0 bytes of output');
  });

  it('sends each stderr line to log, split correctly', async () => {
    const file = script(
      'stderr.php',
      [
        '<?php',
        'error_log("first line");',
        'file_put_contents("php://stderr", "two\\nlines\\n");',
        'file_put_contents("php://stderr", "crlf line\\r\\n");',
        'file_put_contents("php://stderr", "partial ");',
        'usleep(50000);',
        'file_put_contents("php://stderr", "joined\\n");',
        'file_put_contents("php://stderr", "no newline at the end");',
        'echo "done";',
      ].join('\n'),
    );
    const request = phpRequest(cgiEnv(file));
    const response = parseCgiResponse(await executor.execute(request));
    expect(response.body.toString()).toBe('done');
    expect(request.lines).toEqual(['first line', 'two', 'lines', 'crlf line', 'partial joined', 'no newline at the end']);
  });

  it('keeps long stderr output line by line', async () => {
    const file = script('stderr-many.php', '<?php for ($i = 0; $i < 5000; $i++) { file_put_contents("php://stderr", "line $i " . str_repeat("x", 50) . "\\n"); } echo "ok";');
    const request = phpRequest(cgiEnv(file));
    const response = parseCgiResponse(await executor.execute(request));
    expect(response.body.toString()).toBe('ok');
    expect(request.lines).toHaveLength(5000);
    request.lines.forEach((line, i) => expect(line).toBe(`line ${i} ${'x'.repeat(50)}`));
  });

  it("returns PHP's own 'Status: 500' answer for a fatal error, and logs the error", async () => {
    const file = script('fatal.php', '<?php echo "before"; undefined_function();');
    const request = phpRequest(cgiEnv(file));
    const output = await executor.execute(request);
    const response = parseCgiResponse(output);
    expect(response.statusCode).toBe(500);
    expect(request.lines.join('\n')).toContain('Call to undefined function undefined_function()');
    expect(request.lines[0]).toMatch(/^PHP Fatal error: /);
  });

  it('rejects with PhpCrashError when PHP kills itself', async () => {
    const file = script('suicide.php', '<?php posix_kill(getmypid(), 9); echo "never";');
    const error = await executor.execute(phpRequest(cgiEnv(file))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhpCrashError);
    expect((error as Error).message).toContain('signal SIGKILL');
  });

  it('rejects with PhpCrashError when PHP is killed by a signal after writing and flushing 10 KB: a crash, whatever it wrote', async () => {
    const file = script(
      'crash-after-output.php',
      '<?php header("Content-Type: text/plain"); echo str_repeat("0123456789abcde\\n", 640); while (ob_get_level() > 0) ob_end_flush(); flush(); posix_kill(getmypid(), 9); echo "never";',
    );
    const error = await executor.execute(phpRequest(cgiEnv(file))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhpCrashError);
    expect((error as Error).message).toMatch(/signal SIGKILL/);
    // The output it did write is part of the reason, not of an answer.
    expect((error as Error).message).toMatch(/after writing 10\d{3} bytes/);
  });

  it('returns the whole answer of a script that exits with a non-zero code by itself (exit(3) is not a crash)', async () => {
    const file = script('exit-code.php', '<?php echo "partial but complete"; exit(3);');
    const response = parseCgiResponse(await executor.execute(phpRequest(cgiEnv(file))));
    expect(response.statusCode).toBe(200);
    expect(response.body.toString()).toBe('partial but complete');
  });

  it('rejects with PhpCrashError when PHP exits without writing anything', async () => {
    // A script PHP cannot find still gets an answer ("No input file specified."), so use a crash
    // before any output: a non-existent binary path is covered below; here, exit through posix_kill(SIGSEGV).
    const file = script('segv.php', '<?php posix_kill(getmypid(), 11);');
    const error = await executor.execute(phpRequest(cgiEnv(file))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhpCrashError);
    expect((error as Error).message).toMatch(/signal SIG(SEGV|KILL)/);
  });

  it('rejects with PhpCrashError when php-cgi exits with code 0 without writing anything', async () => {
    const silent = new CgiExecutor({ phpCgiBinary: '/bin/true', spawnerBinary });
    const error = await silent.execute(phpRequest(cgiEnv(path.join(dir, 'hello.php')))).catch((e: unknown) => e);
    await silent.stop();
    expect(error).toBeInstanceOf(PhpCrashError);
    expect(error).toMatchObject({ name: 'PhpCrashError', message: 'php-cgi exited (code 0) without writing a response' });
  });

  it('rejects with PhpCrashError for a missing binary', async () => {
    const missing = new CgiExecutor({ phpCgiBinary: path.join(dir, 'no-such-php-cgi'), spawnerBinary });
    const error = await missing.execute(phpRequest(cgiEnv(path.join(dir, 'hello.php')))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhpCrashError);
    expect((error as Error).message).toContain('no-such-php-cgi');
    expect((error as Error).message).toContain('ENOENT');
  });

  it('leaves no timer behind once a request has ended, answered or not started: a deadline timer left to fire would kill a process group whose pid may have been reused', async () => {
    vi.useFakeTimers(FAKE_CLOCK);
    try {
      const file = script('no-timer-left.php', '<?php echo "done";');
      const output = await executor.execute(phpRequest(cgiEnv(file)));
      expect(parseCgiResponse(output).body.toString()).toBe('done');
      expect(vi.getTimerCount()).toBe(0);
      const missing = new CgiExecutor({ phpCgiBinary: path.join(dir, 'no-such-php-cgi'), spawnerBinary });
      await expect(missing.execute(phpRequest(cgiEnv(file)))).rejects.toBeInstanceOf(PhpCrashError);
      expect(vi.getTimerCount()).toBe(0);
      await missing.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('kills PHP and its children (SIGKILL: even one that ignores SIGTERM) when the clock reaches the deadline, not before, with PhpTimeoutError', async () => {
    vi.useFakeTimers(FAKE_CLOCK);
    try {
      const child = `${marker}-sleeper`;
      const file = script(`${marker}.php`, `<?php shell_exec("sh -c 'trap \\"\\" TERM; sleep 30; echo ${child}'"); sleep(10); echo "too late";`);
      const outcome = settledState(executor.execute(phpRequest(cgiEnv(file), { deadline: Date.now() + 300 })));
      // Wait until PHP and its child really run, so the checks below are not vacuous.
      for (let i = 0; i < 250 && pgrep(child) === ''; i++) await realSleep(20);
      expect(pgrep(child)).not.toBe('');

      vi.advanceTimersByTime(299);
      await realSleep(50);
      expect(outcome.settled).toBe(false);
      expect(pidsWithEnvironment(file).length).toBeGreaterThan(0);

      vi.advanceTimersByTime(1);
      vi.useRealTimers();
      const error = await outcome.promise.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PhpTimeoutError);
      expect(error).toMatchObject({ name: 'PhpTimeoutError', message: 'php-cgi was still running at the deadline and was killed' });
      await realSleep(100);
      expect(pgrep(child)).toBe('');
      expect(pidsWithEnvironment(file)).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('kills PHP at once when the deadline has already passed: the clock need not move', async () => {
    vi.useFakeTimers(FAKE_CLOCK);
    try {
      // Were it not killed, the script would run on for 2 s and leave its file behind. The
      // deadline timer fires before php-cgi's pid is known: the kill must come when it is.
      const ran = path.join(dir, `${marker}-late-${spawnerBinary ? 'spawner' : 'node'}.ran`);
      const file = script('late.php', `<?php sleep(2); file_put_contents(${JSON.stringify(ran)}, "ran"); echo "late";`);
      const late = executor.execute(phpRequest(cgiEnv(file), { deadline: Date.now() - 1000 }));
      vi.advanceTimersByTime(0);
      vi.useRealTimers();
      await expect(late).rejects.toBeInstanceOf(PhpTimeoutError);
      expect(existsSync(ran)).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not kill PHP when the invocation has no deadline (Number.MAX_SAFE_INTEGER)', async () => {
    // invocationFromNext() turns a missing deadline into Number.MAX_SAFE_INTEGER; a timer that
    // long overflows Node's 32-bit delay and would fire at once.
    const file = script('no-deadline.php', '<?php usleep(200000); echo "finished";');
    const output = await executor.execute(phpRequest(cgiEnv(file), { deadline: Number.MAX_SAFE_INTEGER }));
    expect(parseCgiResponse(output).body.toString()).toBe('finished');
  });

  it('does not kill PHP when the deadline is further away than a 32-bit timer can wait', async () => {
    const file = script('far-deadline.php', '<?php usleep(100000); echo "finished";');
    const output = await executor.execute(phpRequest(cgiEnv(file), { deadline: Date.now() + 30 * 24 * 3600 * 1000 }));
    expect(parseCgiResponse(output).body.toString()).toBe('finished');
  });

  it('runs requests in parallel without mixing their output', async () => {
    const file = script('echo-id.php', '<?php usleep(random_int(0, 50000)); echo getenv("REQ_ID");');
    const ids = Array.from({ length: 8 }, (_, i) => `id-${i}`);
    const bodies = await Promise.all(ids.map(async (id) => parseCgiResponse(await executor.execute(phpRequest(cgiEnv(file, { REQ_ID: id })))).body.toString()));
    expect(bodies).toEqual(ids);
  });

  it('answers once php-cgi exits, before the deadline, even while something it started in the background keeps its stdout open for 30 s', async () => {
    // An empty descriptor spec: the background shell inherits php-cgi's own stdout and stderr.
    const file = script(`${marker}-background.php`, `<?php proc_close(proc_open(['sh', '-c', '(sleep 30; echo ${marker}-late) &'], [], $pipes)); echo "done";`);
    // Waiting for the background process would meet the deadline first: a PhpTimeoutError, no answer.
    const output = await executor.execute(phpRequest(cgiEnv(file), { deadline: Date.now() + 20_000 }));
    expect(parseCgiResponse(output).body.toString()).toBe('done');
    await new Promise((r) => setTimeout(r, 100));
    expect(pgrep(`${marker}-late`)).toBe('');
  });

  it('ends what the request left running in its process group, even with its output redirected: nothing survives a request', async () => {
    const job = `${marker}-redirected-${spawnerBinary ? 'spawner' : 'node'}`;
    // `; :` keeps the shell as the job (no exec of sleep in its place): its pid is the one echoed.
    const file = script(`${job}.php`, `<?php echo trim(shell_exec('sh -c "sleep 30; : ${job}" > /dev/null 2>&1 & echo $!'));`);
    const output = await executor.execute(phpRequest(cgiEnv(file), { deadline: Date.now() + 20_000 }));
    const pid = Number(parseCgiResponse(output).body.toString());
    expect(pid).toBeGreaterThan(0);
    expect(await stillRunningAfter(pid, 2000), `the background job ${pid} outlived its request`).toBe(false);
    expect(pgrep(job)).toBe('');
  });

  it('answers once php-cgi exits even while processes that left its process group (setsid) hold its stdout and its stderr', async () => {
    // The group kill after php-cgi's exit cannot reach them: the pipes are let go of instead.
    const holders = `${marker}-escaped-${spawnerBinary ? 'spawner' : 'node'}`;
    const file = script(
      `${holders}.php`,
      `<?php proc_close(proc_open(['sh', '-c', 'setsid sh -c "sleep 30; : ${holders}-stdout" 2>/dev/null & setsid sh -c "sleep 30; : ${holders}-stderr" >/dev/null &'], [], $pipes)); echo "done";`,
    );
    try {
      const output = await executor.execute(phpRequest(cgiEnv(file)));
      expect(parseCgiResponse(output).body.toString()).toBe('done');
    } finally {
      // Each leads a group of its own (setsid): the runtime leaves them, the test does not.
      for (const pid of pgrep(holders).split('\n').filter(Boolean)) process.kill(-Number(pid), 'SIGKILL');
    }
  }, 10_000);

  it('start() rejects with a clear message for /bin/false', async () => {
    await expect(new CgiExecutor({ phpCgiBinary: '/bin/false' }).start()).rejects.toThrow(/\/bin\/false -v exited with code 1/);
  });

  it('start() rejects with a clear message for a binary that prints no PHP version', async () => {
    await expect(new CgiExecutor({ phpCgiBinary: '/bin/true' }).start()).rejects.toThrow(/\/bin\/true -v did not print a PHP version/);
  });

  it('start() rejects with a clear message for a missing path', async () => {
    const missing = path.join(dir, 'missing', 'php-cgi');
    await expect(new CgiExecutor({ phpCgiBinary: missing }).start()).rejects.toThrow(`cannot run php-cgi at ${missing}`);
  });

  it('stop() resolves', async () => {
    await expect(executor.stop()).resolves.toBeUndefined();
  });
});

describe('CgiExecutor through cgi-spawner', () => {
  const executor = new CgiExecutor({ phpCgiBinary: PHP_CGI, spawnerBinary: SPAWNER });
  afterAll(() => executor.stop());

  /** The parent of the php-cgi that runs `file`: PHP writes it to a file and sleeps. */
  async function parentWhileRunning(file: string, pidFile: string): Promise<number> {
    for (let i = 0; i < 250 && !existsSync(pidFile); i++) await realSleep(20);
    return Number(readFileSync(pidFile, 'utf8'));
  }

  it('starts php-cgi from the spawner, not from this process', async () => {
    const file = script('parent.php', '<?php echo posix_getppid();');
    const parent = Number(parseCgiResponse(await executor.execute(phpRequest(cgiEnv(file)))).body.toString());
    expect(parent).not.toBe(process.pid);
    expect(readFileSync(`/proc/${parent}/comm`, 'utf8').trim()).toBe('cgi-spawner');
    // The same spawner serves the next request.
    expect(Number(parseCgiResponse(await executor.execute(phpRequest(cgiEnv(file)))).body.toString())).toBe(parent);
  });

  it('fails the request a killed spawner was running, stops its php-cgi, and serves the next one with a new spawner', async () => {
    const pidFile = path.join(dir, `${marker}-spawner.pid`);
    // php-cgi dies with its spawner (PR_SET_PDEATHSIG); the job it left in the background does not.
    const file = script(
      `${marker}-orphan.php`,
      `<?php exec("sleep 20 > /dev/null 2>&1 &"); file_put_contents(${JSON.stringify(pidFile)}, posix_getppid()); sleep(20); echo "never";`,
    );
    const running = executor.execute(phpRequest(cgiEnv(file)));
    const spawner = await parentWhileRunning(file, pidFile);
    process.kill(spawner, 'SIGKILL');
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhpCrashError);
    expect((error as Error).message).toMatch(/spawner stopped \(signal SIGKILL\)/);
    await new Promise((r) => setTimeout(r, 100));
    expect(pidsWithEnvironment(file)).toEqual([]);

    const hello = script('after-spawner.php', '<?php echo posix_getppid();');
    const parent = Number(parseCgiResponse(await executor.execute(phpRequest(cgiEnv(hello)))).body.toString());
    expect(parent).not.toBe(spawner);
    expect(readFileSync(`/proc/${parent}/comm`, 'utf8').trim()).toBe('cgi-spawner');
  });

  it('answers at the deadline even when the spawner has stopped answering: killed after its grace second, and replaced', async () => {
    const pidFile = path.join(dir, `${marker}-stopped.pid`);
    const file = script(`${marker}-stopped.php`, `<?php file_put_contents(${JSON.stringify(pidFile)}, posix_getppid()); sleep(20); echo "never";`);
    let spawner: number;
    vi.useFakeTimers(FAKE_CLOCK);
    try {
      const running = settledState(executor.execute(phpRequest(cgiEnv(file), { deadline: Date.now() + 500 })));
      spawner = await parentWhileRunning(file, pidFile);
      process.kill(spawner, 'SIGSTOP');
      // At the deadline php-cgi is killed, but the stopped spawner cannot report it.
      vi.advanceTimersByTime(500);
      await realSleep(50);
      expect(running.settled).toBe(false);
      // After its grace second the spawner itself is killed, which ends the request.
      vi.advanceTimersByTime(1000);
      vi.useRealTimers();
      const error = await running.promise.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PhpTimeoutError);
      expect((error as Error).message).toBe('php-cgi was still running at the deadline and was killed');
    } finally {
      vi.useRealTimers();
    }
    expect(pidsWithEnvironment(file)).toEqual([]);
    const hello = script('after-stopped.php', '<?php echo posix_getppid();');
    expect(Number(parseCgiResponse(await executor.execute(phpRequest(cgiEnv(hello)))).body.toString())).not.toBe(spawner);
  });

  it('logs the partial last line of stderr of a request whose spawner was killed', async () => {
    const pidFile = path.join(dir, `${marker}-partial.pid`);
    // One write: the spawner forwards "ready" and "partial" together, so once "ready" is logged
    // "partial" has arrived too, waiting for a newline that never comes.
    const file = script(
      `${marker}-partial.php`,
      `<?php file_put_contents(${JSON.stringify(pidFile)}, posix_getppid()); file_put_contents("php://stderr", "ready\\npartial"); sleep(20);`,
    );
    const request = phpRequest(cgiEnv(file));
    const running = executor.execute(request);
    const spawner = await parentWhileRunning(file, pidFile);
    for (let i = 0; i < 250 && request.lines.length === 0; i++) await realSleep(20);
    expect(request.lines).toEqual(['ready']);
    process.kill(spawner, 'SIGKILL');
    await expect(running).rejects.toBeInstanceOf(PhpCrashError);
    expect(request.lines).toEqual(['ready', 'partial']);
  });

  it('keeps its spawner once the deadline of a request that already ended passes (answered, or php-cgi could not be started, also after the deadline)', async () => {
    const file = script('same-spawner.php', '<?php echo posix_getppid();');
    const parent = Number(parseCgiResponse(await executor.execute(phpRequest(cgiEnv(file)))).body.toString());
    vi.useFakeTimers(FAKE_CLOCK);
    try {
      const answered = await executor.execute(phpRequest(cgiEnv(file), { deadline: Date.now() + 500 }));
      expect(Number(parseCgiResponse(answered).body.toString())).toBe(parent);
      // One environment string over the kernel's 128 KB: execve() fails, the spawner says so and lives on.
      const tooLarge = executor.execute(phpRequest(cgiEnv(file, { HTTP_X_LARGE: 'x'.repeat(200 * 1024) }), { deadline: Date.now() + 500 }));
      await expect(tooLarge).rejects.toThrow(/E2BIG/);
      // The same, its deadline passed before the spawner's answer came: a timeout, for a spawner that did answer.
      const lateAndTooLarge = executor.execute(phpRequest(cgiEnv(file, { HTTP_X_LARGE: 'x'.repeat(200 * 1024) }), { deadline: Date.now() - 1 }));
      vi.advanceTimersByTime(0);
      await expect(lateAndTooLarge).rejects.toBeInstanceOf(PhpTimeoutError);
      // Past the deadlines and the spawner's grace second: nothing may kill the spawner now.
      vi.advanceTimersByTime(2000);
    } finally {
      vi.useRealTimers();
    }
    expect(Number(parseCgiResponse(await executor.execute(phpRequest(cgiEnv(file)))).body.toString())).toBe(parent);
  });

  it('stop() ends the spawner', async () => {
    const own = new CgiExecutor({ phpCgiBinary: PHP_CGI, spawnerBinary: SPAWNER });
    const file = script('stop.php', '<?php echo posix_getppid();');
    const spawner = Number(parseCgiResponse(await own.execute(phpRequest(cgiEnv(file)))).body.toString());
    expect(readFileSync(`/proc/${spawner}/comm`, 'utf8').trim()).toBe('cgi-spawner');
    await own.stop();
    expect(await stillRunningAfter(spawner, 5000)).toBe(false);
  });

  it('checks the spawner at start() and, when it cannot start php-cgi, spawns from Node instead, saying so', async () => {
    const lines: string[] = [];
    const broken = new CgiExecutor({ phpCgiBinary: PHP_CGI, spawnerBinary: '/bin/false', log: (line) => lines.push(line) });
    await broken.start();
    expect(lines).toEqual([expect.stringMatching(/^\/bin\/false cannot start php-cgi \(.*spawner stopped \(code 1\).*\): php-cgi is spawned from Node instead$/)]);
    const file = script('fallback.php', '<?php echo posix_getppid();');
    expect(Number(parseCgiResponse(await broken.execute(phpRequest(cgiEnv(file)))).body.toString())).toBe(process.pid);
    await broken.stop();
  });

  // What php-cgi -v prints passes start()'s own check; what the spawner's run of it does fails its check.
  const VERSION = '[ "$1" = -v ] && { echo "PHP 8.3.0 (cgi-fcgi)"; exit 0; }';
  it.each([
    ['exits 0 without output, a second late', `${VERSION}\nsleep 1\nexit 0`, 'php-cgi exited with code 0 without output'],
    ['writes an answer but exits with code 3', `${VERSION}\nprintf 'Status: 500\\r\\n\\r\\n'\nexit 3`, 'php-cgi exited with code 3'],
    ['dies of a signal', `${VERSION}\nkill -KILL $$`, 'php-cgi died of SIGKILL without output'],
  ])('start() waits for the spawner check, and falls back to Node when php-cgi started by the spawner %s, saying why', async (name, shell, reason) => {
    const fake = fakeBinary(`php-cgi-that-${name.replaceAll(/\W+/g, '-')}`, shell);
    const lines: string[] = [];
    const checked = new CgiExecutor({ phpCgiBinary: fake, spawnerBinary: SPAWNER, log: (line) => lines.push(line) });
    await checked.start();
    expect(lines).toEqual([`${SPAWNER} cannot start php-cgi (${reason}): php-cgi is spawned from Node instead`]);
    // The spawner that failed its check does not linger.
    for (let i = 0; i < 250 && pgrep(`${SPAWNER} ${fake}`) !== ''; i++) await realSleep(20);
    expect(pgrep(`${SPAWNER} ${fake}`)).toBe('');
    await checked.stop();
  });

  it('reports a spawner that fails its check on stderr when no log is given', async () => {
    const fake = fakeBinary('php-cgi-exit-3', `${VERSION}\nexit 3`);
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const checked = new CgiExecutor({ phpCgiBinary: fake, spawnerBinary: SPAWNER });
      await checked.start();
      await checked.stop();
      expect(write.mock.calls.map(([text]) => text)).toContain(`${SPAWNER} cannot start php-cgi (php-cgi exited with code 3 without output): php-cgi is spawned from Node instead\n`);
    } finally {
      write.mockRestore();
    }
  });

  it("checks the spawner with this process's environment, as requests get it (LD_LIBRARY_PATH)", async () => {
    // Stands in for a php-cgi that only finds its libraries through a variable of the function's environment.
    const variable = `CGI_EXECUTOR_TEST_${randomUUID().replaceAll('-', '_')}`;
    const fake = fakeBinary('php-cgi-needing-a-variable', `${VERSION}\n[ -n "$${variable}" ] || exit 1\nexec ${PHP_CGI} "$@"`);
    const lines: string[] = [];
    process.env[variable] = '1';
    try {
      const checked = new CgiExecutor({ phpCgiBinary: fake, spawnerBinary: SPAWNER, log: (line) => lines.push(line) });
      await checked.start();
      await checked.stop();
    } finally {
      delete process.env[variable];
    }
    expect(lines).toEqual([]);
  });

  it('keeps a spawner that passes the check at start(), quietly', async () => {
    const lines: string[] = [];
    const checked = new CgiExecutor({ phpCgiBinary: PHP_CGI, spawnerBinary: SPAWNER, log: (line) => lines.push(line) });
    await checked.start();
    const file = script('checked.php', '<?php echo posix_getppid();');
    const parent = Number(parseCgiResponse(await checked.execute(phpRequest(cgiEnv(file)))).body.toString());
    expect(readFileSync(`/proc/${parent}/comm`, 'utf8').trim()).toBe('cgi-spawner');
    expect(lines).toEqual([]);
    await checked.stop();
  });

  it('refuses an environment that no process can carry (a NUL byte) before anything starts', async () => {
    const file = script('nul.php', '<?php echo "ran";');
    await expect(executor.execute(phpRequest(cgiEnv(file, { HTTP_X_BAD: 'a\0b' })))).rejects.toThrow(/HTTP_X_BAD/);
    expect(parseCgiResponse(await executor.execute(phpRequest(cgiEnv(file)))).body.toString()).toBe('ran');
  });

  it('decodes wait statuses as Node reports exits', () => {
    expect(decodeWaitStatus(0)).toEqual({ code: 0, signal: null });
    expect(decodeWaitStatus(255 << 8)).toEqual({ code: 255, signal: null });
    expect(decodeWaitStatus(9)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(decodeWaitStatus(11 | 0x80)).toEqual({ code: null, signal: 'SIGSEGV' }); // with a core dump
  });
});

describe('CgiExecutor.start() checks the php-cgi binary with -v', () => {
  it('accepts a version line after startup warnings, and a two-digit major version', async () => {
    const fake = fakeBinary('php-cgi-10', 'echo "PHP Warning:  PHP Startup: Unable to load dynamic library \'redis.so\'"\necho "PHP 10.0.0 (cgi-fcgi) (built: Jan  1 2031)"');
    await expect(new CgiExecutor({ phpCgiBinary: fake }).start()).resolves.toBeUndefined();
  });

  it('refuses a binary that mentions a PHP version anywhere but at the start of a line', async () => {
    const fake = fakeBinary('not-php-cgi', 'echo "not-php 1.0, compatible with PHP 8.3"');
    await expect(new CgiExecutor({ phpCgiBinary: fake }).start()).rejects.toThrow(`${fake} -v did not print a PHP version: not-php 1.0, compatible with PHP 8.3\n`);
  });

  it('quotes the first 200 characters of what a binary without a version printed', async () => {
    const fake = fakeBinary('chatty-php-cgi', `printf '%0300d' 0`);
    await expect(new CgiExecutor({ phpCgiBinary: fake }).start()).rejects.toThrow(new Error(`${fake} -v did not print a PHP version: ${'0'.repeat(200)}`));
  });

  it("quotes the first 500 characters of a failing binary's stderr (a missing shared library)", async () => {
    const missing = `php-cgi: error while loading shared libraries: libonig.so.5: cannot open shared object file: No such file or directory ${'.'.repeat(500)}`;
    const fake = fakeBinary('php-cgi-without-its-libraries', `echo '${missing}' >&2\nexit 127`);
    await expect(new CgiExecutor({ phpCgiBinary: fake }).start()).rejects.toThrow(new Error(`${fake} -v exited with code 127: ${missing.slice(0, 500)}`));
  });

  it('gives the binary no stdin: one that reads it ends at once rather than hanging start()', async () => {
    await expect(new CgiExecutor({ phpCgiBinary: '/bin/cat' }).start()).rejects.toThrow(new Error('/bin/cat -v did not print a PHP version: '));
  }, 10_000);
});

describe('what PHP sees from buildCgiEnvironment', () => {
  const executor = new CgiExecutor({ phpCgiBinary: PHP_CGI });

  it('gets $_SERVER, $_GET, $_POST, $_COOKIE and getenv() right', async () => {
    const file = script(
      'probe.php',
      '<?php header("Content-Type: application/json"); echo json_encode(["server" => $_SERVER, "get" => $_GET, "post" => $_POST, "cookie" => $_COOKIE, "db" => getenv("DB_HOST"), "proxy" => getenv("HTTP_PROXY"), "self" => $_SERVER["PHP_SELF"]]);',
    );
    const body = Buffer.from('name=J%C3%B6rg&list%5B%5D=a&list%5B%5D=b');
    const request: HttpRequest = {
      method: 'POST',
      path: '/probe.php/extra/info',
      rawQueryString: 'q=caf%C3%A9&n=1',
      headers: new Map([
        ['host', ['example.com']],
        ['x-forwarded-proto', ['https']],
        ['x-forwarded-port', ['443']],
        ['content-type', ['application/x-www-form-urlencoded']],
        ['cookie', ['a=1', 'b=two']],
        ['proxy', ['http://evil.example']],
        ['x-custom', ['v1', 'v2']],
      ]),
      body,
      sourceIp: '198.51.100.9',
      protocol: 'HTTP/1.1',
      requestContext: { stage: 'prod' },
    };
    const env = buildCgiEnvironment({
      request,
      script: { scriptFilename: file, scriptName: '/probe.php', pathInfo: '/extra/info' },
      documentRoot: dir,
      invocation: {
        requestId: 'req-9',
        deadlineMs: Date.now() + 20_000,
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:f',
        traceId: 'Root=1-abc',
        clientContext: undefined,
        cognitoIdentity: undefined,
        event: Buffer.alloc(0),
      },
      functionEnv: { DB_HOST: 'db.internal', HTTPS: 'off-by-function' },
    });
    const response = parseCgiResponse(await executor.execute({ env, body, deadline: Date.now() + 20_000, log: () => {} }));
    expect(response.statusCode).toBe(200);
    const seen = JSON.parse(response.body.toString()) as {
      server: Record<string, string>;
      get: unknown;
      post: unknown;
      cookie: unknown;
      db: string;
      proxy: unknown;
      self: string;
    };
    expect(seen.get).toEqual({ q: 'café', n: '1' });
    expect(seen.post).toEqual({ name: 'Jörg', list: ['a', 'b'] });
    expect(seen.cookie).toEqual({ a: '1', b: 'two' });
    expect(seen.db).toBe('db.internal');
    expect(seen.proxy).toBe(false);
    expect(seen.server).toMatchObject({
      HTTPS: 'on',
      REQUEST_SCHEME: 'https',
      SERVER_NAME: 'example.com',
      SERVER_PORT: '443',
      REQUEST_METHOD: 'POST',
      REQUEST_URI: '/probe.php/extra/info?q=caf%C3%A9&n=1',
      QUERY_STRING: 'q=caf%C3%A9&n=1',
      SCRIPT_NAME: '/probe.php',
      SCRIPT_FILENAME: file,
      PATH_INFO: '/extra/info',
      DOCUMENT_ROOT: dir,
      REMOTE_ADDR: '198.51.100.9',
      CONTENT_LENGTH: String(body.length),
      CONTENT_TYPE: 'application/x-www-form-urlencoded',
      HTTP_X_CUSTOM: 'v1, v2',
      LAMBDA_REQUEST_ID: 'req-9',
      _X_AMZN_TRACE_ID: 'Root=1-abc',
    });
    expect(seen.self).toBe('/probe.php/extra/info');
    expect(seen.server.HTTP_PROXY).toBeUndefined();
  });
});
