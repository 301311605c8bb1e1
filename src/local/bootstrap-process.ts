import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { LineSplitter } from '../cgi/stderr-lines.ts';

/**
 * One running bootstrap: the process Lambda starts in a fresh sandbox. Stopping it stops everything
 * it started, as resetting a sandbox does: its process group, and also the processes that left the
 * group (php-cgi is spawned detached, in a group of its own) and would otherwise outlive it as orphans.
 * Those are found through /proc while the bootstrap is alive; elsewhere only the group is reached.
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

/** Bootstraps still running, stopped if this process exits first so that none outlives its emulator. */
const running = new Set<BootstrapProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const bootstrap of running) bootstrap.killNow();
  });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: already gone.
  }
}

interface ProcessInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  /** Clock ticks since boot: with the pid, identifies one process even after its pid is reused. */
  startTime: string;
}

export class BootstrapProcess {
  readonly startedAt = performance.now();
  /** Settles once the process has exited and its output has been fully read. */
  readonly exited: Promise<BootstrapExit>;
  readonly #child: ChildProcess;
  /** Every process the bootstrap started that has been seen, pid to start time. */
  readonly #descendants = new Map<number, string>();
  /** Set as soon as the process is gone, before its last output has been read. */
  #gone = false;
  /** The most memory recordMemory() has seen, in MB. */
  #recordedMb: number | undefined;

  constructor(options: BootstrapProcessOptions) {
    const [executable, ...args] = options.command;
    if (!executable) throw new Error('The bootstrap command is empty');
    installExitHook();
    this.#child = spawn(executable, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: one kill(-pid) reaches every process the bootstrap started and kept in it.
      detached: true,
    });
    running.add(this);
    const streamsDone = [this.#child.stdout, this.#child.stderr].map((stream) => {
      if (!stream) return Promise.resolve();
      // Split on LF only, as Lambda does: a CR inside a line (how a runtime keeps a multi-line
      // record in one CloudWatch event) is part of it. readline would also split on CR.
      const lines = new LineSplitter(options.onLine);
      stream.on('data', (chunk: Buffer) => lines.push(chunk));
      return new Promise<void>((resolve) => stream.once('close', () => {
        lines.flush();
        resolve();
      }));
    });
    this.exited = new Promise<BootstrapExit>((resolve) => {
      this.#child.once('error', (error) => {
        this.#gone = true;
        running.delete(this);
        resolve({ code: null, signal: null, description: `could not start: ${error.message}`, spawnError: error });
      });
      this.#child.once('exit', (code, exitSignal) => {
        this.#gone = true;
        // Lambda resets the whole sandbox when the runtime dies: take whatever it started down too.
        this.killNow();
        running.delete(this);
        const exit: BootstrapExit = { code, signal: exitSignal, description: describeExit(code, exitSignal) };
        // With every writer gone the streams close; wait briefly for the last lines all the same.
        void Promise.race([Promise.all(streamsDone), delay(500)]).then(() => resolve(exit));
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get hasExited(): boolean {
    return this.#gone;
  }

  /** Stops the bootstrap and everything it started at once, as a timeout does, and waits until it is gone. */
  async kill(): Promise<BootstrapExit> {
    if (!this.#gone) {
      await this.noteDescendants();
      this.killNow();
    }
    return this.exited;
  }

  /**
   * Asks the bootstrap to shut down (SIGTERM, which lets it stop its own children), then kills what is
   * left after `graceMs`, as Lambda does when it shuts a sandbox down.
   */
  async terminate(graceMs: number): Promise<BootstrapExit> {
    const pid = this.#child.pid;
    if (pid === undefined || this.#gone) return this.exited;
    await this.noteDescendants();
    signal(pid, 'SIGTERM');
    const exit = await Promise.race([this.exited, delay(graceMs).then(() => undefined)]);
    return exit ?? this.kill();
  }

  /** SIGKILL to the bootstrap's group and to every descendant seen so far (synchronous: usable in an exit hook). */
  killNow(): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    signal(-pid, 'SIGKILL');
    for (const [descendant, startTime] of this.#descendants) {
      const info = readProcessInfoSync(descendant);
      if (!info || info.startTime !== startTime) continue;
      // A descendant that leads its own group may have started more processes in it.
      if (info.pgrp === descendant) signal(-descendant, 'SIGKILL');
      signal(descendant, 'SIGKILL');
    }
    this.#descendants.clear();
  }

  /**
   * Records the processes the bootstrap has started (a scan of /proc), so that they can be stopped even
   * once orphaned, and counted in maxMemoryUsedMb.
   */
  async noteDescendants(): Promise<void> {
    await this.#family();
  }

  /**
   * The peak resident memory of the bootstrap plus the current memory of the descendants noted so far,
   * in MB; undefined where /proc is not available. Lambda's "Max Memory Used" covers the whole sandbox.
   * Cheap enough for every invocation: it reads a few files, not all of /proc.
   */
  async maxMemoryUsedMb(): Promise<number | undefined> {
    return this.#memoryNowMb();
  }

  /**
   * Notes the bootstrap's descendants and records what they and the bootstrap use now, so that
   * recordedMemoryMb can still tell once the process is gone (a failed init ends with its exit).
   * Synchronous: it can run at the very moment the runtime reports its init error.
   */
  recordMemory(): void {
    const pid = this.#child.pid;
    if (pid === undefined || this.#gone) return;
    if (HAS_PROC_CHILDREN) this.#note(walkDescendants([pid, ...this.#descendants.keys()]));
    const mb = this.#memoryNowMb();
    if (mb !== undefined) this.#recordedMb = Math.max(this.#recordedMb ?? 0, mb);
  }

  /** The most recordMemory() has seen; undefined before it first ran, or where /proc is not available. */
  get recordedMemoryMb(): number | undefined {
    return this.#recordedMb;
  }

  #memoryNowMb(): number | undefined {
    const pid = this.#child.pid;
    if (pid === undefined || this.#gone) return undefined;
    // Synchronous reads: a /proc status file is generated in microseconds, less than the thread-pool
    // round trip of an asynchronous read, and this runs on every invocation.
    let kilobytes = memoryKb(pid, PEAK_RSS);
    for (const descendant of this.#descendants.keys()) kilobytes += memoryKb(descendant, CURRENT_RSS);
    return kilobytes === 0 ? undefined : Math.ceil(kilobytes / 1024);
  }

  /** Finds the bootstrap's live descendants (children of children, whatever their group) and records them. */
  async #family(): Promise<void> {
    const pid = this.#child.pid;
    if (pid === undefined || this.#gone) return;
    // Forget descendants that have exited (their pid may since name another process).
    for (const [descendant, startTime] of this.#descendants) {
      if (readProcessInfoSync(descendant)?.startTime !== startTime) this.#descendants.delete(descendant);
    }
    // Walking down from the bootstrap and the descendants already known (which stay in the family
    // once orphaned) reads a few small files; a scan of all of /proc costs milliseconds per invocation.
    this.#note(HAS_PROC_CHILDREN ? walkDescendants([pid, ...this.#descendants.keys()]) : await this.#scanProc(pid));
  }

  /** Records the processes found in the family that are not known yet. */
  #note(found: number[]): void {
    for (const member of found) {
      if (member === this.#child.pid || this.#descendants.has(member)) continue;
      const info = readProcessInfoSync(member);
      if (info) this.#descendants.set(member, info.startTime);
    }
  }

  /** Kernels without /proc/<pid>/task/<tid>/children: the whole process table, by parent and group. */
  async #scanProc(pid: number): Promise<number[]> {
    let entries: string[];
    try {
      entries = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
    } catch {
      return [];
    }
    const infos = (await Promise.all(entries.map((entry) => readProcessInfo(Number(entry))))).filter((info): info is ProcessInfo => info !== undefined);
    const children = new Map<number, number[]>();
    for (const info of infos) children.set(info.ppid, [...(children.get(info.ppid) ?? []), info.pid]);
    const family = [pid, ...this.#descendants.keys(), ...infos.filter((info) => info.pgrp === pid).map((info) => info.pid)];
    const inFamily = new Set(family);
    for (let i = 0; i < family.length; i++) {
      for (const child of children.get(family[i]!) ?? []) {
        if (!inFamily.has(child)) {
          inFamily.add(child);
          family.push(child);
        }
      }
    }
    return family;
  }
}

const HAS_PROC_CHILDREN = existsSync(`/proc/self/task/${process.pid}/children`);

/** Every process below `roots`, from each thread's children list (a child belongs to the thread that forked it). */
function walkDescendants(roots: number[]): number[] {
  const seen = new Set(roots);
  const queue = [...roots];
  for (let i = 0; i < queue.length; i++) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${queue[i]}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      let children: string;
      try {
        children = readFileSync(`/proc/${queue[i]}/task/${task}/children`, 'latin1');
      } catch {
        continue;
      }
      for (const child of children.split(' ')) {
        const childPid = Number(child);
        if (child === '' || seen.has(childPid)) continue;
        seen.add(childPid);
        queue.push(childPid);
      }
    }
  }
  return queue;
}

const PEAK_RSS = /^VmHWM:\s+(\d+) kB/m;
const CURRENT_RSS = /^VmRSS:\s+(\d+) kB/m;

function memoryKb(pid: number, field: RegExp): number {
  try {
    const match = field.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function parseStat(pid: number, stat: string): ProcessInfo | undefined {
  // The command name is in parentheses and may hold spaces; the fields after it are state, ppid, pgrp, ...
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = fields[19];
  if (fields.length < 20 || startTime === undefined) return undefined;
  return { pid, ppid: Number(fields[1]), pgrp: Number(fields[2]), startTime };
}

async function readProcessInfo(pid: number): Promise<ProcessInfo | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat ? parseStat(pid, stat) : undefined;
}

function readProcessInfoSync(pid: number): ProcessInfo | undefined {
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
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

function describeExit(code: number | null, exitSignal: NodeJS.Signals | null): string {
  if (exitSignal) return `signal: ${SIGNAL_WORDS[exitSignal] ?? exitSignal}`;
  return `exit status ${code ?? 0}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
