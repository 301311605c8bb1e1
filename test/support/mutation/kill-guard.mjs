/**
 * Under `npm run mutation` only: a mutant in process-handling code (a pid read from the wrong
 * bytes, a `pid === undefined` check turned off) can make process.kill() signal a process this run
 * never started: pid 0 (the caller's own process group, which holds Stryker itself), -1 (every
 * process), or any pid at all (a shell, dockerd). That would end the mutation run, or worse,
 * someone else's processes. This wraps process.kill() so that a signal only goes to processes
 * started after the mutation run began that are not ancestors of the caller; any other is refused
 * with EPERM, which the runtime's code treats as a kill that failed.
 *
 * Installed in the test processes (a setup file of vitest.mutation.config.ts) and, through
 * NODE_OPTIONS=--import, in the bootstraps the e2e tests start (child-hooks.mjs).
 * LAMBDA_PHP_MUTATION_ROOT_PID is Stryker's own pid, set by stryker.config.mjs; each refusal is
 * also written to LAMBDA_PHP_MUTATION_KILL_LOG (reports/mutation/<folder>/refused-kills.log).
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';

const GUARDED = Symbol.for('lambda-php.mutation.kill-guard');

export function installKillGuard() {
  const rootPid = Number(process.env.LAMBDA_PHP_MUTATION_ROOT_PID);
  if (!Number.isInteger(rootPid) || rootPid <= 1 || process.kill[GUARDED]) return;
  const rootStart = processInfo(rootPid)?.startTime;
  const original = process.kill.bind(process);
  const guarded = (pid, signal) => {
    // Signal 0 only asks whether the process exists.
    if (signal === 0 || !mayBeSignalled(Number(pid), rootStart)) {
      if (signal === 0) return original(pid, signal);
      const message = `kill EPERM (refused under mutation testing: pid ${pid} is not a process of this run)`;
      // For the report: which mutant made the runtime try it (appendFileSync: the caller may be about to die).
      const log = process.env.LAMBDA_PHP_MUTATION_KILL_LOG;
      if (log) appendFileSync(log, `mutant ${globalThis.__stryker__?.activeMutant ?? process.env.__STRYKER_ACTIVE_MUTANT__ ?? '-'}: process ${process.pid} ${message}\n`);
      const error = new Error(message);
      Object.assign(error, { code: 'EPERM', errno: -1, syscall: 'kill' });
      throw error;
    }
    return original(pid, signal);
  };
  guarded[GUARDED] = true;
  process.kill = guarded;
}

function mayBeSignalled(pid, rootStart) {
  if (!Number.isInteger(pid) || pid === -1 || rootStart === undefined) return false;
  // 0 is the caller's own group; -N the group N, led by process N.
  const target = pid === 0 ? processInfo(process.pid)?.pgrp : Math.abs(pid);
  if (target === undefined || target <= 1) return false;
  const info = processInfo(target);
  if (info !== undefined) return isOurs(target, info, rootStart);
  // No such process: the kernel answers ESRCH. A group whose leader has exited may still have
  // members: each of them must be ours.
  if (pid > 0) return true;
  return groupMembers(target).every(([member, memberInfo]) => isOurs(member, memberInfo, rootStart));
}

/** Started after the mutation run began, and not one of the caller's ancestors (or the caller). */
function isOurs(pid, info, rootStart) {
  if (info.startTime <= rootStart) return false;
  for (let ancestor = process.pid; ancestor > 1; ancestor = processInfo(ancestor)?.ppid ?? 0) {
    if (ancestor === pid) return false;
  }
  return true;
}

function groupMembers(pgrp) {
  const members = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const info = processInfo(pid);
    if (info?.pgrp === pgrp) members.push([pid, info]);
  }
  return members;
}

/** From /proc/<pid>/stat: the parent, the process group and the start time (clock ticks since boot). */
function processInfo(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), pgrp: Number(fields[2]), startTime: Number(fields[19]) };
}
