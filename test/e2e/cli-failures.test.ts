/**
 * The CLI's failures a new user meets first: each is one line on stderr and a non-zero exit, with
 * nothing left running (no stack trace, no hang, no bootstrap or php-cgi behind).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP } from '../support/probe-function.ts';
import { runCli } from '../support/cli-process.ts';

/** Processes whose environment or command line holds `marker` (a function's --env reaches the bootstrap and php-cgi). */
function processesMarked(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/environ`, 'latin1') + readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      if (text.includes(marker)) found.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

/** One line, no stack frame. */
function expectOneLine(stderr: string): void {
  expect(stderr.trimEnd().split('\n'), stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('cli failures', () => {
  let busy: net.Server;
  let busyPort: number;
  beforeAll(async () => {
    busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it('serve on a port in use: one line, exit 1, nothing left running', async () => {
    const marker = `LAMBDA_PHP_TEST_MARK=${randomUUID()}`;
    const { code, stdout, stderr } = await runCli(['serve', '--port', String(busyPort), '--env', marker]);
    expect(code).toBe(1);
    expectOneLine(stderr);
    expect(stderr).toBe(`lambda-php: Port ${busyPort} is already in use on 127.0.0.1: stop what uses it, or choose another with --port (--port 0 takes any free one)\n`);
    expect(stdout).toBe('');
    expect(processesMarked(marker)).toEqual([]);
  });

  it('rie on a port in use: one line, exit 1, and the bootstrap it had started is stopped', async () => {
    const marker = `LAMBDA_PHP_TEST_MARK=${randomUUID()}`;
    const [name, value] = marker.split('=') as [string, string];
    const { code, stderr } = await runCli(['rie', '--host', '127.0.0.1', '--port', String(busyPort), '--task-root', path.resolve('examples/hello'), '--', process.execPath, BOOTSTRAP], {
      // The RIE hands its whole environment to the function: the marker reaches the bootstrap and php-cgi.
      env: { ...process.env, [name]: value },
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`lambda-php: Port ${busyPort} is already in use on 127.0.0.1`);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(processesMarked(marker)).toEqual([]);
  });

  it('invoke with an event file that does not exist: one line, exit 2', async () => {
    const { code, stdout, stderr } = await runCli(['invoke', '--event', 'no-such-event.json', 'examples/hello']);
    expect(code).toBe(2);
    expectOneLine(stderr);
    expect(stderr).toBe('lambda-php: Cannot read the event file no-such-event.json: no such file (examples/events/ has a ready event for each source)\n');
    expect(stdout).toBe('');
  });
});
