/**
 * Runs the bundled CLI (dist/cli.js, built by the global setup) as users run it, as a child process.
 */
import { spawn, type ChildProcessWithoutNullStreams, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (stdin gets `input`, or is closed at once). */
export function run(command: string, args: string[], options: SpawnOptions & { input?: string } = {}): Promise<CliOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: 'pipe' }) as ChildProcessWithoutNullStreams;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export function runCli(args: string[], options: SpawnOptions & { input?: string } = {}): Promise<CliOutcome> {
  return run(process.execPath, [CLI, ...args], options);
}

/** A long-running CLI command (serve, rie) and what it has printed so far. */
export class CliServer {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], options: SpawnOptions = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], { ...options, stdio: 'pipe' }) as ChildProcessWithoutNullStreams;
    this.child.stdout.on('data', (chunk) => (this.stdout += chunk));
    this.child.stderr.on('data', (chunk) => (this.stderr += chunk));
    this.closed = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** The first http:// URL it prints (serve's "Serving ... on <url>"). */
  async url(): Promise<string> {
    for (;;) {
      const match = /Serving .* on (http:\/\/\S+)/.exec(this.stdout) ?? /Invoke endpoint: POST (http:\/\/\S+)/.exec(this.stdout);
      if (match) return match[1]!;
      const ended = await Promise.race([this.closed, new Promise<undefined>((resolve) => this.child.stdout.once('data', () => resolve(undefined)))]);
      if (ended) throw new Error(`exited (${ended.code ?? ended.signal}) before printing its URL: ${this.stdout}${this.stderr}`);
    }
  }

  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.closed;
  }
}
