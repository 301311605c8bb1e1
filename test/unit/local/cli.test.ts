import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeProbeBootstrap, type ProbeBootstrap } from './probe-bootstrap.ts';

// The bundle the global setup builds: the CLI is tested as users run it.
const CLI = path.resolve('dist/cli.js');

let probe: ProbeBootstrap;

beforeAll(() => {
  probe = writeProbeBootstrap();
});

afterAll(() => probe.remove());

function runCli(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Resolves with the first http:// URL the process prints. */
function printedUrl(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /http:\/\/\S+/.exec(output);
      if (match) resolve(match[0]);
    });
    child.on('close', (code) => reject(new Error(`exited with ${code} before printing a URL: ${output}`)));
  });
}

describe('cli invoke', () => {
  it('prints the response JSON on stdout and the logs on stderr', async () => {
    const eventFile = path.join(probe.dir, 'event.json');
    writeFileSync(eventFile, '{"hello":"cli"}');
    const { code, stdout, stderr } = await runCli(['invoke', '--event', eventFile, '--bootstrap', probe.executable, '--handler', 'main.php', '--env', 'USER_FLAG=1', '--mode', 'cgi', probe.dir]);
    expect(code).toBe(0);
    const { event, env } = JSON.parse(stdout);
    expect(event).toEqual({ hello: 'cli' });
    expect(env).toMatchObject({ _HANDLER: 'main.php', LAMBDA_TASK_ROOT: probe.dir, USER_FLAG: '1', PHP_CGI_MODE: 'cgi', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' });
    expect(stderr).toMatch(/^START RequestId: /m);
    expect(stderr).toMatch(/^REPORT RequestId: .*Init Duration/m);
  });

  it('reads the event from stdin with --event -, and exits 1 with the error JSON on a function error', async () => {
    const { code, stdout } = await runCli(['invoke', '--event', '-', '--bootstrap', probe.executable, probe.dir], '{"action":"error"}');
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({ errorMessage: 'it went boom', errorType: 'Boom', stackTrace: [] });
  });

  it('sets PHP_EVENT_HANDLER from --event-handler, else --env, else the app\'s worker.php when it has one', async () => {
    const envOf = async (args: string[], dir = probe.dir) => JSON.parse((await runCli(['invoke', '--event', '-', '--bootstrap', probe.executable, ...args, dir], '{}')).stdout).env;
    expect((await envOf([])).PHP_EVENT_HANDLER).toBeUndefined();
    const app = mkdtempSync(path.join(tmpdir(), 'cli-worker-'));
    try {
      writeFileSync(path.join(app, 'worker.php'), '<?php');
      expect((await envOf([], app)).PHP_EVENT_HANDLER).toBe('worker.php');
      expect((await envOf(['--env', 'PHP_EVENT_HANDLER=jobs/run.php'], app)).PHP_EVENT_HANDLER).toBe('jobs/run.php');
      expect((await envOf(['--event-handler', 'bin/events.php', '--env', 'PHP_EVENT_HANDLER=jobs/run.php'], app)).PHP_EVENT_HANDLER).toBe('bin/events.php');
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('writes Lambda\'s own lines as JSON records with --env AWS_LAMBDA_LOG_FORMAT=JSON', async () => {
    const { stderr } = await runCli(['invoke', '--event', '-', '--bootstrap', probe.executable, '--env', 'AWS_LAMBDA_LOG_FORMAT=JSON', probe.dir], '{}');
    const platform = stderr.split('\n').filter((line) => line.startsWith('{"time"')).map((line) => JSON.parse(line).type);
    expect(platform).toEqual(['platform.start', 'platform.report']);
    expect(stderr).not.toMatch(/^(START|END|REPORT) /m);
  });

  it('enforces --timeout', async () => {
    const { code, stdout, stderr } = await runCli(['invoke', '--event', '-', '--timeout', '0.5', '--bootstrap', probe.executable, probe.dir], '{"action":"sleep","ms":5000}');
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect(stderr).toContain('Task timed out after 0.50 seconds');
  });

  it('explains a missing --event, an unknown flag or command', async () => {
    const missing = await runCli(['invoke', probe.dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('invoke needs --event');
    const unknownFlag = await runCli(['invoke', '--colour', 'red']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain('--colour');
    const unknownCommand = await runCli(['deploy']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("Unknown command 'deploy'");
  });
});

describe('cli serve', () => {
  it('serves HTTP through the function, prints its URL, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', probe.dir, '--port', '0', '--event', 'http-api', '--bootstrap', probe.executable], { stdio: 'pipe' });
    try {
      const url = await printedUrl(child);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${url}/hello/there?x=1`, { headers: { cookie: 'a=b' } });
      expect(res.status).toBe(200);
      const { event } = (await res.json()) as any;
      expect(event).toMatchObject({ version: '2.0', rawPath: '/hello/there', rawQueryString: 'x=1', cookies: ['a=b'] });
    } finally {
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      expect(await closed).toBe(0);
    }
  });

  it('serves the default hello app through the real runtime and php-cgi', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { stdio: 'pipe' });
    try {
      const url = await printedUrl(child);
      const res = await fetch(`${url}/some/path?x=1&y=%20z`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("Hello World! You've reached /some/path?x=1&y=%20z\n");
    } finally {
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      await closed;
    }
  });

  it("finds public/index.php by itself and reads the app's php/conf.d, as the layer does on Lambda", async () => {
    const app = mkdtempSync(path.join(tmpdir(), 'cli-app-'));
    mkdirSync(path.join(app, 'public'));
    mkdirSync(path.join(app, 'php', 'conf.d'), { recursive: true });
    writeFileSync(path.join(app, 'public', 'index.php'), "<?php echo ini_get('memory_limit'), ' ', $_SERVER['SCRIPT_NAME'];");
    writeFileSync(path.join(app, 'php', 'conf.d', 'app.ini'), 'memory_limit = 77M\n');
    const child = spawn(process.execPath, [CLI, 'serve', app, '--port', '0'], { stdio: 'pipe' });
    try {
      const url = await printedUrl(child);
      expect(await (await fetch(`${url}/anything`)).text()).toBe('77M /index.php');
    } finally {
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      await closed;
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('refuses an unknown --event kind', async () => {
    const { code, stderr } = await runCli(['serve', probe.dir, '--event', 'sqs']);
    expect(code).toBe(2);
    expect(stderr).toContain('--event must be one of function-url, http-api, rest, alb, alb-multi');
  });
});
