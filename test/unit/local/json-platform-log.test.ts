import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpGateway } from '../../../src/local/http-gateway.ts';
import { INVOKE_PATH } from '../../../src/local/invoke-endpoint.ts';
import { PlatformLog, platformLogFormat } from '../../../src/local/lambda-log-lines.ts';
import { LocalLambda } from '../../../src/local/local-lambda.ts';
import { writeProbeBootstrap, type ProbeBootstrap } from './probe-bootstrap.ts';

const AT = new Date('2026-03-05T10:00:00.250Z');

function platform(format: 'text' | 'json') {
  const lines: string[] = [];
  return { log: new PlatformLog((line) => lines.push(line), format, () => AT), lines };
}

describe('PlatformLog', () => {
  it("takes the function's AWS_LAMBDA_LOG_FORMAT", () => {
    expect(platformLogFormat({ AWS_LAMBDA_LOG_FORMAT: 'JSON' })).toBe('json');
    expect(platformLogFormat({ AWS_LAMBDA_LOG_FORMAT: 'json' })).toBe('json');
    expect(platformLogFormat({ AWS_LAMBDA_LOG_FORMAT: 'Text' })).toBe('text');
    expect(platformLogFormat({})).toBe('text');
  });

  it("writes Lambda's text lines in the text format", () => {
    const { log, lines } = platform('text');
    log.start('r1', '$LATEST');
    log.end('r1');
    log.report({ requestId: 'r1', durationMs: 12.345, memoryMb: 128, maxMemoryUsedMb: 60, initDurationMs: 80.5 });
    expect(lines).toEqual([
      'START RequestId: r1 Version: $LATEST',
      'END RequestId: r1',
      'REPORT RequestId: r1\tDuration: 12.35 ms\tBilled Duration: 93 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\tInit Duration: 80.50 ms',
    ]);
  });

  it('writes platform.start and platform.report records in JSON, and no END (platform.runtimeDone is a DEBUG event)', () => {
    const { log, lines } = platform('json');
    log.start('r1', '$LATEST');
    log.end('r1');
    log.report({ requestId: 'r1', durationMs: 12.345, memoryMb: 128, maxMemoryUsedMb: 60, initDurationMs: 80.5 });
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { time: '2026-03-05T10:00:00.250Z', type: 'platform.start', record: { requestId: 'r1', version: '$LATEST' } },
      {
        time: '2026-03-05T10:00:00.250Z',
        type: 'platform.report',
        record: { requestId: 'r1', metrics: { durationMs: 12.35, billedDurationMs: 93, memorySizeMB: 128, maxMemoryUsedMB: 60, initDurationMs: 80.5 }, status: 'success' },
      },
    ]);
  });

  it('says how an invocation failed in the JSON report: failure (the runtime reported it), error (a crash), timeout', () => {
    const { log, lines } = platform('json');
    log.report({ requestId: 'r1', durationMs: 5, memoryMb: 128, maxMemoryUsedMb: 60, errorType: 'Php.500' });
    log.report({ requestId: 'r2', durationMs: 5, memoryMb: 128, maxMemoryUsedMb: 60, status: 'error', errorType: 'Runtime.ExitError' });
    log.timedOut('r3', 3000);
    log.report({ requestId: 'r3', durationMs: 3000, memoryMb: 128, maxMemoryUsedMb: 60, status: 'timeout', errorType: 'Sandbox.Timedout' });
    log.initReport(120.456, 'Runtime.NoSuchHandler');
    log.fault('RequestId: r2 Error: Runtime exited with error: exit status 1');
    const records = lines.map((line) => JSON.parse(line));
    expect(records.map((r) => [r.type, r.record.status, r.record.errorType])).toEqual([
      ['platform.report', 'failure', 'Php.500'],
      ['platform.report', 'error', 'Runtime.ExitError'],
      ['platform.report', 'timeout', 'Sandbox.Timedout'],
      ['platform.initReport', 'error', 'Runtime.NoSuchHandler'],
      ['platform.fault', undefined, undefined],
    ]);
    expect(records[3].record).toEqual({ initializationType: 'on-demand', phase: 'init', status: 'error', errorType: 'Runtime.NoSuchHandler', metrics: { durationMs: 120.46 } });
    expect(records[4].record).toBe('RequestId: r2 Error: Runtime exited with error: exit status 1');
  });

  it('keeps the text report as it was: an error type only with the error status', () => {
    const { log, lines } = platform('text');
    log.report({ requestId: 'r1', durationMs: 5, memoryMb: 128, maxMemoryUsedMb: 60, errorType: 'Php.500' });
    log.report({ requestId: 'r3', durationMs: 3000, memoryMb: 128, maxMemoryUsedMb: 60, status: 'timeout', errorType: 'Sandbox.Timedout' });
    expect(lines[0]).not.toContain('Php.500');
    expect(lines[1]).toMatch(/\tStatus: timeout$/);
  });
});

describe('LocalLambda with AWS_LAMBDA_LOG_FORMAT=JSON', () => {
  let probe: ProbeBootstrap;
  beforeAll(() => {
    probe = writeProbeBootstrap();
  });
  afterAll(() => probe.remove());

  it("writes its platform lines as JSON records, around the function's own lines", async () => {
    const lines: string[] = [];
    const fn = await LocalLambda.start({ command: probe.command, taskRoot: probe.dir, handler: 'index.php', env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' }, log: (line) => lines.push(line) });
    try {
      const result = await fn.invoke({ hello: 'world' });
      const platformRecords = lines.filter((line) => line.startsWith('{"time"')).map((line) => JSON.parse(line));
      expect(platformRecords.map((r) => r.type)).toEqual(['platform.start', 'platform.report']);
      expect(platformRecords.every((r) => r.record.requestId === result.requestId)).toBe(true);
      expect(platformRecords[1].record.metrics.initDurationMs).toBeGreaterThan(0);
      expect(lines.some((line) => line.startsWith('START ') || line.startsWith('END ') || line.startsWith('REPORT '))).toBe(false);
    } finally {
      await fn.stop();
    }
  });
});

describe("serve's gateway: a POST to the RIE's invoke path is an event as it is", () => {
  const gateways: HttpGateway[] = [];
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  });

  it('passes the body through as the event and answers as the RIE does, while other paths stay HTTP requests', async () => {
    const events: string[] = [];
    const gateway = await HttpGateway.start({
      eventKind: 'function-url',
      lambda: {
        invoke: async (event) => {
          events.push((event as Buffer).toString());
          const isSqs = (event as Buffer).toString().includes('aws:sqs');
          const payload = isSqs ? '{"batchItemFailures":[]}' : JSON.stringify({ statusCode: 200, body: 'page' });
          return { payload: Buffer.from(payload), requestId: 'req-9', logs: [], durationMs: 1 };
        },
      },
    });
    gateways.push(gateway);
    const sqs = '{"Records":[{"eventSource":"aws:sqs","messageId":"m1","body":"x"}]}';
    const res = await fetch(`${gateway.url}${INVOKE_PATH}`, { method: 'POST', body: sqs });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amzn-requestid')).toBe('req-9');
    expect(await res.text()).toBe('{"batchItemFailures":[]}');
    expect(events).toEqual([sqs]);

    const page = await fetch(`${gateway.url}${INVOKE_PATH}`);
    expect(await page.text()).toBe('page');
    expect(JSON.parse(events[1]!)).toMatchObject({ rawPath: INVOKE_PATH });
  });
});
