import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { MemoryCgroup } from './memory-cgroup.ts';

/**
 * What a Lambda execution environment gives a runtime that a plain child process lacks, for runs
 * that compare runtimes:
 *
 * - **a /tmp of its own, empty of what earlier runs wrote.** Every new execution environment starts
 *   with an empty /tmp; on this machine, a runtime started a second time would find what its first
 *   run left there: PHP's OPcache file cache (Bref's php.ini keeps the compiled scripts of its
 *   PHP-written bootstrap in /tmp), sockets, pid files. Each run gets an overlay on /tmp in a
 *   mount namespace of its own: it sees the machine's /tmp (the bench's task roots, a runtime kept
 *   under /tmp) but what it writes goes to a scratch folder removed afterwards, and two runtimes
 *   with fixed paths (Bref's /tmp/.bref/php-fpm.sock) cannot meet.
 * - **optionally, a memory cgroup** it joins before it is exec'd, so that all it starts is counted.
 *
 * The wrapper (unshare, sh, mount) costs a few ms before the runtime is exec'd: it writes one byte
 * on fd 3 just before the exec, and cold starts are timed from that byte, not from the spawn.
 */

const SCRIPT = `set -e
procs=$1; upper=$2; work=$3; shift 3
if [ -n "$procs" ]; then echo $$ > "$procs"; fi
if [ -n "$upper" ]; then mount -t overlay overlay -o "lowerdir=/tmp,upperdir=$upper,workdir=$work" /tmp; fi
printf x >&3
exec "$@" 3>&-`;

export interface Sandboxed {
  /** The command to spawn; it writes a byte on fd 3 right before it execs the runtime. */
  command: string[];
  /** Removes the scratch folder (once the runtime is gone). */
  remove(): void;
}

export class Sandboxes {
  readonly #scratch: string;
  /** False where /tmp cannot be given its own overlay (not root, no unshare): runs share /tmp. */
  readonly isolated: boolean;
  /** Why not, when not. */
  readonly why: string | undefined;
  #count = 0;

  private constructor(scratch: string, isolated: boolean, why: string | undefined) {
    this.#scratch = scratch;
    this.isolated = isolated;
    this.why = why;
  }

  /** Checks once that a private overlay on /tmp can be made; `scratch` must not be under /tmp. */
  static prepare(scratch: string): Sandboxes {
    mkdirSync(scratch, { recursive: true });
    const upper = path.join(scratch, 'probe-upper');
    const work = path.join(scratch, 'probe-work');
    mkdirSync(upper);
    mkdirSync(work);
    try {
      const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', `mount -t overlay overlay -o "lowerdir=/tmp,upperdir=${upper},workdir=${work}" /tmp`], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      if (probe.error) return new Sandboxes(scratch, false, `unshare: ${probe.error.message}`);
      if (probe.status !== 0) return new Sandboxes(scratch, false, (probe.stderr || `exit ${probe.status}`).trim());
      return new Sandboxes(scratch, true, undefined);
    } finally {
      rmSync(upper, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  }

  wrap(command: string[], memory?: MemoryCgroup): Sandboxed {
    const dir = path.join(this.#scratch, `run-${++this.#count}`);
    const upper = path.join(dir, 'upper');
    const work = path.join(dir, 'work');
    const shell = ['/bin/sh', '-c', SCRIPT, 'sandbox', memory?.procsFile ?? ''];
    if (!this.isolated) return { command: [...shell, '', '', ...command], remove: () => {} };
    mkdirSync(upper, { recursive: true });
    mkdirSync(work, { recursive: true });
    return {
      command: ['unshare', '--mount', '--propagation', 'private', ...shell, upper, work, ...command],
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  }

  /** Removes the scratch folder with everything left in it. */
  removeAll(): void {
    rmSync(this.#scratch, { recursive: true, force: true });
  }
}
