import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FastCgiConnection } from '../../src/cgi/fastcgi/fastcgi-connection.ts';
import { connectWhenListening } from '../../src/cgi/fastcgi/unix-socket-readiness.ts';
import { commandName } from './proc.ts';
import { phpProcessEnvironment } from '../../src/cgi/cgi-environment.ts';

/**
 * The two references the runtime is compared with: PHP without the runtime around it.
 * - CGI: spawn php-cgi, the CGI environment in its env, an empty stdin closed, stdout read to the end.
 * - FastCGI: one request after another to a `php-cgi -b` server on a Unix socket, through the
 *   project's FastCgiConnection: no Runtime API, no event, no HTTP.
 * Both get the same CGI environment, built once by the runtime's own code (see cgi-env.ts).
 */

/** One php-cgi per request, as CgiExecutor does it (detached, three pipes). Resolves with its stdout. */
export function runPhpCgiOnce(phpCgi: string, env: Record<string, string>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(phpCgi, [], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const stdout: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.resume();
    child.stdin.on('error', () => {});
    child.stdin.end();
    child.once('error', reject);
    child.once('close', (code) => {
      const output = Buffer.concat(stdout);
      if (output.length > 0) resolve(output);
      else reject(new Error(`php-cgi exited with code ${code} and no output`));
    });
  });
}

/** A `php-cgi -b` FastCGI server of the bench's own and one keep-alive connection to it. */
export class FastCgiReference {
  readonly #child: ChildProcess;
  readonly #connection: FastCgiConnection;
  readonly #socketPath: string;
  readonly pid: number;

  private constructor(child: ChildProcess, connection: FastCgiConnection, socketPath: string) {
    this.#child = child;
    this.#connection = connection;
    this.#socketPath = socketPath;
    this.pid = child.pid!;
  }

  static async start(phpCgi: string, env: Record<string, string>): Promise<FastCgiReference> {
    const socketPath = path.join(os.tmpdir(), `bench-fcgi-${randomUUID().slice(0, 8)}.sock`);
    // As PhpFastCgiServer runs it: one process, never recycled.
    const child = spawn(phpCgi, ['-b', socketPath], {
      env: { ...phpProcessEnvironment(env), PHP_FCGI_CHILDREN: '0', PHP_FCGI_MAX_REQUESTS: '0' },
      stdio: ['ignore', 'ignore', 'ignore'],
      detached: true,
    });
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`php-cgi -b exited (code ${code}) before listening`))));
    exited.catch(() => {});
    try {
      const socket = await Promise.race([connectWhenListening(socketPath, AbortSignal.timeout(10_000)), exited]);
      return new FastCgiReference(child, new FastCgiConnection(socket), socketPath);
    } catch (error) {
      killGroup(child);
      rmSync(socketPath, { force: true });
      throw error;
    }
  }

  async request(params: Record<string, string>): Promise<Buffer> {
    const response = await this.#connection.request({ params, body: Buffer.alloc(0), log: () => {} });
    return response.stdout;
  }

  stop(): void {
    this.#connection.destroy();
    killGroup(this.#child);
    rmSync(this.#socketPath, { force: true });
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || commandName(child.pid) === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Gone.
  }
}

/** The body of php-cgi's CGI output (after the blank line that ends its headers). */
export function cgiBody(output: Buffer): string {
  const text = output.toString('utf8');
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return text.slice(crlf + 4);
  if (lf >= 0) return text.slice(lf + 2);
  throw new Error(`php-cgi's output has no end of headers: ${text.slice(0, 200)}`);
}

/** Peak RSS (kB) of one direct php-cgi run, from /usr/bin/time (wait4's ru_maxrss); undefined without it. */
export function phpCgiPeakKb(phpCgi: string, env: Record<string, string>): Promise<number | undefined> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', 'maxrss=%M', phpCgi], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderr += text));
    child.stdin.on('error', () => {});
    child.stdin.end();
    child.once('error', () => resolve(undefined));
    child.once('close', () => {
      const match = /maxrss=(\d+)/.exec(stderr);
      resolve(match ? Number(match[1]) : undefined);
    });
  });
}
