import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgiSpawner, encodeRequest, SpawnerGoneError, SpawnFailedError, type SpawnedRun } from '../../../src/cgi/spawner/cgi-spawner.ts';

const SPAWNER = path.resolve('dist/cgi-spawner');
if (!existsSync(SPAWNER)) throw new Error(`these tests need ${SPAWNER}: node scripts/build.mjs builds it when a C compiler (cc) is installed`);

/** Source of `frame(type, payload)` for the scripted spawners below: cgi-spawner's frame format. */
const FRAME_FUNCTION =
  "const frame = (type, payload) => { const head = Buffer.alloc(5); head.write(type, 0, 'latin1'); head.writeUInt32LE(payload.length, 1); return Buffer.concat([head, payload]); };";

/** A run whose output is collected; the env is enough for the spawner to start the binary. */
function collectingRun(): SpawnedRun & { stdout: Buffer[] } {
  const stdout: Buffer[] = [];
  return { env: { PATH: '/usr/bin:/bin' }, body: Buffer.alloc(0), onPid: () => {}, onStdout: (chunk) => stdout.push(chunk), onStderr: () => {}, stdout };
}

describe('CgiSpawner', () => {
  let dir: string;
  const spawners: CgiSpawner[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cgi-spawner-'));
  });
  afterEach(() => {
    for (const spawner of spawners.splice(0)) spawner.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (spawnerBinary: string, phpCgiBinary = '/usr/bin/php-cgi'): CgiSpawner => {
    const spawner = new CgiSpawner(spawnerBinary, phpCgiBinary);
    spawners.push(spawner);
    return spawner;
  };

  /**
   * A scripted spawner: a Node script that, once it has read the request's first bytes, writes
   * `frames` (type letter and payload) to its stdout, then waits.
   */
  const scripted = (frames: string): string => {
    const file = path.join(dir, 'scripted-spawner');
    writeFileSync(
      file,
      `#!${process.execPath}
${FRAME_FUNCTION}
process.stdin.once('data', () => process.stdout.write(Buffer.concat(${frames})));
`,
    );
    chmodSync(file, 0o755);
    return file;
  };

  it('find() gives the spawner binary only when it exists and is executable', () => {
    const notExecutable = path.join(dir, 'not-executable');
    writeFileSync(notExecutable, '');
    chmodSync(notExecutable, 0o644);
    expect(CgiSpawner.find(SPAWNER)).toBe(SPAWNER);
    expect(CgiSpawner.find(path.join(dir, 'missing'))).toBeUndefined();
    // Even for root, X_OK needs an x bit.
    expect(CgiSpawner.find(notExecutable)).toBeUndefined();
  });

  it('fails a run with SpawnFailedError, named so, when php-cgi cannot be started', async () => {
    const spawner = start(SPAWNER, path.join(dir, 'no-php-cgi'));
    const error = await spawner.run(collectingRun()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpawnFailedError);
    expect((error as Error).name).toBe('SpawnFailedError');
    // The spawner itself is fine: only that php-cgi could not start.
    expect(spawner.usable).toBe(true);
  });

  it('fails a run with SpawnerGoneError, named so, when the spawner binary cannot be run at all', async () => {
    const missing = path.join(dir, 'no-spawner');
    const spawner = start(missing);
    const error = await spawner.run(collectingRun()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpawnerGoneError);
    expect((error as Error).name).toBe('SpawnerGoneError');
    expect((error as Error).message).toBe(`cannot run the php-cgi spawner ${missing}: spawn ${missing} ENOENT`);
    expect(spawner.usable).toBe(false);
  });

  it('refuses every run once the spawner has stopped (stop() ends it), with the error it stopped with', async () => {
    const spawner = start(SPAWNER);
    spawner.stop();
    // Bounded by event-loop turns: the spawner exits as its stdin closes.
    for (let turn = 0; spawner.usable && turn < 100_000; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(spawner.usable).toBe(false);
    const first = await spawner.run(collectingRun()).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(SpawnerGoneError);
    expect((first as Error).message).toBe('the php-cgi spawner stopped (code 0)');
    expect(await spawner.run(collectingRun()).catch((e: unknown) => e)).toBe(first);
  });

  it('refuses a second run while one is running', async () => {
    // This spawner reads the request and never answers.
    const spawner = start(scripted('[]'));
    const first = spawner.run(collectingRun());
    await expect(spawner.run(collectingRun())).rejects.toThrow('CgiSpawner runs one request at a time');
    expect(spawner.busy).toBe(true);
    spawner.kill();
    await expect(first).rejects.toThrow(SpawnerGoneError);
  });

  it('fails the run and kills the spawner when it sends a frame of an unknown type', async () => {
    const spawner = start(scripted("[frame('Z', Buffer.alloc(0))]"));
    const error = await spawner.run(collectingRun()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpawnerGoneError);
    expect((error as Error).message).toBe('the php-cgi spawner sent an unknown frame type "Z"');
    expect(spawner.usable).toBe(false);
  });

  it('fails the run, and nothing else, when the spawner closed its stdin before the request was written (EPIPE)', async () => {
    const file = path.join(dir, 'deaf-spawner');
    writeFileSync(file, '#!/bin/sh\nexec 0<&-\nsleep 0.5\n');
    chmodSync(file, 0o755);
    const spawner = start(file);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // A write error on the pipe, unhandled, would end this process; the run ends with the spawner.
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): number => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    const error = await spawner.run({ ...collectingRun(), body: Buffer.alloc(1024 * 1024) }).catch((e: unknown) => e);
    process.off('uncaughtException', onUncaught);
    expect(uncaught).toEqual([]);
    expect(error).toBeInstanceOf(SpawnerGoneError);
    expect((error as Error).message).toBe('the php-cgi spawner stopped (code 0)');
  });

  it('takes a frame with an empty payload that ends the bytes read so far', async () => {
    // An 'F' frame with no message: 5 bytes in all, nothing after them.
    const spawner = start(scripted("[frame('F', Buffer.alloc(0))]"));
    const error = await spawner.run(collectingRun()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpawnFailedError);
    expect((error as Error).message).toBe('');
  });

  it('copes with frames trickling in byte by byte', async () => {
    const file = path.join(dir, 'trickling-spawner');
    // Each byte in its own write, a timer apart: most reads then get one byte, splitting frame heads.
    writeFileSync(
      file,
      `#!${process.execPath}
${FRAME_FUNCTION}
const bytes = Buffer.concat([frame('P', Buffer.from([7, 0, 0, 0])), frame('O', Buffer.from('output')), frame('X', Buffer.from([0, 3, 0, 0]))]);
let offset = 0;
const next = () => { if (offset < bytes.length) process.stdout.write(bytes.subarray(offset, ++offset), () => setTimeout(next, 1)); };
process.stdin.once('data', next);
`,
    );
    chmodSync(file, 0o755);
    const spawner = start(file);
    const pids: number[] = [];
    const run = { ...collectingRun(), onPid: (pid: number) => pids.push(pid) };
    const exit = await spawner.run(run);
    expect(pids).toEqual([7]);
    expect(Buffer.concat(run.stdout).toString()).toBe('output');
    expect(exit).toEqual({ code: 3, signal: null });
  });

  it('reassembles a frame larger than a pipe read (1 MiB of output) intact', async () => {
    const spawner = start(
      scripted(
        "[frame('P', Buffer.from([1, 0, 0, 0])), frame('O', Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7) & 0xff))), frame('X', Buffer.alloc(4))]",
      ),
    );
    const run = collectingRun();
    expect(await spawner.run(run)).toEqual({ code: 0, signal: null });
    const expected = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7) & 0xff));
    expect(Buffer.concat(run.stdout).equals(expected)).toBe(true);
  });
});

describe('encodeRequest', () => {
  it("refuses an empty environment name, and one with '=' in it, as Node's spawn() would", () => {
    for (const name of ['', 'A=B']) {
      expect(() => encodeRequest({ [name]: 'x' }, Buffer.alloc(0)), name).toThrow(
        new TypeError(`the CGI environment variable ${JSON.stringify(name)} cannot be passed to php-cgi (empty name, '=' in the name, or a NUL byte)`),
      );
    }
  });
});
