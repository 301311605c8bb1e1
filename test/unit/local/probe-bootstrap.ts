import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A tiny custom runtime in plain JavaScript for the emulator's tests, written to a temp dir. What it
 * does with an event depends on the event's `action`:
 * - (none): answers { event, headers (the Lambda-Runtime-* ones), env (the Lambda ones) }
 * - 'error': posts a function error (errorType 'Boom', header Function.Boom)
 * - 'sleep': prints 'sleeping', starts a child `sleep` (in a group of its own with `detached`), waits `ms`,
 *   answers (and leaves the child running with `keepChild`)
 * - 'exit': prints 'bye' and exits with `code`
 * - 'big': answers with `bytes` bytes and logs the status the Runtime API gave it
 * - 'log': prints each of `lines`, then answers 'ok'
 * At start it appends its pid to $PROBE_STARTS, when set; with $PROBE_INIT_ERROR it posts that error
 * type to /init/error and exits; with $PROBE_INIT_EXIT it exits at once with that code.
 */
const SCRIPT = String.raw`
import { appendFileSync } from 'node:fs';
import { spawn } from 'node:child_process';

const api = 'http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/2018-06-01/runtime';
if (process.env.PROBE_STARTS) appendFileSync(process.env.PROBE_STARTS, process.pid + '\n');
console.log('probe init ' + process.env._HANDLER);

if (process.env.PROBE_INIT_EXIT) process.exit(Number(process.env.PROBE_INIT_EXIT));
if (process.env.PROBE_INIT_ERROR) {
  await fetch(api + '/init/error', {
    method: 'POST',
    headers: { 'Lambda-Runtime-Function-Error-Type': process.env.PROBE_INIT_ERROR },
    body: JSON.stringify({ errorMessage: 'probe init failed', errorType: process.env.PROBE_INIT_ERROR, stackTrace: [] }),
  });
  process.exit(1);
}

const LAMBDA_ENV = /^(_HANDLER|AWS_.*|LAMBDA_.*|TZ|LANG|PATH|LD_LIBRARY_PATH|PHP_.*|PROBE_.*|USER_.*)$/;

for (;;) {
  const next = await fetch(api + '/invocation/next');
  const id = next.headers.get('lambda-runtime-aws-request-id');
  const headers = Object.fromEntries([...next.headers].filter(([name]) => name.startsWith('lambda-runtime-')));
  const event = JSON.parse(await next.text());
  const answer = (body) => fetch(api + '/invocation/' + id + '/response', { method: 'POST', body });
  switch (event.action) {
    case 'error':
      await fetch(api + '/invocation/' + id + '/error', {
        method: 'POST',
        headers: { 'Lambda-Runtime-Function-Error-Type': 'Function.Boom' },
        body: JSON.stringify({ errorMessage: 'it went boom', errorType: 'Boom', stackTrace: [] }),
      });
      break;
    case 'sleep': {
      console.log('sleeping');
      const child = spawn('sleep', ['30'], { stdio: 'ignore', detached: Boolean(event.detached) });
      console.log('child ' + child.pid);
      await new Promise((resolve) => setTimeout(resolve, event.ms));
      if (!event.keepChild) child.kill();
      await answer('"slept"');
      break;
    }
    case 'exit':
      console.log('bye');
      process.exit(event.code);
    case 'big': {
      const response = await answer('x'.repeat(event.bytes));
      console.log('status ' + response.status + ' ' + (await response.text()));
      break;
    }
    case 'log':
      for (const line of event.lines) console.log(line);
      await answer('"ok"');
      break;
    default: {
      const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => LAMBDA_ENV.test(name)));
      await answer(JSON.stringify({ event, headers, env, cwd: process.cwd() }));
    }
  }
}
`;

export interface ProbeBootstrap {
  dir: string;
  /** The command to give LocalLambda. */
  command: string[];
  /** Also written as an executable file with a node shebang, for the CLI's --bootstrap. */
  executable: string;
  remove(): void;
}

export function writeProbeBootstrap(): ProbeBootstrap {
  const dir = mkdtempSync(path.join(tmpdir(), 'probe-bootstrap-'));
  const script = path.join(dir, 'probe.mjs');
  writeFileSync(script, SCRIPT);
  const executable = path.join(dir, 'bootstrap');
  writeFileSync(executable, `#!${process.execPath}\n${SCRIPT}`);
  chmodSync(executable, 0o755);
  return { dir, command: [process.execPath, script], executable, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
