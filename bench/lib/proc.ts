import { readdirSync, readFileSync } from 'node:fs';

/** /proc helpers (Linux only; everything returns undefined or [] elsewhere). */

/** A `Vm*` field of /proc/<pid>/status in kB (VmHWM: peak resident set; VmRSS: current). */
export function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Direct children of `pid`, from /proc/<pid>/task/<tid>/children (every thread may have forked). */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return children;
  }
  for (const tid of tasks) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        if (child.trim() !== '') children.push(Number(child));
      }
    } catch {
      // The thread is gone.
    }
  }
  return children;
}

/** The short command name (/proc/<pid>/comm), e.g. 'php-cgi', 'node'. */
export function commandName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Children of `pid` whose command name is `name` (php-cgi started by a bootstrap). */
export function childrenNamed(pid: number, name: string): number[] {
  return childrenOf(pid).filter((child) => commandName(child) === name);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Number of processes on the machine (what a scan of /proc has to read). */
export function processCount(): number {
  try {
    return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).length;
  } catch {
    return 0;
  }
}

/**
 * CPU time (ns) of every thread of `pid` so far, from /proc/<pid>/task/<tid>/schedstat (its first
 * field: time on a CPU, in ns, with the scheduler's own precision: /proc/<pid>/stat counts ticks of
 * 10 ms). Threads that have exited are no longer counted; 0 once the process is gone.
 */
export function cpuNs(pid: number): number {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  let total = 0;
  for (const tid of tasks) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread is gone.
    }
  }
  return total;
}
