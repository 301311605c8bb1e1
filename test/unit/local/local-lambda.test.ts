import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answerOf, LocalLambda, type LocalLambdaOptions } from '../../../src/local/local-lambda.ts';
import { writeProbeBootstrap, type ProbeBootstrap } from './probe-bootstrap.ts';

let probe: ProbeBootstrap;
const running: LocalLambda[] = [];

beforeAll(() => {
  probe = writeProbeBootstrap();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((fn) => fn.stop()));
});

afterAll(() => probe.remove());

async function start(options: Partial<LocalLambdaOptions> = {}): Promise<{ fn: LocalLambda; lines: string[] }> {
  const lines: string[] = [];
  const fn = await LocalLambda.start({
    command: probe.command,
    taskRoot: probe.dir,
    handler: 'index.php',
    timeoutMs: 5000,
    memoryMb: 1024,
    functionName: 'test',
    log: (line) => lines.push(line),
    ...options,
  });
  running.push(fn);
  return { fn, lines };
}

function json(buffer: Buffer): any {
  return JSON.parse(buffer.toString('utf8'));
}

/** Whether the process still runs: a killed one may linger as a zombie until its new parent reaps it. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

describe('LocalLambda', () => {
  it('delivers the event with the Runtime API headers and returns the response', async () => {
    const { fn } = await start({ region: 'eu-west-1' });
    const before = Date.now();
    const result = await fn.invoke(
      { hello: 'world' },
      { traceId: 'Root=1-65f0c1a2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1', clientContext: { custom: { tenant: 'acme' } } },
    );
    expect(result.functionError).toBeUndefined();
    const { event, headers } = json(result.payload);
    expect(event).toEqual({ hello: 'world' });
    expect(headers['lambda-runtime-aws-request-id']).toBe(result.requestId);
    expect(headers['lambda-runtime-trace-id']).toBe('Root=1-65f0c1a2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1');
    expect(JSON.parse(headers['lambda-runtime-client-context'])).toEqual({ custom: { tenant: 'acme' } });
    expect(headers['lambda-runtime-invoked-function-arn']).toBe('arn:aws:lambda:eu-west-1:000000000000:function:test');
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    expect(deadline).toBeGreaterThanOrEqual(before + 5000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 5000);
  });

  it('takes relative paths in the command from the caller’s directory, not the task root', async () => {
    const relative = path.relative(process.cwd(), probe.command[1]!);
    expect(path.isAbsolute(relative)).toBe(false);
    const { fn } = await start({ command: [process.execPath, relative], taskRoot: process.cwd() });
    expect((await fn.invoke({ n: 1 })).functionError).toBeUndefined();
  });

  it('sends a fresh X-Ray trace id when the invoker gives none', async () => {
    const { fn } = await start();
    const { headers } = json((await fn.invoke({})).payload);
    expect(headers['lambda-runtime-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
  });

  it('passes a raw Buffer event through byte for byte', async () => {
    const { fn } = await start();
    const { event } = json((await fn.invoke(Buffer.from('  {"spaced" :  true}  '))).payload);
    expect(event).toEqual({ spaced: true });
  });

  it("starts the bootstrap with Lambda's environment, in the task root", async () => {
    const { fn } = await start({ env: { USER_SETTING: 'on', AWS_REGION: 'ignored' }, region: 'eu-central-1' });
    const { env, cwd } = json((await fn.invoke({})).payload);
    expect(cwd).toBe(probe.dir);
    expect(env).toMatchObject({
      _HANDLER: 'index.php',
      LAMBDA_TASK_ROOT: probe.dir,
      LAMBDA_RUNTIME_DIR: probe.dir,
      AWS_LAMBDA_RUNTIME_API: fn.runtimeApi,
      AWS_LAMBDA_FUNCTION_NAME: 'test',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/test',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: 'AWS_Lambda_provided.al2023',
      // Reserved variables cannot be overridden by the function's configuration.
      AWS_REGION: 'eu-central-1',
      AWS_DEFAULT_REGION: 'eu-central-1',
      TZ: ':UTC',
      USER_SETTING: 'on',
    });
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(env.PATH).toBe(process.env.PATH);
    expect(env.LANG).toBeTruthy();
    expect(env.LD_LIBRARY_PATH.split(':')).toEqual(expect.arrayContaining([probe.dir, path.join(probe.dir, 'lib'), '/opt/lib']));
    // Without inheritEnv, nothing else of this process's environment leaks in.
    expect(Object.keys(env).filter((name) => name.startsWith('VITEST'))).toEqual([]);
  });

  it('writes START, END and REPORT around each invocation, with Init Duration only on the first', async () => {
    const { fn, lines } = await start();
    const first = await fn.invoke({ action: 'log', lines: ['hello from the function'] });
    const second = await fn.invoke({ action: 'log', lines: ['again'] });
    const platform = lines.filter((line) => /^(START|END|REPORT)/.test(line));
    expect(platform).toHaveLength(6);
    expect(platform[0]).toBe(`START RequestId: ${first.requestId} Version: $LATEST`);
    expect(platform[1]).toBe(`END RequestId: ${first.requestId}`);
    expect(platform[2]).toMatch(
      new RegExp(`^REPORT RequestId: ${first.requestId}\\tDuration: \\d+\\.\\d{2} ms\\tBilled Duration: \\d+ ms\\tMemory Size: 1024 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: \\d+\\.\\d{2} ms$`),
    );
    expect(platform[3]).toBe(`START RequestId: ${second.requestId} Version: $LATEST`);
    expect(platform[5]).not.toContain('Init Duration');
    // The function's own line sits between its START and END.
    const printed = lines.indexOf('hello from the function');
    expect(printed).toBeGreaterThan(lines.indexOf(platform[0]!));
    expect(printed).toBeLessThan(lines.indexOf(platform[1]!));
  });

  it("returns the lines printed during the invocation as its logs (a cold start's init lines first)", async () => {
    const { fn } = await start();
    const first = await fn.invoke({ action: 'log', lines: ['one', 'two'] });
    expect(first.logs).toEqual(['probe init index.php', 'one', 'two']);
    const second = await fn.invoke({ action: 'log', lines: ['three'] });
    expect(second.logs).toEqual(['three']);
  });

  it('hands the answer over (onAnswer, answerOf) before the runtime asks for its next event, as Lambda does', async () => {
    const { fn, lines } = await start();
    let endAtAnswer: boolean | undefined;
    const invoked = fn.invoke({ action: 'log', lines: ['early'] }, { onAnswer: () => (endAtAnswer = lines.some((line) => line.startsWith('END '))) });
    const result = await invoked;
    expect(endAtAnswer).toBe(false);
    expect(lines.some((line) => line.startsWith('END '))).toBe(true);
    expect(json(result.payload)).toBe('ok');

    const answered = await answerOf(fn, { action: 'log', lines: ['again'] });
    expect(json(answered.payload)).toBe('ok');
    // A timeout has no answer to hand over early: answerOf settles with invoke()'s result.
    const { fn: slow } = await start({ timeoutMs: 300 });
    expect((await answerOf(slow, { action: 'sleep', ms: 5000 })).functionError?.errorType).toBe('Sandbox.Timedout');
  });

  it('runs concurrent invocations one at a time, in order', async () => {
    const { fn, lines } = await start();
    const results = await Promise.all([1, 2, 3].map((n) => fn.invoke({ action: 'log', lines: [`call ${n}`] })));
    expect(results.map((result) => result.logs.at(-1))).toEqual(['call 1', 'call 2', 'call 3']);
    const order = lines.filter((line) => /^(START|END) /.test(line)).map((line) => line.split(' ')[0]);
    expect(order).toEqual(['START', 'END', 'START', 'END', 'START', 'END']);
  });

  it('reports a function error posted to /invocation/{id}/error', async () => {
    const { fn } = await start();
    const result = await fn.invoke({ action: 'error' });
    expect(result.functionError).toEqual({ errorType: 'Boom', errorMessage: 'it went boom', origin: 'invoke' });
    expect(json(result.payload)).toEqual({ errorMessage: 'it went boom', errorType: 'Boom', stackTrace: [] });
    // The sandbox survives a function error.
    expect((await fn.invoke({})).functionError).toBeUndefined();
  });

  it('turns a response over 6 MB into Function.ResponseSizeTooLarge, and the runtime sees 413', async () => {
    const { fn } = await start();
    const result = await fn.invoke({ action: 'big', bytes: 6 * 1024 * 1024 + 101 });
    expect(result.functionError).toMatchObject({ errorType: 'Function.ResponseSizeTooLarge', origin: 'invoke' });
    expect(result.logs.some((line) => line.startsWith('status 413 ') && line.includes('RequestEntityTooLarge'))).toBe(true);
  });

  it('times out: logs it, kills the whole process group, answers Sandbox.Timedout, and starts afresh', async () => {
    const starts = path.join(probe.dir, `starts-${Date.now()}`);
    const { fn, lines } = await start({ timeoutMs: 500, env: { PROBE_STARTS: starts } });
    const result = await fn.invoke({ action: 'sleep', ms: 10_000 });
    expect(result.functionError).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${result.requestId} Error: Task timed out after 0.50 seconds`,
      origin: 'timeout',
    });
    expect(json(result.payload)).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: result.functionError!.errorMessage });
    // A timed-out invocation lasted exactly its timeout, however long the clean-up after it took.
    expect(result.durationMs).toBe(500);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z ${result.requestId} Task timed out after 0\\.50 seconds$`)));
    const report = lines.find((line) => line.startsWith(`REPORT RequestId: ${result.requestId}`));
    expect(report).toMatch(/\tStatus: timeout$/);
    expect(report).toContain('\tDuration: 500.00 ms\t');

    const [firstPid] = readFileSync(starts, 'utf8').trim().split('\n').map(Number);
    const childPid = Number(result.logs.find((line) => line.startsWith('child '))!.split(' ')[1]);
    expect(await eventually(() => !isAlive(firstPid!) && !isAlive(childPid))).toBe(true);

    const after = await fn.invoke({ hello: 'again' });
    expect(after.functionError).toBeUndefined();
    expect(json(after.payload).event).toEqual({ hello: 'again' });
    expect(readFileSync(starts, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(lines.find((line) => line.startsWith(`REPORT RequestId: ${after.requestId}`))).toContain('Init Duration');
  });

  it('on a timeout also kills what the bootstrap started in a process group of its own', async () => {
    const { fn } = await start({ timeoutMs: 500 });
    const result = await fn.invoke({ action: 'sleep', ms: 10_000, detached: true });
    expect(result.functionError?.errorType).toBe('Sandbox.Timedout');
    const childPid = Number(result.logs.find((line) => line.startsWith('child '))!.split(' ')[1]);
    expect(await eventually(() => !isAlive(childPid))).toBe(true);
  });

  it('answers Runtime.ExitError when the bootstrap exits mid-invocation, then starts a fresh one', async () => {
    const { fn, lines } = await start();
    const result = await fn.invoke({ action: 'exit', code: 3 });
    expect(result.functionError).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${result.requestId} Error: Runtime exited with error: exit status 3`,
      origin: 'exit',
    });
    expect(result.logs).toContain('bye');
    expect(lines.find((line) => line.startsWith(`REPORT RequestId: ${result.requestId}`))).toMatch(/\tStatus: error\tError Type: Runtime.ExitError$/);
    expect((await fn.invoke({ n: 2 })).functionError).toBeUndefined();
  });

  it('when the bootstrap crashes, also kills what it started in a process group of its own', async () => {
    const { fn } = await start();
    const first = await fn.invoke({ action: 'sleep', ms: 10, detached: true, keepChild: true });
    const childPid = Number(first.logs.find((line) => line.startsWith('child '))!.split(' ')[1]);
    // The processes an invocation started are noted in the background after it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isAlive(childPid)).toBe(true);
    expect((await fn.invoke({ action: 'exit', code: 1 })).functionError?.errorType).toBe('Runtime.ExitError');
    expect(await eventually(() => !isAlive(childPid))).toBe(true);
  });

  it('gives the pending invocation the error a bootstrap posted to /init/error, and tries a fresh init next time', async () => {
    const starts = path.join(probe.dir, `init-error-${Date.now()}`);
    const { fn, lines } = await start({ env: { PROBE_INIT_ERROR: 'Runtime.NoSuchHandler', PROBE_STARTS: starts } });
    const result = await fn.invoke({});
    expect(result.functionError).toEqual({ errorType: 'Runtime.NoSuchHandler', errorMessage: 'probe init failed', origin: 'init' });
    expect(json(result.payload)).toEqual({ errorMessage: 'probe init failed', errorType: 'Runtime.NoSuchHandler', stackTrace: [] });
    expect(result.logs).toContain('probe init index.php');
    expect(lines).toContainEqual(expect.stringMatching(/^INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: Runtime.NoSuchHandler$/));

    const second = await fn.invoke({});
    expect(second.functionError?.errorType).toBe('Runtime.NoSuchHandler');
    expect(readFileSync(starts, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('reports the memory a failed init really used in its REPORT line, not the memory size', async () => {
    const maxMemoryUsed = (lines: string[]) => Number(/\tMax Memory Used: (\d+) MB/.exec(lines.find((line) => line.startsWith('REPORT')) ?? '')?.[1]);
    // Posted to /init/error: measured while the runtime waits for the answer. A Node process uses tens of MB.
    const posted = await start({ memoryMb: 3008, env: { PROBE_INIT_ERROR: 'Runtime.NoSuchHandler' } });
    await posted.fn.invoke({});
    expect(maxMemoryUsed(posted.lines)).toBeGreaterThan(10);
    expect(maxMemoryUsed(posted.lines)).toBeLessThan(3008);
    // An exit, with nothing posted: what was seen of the process while it ran.
    const exited = await start({ memoryMb: 3008, env: { PROBE_INIT_EXIT: '7' } });
    await exited.fn.invoke({});
    expect(maxMemoryUsed(exited.lines)).toBeGreaterThan(0);
    expect(maxMemoryUsed(exited.lines)).toBeLessThan(3008);
  });

  it('reports a bootstrap that exits during init as Runtime.ExitError', async () => {
    const { fn } = await start({ env: { PROBE_INIT_EXIT: '7' } });
    const result = await fn.invoke({});
    expect(result.functionError).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${result.requestId} Error: Runtime exited with error: exit status 7`,
      origin: 'init',
    });
  });

  it('reports a bootstrap that cannot be started as Runtime.InvalidEntrypoint', async () => {
    const missing = path.join(probe.dir, 'no-such-bootstrap');
    expect(existsSync(missing)).toBe(false);
    const { fn } = await start({ command: [missing] });
    const result = await fn.invoke({});
    expect(result.functionError).toMatchObject({ errorType: 'Runtime.InvalidEntrypoint', origin: 'init' });
    expect(result.functionError!.errorMessage).toContain('ENOENT');
  });

  it('stops the bootstrap on stop()', async () => {
    const starts = path.join(probe.dir, `stop-${Date.now()}`);
    const { fn } = await start({ env: { PROBE_STARTS: starts } });
    await fn.invoke({});
    const pid = Number(readFileSync(starts, 'utf8').trim());
    expect(isAlive(pid)).toBe(true);
    await fn.stop();
    expect(await eventually(() => !isAlive(pid))).toBe(true);
    await expect(fn.invoke({})).rejects.toThrow(/stopped/);
  });
});
