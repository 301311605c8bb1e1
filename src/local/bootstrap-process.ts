import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/**
 * One running bootstrap: the process Lambda starts in a fresh sandbox. It runs in its own process
 * group so that stopping it also stops whatever it started (php-cgi, curl), as resetting a sandbox does.
 */

export interface BootstrapProcessOptions {
  /** The executable and its arguments. */
  command: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** Receives every line the process (or its children) writes to stdout or stderr. */
  onLine: (line: string) => void;
}

/** How the process ended, in the words Lambda uses for Runtime.ExitError ("exit status 1", "signal: killed"). */
export interface BootstrapExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** e.g. 'exit status 2', 'signal: killed'. */
  description: string;
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  spawnError?: Error;
}

/** Process groups still alive, killed if this process exits first so no bootstrap outlives its emulator. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

export class BootstrapProcess {
  readonly startedAt = performance.now();
  /** Settles once the process has exited and its output has been fully read. */
  readonly exited: Promise<BootstrapExit>;
  readonly #child: ChildProcess;
  /** Set as soon as the process is gone, before its last output has been read. */
  #gone = false;
  #exit: BootstrapExit | undefined;

  constructor(options: BootstrapProcessOptions) {
    const [executable, ...args] = options.command;
    if (!executable) throw new Error('The bootstrap command is empty');
    installExitHook();
    this.#child = spawn(executable, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: one kill(-pid) reaches every process the bootstrap started.
      detached: true,
    });
    const pid = this.#child.pid;
    if (pid !== undefined) liveGroups.add(pid);
    const streamsDone = [this.#child.stdout, this.#child.stderr].map((stream) => {
      if (!stream) return Promise.resolve();
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', options.onLine);
      return new Promise<void>((resolve) => lines.once('close', resolve));
    });
    this.exited = new Promise<BootstrapExit>((resolve) => {
      this.#child.once('error', (error) => {
        this.#gone = true;
        if (pid !== undefined) liveGroups.delete(pid);
        this.#exit = { code: null, signal: null, description: `could not start: ${error.message}`, spawnError: error };
        resolve(this.#exit);
      });
      this.#child.once('exit', (code, signal) => {
        this.#gone = true;
        // Lambda resets the whole sandbox when the runtime dies: take its leftover children down too.
        if (pid !== undefined) {
          killGroup(pid, 'SIGKILL');
          liveGroups.delete(pid);
        }
        const exit: BootstrapExit = { code, signal, description: describeExit(code, signal) };
        // Children that inherited stdout/stderr are gone now, so the streams close; wait briefly for the last lines.
        void Promise.race([Promise.all(streamsDone), delay(500)]).then(() => {
          this.#exit = exit;
          resolve(exit);
        });
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get hasExited(): boolean {
    return this.#gone;
  }

  /** Stops the bootstrap and everything it started, and waits until it is gone. */
  async kill(): Promise<BootstrapExit> {
    const pid = this.#child.pid;
    if (pid !== undefined && !this.#gone) killGroup(pid, 'SIGKILL');
    return this.exited;
  }

  /**
   * The peak resident memory of the bootstrap plus the current memory of the other processes in its
   * group, in MB; undefined where /proc is not available. Lambda's "Max Memory Used" covers the sandbox.
   */
  async maxMemoryUsedMb(): Promise<number | undefined> {
    const pid = this.#child.pid;
    if (pid === undefined || this.#gone) return undefined;
    let entries: string[];
    try {
      entries = await readdir('/proc');
    } catch {
      return undefined;
    }
    let kilobytes = 0;
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
      if (!status) continue;
      const isLeader = Number(entry) === pid;
      if (!isLeader && !(await isInGroup(entry, pid))) continue;
      const field = isLeader ? 'VmHWM' : 'VmRSS';
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      if (match) kilobytes += Number(match[1]);
    }
    return kilobytes === 0 ? undefined : Math.ceil(kilobytes / 1024);
  }
}

async function isInGroup(pidText: string, pgid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pidText}/stat`, 'utf8').catch(() => '');
  // Fields after the parenthesised command name: state ppid pgrp ...; the name itself may contain spaces.
  const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(afterName[2]) === pgid;
}

/** Lambda's wording comes from Go's os.ProcessState: "exit status 1", "signal: killed". */
const SIGNAL_WORDS: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGABRT: 'aborted',
  SIGSEGV: 'segmentation fault',
  SIGBUS: 'bus error',
};

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal: ${SIGNAL_WORDS[signal] ?? signal}`;
  return `exit status ${code ?? 0}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
