/** Reads the process table (/proc) for tests that check what a process left running. */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The executable's name, as /proc/<pid>/comm has it. */
  comm: string;
  /** R, S, Z (a zombie: dead, not yet reaped), ... */
  state: string;
  /** Clock ticks since boot: with the pid, names one process even after the pid is reused. */
  startTime: string;
}

export function processInfo(pid: number): ProcessInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return { pid, ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, close), state: fields[0]!, startTime: fields[19]! };
}

/** Every process below `pid` (children of children), from each thread's children list. */
export function descendants(pid: number): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  const queue = [pid];
  for (let i = 0; i < queue.length; i++) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${queue[i]}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${queue[i]}/task/${task}/children`, 'latin1');
      } catch {
        continue;
      }
      for (const child of children.trim().split(' ').filter(Boolean).map(Number)) {
        const info = processInfo(child);
        if (info && !queue.includes(child)) {
          queue.push(child);
          found.push(info);
        }
      }
    }
  }
  return found;
}

/** Still running: the same process (pid and start time), and not a zombie. */
export function stillRunning(process: ProcessInfo): boolean {
  const now = processInfo(process.pid);
  return now !== undefined && now.startTime === process.startTime && now.state !== 'Z' && now.state !== 'X';
}

/** Polls `condition` until it holds or `deadlineMs` has passed; returns its last value. */
export async function pollUntil<T>(condition: () => T, deadlineMs: number, intervalMs = 10): Promise<T> {
  const end = performance.now() + deadlineMs;
  for (;;) {
    const value = condition();
    if (value || performance.now() >= end) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
