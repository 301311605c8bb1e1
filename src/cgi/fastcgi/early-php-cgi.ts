import fs from 'node:fs';
import net from 'node:net';
import { constants } from 'node:os';
import type { EarlyPhpCgi } from '../../config.ts';
import type { PhpCgiProcess, ServerExit } from './php-fastcgi-server.ts';

/**
 * The php-cgi that php-build/early-php-cgi.sh started before the shell exec'd Node, as a process
 * PhpFastCgiServer can supervise:
 *
 * - it is this process's child (the shell became Node), but Node did not spawn it and is never
 *   told of its exit; nothing reaps it either, so once dead it stays a zombie, and the zombie's
 *   /proc/<pid>/stat holds its exit status (field 52): that is read whenever a SIGCHLD arrives or
 *   its output ends;
 * - its stdout and stderr are a FIFO (<path>.fifo), opened here for reading (then unlinked);
 * - it leads its own process group when the script found `setsid`; otherwise only it is killed.
 *
 * Rejects, leaving no process and no file behind, when the pid is not a php-cgi this process
 * started that way: the caller then spawns its own.
 */
export async function adoptEarlyProcess(phpCgiBinary: string, early: EarlyPhpCgi): Promise<PhpCgiProcess> {
  const { pid } = early;
  const socketPath = earlySocketPath(early);
  const fifo = `${early.path}.fifo`;
  if (readStat(pid)?.ppid !== process.pid) {
    // Not our child (a stale or hand-set variable): not ours to kill either.
    throw new Error(`process ${pid} is not a child of this runtime`);
  }
  const kill = (): void => signalKill(pid);
  try {
    await untilCommandLine(pid, (args) => args.includes(phpCgiBinary) && args[args.indexOf('-b') + 1] === socketPath, `${phpCgiBinary} -b ${socketPath}`);
    const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    fs.rmSync(fifo);
    const output = new net.Socket({ fd, readable: true, writable: false });
    const exited = new Promise<ServerExit>((resolve) => {
      const check = (): void => {
        const exit = exitOf(pid);
        if (exit === undefined) return;
        process.off('SIGCHLD', check);
        resolve(exit);
      };
      process.on('SIGCHLD', check);
      // Its output ends when it exits (unless something it started still holds the FIFO).
      output.once('close', check);
      check();
    });
    return {
      pid,
      exited,
      output: [output],
      kill,
    };
  } catch (error) {
    kill();
    removeEarlyFiles(early);
    throw error;
  }
}

/** Where the early php-cgi listens. */
export function earlySocketPath(early: EarlyPhpCgi): string {
  return `${early.path}.sock`;
}

/** Best effort: a file that cannot be removed is left, so that the reason for giving up is not lost. */
function removeEarlyFiles(early: EarlyPhpCgi): void {
  for (const file of [`${early.path}.fifo`, earlySocketPath(early)]) {
    try {
      fs.rmSync(file);
    } catch {
      // Gone already, or not a file (a folder in its place): nothing this runtime made.
    }
  }
}

interface Stat {
  state: string;
  ppid: number;
  pgrp: number;
  /** Field 52: the status waitpid() would give, once the process has exited. */
  exitCode: number;
}

/** /proc/<pid>/stat's fields, counted from the command name's closing parenthesis (proc(5)). */
function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', ppid: Number(fields[1]), pgrp: Number(fields[2]), exitCode: Number(fields[49]) };
}

/**
 * How long the script's background child may take to exec what it runs. `cmd &` forks the shell,
 * and the fork execs (setsid, cgi-spawner, php-cgi: each keeps the pid and names the socket) only
 * when the scheduler runs it. On a busy machine Node can be up before that: until then the child's
 * command line is the shell's own.
 */
const EXEC_WAIT_MS = 1000;
const EXEC_POLL_MS = 2;

/**
 * Resolves once `pid`'s command line passes `expected`; throws when it exits first, or runs
 * something else for EXEC_WAIT_MS.
 */
async function untilCommandLine(pid: number, expected: (args: string[]) => boolean, describe: string): Promise<void> {
  const deadline = Date.now() + EXEC_WAIT_MS;
  for (;;) {
    const stat = readStat(pid);
    // Read while it still runs: the command line of a zombie is empty.
    const args = readCommandLine(pid);
    if (stat === undefined || stat.state === 'Z' || stat.state === 'X') throw new Error(`php-cgi (pid ${pid}) had already exited`);
    if (expected(args)) return;
    if (Date.now() >= deadline) throw new Error(`process ${pid} is not ${describe} (it runs: ${args.join(' ')})`);
    await new Promise((resolve) => setTimeout(resolve, EXEC_POLL_MS));
  }
}

function readCommandLine(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** How the process ended once it has (a zombie, or gone altogether), else undefined. */
function exitOf(pid: number): ServerExit | undefined {
  const stat = readStat(pid);
  if (stat === undefined) return { code: null, signal: null };
  if (stat.state !== 'Z' && stat.state !== 'X') return undefined;
  const signalNumber = stat.exitCode & 0x7f;
  if (signalNumber === 0) return { code: (stat.exitCode >> 8) & 0xff, signal: null };
  const signal = (Object.entries(constants.signals).find(([, number]) => number === signalNumber)?.[0] ?? null) as NodeJS.Signals | null;
  return { code: null, signal };
}

/** SIGKILLs the process, and its whole group when it leads one (started through setsid). */
function signalKill(pid: number): void {
  const stat = readStat(pid);
  try {
    process.kill(stat?.pgrp === pid ? -pid : pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Kills the early php-cgi and removes its folder, for a runtime that will not take it over (it
 * exits during init, or runs in CGI mode); a process that is not this runtime's child is left be.
 */
export function discardEarlyPhpCgi(early: EarlyPhpCgi): void {
  if (readStat(early.pid)?.ppid !== process.pid) return;
  signalKill(early.pid);
  removeEarlyFiles(early);
}
