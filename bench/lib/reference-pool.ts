import { fork, type ChildProcess } from 'node:child_process';
import type { PhpMode } from './bootstrap-child.ts';

/** The parent side of bench/reference-worker.ts: one worker process per reference. */

interface Done {
  type: 'done';
  latencies: number[];
  wallMs: number;
  body?: string;
}

const TIMEOUT_MS = 300_000;

export class ReferenceWorker {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(workerFile: string, mode: PhpMode, phpCgi: string, cgiEnv: Record<string, string>, functionEnv: Record<string, string>): Promise<ReferenceWorker> {
    const child = fork(workerFile, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json', execArgv: [] });
    const worker = new ReferenceWorker(child);
    try {
      await worker.#request({ type: 'start', mode, phpCgi, cgiEnv, functionEnv }, 'ready', 30_000);
    } catch (error) {
      await worker.stop();
      throw error;
    }
    return worker;
  }

  /** `n` requests one after another, timed inside the worker. */
  run(n: number, wantBody: boolean): Promise<Done> {
    return this.#request({ type: 'run', n, wantBody }, 'done', TIMEOUT_MS) as Promise<Done>;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.send({ type: 'stop' }, () => {});
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(timer);
    }
  }

  #request(message: object, expected: string, timeoutMs: number): Promise<{ type: string }> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#child.off('message', onMessage);
        this.#child.off('exit', onExit);
      };
      const onMessage = (reply: { type: string; message?: string }): void => {
        cleanup();
        if (reply.type === expected) resolve(reply);
        else reject(new Error(`reference worker: ${reply.message ?? reply.type}`));
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`the reference worker exited (code ${code})`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`the reference worker did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#child.on('message', onMessage);
      this.#child.once('exit', onExit);
      this.#child.send(message);
    });
  }
}
