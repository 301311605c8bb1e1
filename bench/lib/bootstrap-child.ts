import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { lambdaEnvironment } from '../../src/local/lambda-environment.ts';
import { childrenOf, commandName, isAlive } from './proc.ts';

/**
 * dist/bootstrap.js started the way Lambda starts a custom runtime (its own process group, Lambda's
 * environment, cwd = the task root), pointed at any Runtime API: used with the bench's minimal one.
 */

export type PhpMode = 'fastcgi' | 'cgi';

export interface BootstrapSpec {
  bootstrap: string;
  taskRoot: string;
  runtimeApi: string;
  mode: PhpMode;
  phpCgi: string;
  /** Extra environment (NODE_OPTIONS for profiling). */
  env?: Record<string, string>;
  /** What to exec instead of `node <bootstrap>`: another runtime, or a wrapper (see sandbox.ts). */
  command?: string[];
  /** The command writes a byte on fd 3 just before it execs the runtime itself (sandbox.ts). */
  signalsExec?: boolean;
}

/** The environment a bootstrap gets; the same values the emulator (LocalLambda) uses. */
export function bootstrapEnvironment(spec: Omit<BootstrapSpec, 'bootstrap'> & { bootstrap: string }): Record<string, string> {
  return lambdaEnvironment({
    runtimeApi: spec.runtimeApi,
    taskRoot: spec.taskRoot,
    runtimeDir: path.dirname(spec.bootstrap),
    handler: 'index.php',
    functionName: 'bench',
    functionVersion: '$LATEST',
    memoryMb: 1024,
    region: 'us-east-1',
    hostEnv: process.env,
    inheritHostEnv: false,
    extra: { PHP_CGI_MODE: spec.mode, PHP_CGI_BINARY: spec.phpCgi, ...spec.env },
  });
}

export class BootstrapChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** performance.now() just before spawn(): "exec of the bootstrap". */
  readonly startedAt: number;
  /**
   * When the runtime itself was exec'd: startedAt, or for a wrapped command (signalsExec) the moment
   * the wrapper said it was about to exec it. Cold starts are timed from here.
   */
  readonly execAt: Promise<number>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it printed, for error messages. */
  readonly output: string[] = [];
  /** php-cgi and anything else it started, seen while it ran (they live in process groups of their own). */
  readonly #descendants = new Map<number, string | undefined>();

  constructor(spec: BootstrapSpec) {
    const env = bootstrapEnvironment(spec);
    const [program, ...args] = spec.command ?? [process.execPath, spec.bootstrap];
    this.startedAt = performance.now();
    this.child = spawn(program!, args, { cwd: spec.taskRoot, env, stdio: ['ignore', 'pipe', 'pipe', spec.signalsExec ? 'pipe' : 'ignore'], detached: true });
    if (this.child.pid === undefined) throw new Error(`could not start ${spec.command?.join(' ') ?? spec.bootstrap}`);
    this.pid = this.child.pid;
    const signal = spec.signalsExec ? (this.child.stdio[3] as NodeJS.ReadableStream | null) : null;
    this.execAt = signal
      ? new Promise((resolve) => {
          signal.once('data', () => resolve(performance.now()));
          signal.once('end', () => resolve(performance.now()));
        })
      : Promise.resolve(this.startedAt);
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        for (const line of text.split('\n')) if (line !== '') this.output.push(line);
        if (this.output.length > 50) this.output.splice(0, this.output.length - 50);
      });
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Records the processes it started so that stop() reaches them even once they are orphaned. */
  noteDescendants(): number[] {
    const found: number[] = [];
    const queue = [this.pid];
    for (let i = 0; i < queue.length && i < 1000; i++) {
      for (const child of childrenOf(queue[i]!)) {
        queue.push(child);
        found.push(child);
        if (!this.#descendants.has(child)) this.#descendants.set(child, commandName(child));
      }
    }
    return found;
  }

  /** SIGTERM (the bootstrap then stops php-cgi itself), SIGKILL for whatever is left after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    this.noteDescendants();
    if (isAlive(this.pid)) {
      signal(this.pid, 'SIGTERM');
      await Promise.race([this.exited, delay(graceMs)]);
    }
    signal(-this.pid, 'SIGKILL');
    for (const [pid, name] of this.#descendants) {
      // Only a process still running the same program: its pid has not been reused since.
      if (name === undefined || commandName(pid) !== name) continue;
      signal(-pid, 'SIGKILL');
      signal(pid, 'SIGKILL');
    }
    await Promise.race([this.exited, delay(graceMs)]);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
