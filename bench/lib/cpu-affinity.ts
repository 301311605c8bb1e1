import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Pins this process (every thread) to a set of CPUs; what it spawns afterwards inherits the set.
 *
 * Why the warm runs share one CPU: on these Firecracker VMs waking a process on the other vCPU
 * costs 40-60 µs, and an invocation crosses processes four times (Runtime API → bootstrap →
 * php-cgi → bootstrap → Runtime API) where the bare FastCGI reference crosses twice. Unpinned,
 * the figures measure where the scheduler happened to put each process more than the runtime's
 * work; on one CPU every hand-over is a plain context switch, and what is left is CPU time.
 */
export function pinThisProcess(cpus: string): void {
  execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', cpus, String(process.pid)], { stdio: 'ignore', timeout: 10_000 });
}

/** The CPUs this process may use, as the kernel lists them ('0-1'). */
export function allowedCpus(): string {
  const match = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!match) throw new Error('no Cpus_allowed_list in /proc/self/status');
  return match[1]!;
}

/** The first CPU of a list such as '0-1,4'. */
export function firstCpu(list: string): string {
  return /^\d+/.exec(list)?.[0] ?? '0';
}
