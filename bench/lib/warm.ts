import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalLambda, type InvokeResult } from '../../src/local/local-lambda.ts';
import { BootstrapChild, bootstrapEnvironment, type PhpMode } from './bootstrap-child.ts';
import { resultBody } from './event.ts';
import { MiniRuntimeApi, type Marks } from './mini-runtime-api.ts';
import { PAGES, type PageName } from './pages.ts';
import { childrenNamed, childrenOf, commandLine, statusKb } from './proc.ts';
import { ReferenceWorker } from './reference-pool.ts';
import { cgiBody, phpCgiPeakKb } from './references.ts';
import { cgiEnvironmentFor, RuntimeCore } from './runtime-core.ts';
import { median, summarize, type Summary } from './stats.ts';

/**
 * Warm invocations of one page in one mode, along paths that each add a layer:
 *   reference  PHP alone, from a small worker process: php-cgi spawned directly (cgi) or a bare
 *              FastCGI request on a Unix socket (fastcgi)
 *   executor   the runtime's executor (FastCgiExecutor) in this process: FastCGI mode only
 *   core       the runtime's per-invocation code in this process, without the Runtime API
 *   null       a runtime with the bootstrap's Runtime API client and loop that answers a canned result
 *              (no PHP) behind the minimal Runtime API: the Runtime API's share
 *   mini       dist/bootstrap.js behind the bench's minimal Runtime API (timestamps every step)
 *   emulator   dist/bootstrap.js behind the project's emulator, timed from LocalLambda.invoke() to its onAnswer
 */

export type PathKey = 'reference' | 'executor' | 'core' | 'null' | 'mini' | 'emulator';

export interface Setup {
  bootstrap: string;
  /** Bundled bench/null-runtime.ts and bench/reference-worker.ts. */
  nullRuntime: string;
  referenceWorker: string;
  phpCgi: string;
  event: Buffer;
  taskRoot: string;
  /** How ours is started: the layer's start script with this machine's paths (layer-start.ts). */
  launch: string[];
  /** PHPRC and PHP_INI_SCAN_DIR of that start: the layer's php.ini, for the references too. */
  phpEnv: Record<string, string>;
}

export interface WarmPlan {
  iterations: number;
  warmup: number;
  rounds: number;
  /** A path stops early (and says so) once its measured loop has taken this long. */
  budgetMs: number;
}

export interface PathResult {
  key: PathKey;
  summary: Summary;
  truncated: boolean;
}

/** Medians of the minimal Runtime API's timestamps, per invocation, in ms. */
export interface Stages {
  /** Event handed over → written to the parked GET /next (≈0: the runtime was already waiting). */
  eventWait: number;
  /** Event written → the runtime's POST /response arrives: everything the bootstrap does. */
  bootstrapWork: number;
  /** POST headers → body fully read. */
  upload: number;
  /** Body read, 202 sent → the runtime's next GET /next arrives. */
  tail: number;
  /** Event handed over → next GET /next: what LocalLambda.invoke() waits for, before its own work. */
  cycle: number;
}

export interface Memory {
  /** VmHWM of the bootstrap, kB, for the emulator-driven and the mini-driven one. */
  bootstrapEmulator: number | undefined;
  bootstrapMini: number | undefined;
  /** VmRSS of the mini-driven bootstrap at the end: what each fork() of php-cgi copies page tables for (CGI). */
  bootstrapMiniNow: number | undefined;
  /** VmHWM of the bootstrap's php-cgi (FastCGI: the server; CGI: the highest seen while sampling). */
  phpCgi: number | undefined;
  phpCgiHow: string;
  /** CGI only: ru_maxrss of php-cgi run directly (/usr/bin/time). */
  phpCgiDirect: number | undefined;
}

export interface WarmResult {
  mode: PhpMode;
  page: PageName;
  paths: PathResult[];
  stages: Stages;
  nullStages: Stages;
  memory: Memory;
  cgiEnvVars: number;
  cgiEnvBytes: number;
  responseBytes: number;
}

interface Driver {
  key: PathKey;
  /** `n` invocations one after another: their latencies (ms) and the time the loop took. */
  batch(n: number): Promise<{ latencies: number[]; wallMs: number }>;
  /** One invocation; the body it produced, decoded. */
  probe(): Promise<string>;
  samples: number[];
  wallMs: number;
  truncated: boolean;
}

const INVOKE_TIMEOUT_MS = 30_000;

export async function measureWarm(mode: PhpMode, page: PageName, setup: Setup, plan: WarmPlan, progress: (text: string) => void): Promise<WarmResult> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanupsDone = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
  };
  try {
    const api = await MiniRuntimeApi.start();
    cleanups.push(() => api.close());
    const nullApi = await MiniRuntimeApi.start();
    cleanups.push(() => nullApi.close());
    // The bootstrap's own environment, which it hands to PHP as the function's environment.
    const functionEnv = bootstrapEnvironment({ bootstrap: setup.bootstrap, taskRoot: setup.taskRoot, runtimeApi: api.address, mode, phpCgi: setup.phpCgi, env: setup.phpEnv });
    // What the runtime sends per request: in FastCGI mode php-cgi already has the function's environment.
    const cgiEnv = cgiEnvironmentFor(setup.event, setup.taskRoot, functionEnv, mode === 'fastcgi');
    const drivers: Driver[] = [];

    // reference, in a worker process
    const worker = await ReferenceWorker.start(setup.referenceWorker, mode, setup.phpCgi, cgiEnv, functionEnv);
    cleanups.push(() => worker.stop());
    drivers.push(driver('reference', (n) => worker.run(n, false), async () => (await worker.run(1, true)).body ?? ''));

    // executor and core, in this process
    const core = await RuntimeCore.start(mode, setup.phpCgi, setup.taskRoot, functionEnv, path.join(path.dirname(setup.bootstrap), 'cgi-spawner'));
    cleanups.push(() => core.stop());
    if (mode === 'fastcgi') {
      drivers.push(driver('executor', timedLoop(() => core.execute(cgiEnv), () => core.settled()), async () => cgiBody(await core.execute(cgiEnv))));
    }
    drivers.push(driver('core', timedLoop(() => core.invoke(setup.event), () => core.settled()), async () => resultBody(await core.invoke(setup.event))));

    // null runtime: the same result, no PHP
    const resultFile = path.join(os.tmpdir(), `bench-result-${process.pid}-${mode}-${page}.json`);
    writeFileSync(resultFile, await core.invoke(setup.event));
    cleanups.push(() => rmSync(resultFile, { force: true }));
    const nullChild = new BootstrapChild({ bootstrap: setup.nullRuntime, taskRoot: setup.taskRoot, runtimeApi: nullApi.address, mode, phpCgi: setup.phpCgi, env: { BENCH_RESULT_FILE: resultFile } });
    cleanups.push(() => nullChild.stop());
    await Promise.race([nullApi.nextRequest(INVOKE_TIMEOUT_MS), nullChild.exited.then(() => Promise.reject(died('the null runtime', nullChild)))]);
    const nullMarks: MarkSet = [];
    drivers.push(miniDriver('null', nullApi, nullMarks, `${mode}, ${page}, null runtime`, setup.event));

    // the bootstrap behind the minimal Runtime API
    const child = new BootstrapChild({ bootstrap: setup.bootstrap, taskRoot: setup.taskRoot, runtimeApi: api.address, mode, phpCgi: setup.phpCgi, command: setup.launch, env: setup.phpEnv });
    cleanups.push(() => child.stop());
    await Promise.race([api.nextRequest(INVOKE_TIMEOUT_MS), child.exited.then(() => Promise.reject(died('the bootstrap', child)))]);
    const marks: MarkSet = [];
    drivers.push(miniDriver('mini', api, marks, `${mode}, ${page}, minimal Runtime API`, setup.event));

    // the bootstrap behind the emulator
    const lambda = await LocalLambda.start({
      command: setup.launch,
      taskRoot: setup.taskRoot,
      handler: 'index.php',
      env: { PHP_CGI_MODE: mode, PHP_CGI_BINARY: setup.phpCgi, ...setup.phpEnv },
      timeoutMs: INVOKE_TIMEOUT_MS,
      memoryMb: 1024,
      log: () => {},
    });
    cleanups.push(() => lambda.stop());
    let responseBytes = 0;
    /** The invocation behind the last answer: it ends (END, REPORT) after the answer is handed over. */
    let finishing: Promise<unknown> = Promise.resolve();
    const invokeEmulator = async (): Promise<Buffer> => {
      // Timed until the answer is handed over, as Lambda's caller (and `serve`'s browser) gets it.
      const result = await new Promise<InvokeResult>((resolve, reject) => {
        const invoked = lambda.invoke(setup.event, { onAnswer: resolve });
        invoked.then(resolve, reject);
        finishing = invoked.catch(() => {});
      });
      if (result.functionError) {
        throw new Error(`function error (${mode}, ${page}, emulator): ${result.functionError.errorType}: ${result.functionError.errorMessage}\n${result.logs.join('\n')}`);
      }
      responseBytes = result.payload.length;
      return result.payload;
    };
    drivers.push(driver('emulator', timedLoop(invokeEmulator, () => finishing.then(() => {})), async () => resultBody(await invokeEmulator())));

    for (const d of drivers) {
      const body = await d.probe();
      try {
        PAGES[page].verify(body);
      } catch (error) {
        throw new Error(`wrong body from the ${d.key} path (${mode}): ${(error as Error).message}`);
      }
    }
    progress(`${mode} ${page}: bodies verified on every path; warming up (${plan.warmup} each)`);
    for (const d of drivers) if (plan.warmup > 0) await d.batch(plan.warmup);
    marks.length = 0;
    nullMarks.length = 0;

    const perRound = Math.max(1, Math.ceil(plan.iterations / plan.rounds));
    for (let round = 0; round < plan.rounds; round++) {
      for (const d of drivers) {
        const todo = Math.min(perRound, plan.iterations - d.samples.length);
        if (todo <= 0 || d.truncated) continue;
        const { latencies, wallMs } = await d.batch(todo);
        d.samples.push(...latencies);
        d.wallMs += wallMs;
        if (d.wallMs > plan.budgetMs) d.truncated = true;
      }
      progress(`${mode} ${page}: round ${round + 1}/${plan.rounds} done`);
    }

    const memory = await measureMemory(mode, child, api, setup, cgiEnv);
    return {
      mode,
      page,
      paths: drivers.map((d) => ({ key: d.key, summary: summarize(d.samples, d.wallMs), truncated: d.truncated })),
      stages: stagesOf(marks),
      nullStages: stagesOf(nullMarks),
      memory,
      cgiEnvVars: Object.keys(cgiEnv).length,
      cgiEnvBytes: Object.entries(cgiEnv).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value) + 2, 0),
      responseBytes,
    };
  } finally {
    await cleanupsDone();
  }
}

type MarkSet = Array<Marks & { nextAt: number }>;

function driver(key: PathKey, batch: Driver['batch'], probe: Driver['probe']): Driver {
  return { key, batch, probe, samples: [], wallMs: 0, truncated: false };
}

/** `settle`, untimed, runs after each call: what the bootstrap does after answering, before /next. */
function timedLoop(once: () => Promise<unknown>, settle?: () => Promise<void>): Driver['batch'] {
  return async (n) => {
    const latencies: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const start = performance.now();
      await once();
      latencies.push(performance.now() - start);
      if (settle) await settle();
    }
    return { latencies, wallMs: performance.now() - t0 };
  };
}

/** One invocation through a MiniRuntimeApi; it ends, as in LocalLambda, when the runtime asks for the next event. */
async function miniOnce(api: MiniRuntimeApi, marks: MarkSet | undefined, what: string, event: Buffer): Promise<{ latency: number; payload: Buffer }> {
  const outcome = await api.invoke(event, INVOKE_TIMEOUT_MS);
  if (outcome.kind !== 'response') throw new Error(`function error (${what}): ${outcome.payload.toString('utf8').slice(0, 500)}`);
  const nextAt = await api.nextRequest(INVOKE_TIMEOUT_MS);
  marks?.push({ ...outcome.marks, nextAt });
  return { latency: outcome.marks.answered - outcome.marks.enqueued, payload: outcome.payload };
}

function miniBatch(api: MiniRuntimeApi, marks: MarkSet, what: string, event: Buffer): Driver['batch'] {
  return async (n) => {
    const latencies: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) latencies.push((await miniOnce(api, marks, what, event)).latency);
    return { latencies, wallMs: performance.now() - t0 };
  };
}

function miniProbe(api: MiniRuntimeApi, what: string, event: Buffer): Driver['probe'] {
  return async () => resultBody((await miniOnce(api, undefined, what, event)).payload);
}

function miniDriver(key: PathKey, api: MiniRuntimeApi, marks: MarkSet, what: string, event: Buffer): Driver {
  return driver(key, miniBatch(api, marks, what, event), miniProbe(api, what, event));
}

function died(what: string, child: BootstrapChild): Error {
  return new Error(`${what} exited during init:\n${child.output.join('\n')}`);
}

function stagesOf(marks: MarkSet): Stages {
  const of = (f: (m: MarkSet[number]) => number): number => median(marks.map(f));
  return {
    eventWait: of((m) => m.delivered - m.enqueued),
    bootstrapWork: of((m) => m.answerStarted - m.delivered),
    upload: of((m) => m.answered - m.answerStarted),
    tail: of((m) => m.nextAt - m.answered),
    cycle: of((m) => m.nextAt - m.enqueued),
  };
}

/** The bootstrap the emulator started: our child running the same script, other than the mini one. */
function emulatorBootstrapPid(setup: Setup, miniPid: number): number | undefined {
  return childrenOf(process.pid).find((pid) => pid !== miniPid && commandLine(pid).includes(setup.bootstrap));
}

async function measureMemory(mode: PhpMode, child: BootstrapChild, api: MiniRuntimeApi, setup: Setup, cgiEnv: Record<string, string>): Promise<Memory> {
  const emulatorPid = emulatorBootstrapPid(setup, child.pid);
  const memory: Memory = {
    bootstrapEmulator: emulatorPid === undefined ? undefined : statusKb(emulatorPid, 'VmHWM'),
    bootstrapMini: statusKb(child.pid, 'VmHWM'),
    bootstrapMiniNow: statusKb(child.pid, 'VmRSS'),
    phpCgi: undefined,
    phpCgiHow: '',
    phpCgiDirect: undefined,
  };
  if (mode === 'fastcgi') {
    const peaks = childrenNamed(child.pid, 'php-cgi').map((pid) => statusKb(pid, 'VmHWM') ?? 0);
    memory.phpCgi = peaks.length > 0 ? Math.max(...peaks) : undefined;
    memory.phpCgiHow = 'VmHWM of the FastCGI server (a child of the bootstrap)';
    return memory;
  }
  // CGI: each php-cgi lives a few ms; sample the bootstrap's children (or cgi-spawner's, which
  // starts them when it was built) while it serves a few more.
  let highest = 0;
  let samples = 0;
  const parents = [child.pid, ...childrenNamed(child.pid, 'cgi-spawner')];
  const sampler = setInterval(() => {
    for (const pid of parents.flatMap((parent) => childrenNamed(parent, 'php-cgi'))) {
      samples++;
      highest = Math.max(highest, statusKb(pid, 'VmHWM') ?? 0);
    }
  }, 1);
  try {
    for (let i = 0; i < 20; i++) await miniOnce(api, undefined, 'cgi, memory sampling', setup.event);
  } finally {
    clearInterval(sampler);
  }
  memory.phpCgi = highest > 0 ? highest : undefined;
  memory.phpCgiHow = `the highest VmHWM of the php-cgi processes the bootstrap started, sampled every ms over 20 invocations (${samples} samples; a lower bound)`;
  const direct: number[] = [];
  for (let i = 0; i < 3; i++) {
    const peak = await phpCgiPeakKb(setup.phpCgi, cgiEnv);
    if (peak !== undefined) direct.push(peak);
  }
  memory.phpCgiDirect = direct.length > 0 ? Math.max(...direct) : undefined;
  return memory;
}
