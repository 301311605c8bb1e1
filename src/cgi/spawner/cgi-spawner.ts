import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { constants as osConstants } from 'node:os';

/**
 * The client of cgi-spawner (cgi-spawner.c, next to this file): a small long-lived process that
 * starts php-cgi with vfork() for CgiExecutor, so that the bootstrap, a process of a hundred
 * MB, never forks. See the C file for the protocol; one request at a time.
 */

export interface SpawnedRun {
  env: Record<string, string>;
  body: Buffer;
  /** php-cgi has started: its pid, which is also its process group. */
  onPid: (pid: number) => void;
  onStdout: (chunk: Buffer) => void;
  onStderr: (chunk: Buffer) => void;
}

export interface SpawnedExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** php-cgi could not be started at all (vfork or execve failed): as a spawn 'error' event. */
export class SpawnFailedError extends Error {
  override readonly name = 'SpawnFailedError';
}

/** The spawner itself stopped mid-request; the request's php-cgi may have run. */
export class SpawnerGoneError extends Error {
  override readonly name = 'SpawnerGoneError';
}

const FRAME_HEAD_BYTES = 5;

interface ActiveRun {
  run: SpawnedRun;
  resolve: (exit: SpawnedExit) => void;
  reject: (error: Error) => void;
}

export class CgiSpawner {
  readonly #child: ChildProcess;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #active: ActiveRun | undefined;
  #gone: Error | undefined;

  /** The spawner binary if it is there and executable, else undefined (then Node spawns php-cgi). */
  static find(path: string): string | undefined {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      return undefined;
    }
  }

  constructor(spawnerBinary: string, phpCgiBinary: string) {
    // Not detached: it has nothing to clean up and exits when our end of its stdin closes.
    this.#child = spawn(spawnerBinary, [phpCgiBinary], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#child.stdout!.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#child.stdin!.on('error', () => {});
    this.#child.once('error', (error) => this.#fail(new SpawnerGoneError(`cannot run the php-cgi spawner ${spawnerBinary}: ${error.message}`)));
    this.#child.once('exit', (code, signal) => this.#fail(new SpawnerGoneError(`the php-cgi spawner stopped (${signal ? `signal ${signal}` : `code ${code}`})`)));
  }

  /** False once the spawner has stopped: a new one is needed. */
  get usable(): boolean {
    return this.#gone === undefined;
  }

  /** A request is running: the spawner takes one at a time. */
  get busy(): boolean {
    return this.#active !== undefined;
  }

  run(run: SpawnedRun): Promise<SpawnedExit> {
    if (this.#gone) return Promise.reject(this.#gone);
    if (this.#active) return Promise.reject(new Error('CgiSpawner runs one request at a time'));
    const request = encodeRequest(run.env, run.body);
    return new Promise((resolve, reject) => {
      this.#active = { run, resolve, reject };
      this.#child.stdin!.write(request);
    });
  }

  stop(): void {
    this.#child.stdin!.end();
  }

  /** For a spawner that stopped answering: the running request fails with SpawnerGoneError. */
  kill(): void {
    this.#child.kill('SIGKILL');
  }

  #onData(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#buffered < FRAME_HEAD_BYTES) return;
      const head = this.#take(FRAME_HEAD_BYTES, false);
      const length = head.readUInt32LE(1);
      if (this.#buffered < FRAME_HEAD_BYTES + length) return;
      this.#take(FRAME_HEAD_BYTES, true);
      this.#frame(String.fromCharCode(head[0]!), this.#take(length, true));
    }
  }

  #frame(type: string, payload: Buffer): void {
    const active = this.#active;
    if (!active) return;
    switch (type) {
      case 'P':
        active.run.onPid(payload.readUInt32LE(0));
        return;
      case 'O':
        active.run.onStdout(payload);
        return;
      case 'E':
        active.run.onStderr(payload);
        return;
      case 'X':
        this.#active = undefined;
        active.resolve(decodeWaitStatus(payload.readInt32LE(0)));
        return;
      case 'F':
        this.#active = undefined;
        active.reject(new SpawnFailedError(payload.toString('utf8')));
        return;
      default:
        this.#fail(new SpawnerGoneError(`the php-cgi spawner sent an unknown frame type ${JSON.stringify(type)}`));
        this.#child.kill('SIGKILL');
    }
  }

  /** The next `length` bytes, joined only when they straddle chunks; `consume` false only peeks. */
  #take(length: number, consume: boolean): Buffer {
    if (length === 0) return Buffer.alloc(0);
    const first = this.#chunks[0]!;
    let taken: Buffer;
    if (first.length >= length) {
      taken = first.subarray(0, length);
    } else {
      const joined = Buffer.concat(this.#chunks, this.#buffered);
      this.#chunks = [joined];
      taken = joined.subarray(0, length);
    }
    if (consume) {
      const rest = this.#chunks[0]!.subarray(length);
      if (rest.length > 0) this.#chunks[0] = rest;
      else this.#chunks.shift();
      this.#buffered -= length;
    }
    return taken;
  }

  #fail(error: Error): void {
    this.#gone ??= error;
    const active = this.#active;
    this.#active = undefined;
    active?.reject(this.#gone);
  }
}

/** u32 env length, "NAME=value\0" strings, u32 body length, body: one write. */
export function encodeRequest(env: Record<string, string>, body: Buffer): Buffer {
  let envBytes = 0;
  const names = Object.keys(env);
  for (const name of names) {
    const value = env[name]!;
    // As Node's spawn(): an environment string cannot hold NUL, and '=' ends a name.
    if (name.includes('\0') || value.includes('\0') || name.includes('=') || name === '') {
      throw new TypeError(`the CGI environment variable ${JSON.stringify(name)} cannot be passed to php-cgi (empty name, '=' in the name, or a NUL byte)`);
    }
    envBytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 2;
  }
  const request = Buffer.allocUnsafe(8 + envBytes + body.length);
  request.writeUInt32LE(envBytes, 0);
  let offset = 4;
  for (const name of names) {
    offset += request.write(`${name}=${env[name]!}\0`, offset, 'utf8');
  }
  request.writeUInt32LE(body.length, offset);
  body.copy(request, offset + 4);
  return request;
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

/** A waitpid() status as Node reports an exit: a code, or the signal that ended the process. */
export function decodeWaitStatus(status: number): SpawnedExit {
  const signal = status & 0x7f;
  if (signal === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: SIGNAL_NAMES.get(signal) ?? (`SIG${signal}` as NodeJS.Signals) };
}
