import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambda } from '../../src/local/local-lambda.ts';

/**
 * The emulator against a runtime it was not written for: a bash + curl custom runtime in the style of
 * AWS's walkthrough (test/fixtures/bash-runtime), run unmodified, under LocalLambda and behind the
 * RIE-style invoke endpoint of `cli.js rie`.
 */

const RUNTIME_DIR = path.resolve('test/fixtures/bash-runtime');
const BOOTSTRAP = path.join(RUNTIME_DIR, 'bootstrap');
const CLI = path.resolve('dist/cli.js');

// The runtime needs bash and curl (`./run test` installs curl): without them this must fail, not skip.
for (const command of ['bash', 'curl']) {
  try {
    execFileSync('which', [command], { stdio: 'ignore' });
  } catch {
    throw new Error(`the bash custom runtime test needs ${command} on the PATH`);
  }
}

const EVENTS: unknown[] = [
  { hello: 'world' },
  { text: 'spaces,  "quotes", \\backslashes\\ and ünïcödé ✓', nested: { list: [1, 2.5, null, true], empty: {} } },
  [],
  'just a string',
];

const TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

describe('the bash custom runtime under LocalLambda', () => {
  let fn: LocalLambda;
  const lines: string[] = [];

  beforeAll(async () => {
    fn = await LocalLambda.start({ command: [BOOTSTRAP], taskRoot: RUNTIME_DIR, handler: 'function.handler', timeoutMs: 10_000, log: (line) => lines.push(line) });
  });

  afterAll(async () => {
    await fn.stop();
  });

  it('echoes each event back unchanged', async () => {
    for (const event of EVENTS) {
      const result = await fn.invoke(event);
      expect(result.functionError).toBeUndefined();
      expect(result.payload.toString('utf8')).toBe(JSON.stringify(event));
    }
  });

  it('gets the trace id: the function logs what the runtime read from Lambda-Runtime-Trace-Id', async () => {
    const result = await fn.invoke({ traced: true }, { traceId: TRACE_ID });
    expect(result.logs).toContain(`trace id: ${TRACE_ID}`);
    const start = lines.indexOf(`START RequestId: ${result.requestId} Version: $LATEST`);
    const end = lines.indexOf(`END RequestId: ${result.requestId}`);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(lines.indexOf(`trace id: ${TRACE_ID}`)).toBeGreaterThan(start);
    expect(end).toBeGreaterThan(start);
  });

  it('reports the init error the runtime posts for a missing handler', async () => {
    const broken = await LocalLambda.start({ command: [BOOTSTRAP], taskRoot: RUNTIME_DIR, handler: 'missing.handler', log: () => {} });
    try {
      const result = await broken.invoke({});
      expect(result.functionError).toMatchObject({ errorType: 'Runtime.NoSuchHandler', origin: 'init' });
      expect(JSON.parse(result.payload.toString()).errorMessage).toContain('missing.sh');
    } finally {
      await broken.stop();
    }
  });
});

describe('the bash custom runtime behind `cli.js rie`', () => {
  let rie: ChildProcessWithoutNullStreams;
  let url: string;
  let output = '';

  beforeAll(async () => {
    rie = spawn(process.execPath, [CLI, 'rie', '--port', '0', '--host', '127.0.0.1', '--task-root', RUNTIME_DIR, '--handler', 'function.handler', '--', BOOTSTRAP], { stdio: 'pipe' });
    rie.stdout.on('data', (chunk) => (output += chunk));
    rie.stderr.on('data', (chunk) => (output += chunk));
    url = await new Promise<string>((resolve, reject) => {
      rie.stdout.on('data', () => {
        const match = /POST (http:\/\/\S+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      rie.on('close', (code) => reject(new Error(`rie exited with ${code}: ${output}`)));
    });
  });

  afterAll(async () => {
    const closed = new Promise((resolve) => rie.on('close', resolve));
    rie.kill('SIGTERM');
    await closed;
  });

  it('listens on the RIE path', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/2015-03-31\/functions\/function\/invocations$/);
  });

  it('echoes each event back unchanged, with status 200', async () => {
    for (const event of EVENTS) {
      const res = await fetch(url, { method: 'POST', body: JSON.stringify(event) });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(JSON.stringify(event));
    }
  });

  it('passes X-Amzn-Trace-Id through to the runtime', async () => {
    const res = await fetch(url, { method: 'POST', body: '{"traced":true}', headers: { 'X-Amzn-Trace-Id': TRACE_ID } });
    expect(await res.text()).toBe('{"traced":true}');
    await expect.poll(() => output).toContain(`trace id: ${TRACE_ID}`);
    expect(output).toMatch(/^REPORT RequestId: /m);
  });
});
