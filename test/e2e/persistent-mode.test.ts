/**
 * PHP_CGI_MODE=fastcgi through the real bootstrap: one php-cgi serves many invocations, so these
 * tests look for what persistence could break — state leaking between requests, php-cgi dying
 * or recycling itself, large bodies crossing FastCGI record boundaries, interleaved streams.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalLambda } from '../../src/local/local-lambda.ts';
import { eventFor, readResult, type RequestSpec } from '../support/sample-events.ts';
import { startProbeFunction } from '../support/probe-function.ts';

async function call(fn: LocalLambda, spec: RequestSpec) {
  const result = await fn.invoke(eventFor('function-url', spec));
  expect(result.functionError, JSON.stringify(result.functionError)).toBeUndefined();
  return { ...readResult(JSON.parse(result.payload.toString())), logs: result.logs, requestId: result.requestId };
}

async function json(fn: LocalLambda, spec: RequestSpec) {
  const response = await call(fn, spec);
  expect(response.statusCode, response.body.toString()).toBe(200);
  return JSON.parse(response.body.toString());
}

describe('PHP_CGI_MODE=fastcgi (persistent php-cgi)', () => {
  let fn: LocalLambda;
  beforeAll(async () => {
    fn = await startProbeFunction({ mode: 'fastcgi', timeoutMs: 5_000 });
  });
  afterAll(async () => {
    await fn?.stop();
  });

  it('serves 1000 invocations on one php-cgi with no state leaking between them: each sees what a brand-new php-cgi sees', async () => {
    // The reference is a php-cgi that never ran anything before (CGI mode starts one per request),
    // not the first answer of the persistent one, which could itself carry state from its start.
    const fresh = await startProbeFunction({ mode: 'cgi' });
    let pristine: { ob_level: number; static_header_count: number };
    try {
      pristine = await json(fresh, { path: '/state.php', query: 'n=0' });
    } finally {
      await fresh.stop();
    }
    const pids = new Set<number>();
    for (let n = 0; n < 1000; n++) {
      const withCookie = n % 2 === 0;
      const seen = await json(fn, { path: '/state.php', query: `n=${n}`, cookies: withCookie ? [`visit=${n}`] : undefined });
      pids.add(seen.pid);
      expect(seen.global_before).toBeNull();
      // The script leaves an output buffer open and a header set: neither may be there next time.
      expect(seen.ob_level).toBe(pristine.ob_level);
      expect(seen.static_header_count).toBe(pristine.static_header_count);
      expect(seen.get).toEqual({ n: String(n) });
      expect(seen.cookie).toEqual(withCookie ? { visit: String(n) } : []);
    }
    expect(pids.size).toBe(1);
  });

  it('keeps OPcache warm across invocations', async () => {
    await json(fn, { path: '/opcache.php' });
    const second = await json(fn, { path: '/opcache.php' });
    expect(second.enabled).toBe(true);
    expect(second.cached).toBe(true);
    expect(second.hits).toBeGreaterThan(0);
  });

  it('replaces a php-cgi killed from outside between invocations, losing nothing', async () => {
    const before = await json(fn, { path: '/state.php' });
    process.kill(before.pid, 'SIGKILL');
    const after = await json(fn, { path: '/state.php', query: 'n=after-kill' });
    expect(after.pid).not.toBe(before.pid);
    expect(after.get).toEqual({ n: 'after-kill' });
  });

  it('answers 502 when php-cgi is killed during an invocation, and the next one works', async () => {
    const { pid } = await json(fn, { path: '/state.php' });
    const pending = fn.invoke(eventFor('function-url', { path: '/sleep.php', query: 's=3' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(pid, 'SIGKILL');
    const result = await pending;
    const response = readResult(JSON.parse(result.payload.toString()));
    expect(response.statusCode).toBe(502);
    expect(result.logs.join('\n')).toMatch(/502/);
    const next = await json(fn, { path: '/state.php', query: 'n=next' });
    expect(next.pid).not.toBe(pid);
    expect(next.get).toEqual({ n: 'next' });
  });

  it('carries a request body far larger than a FastCGI record (64 KiB) intact', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 17, 0);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) % 251;
    const seen = await json(fn, { method: 'POST', path: '/echo-body.php', headers: { 'Content-Type': 'application/octet-stream' }, body });
    expect(seen).toEqual({ length: body.length, sha256: createHash('sha256').update(body).digest('hex'), content_length: String(body.length) });
  });

  it('keeps stdout whole and stderr lines in order when PHP interleaves them', async () => {
    const response = await call(fn, { path: '/interleave.php' });
    const text = response.body.toString();
    expect(text.startsWith('out 1\nout 2\nout 3\nout 4\nout 5\n')).toBe(true);
    expect(text.endsWith(`${'z'.repeat(100000)}\nend\n`)).toBe(true);
    const phpLines = response.logs.filter((line) => /err \d via/.test(line));
    const order = phpLines.map((line) => /err (\d) via (\w+)/.exec(line)!.slice(1).join(' '));
    // error_log (FastCGI STDERR records) and php://stderr (the process's own pipe) are two
    // channels: each keeps its own order, and every line carries the request id.
    expect(order.filter((l) => l.endsWith('error_log'))).toEqual(['1 error_log', '2 error_log', '3 error_log', '4 error_log', '5 error_log']);
    expect(order.filter((l) => l.endsWith('stderr'))).toEqual(['1 stderr', '2 stderr', '3 stderr', '4 stderr', '5 stderr']);
    for (const line of phpLines) expect(line).toContain(response.requestId);
  });
});

describe('PHP_FCGI_MAX_REQUESTS set on the function', () => {
  it('recycles php-cgi at the limit without failing or repeating an invocation', async () => {
    const fn = await startProbeFunction({ mode: 'fastcgi', env: { PHP_FCGI_MAX_REQUESTS: '50' } });
    try {
      const pids: number[] = [];
      for (let n = 0; n < 120; n++) {
        const seen = await json(fn, { path: '/state.php', query: `n=${n}` });
        expect(seen.get).toEqual({ n: String(n) });
        pids.push(seen.pid);
      }
      const distinct = [...new Set(pids)];
      expect(distinct).toHaveLength(3);
      expect(pids.filter((p) => p === distinct[0])).toHaveLength(50);
    } finally {
      await fn.stop();
    }
  });
});
