import os from 'node:os';
import path from 'node:path';
import { BootstrapChild, delay } from './bootstrap-child.ts';
import { resultBody } from './event.ts';
import { MemoryCgroup } from './memory-cgroup.ts';
import { MiniRuntimeApi } from './mini-runtime-api.ts';
import { PAGES, type PageName } from './pages.ts';
import { commandName, cpuNs, statusKb } from './proc.ts';
import type { Sandboxes } from './sandbox.ts';
import { kb, median, ms, percentile, ratio, table } from './stats.ts';

/**
 * `--compare <bootstrap>`: this project's runtime and another one, side by side, through the same
 * harness in the same run, unpinned (Lambda pins nothing), taking turns so that whatever else the
 * machine does falls on both alike.
 *
 * Both are started the way Lambda starts a custom runtime: their bootstrap exec'd with Lambda's
 * environment (LAMBDA_TASK_ROOT = a task root holding the page as index.php, _HANDLER=index.php),
 * each in a sandbox of its own (sandbox.ts: a private /tmp, empty of earlier runs' files), behind a
 * MiniRuntimeApi of its own. They get the same event bytes and every answer is decoded and checked.
 */

export interface Contender {
  name: string;
  /** What is exec'd: this project's start script, or the other bootstrap (`node x.js` for a .js file). */
  command: string[];
}

export interface ComparePlan {
  /** Measured warm invocations per contender and page. */
  invocations: Record<PageName, number>;
  warmup: number;
  /** Turns each contender takes per page (the invocations are split between them). */
  rounds: number;
  coldStarts: number;
  memoryInvocations: number;
  memoryLimitMb: number;
}

export interface CompareSetup {
  event: Buffer;
  taskRoot: (page: PageName) => string;
  /** The environment both get on top of Lambda's (our PHP_CGI_BINARY; others ignore it). */
  env: Record<string, string>;
  phpCgi: string;
  /** dist/bootstrap.js: LAMBDA_RUNTIME_DIR for ours. */
  bootstrap: string;
  sandboxes: Sandboxes;
}

interface WarmFigures {
  latencies: number[];
  wallMs: number;
  /** CPU time of the runtime's processes (bootstrap, PHP, all threads) per invocation, ms. */
  runtimeCpuMs: number;
  /** CPU time of this process (the Runtime API server and the driving loop) per invocation, ms. */
  harnessCpuMs: number;
  /** Answer read → the runtime's next GET /next (not in the latency: what it does after answering). */
  tails: number[];
}

interface ColdFigures {
  toFirstNext: number[];
  toFirstResponse: number[];
  /**
   * CPU time (ms) of every process of the runtime, all threads, when its first GET /next arrived and
   * when its first answer had been read: the work a cold start takes, which a busy machine inflates
   * far less than the wall-clock figures.
   */
  cpuAtFirstNext: number[];
  cpuAtFirstResponse: number[];
}

interface MemoryFigures {
  invocations: number;
  cgroupPeakBytes: number | undefined;
  /** Sum of the VmHWM of every process of the runtime (each one's own peak, not at the same moment). */
  sumOfPeaksKb: number;
  limitHits: number;
  oomKills: number | undefined;
  processes: string[];
  error: string | undefined;
}

export interface CompareResult {
  contenders: Contender[];
  warm: Record<PageName, WarmFigures[]>;
  cold: ColdFigures[];
  memory: MemoryFigures[];
  memoryCgroup: string;
  loadBefore: number[];
  loadAfter: number[];
}

const TIMEOUT_MS = 30_000;

export async function compareRuntimes(contenders: Contender[], setup: CompareSetup, plan: ComparePlan, progress: (text: string) => void): Promise<CompareResult> {
  const loadBefore = os.loadavg();
  const warm = {} as Record<PageName, WarmFigures[]>;
  for (const page of ['hello', 'heavy'] as const) {
    progress(`compare, warm ${page}: ${plan.invocations[page]} invocations each, ${plan.rounds} turns each, alternated`);
    warm[page] = await measureWarmPair(page, contenders, setup, plan);
  }
  progress(`compare, cold starts: ${plan.coldStarts} each, alternated`);
  const cold = await measureColdPair(contenders, setup, plan.coldStarts);
  progress(`compare, memory: ${plan.memoryInvocations} invocations each in a ${plan.memoryLimitMb} MB cgroup`);
  const memory: MemoryFigures[] = [];
  let memoryCgroup = '';
  for (const contender of contenders) {
    const figures = await measureMemory(contender, setup, plan);
    memory.push(figures.figures);
    memoryCgroup = figures.where;
  }
  return { contenders, warm, cold, memory, memoryCgroup, loadBefore, loadAfter: os.loadavg() };
}

/** One contender's bootstrap, sandboxed, behind a Runtime API of its own. */
class Running {
  readonly api: MiniRuntimeApi;
  readonly child: BootstrapChild;
  readonly #removeSandbox: () => void;
  /** stop() closes the server only when it was started for this runtime. */
  readonly #ownsApi: boolean;

  private constructor(api: MiniRuntimeApi, child: BootstrapChild, removeSandbox: () => void, ownsApi: boolean) {
    this.api = api;
    this.child = child;
    this.#removeSandbox = removeSandbox;
    this.#ownsApi = ownsApi;
  }

  /** Starts it; with `api`, behind that (already reset) server, which stop() then leaves open. */
  static async start(contender: Contender, setup: CompareSetup, page: PageName, memory?: MemoryCgroup, api?: MiniRuntimeApi): Promise<Running> {
    const server = api ?? (await MiniRuntimeApi.start());
    const sandboxed = setup.sandboxes.wrap(contender.command, memory);
    const child = new BootstrapChild({
      bootstrap: setup.bootstrap,
      taskRoot: setup.taskRoot(page),
      runtimeApi: server.address,
      mode: 'fastcgi',
      phpCgi: setup.phpCgi,
      env: setup.env,
      command: sandboxed.command,
      signalsExec: true,
    });
    return new Running(server, child, sandboxed.remove, api === undefined);
  }

  async ready(what: string): Promise<void> {
    await Promise.race([
      this.api.nextRequest(TIMEOUT_MS),
      this.child.exited.then(() => Promise.reject(new Error(`${what} exited before asking for an event:\n${this.child.output.join('\n')}`))),
    ]);
  }

  /** The last answer fully checked: an answer byte for byte the same needs no second look. */
  #verified: Buffer | undefined;

  /**
   * One invocation, timed from the event handed over to the answer read; then waits for the next
   * GET /next. Every answer is checked against `page` (a runtime must not win by answering wrongly):
   * decoded and verified when it differs from the last one verified, compared byte for byte when
   * not, so that checking a 420 KB page does not take the CPU the runtimes need.
   */
  async invoke(event: Buffer, what: string, page: PageName): Promise<{ latency: number; tail: number }> {
    const outcome = await Promise.race([
      this.api.invoke(event, TIMEOUT_MS),
      this.child.exited.then(() => Promise.reject(new Error(`${what} exited during an invocation:\n${this.child.output.join('\n')}`))),
    ]);
    if (outcome.kind !== 'response') throw new Error(`function error (${what}): ${outcome.payload.toString('utf8').slice(0, 500)}`);
    const nextAt = await this.api.nextRequest(TIMEOUT_MS);
    if (this.#verified === undefined || !this.#verified.equals(outcome.payload)) {
      try {
        PAGES[page].verify(resultBody(outcome.payload));
      } catch (error) {
        throw new Error(`wrong answer from ${what}: ${(error as Error).message}`);
      }
      this.#verified = outcome.payload;
    }
    return { latency: outcome.marks.answered - outcome.marks.enqueued, tail: nextAt - outcome.marks.answered };
  }

  /** CPU time (ns) of the bootstrap and everything it started that is still running. */
  cpuNs(): number {
    return [this.child.pid, ...this.child.noteDescendants()].reduce((sum, pid) => sum + cpuNs(pid), 0);
  }

  async stop(): Promise<void> {
    await this.child.stop();
    if (this.#ownsApi) await this.api.close();
    this.#removeSandbox();
  }
}

async function measureWarmPair(page: PageName, contenders: Contender[], setup: CompareSetup, plan: ComparePlan): Promise<WarmFigures[]> {
  const running: Running[] = [];
  try {
    // One at a time: two runtimes booting together would each slow the other's start.
    for (const contender of contenders) {
      const r = await Running.start(contender, setup, page);
      running.push(r);
      await r.ready(contender.name);
      await r.invoke(setup.event, contender.name, page);
    }
    for (let i = 0; i < plan.warmup; i++) for (const [index, r] of running.entries()) await r.invoke(setup.event, contenders[index]!.name, page);

    const figures: WarmFigures[] = contenders.map(() => ({ latencies: [], wallMs: 0, runtimeCpuMs: 0, harnessCpuMs: 0, tails: [] }));
    const perTurn = Math.max(1, Math.ceil(plan.invocations[page] / plan.rounds));
    const runtimeNs = contenders.map(() => 0);
    const harnessUs = contenders.map(() => 0);
    for (let round = 0; round < plan.rounds; round++) {
      // Who goes first alternates too.
      const order = round % 2 === 0 ? running.map((_, i) => i) : running.map((_, i) => running.length - 1 - i);
      for (const index of order) {
        const r = running[index]!;
        const f = figures[index]!;
        const todo = Math.min(perTurn, plan.invocations[page] - f.latencies.length);
        const cpu0 = r.cpuNs();
        const harness0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < todo; i++) {
          const { latency, tail } = await r.invoke(setup.event, contenders[index]!.name, page);
          f.latencies.push(latency);
          f.tails.push(tail);
        }
        f.wallMs += performance.now() - t0;
        const harness = process.cpuUsage(harness0);
        harnessUs[index]! += harness.user + harness.system;
        runtimeNs[index]! += r.cpuNs() - cpu0;
      }
    }
    for (const [index, f] of figures.entries()) {
      f.runtimeCpuMs = runtimeNs[index]! / 1e6 / f.latencies.length;
      f.harnessCpuMs = harnessUs[index]! / 1e3 / f.latencies.length;
    }
    return figures;
  } finally {
    for (const r of running) await r.stop().catch(() => {});
  }
}

async function measureColdPair(contenders: Contender[], setup: CompareSetup, runs: number): Promise<ColdFigures[]> {
  const figures: ColdFigures[] = contenders.map(() => ({ toFirstNext: [], toFirstResponse: [], cpuAtFirstNext: [], cpuAtFirstResponse: [] }));
  const api = await MiniRuntimeApi.start();
  try {
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? contenders.map((_, n) => n) : contenders.map((_, n) => contenders.length - 1 - n);
      for (const index of order) {
        const contender = contenders[index]!;
        api.reset();
        // The event waits before the runtime exists: its first GET /next gets it at once.
        const answer = api.invoke(setup.event, TIMEOUT_MS);
        answer.catch(() => {});
        const r = await Running.start(contender, setup, 'hello', undefined, api);
        let cpuAtNext = Number.NaN;
        // Read as the first GET /next arrives (the listener runs as the server routes it).
        const sampled = api.nextRequest(TIMEOUT_MS).then(() => (cpuAtNext = r.cpuNs() / 1e6));
        sampled.catch(() => {});
        try {
          const outcome = await Promise.race([
            answer,
            r.child.exited.then(() => Promise.reject(new Error(`${contender.name} exited during a cold start:\n${r.child.output.join('\n')}`))),
          ]);
          if (outcome.kind !== 'response') throw new Error(`function error on a cold start (${contender.name}): ${outcome.payload.toString('utf8').slice(0, 500)}`);
          PAGES.hello.verify(resultBody(outcome.payload));
          if (api.firstNextAt === undefined) throw new Error(`no GET /next was seen from ${contender.name}`);
          if (api.initError) throw new Error(`${contender.name} posted /init/error: ${api.initError}`);
          const execAt = await r.child.execAt;
          const cpuAtResponse = r.cpuNs() / 1e6;
          await sampled;
          figures[index]!.toFirstNext.push(api.firstNextAt - execAt);
          figures[index]!.toFirstResponse.push(outcome.marks.answered - execAt);
          figures[index]!.cpuAtFirstNext.push(cpuAtNext);
          figures[index]!.cpuAtFirstResponse.push(cpuAtResponse);
        } finally {
          await r.stop();
        }
        // Let the previous runtime's teardown (process exits, page frees) finish before the next start.
        await delay(100);
      }
    }
  } finally {
    await api.close();
  }
  return figures;
}

async function measureMemory(contender: Contender, setup: CompareSetup, plan: ComparePlan): Promise<{ figures: MemoryFigures; where: string }> {
  const figures: MemoryFigures = {
    invocations: 0,
    cgroupPeakBytes: undefined,
    sumOfPeaksKb: 0,
    limitHits: 0,
    oomKills: undefined,
    processes: [],
    error: undefined,
  };
  let group: MemoryCgroup;
  try {
    group = MemoryCgroup.create(`lambda-php-bench-${process.pid}-${contender.name.replace(/[^a-z0-9-]/gi, '')}`, plan.memoryLimitMb * 1024 * 1024);
  } catch (error) {
    figures.error = `no memory cgroup: ${(error as Error).message}`;
    return { figures, where: '' };
  }
  let r: Running | undefined;
  try {
    r = await Running.start(contender, setup, 'hello', group);
    await r.ready(contender.name);
    for (let i = 0; i < plan.memoryInvocations; i++) {
      await r.invoke(setup.event, contender.name, 'hello');
      figures.invocations++;
    }
    const pids = [r.child.pid, ...r.child.noteDescendants()];
    for (const pid of pids) {
      const peak = statusKb(pid, 'VmHWM');
      if (peak === undefined) continue;
      figures.sumOfPeaksKb += peak;
      figures.processes.push(`${commandName(pid) ?? pid} ${kb(peak)}`);
    }
  } catch (error) {
    figures.error = (error as Error).message.split('\n')[0];
  } finally {
    figures.cgroupPeakBytes = group.peakBytes();
    const pressure = group.pressure();
    figures.limitHits = pressure.limitHits;
    figures.oomKills = pressure.oomKills;
    await r?.stop().catch(() => {});
    await group.remove();
  }
  return { figures, where: `cgroup v${group.version}, ${path.dirname(group.dir)}/<run>` };
}


/** Targets from issue 13, as ratios ours / theirs. */
const TARGETS = {
  helloP50: 0.8,
  helloP99: 0.8,
  heavyP50: 1.0,
  init: 1.0,
  firstResponse: 1.0,
} as const;

export function formatComparison(result: CompareResult, plan: ComparePlan, isolation: string): string {
  const [ours, theirs] = result.contenders as [Contender, Contender];
  const p = (figures: WarmFigures, q: number): number => percentile([...figures.latencies].sort((a, b) => a - b), q);
  const rows: string[][] = [['figure', ours.name, theirs.name, 'ratio', 'target', '']];
  const add = (figure: string, a: number | undefined, b: number | undefined, unit: 'ms' | 'MB', target?: number): void => {
    const r = a !== undefined && b !== undefined ? a / b : undefined;
    const value = (v: number | undefined): string => (v === undefined ? '-' : unit === 'ms' ? `${ms(v)} ms` : kb(v / 1024));
    rows.push([figure, value(a), value(b), ratio(r), target === undefined ? '' : `<= ${target.toFixed(2)}x`, target === undefined || r === undefined ? '' : r <= target ? 'PASS' : 'MISS']);
  };
  const [helloA, helloB] = result.warm.hello as [WarmFigures, WarmFigures];
  const [heavyA, heavyB] = result.warm.heavy as [WarmFigures, WarmFigures];
  add(`warm hello p50 (${helloA.latencies.length} each)`, p(helloA, 50), p(helloB, 50), 'ms', TARGETS.helloP50);
  add('warm hello p99', p(helloA, 99), p(helloB, 99), 'ms', TARGETS.helloP99);
  add(`warm heavy (~420 KB page) p50 (${heavyA.latencies.length} each)`, p(heavyA, 50), p(heavyB, 50), 'ms', TARGETS.heavyP50);
  add('warm heavy p99', p(heavyA, 99), p(heavyB, 99), 'ms');
  const [coldA, coldB] = result.cold as [ColdFigures, ColdFigures];
  add(`init: exec → first GET /next (median of ${coldA.toFirstNext.length})`, median(coldA.toFirstNext), median(coldB.toFirstNext), 'ms', TARGETS.init);
  add('exec → first response (same cold starts)', median(coldA.toFirstResponse), median(coldB.toFirstResponse), 'ms', TARGETS.firstResponse);
  const [memA, memB] = result.memory as [MemoryFigures, MemoryFigures];
  add(`peak memory, ${plan.memoryLimitMb} MB cgroup, ${plan.memoryInvocations} invocations`, memA.cgroupPeakBytes, memB.cgroupPeakBytes, 'MB');

  const details: string[][] = [['', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'inv/s', 'answer → next /next', 'runtime CPU/inv', 'harness CPU/inv']];
  for (const page of ['hello', 'heavy'] as const) {
    for (const [index, f] of result.warm[page].entries()) {
      const sorted = [...f.latencies].sort((a, b) => a - b);
      details.push([
        `${page}, ${result.contenders[index]!.name}`,
        ms(percentile(sorted, 50)),
        ms(percentile(sorted, 90)),
        ms(percentile(sorted, 99)),
        ms(sorted.reduce((s, v) => s + v, 0) / sorted.length),
        ((f.latencies.length * 1000) / f.wallMs).toFixed(0),
        `${ms(median(f.tails))} ms`,
        `${ms(f.runtimeCpuMs)} ms`,
        `${ms(f.harnessCpuMs)} ms`,
      ]);
    }
  }
  const coldRows: string[][] = [['', 'exec → first /next: median', 'min – max', 'exec → first response: median', 'min – max', 'CPU at first /next', 'CPU at first response']];
  for (const [index, c] of result.cold.entries()) {
    coldRows.push([
      result.contenders[index]!.name,
      `${ms(median(c.toFirstNext))} ms`,
      `${ms(Math.min(...c.toFirstNext))} – ${ms(Math.max(...c.toFirstNext))}`,
      `${ms(median(c.toFirstResponse))} ms`,
      `${ms(Math.min(...c.toFirstResponse))} – ${ms(Math.max(...c.toFirstResponse))}`,
      `${ms(median(c.cpuAtFirstNext))} ms`,
      `${ms(median(c.cpuAtFirstResponse))} ms`,
    ]);
  }
  const memoryLines = result.memory.map((m, index) => {
    const name = result.contenders[index]!.name;
    if (m.error && m.cgroupPeakBytes === undefined) return `  ${name}: ${m.error}`;
    const pressure = `limit reached ${m.limitHits} times${m.oomKills === undefined ? '' : `, ${m.oomKills} OOM kills`}`;
    return `  ${name}: cgroup peak ${kb((m.cgroupPeakBytes ?? 0) / 1024)} after ${m.invocations} invocations (${pressure}); each process's own peak: ${m.processes.join(', ')} (sum ${kb(m.sumOfPeaksKb)})${m.error ? `; stopped: ${m.error}` : ''}`;
  });
  const load = (l: number[]): string => l.map((v) => v.toFixed(2)).join(' ');
  return `
== ${ours.name} against ${theirs.name}: unpinned, the same harness, alternated (load ${load(result.loadBefore)} before, ${load(result.loadAfter)} after) ==

${table(rows, (c) => c > 0 && c < 5)}

  ${ours.name}: ${ours.command.join(' ')}
  ${theirs.name}: ${theirs.command.join(' ')}
  Each started as Lambda starts a bootstrap (its own process group, Lambda's environment, cwd and LAMBDA_TASK_ROOT
  = a task root with the page as index.php, _HANDLER=index.php), ${isolation}, behind a minimal Runtime API
  of its own (bench/lib/mini-runtime-api.ts) in this process. Same event bytes (Function URL GET /), every answer
  decoded and checked. Warm: ${plan.warmup} unmeasured invocations each, then ${plan.rounds} turns each, alternated (who goes first
  alternates too); latency = event handed over → answer read. Cold: the event is queued, then the bootstrap is
  exec'd (timed from the exec itself, the sandbox's own set-up left out); ${plan.coldStarts} each, alternated.

${table(details, (c) => c > 0)}
  runtime CPU/inv: CPU time of the runtime's processes (every thread: bootstrap, PHP) per invocation, from schedstat
  harness CPU/inv: CPU time of this process (the Runtime API server and the loop that drives it) per invocation:
                   the harness's own cost, paid on the same machine as the runtime's

${table(coldRows, (c) => c > 0)}
  CPU at …: CPU time of all the runtime's processes (every thread) at that moment, medians: the work a cold start
  takes, which a busy machine inflates far less than the wall-clock figures.

== Memory (${result.memoryCgroup || 'no cgroup'}, limited to ${plan.memoryLimitMb} MB, hello page) ==
${memoryLines.join('\n')}
`;
}

