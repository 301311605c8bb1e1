import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { delay } from './bootstrap-child.ts';

/**
 * A memory cgroup of the bench's own, limited as a Lambda function's memory is, so that a runtime's
 * peak can be read the way Lambda counts it (every process of the sandbox together, page cache
 * included) rather than summed from per-process RSS.
 *
 * It is created as a child of the cgroup this process is in (never elsewhere in the hierarchy) and
 * removed afterwards. cgroup v2 (memory.max, memory.peak) when the memory controller is there, else
 * cgroup v1 (memory.limit_in_bytes, memory.max_usage_in_bytes): on a hybrid host the memory
 * controller stays on v1.
 */
export class MemoryCgroup {
  readonly dir: string;
  readonly version: 1 | 2;
  readonly limitBytes: number;

  private constructor(dir: string, version: 1 | 2, limitBytes: number) {
    this.dir = dir;
    this.version = version;
    this.limitBytes = limitBytes;
  }

  /** The file a process writes its pid to in order to join. */
  get procsFile(): string {
    return path.join(this.dir, 'cgroup.procs');
  }

  /** Creates `<own cgroup>/<name>` limited to `limitBytes`; throws, saying why, when it cannot. */
  static create(name: string, limitBytes: number): MemoryCgroup {
    const place = ownMemoryCgroup();
    if (place === undefined) throw new Error('no memory cgroup controller found (neither cgroup v2 with memory nor cgroup v1 memory)');
    const dir = path.join(place.dir, name);
    mkdirSync(dir);
    const group = new MemoryCgroup(dir, place.version, limitBytes);
    const limitFile = path.join(dir, place.version === 2 ? 'memory.max' : 'memory.limit_in_bytes');
    // Lambda has no swap: where the kernel accounts swap, it is limited to nothing more.
    const swapFile = path.join(dir, place.version === 2 ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes');
    try {
      if (!existsSync(limitFile)) throw new Error(`${limitFile} is missing: the memory controller is not enabled for ${place.dir}'s children`);
      writeFileSync(limitFile, String(limitBytes));
      if (existsSync(swapFile)) writeFileSync(swapFile, place.version === 2 ? '0' : String(limitBytes));
    } catch (error) {
      group.removeNow();
      throw error;
    }
    return group;
  }

  /** The highest memory use since creation, in bytes (processes and the page cache they caused). */
  peakBytes(): number {
    return readNumber(path.join(this.dir, this.version === 2 ? 'memory.peak' : 'memory.max_usage_in_bytes'));
  }

  /** Times the limit was hit and memory had to be reclaimed, and OOM kills (v2; v1 gives hits only). */
  pressure(): { limitHits: number; oomKills: number | undefined } {
    if (this.version === 2) {
      const events = readFileSync(path.join(this.dir, 'memory.events'), 'utf8');
      const field = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(events)?.[1] ?? 0);
      return { limitHits: field('max'), oomKills: field('oom_kill') };
    }
    return { limitHits: readNumber(path.join(this.dir, 'memory.failcnt')), oomKills: undefined };
  }

  /** Waits for its processes to be gone, then removes it. */
  async remove(): Promise<void> {
    for (let i = 0; i < 100 && this.#members().length > 0; i++) await delay(20);
    this.removeNow();
  }

  removeNow(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // Still busy or already gone: nothing more to do without killing what is not ours.
    }
  }

  #members(): string[] {
    try {
      return readFileSync(this.procsFile, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }
}

function readNumber(file: string): number {
  return Number(readFileSync(file, 'utf8').trim());
}

/** Where this process's memory cgroup is, v2 first. */
function ownMemoryCgroup(): { dir: string; version: 1 | 2 } | undefined {
  let mounts: string[];
  let membership: string[];
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n');
    membership = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const v2Mount = mounts.map((line) => line.split(' ')).find((fields) => fields[2] === 'cgroup2')?.[1];
  const v2Path = membership.find((line) => line.startsWith('0::'))?.slice(3);
  if (v2Mount !== undefined && v2Path !== undefined) {
    const dir = path.join(v2Mount, v2Path);
    try {
      if (readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')) return { dir, version: 2 };
    } catch {
      // Not usable: try v1.
    }
  }
  const v1Mount = mounts.map((line) => line.split(' ')).find((fields) => fields[2] === 'cgroup' && (fields[3] ?? '').split(',').includes('memory'))?.[1];
  const v1Path = membership.map((line) => line.split(':')).find((fields) => (fields[1] ?? '').split(',').includes('memory'))?.[2];
  if (v1Mount !== undefined && v1Path !== undefined) return { dir: path.join(v1Mount, v1Path), version: 1 };
  return undefined;
}
