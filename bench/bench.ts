/**
 * The runtime's benchmark: warm latency and throughput, overhead against PHP run without the
 * runtime, cold starts and peak memory, in both PHP_CGI_MODEs. Started by bench/run.mjs, which
 * bundles this file (it imports src/) with esbuild. See `node bench/run.mjs --help`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BootstrapProcess } from '../src/local/bootstrap-process.ts';
import type { PhpMode } from './lib/bootstrap-child.ts';
import { delay } from './lib/bootstrap-child.ts';
import { allowedCpus, firstCpu, pinThisProcess } from './lib/cpu-affinity.ts';
import { measureBaselines, measureCold, type Baselines, type ColdResult } from './lib/cold.ts';
import { functionUrlGetEvent } from './lib/event.ts';
import { parseOptions, USAGE, type BenchOptions } from './lib/options.ts';
import { makeTaskRoots, type PageName } from './lib/pages.ts';
import { processCount } from './lib/proc.ts';
import { formatProfile, profileBootstrap, profileEmulator } from './lib/profile.ts';
import { kb, median, ms, percentile, ratio, table } from './lib/stats.ts';
import { measureWarm, type PathKey, type Setup, type WarmResult } from './lib/warm.ts';
import { compareRuntimes, formatComparison, type Contender } from './lib/compare.ts';
import { makeLayerStart } from './lib/layer-start.ts';
import { Sandboxes } from './lib/sandbox.ts';

export interface BenchContext {
  /** The repository root. */
  root: string;
  /** Where run.mjs put the bundles (.cache/bench): null-runtime.mjs and reference-worker.mjs are there. */
  cacheDir: string;
}

/** Targets from the issue. */
const TARGET_HELLO_P50_MS = 0.3;
const TARGET_FASTCGI_RATIO = 1.5;
const TARGET_CGI_RATIO = 1.05;
/** A path's measured loop stops after this long (it then reports what it has, marked '*'). */
const PATH_BUDGET_MS = 120_000;

export async function main(argv: string[], context: BenchContext): Promise<number> {
  const options = parseOptions(argv);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const bootstrap = path.join(context.root, 'dist', 'bootstrap.js');
  if (!existsSync(bootstrap)) throw new Error(`${path.relative(process.cwd(), bootstrap)} is missing: build it first (node scripts/build.mjs, or ./run bench)`);
  const phpCgi = findPhpCgi();
  const started = performance.now();
  if (options.compareOnly && options.compare === undefined) throw new Error('--compare-only needs --compare <bootstrap>');
  const other = options.compare === undefined ? undefined : path.resolve(options.compare);
  if (other !== undefined && !existsSync(other)) throw new Error(`--compare: ${other} does not exist`);
  const start = makeLayerStart(context.root, context.cacheDir, phpCgi);
  const phpEnv = { PHPRC: start.phpIni, PHP_INI_SCAN_DIR: start.scanDir };

  const cpus = allowedCpus();
  const warmCpus = options.cpus === 'one' ? firstCpu(cpus) : cpus;
  printHeader(options, bootstrap, phpCgi, warmCpus);
  const roots = makeTaskRoots();
  const event = functionUrlGetEvent();
  const setupFor = (page: PageName): Setup => ({
    bootstrap,
    nullRuntime: path.join(context.cacheDir, 'null-runtime.mjs'),
    referenceWorker: path.join(context.cacheDir, 'reference-worker.mjs'),
    phpCgi,
    event,
    taskRoot: roots.taskRoot(page),
    launch: start.command,
    phpEnv,
  });
  const progress = (text: string): void => {
    process.stderr.write(`  [${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${text}\n`);
  };

  try {
    if (other !== undefined) {
      const sandboxes = Sandboxes.prepare(path.join(context.cacheDir, 'sandboxes'));
      try {
        const contenders: Contender[] = [
          { name: 'lambda-php', command: start.command },
          { name: contenderName(other), command: /\.[cm]?js$/.test(other) ? [process.execPath, other] : [other] },
        ];
        const plan = options.comparePlan;
        const result = await compareRuntimes(contenders, { event, taskRoot: roots.taskRoot, env: { PHP_CGI_BINARY: phpCgi, ...phpEnv }, phpCgi, bootstrap, sandboxes }, plan, progress);
        const isolation = sandboxes.isolated
          ? 'in a mount namespace with a private overlay on /tmp (empty of earlier runs: no OPcache file cache, socket or pid file left by a previous start)'
          : `sharing this machine's /tmp (no private /tmp: ${sandboxes.why})`;
        console.log(formatComparison(result, plan, isolation));
      } finally {
        sandboxes.removeAll();
      }
      if (options.compareOnly) {
        console.log(`Done in ${((performance.now() - started) / 1000).toFixed(0)} s (load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}).`);
        return 0;
      }
    }
    const warm: WarmResult[] = [];
    pinThisProcess(warmCpus);
    for (const mode of options.modes) {
      for (const page of options.pages) {
        const iterations = (mode === 'fastcgi' ? options.fastcgi : options.cgi)[page];
        progress(`${mode} ${page}: ${iterations} invocations per path`);
        warm.push(await measureWarm(mode, page, setupFor(page), { iterations, warmup: options.warmup[mode], rounds: options.rounds, budgetMs: PATH_BUDGET_MS }, progress));
      }
    }
    // Lambda boosts the CPU during init; a cold start should not be held to one CPU either.
    pinThisProcess(cpus);
    const cold: ColdResult[] = [];
    for (const mode of options.modes) {
      progress(`${mode}: ${options.coldStarts} cold starts`);
      cold.push(await measureCold(mode, setupFor('hello'), options.coldStarts));
    }
    const baselines = await measureBaselines(phpCgi, Math.min(options.coldStarts, 10));
    const bookkeeping = await measureBookkeeping();

    console.log(formatWarm(warm));
    console.log(formatStages(warm, bookkeeping));
    console.log(formatCold(cold, baselines));
    console.log(formatMemory(warm));
    console.log(formatTargets(warm));

    if (options.profile) {
      pinThisProcess(warmCpus);
      const reports: string[] = [];
      for (const page of ['hello', 'heavy'] as const) {
        progress(`profiling the bootstrap (FastCGI, ${page})`);
        reports.push(formatProfile(await profileBootstrap(setupFor(page), page, context.cacheDir, context.root)));
      }
      progress('profiling the emulator (FastCGI, hello)');
      reports.push(formatProfile(await profileEmulator(setupFor('hello'), context.root)));
      console.log(`\n== CPU profiles (self time: the function itself, not what it calls; '(native)' are C++ calls: syscalls, buffer copies) ==\n\n${reports.join('\n\n')}\n`);
    }
    console.log(`Done in ${((performance.now() - started) / 1000).toFixed(0)} s (load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}). Benchmarks never fail the build: PASS/MISS above is informative.`);
    return 0;
  } finally {
    roots.remove();
  }
}

/** 'bref-shim' for /tmp/bref-shim/bootstrap, 'runtime' for /x/runtime.js: the folder or file that says what it is. */
function contenderName(bootstrap: string): string {
  const base = path.basename(bootstrap).replace(/\.[cm]?js$/, '');
  if (base !== 'bootstrap' && base !== 'index') return base;
  const dir = path.dirname(bootstrap);
  return ['dist', 'bin'].includes(path.basename(dir)) ? path.basename(path.dirname(dir)) : path.basename(dir);
}

function findPhpCgi(): string {
  const candidates = [process.env.PHP_CGI_BINARY, '/opt/bin/php-cgi', '/usr/bin/php-cgi', '/usr/local/bin/php-cgi'].filter((c): c is string => Boolean(c));
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  throw new Error('php-cgi not found: install php-cgi (Debian: php8.2-cgi) or set PHP_CGI_BINARY');
}

function printHeader(options: BenchOptions, bootstrap: string, phpCgi: string, warmCpus: string): void {
  let phpVersion = '?';
  try {
    phpVersion = execFileSync(phpCgi, ['-v'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0] ?? '?';
  } catch (error) {
    throw new Error(`${phpCgi} -v failed: ${(error as Error).message}`);
  }
  const cpus = os.cpus();
  const built = statSync(bootstrap).mtime.toISOString().replace('T', ' ').slice(0, 19);
  console.log(`lambda-php runtime benchmark
  machine   ${cpus.length} x ${cpus[0]?.model.trim() ?? '?'}, ${os.type()} ${os.release()}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}
  node      ${process.version} (${process.execPath})
  php       ${phpVersion} (${phpCgi})
  bootstrap ${path.relative(process.cwd(), bootstrap) || bootstrap} (built ${built} UTC)
  runs      FastCGI ${options.fastcgi.hello} hello / ${options.fastcgi.heavy} heavy, CGI ${options.cgi.hello} / ${options.cgi.heavy}, per path, after ${options.warmup.fastcgi} / ${options.warmup.cgi} warm-up; ${options.rounds} interleaved rounds; ${options.coldStarts} cold starts per mode
  event     Lambda Function URL, GET /, five headers; each page is index.php of its own temp task root
  cpus      warm runs and profiles on CPU ${warmCpus}${options.cpus === 'one' ? ' only (--cpus one): every process of a run shares it, hand-overs are context switches' : ' (--cpus all: unpinned)'}; cold starts unpinned${
    os.loadavg()[0]! > cpus.length * 0.75 ? `\n  WARNING   the machine is busy (1-minute load ${os.loadavg()[0]!.toFixed(2)} on ${cpus.length} CPUs): expect noisy figures, mostly in p90/p99` : ''
  }

How latency is measured: in this process, with performance.now() around each call, one invocation at
a time (no concurrency), the paths taking turns in interleaved rounds. Each path adds a layer:
  reference  PHP without the runtime, driven from a small worker process (bench/reference-worker.ts):
             php-cgi spawned directly with the runtime's CGI environment, stdin closed, stdout read (CGI);
             a bare FastCGI request loop on a Unix socket with src/cgi/fastcgi/fastcgi-connection.ts (FastCGI)
  executor   FastCgiExecutor.execute() with the same environment, in this process (FastCGI only)
  core       the runtime's whole per-invocation code in this process: event JSON → router → CGI env →
             executor → CGI parser → Function URL result → JSON; no Runtime API, no second process
  null       bench/null-runtime.ts: the bootstrap's Runtime API client and loop answering a canned result
             (no PHP), behind the minimal Runtime API: the Runtime API's share on its own
  mini       dist/bootstrap.js behind a minimal Runtime API in bench/ (plain sockets, TCP_NODELAY): event handed
             over → response body read; it timestamps each step (see 'Where the time goes')
  emulator   dist/bootstrap.js behind the project's emulator (src/local), from LocalLambda.invoke() until it
             hands the answer over (onAnswer, as Lambda's caller gets it; END and REPORT follow, untimed):
             the end-to-end figure of 'serve', including the emulator's own per-invocation work
`);
}

const PATH_NAMES: Record<PathKey, string> = {
  reference: 'reference (PHP alone)',
  executor: 'executor (in-process)',
  core: 'core (in-process)',
  null: 'null runtime, mini API',
  mini: 'bootstrap, mini API',
  emulator: 'bootstrap, emulator',
};

function formatWarm(results: WarmResult[]): string {
  const rows: string[][] = [['mode', 'page', 'path', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'inv/s', 'p50 / ref', 'mean / ref']];
  for (const result of results) {
    const reference = result.paths.find((p) => p.key === 'reference')!.summary;
    for (const p of result.paths) {
      const s = p.summary;
      rows.push([
        result.mode,
        result.page,
        PATH_NAMES[p.key],
        `${s.count}${p.truncated ? '*' : ''}`,
        ms(s.p50),
        ms(s.p90),
        ms(s.p99),
        ms(s.mean),
        s.perSecond.toFixed(0),
        p.key === 'reference' ? '1.00x' : ratio(s.p50 / reference.p50),
        p.key === 'reference' ? '1.00x' : ratio(s.mean / reference.mean),
      ]);
    }
  }
  const notes = results.map((r) => `  ${r.mode} ${r.page}: CGI environment ${r.cgiEnvVars} variables (${r.cgiEnvBytes} bytes), result JSON ${r.responseBytes} bytes`);
  const truncated = results.some((r) => r.paths.some((p) => p.truncated)) ? `\n  * stopped early: that path's loop reached ${PATH_BUDGET_MS / 1000} s` : '';
  const cgiNote = results.some((r) => r.mode === 'cgi')
    ? `\n  CGI mode starts php-cgi through dist/cgi-spawner when it was built (a C compiler was there): a small process's
  posix_spawn() instead of a fork() of the bootstrap, which copies the parent's page tables. The references spawn
  php-cgi from Node in a small worker process, as the runtime would without cgi-spawner.`
    : '';
  return `\n== Warm invocations ==\n\n${table(rows, (c) => c > 2)}\n${notes.join('\n')}${truncated}${cgiNote}\n`;
}

interface Bookkeeping {
  /** p50 ms of each BootstrapProcess method that exists, timed on its own on a stand-in process. */
  methods: Array<{ name: string; p50: number; p90: number }>;
  processes: number;
}

/**
 * LocalLambda's per-invocation bookkeeping on the bootstrap (src/local/bootstrap-process.ts): each
 * method timed on its own, 200 times, on a stand-in process (sleep), outside any invocation.
 */
async function measureBookkeeping(): Promise<Bookkeeping | undefined> {
  let bootstrap: BootstrapProcess | undefined;
  try {
    bootstrap = new BootstrapProcess({ command: ['sleep', '60'], cwd: os.tmpdir(), env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, onLine: () => {} });
    await delay(50);
    const methods: Bookkeeping['methods'] = [];
    for (const name of ['maxMemoryUsedMb', 'noteDescendants']) {
      const method = (bootstrap as unknown as Record<string, unknown>)[name];
      if (typeof method !== 'function') continue;
      const samples: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        await (method as () => Promise<unknown>).call(bootstrap);
        samples.push(performance.now() - t0);
      }
      samples.sort((a, b) => a - b);
      methods.push({ name, p50: percentile(samples, 50), p90: percentile(samples, 90) });
    }
    return { methods, processes: processCount() };
  } catch {
    return undefined;
  } finally {
    await bootstrap?.kill().catch(() => {});
  }
}

function formatStages(results: WarmResult[], bookkeeping: Bookkeeping | undefined): string {
  const rows: string[][] = [['mode', 'page', 'runtime', 'event wait', 'work', 'upload', 'tail', 'cycle', 'emulator p50', 'emulator - mini']];
  for (const r of results) {
    const emulator = r.paths.find((p) => p.key === 'emulator')!.summary.p50;
    const mini = r.paths.find((p) => p.key === 'mini')!.summary.p50;
    for (const [name, stages] of [['bootstrap', r.stages], ['null runtime', r.nullStages]] as const) {
      rows.push([
        r.mode,
        r.page,
        name,
        ms(stages.eventWait),
        ms(stages.bootstrapWork),
        ms(stages.upload),
        ms(stages.tail),
        ms(stages.cycle),
        name === 'bootstrap' ? ms(emulator) : '',
        name === 'bootstrap' ? ms(emulator - mini) : '',
      ]);
    }
  }
  const methods = bookkeeping?.methods ?? [];
  const probe =
    methods.length > 0
      ? `  LocalLambda's bookkeeping on the bootstrap (src/local/bootstrap-process.ts), each method timed alone on a stand-in
  process, ${bookkeeping!.processes} processes on the machine: ${methods.map((m) => `${m.name}() ${ms(m.p50)} ms p50 / ${ms(m.p90)} ms p90`).join(', ')}.
  Which of them run per invocation, and what else the emulator spends its time on: --profile.`
      : '';
  return `
== Where the time goes (medians, ms; from the minimal Runtime API's timestamps) ==

${table(rows, (c) => c > 2)}
  event wait  event handed over → written on the runtime's parked GET /next
  work        event written → the runtime's POST /response arrives: its client reads /next, the event becomes
              a request, PHP runs, the result becomes JSON, the client sends it (compare 'core' above: the same
              work in this process, without the Runtime API); for the null runtime, the same minus PHP and
              the event handling
  upload      POST headers → body read;   tail: 202 sent → the runtime's next GET /next arrives
  cycle       event handed over → next GET /next: when LocalLambda ends an invocation (END, REPORT)
  emulator - mini   what the emulator adds before the answer is handed over (its HTTP server, queue, log
              lines, per-invocation bookkeeping), both p50s
${probe}
`;
}

function formatCold(results: ColdResult[], baselines: Baselines): string {
  const rows: string[][] = [['mode', 'n', 'exec → first GET /next', '(min – max)', 'exec → first response', '(min – max)']];
  for (const r of results) {
    rows.push([
      r.mode,
      String(r.toFirstNext.length),
      `${ms(median(r.toFirstNext))} ms`,
      `${ms(Math.min(...r.toFirstNext))} – ${ms(Math.max(...r.toFirstNext))}`,
      `${ms(median(r.toFirstResponse))} ms`,
      `${ms(Math.min(...r.toFirstResponse))} – ${ms(Math.max(...r.toFirstResponse))}`,
    ]);
  }
  return `
== Cold start (medians; minimal Runtime API; the event is queued before the bootstrap is exec'd) ==

${table(rows, (c) => c > 0)}
  exec → first GET /next is Lambda's Init Duration; exec → first response is what the first caller waits for
  (hello page). For comparison: node -e 0 exec → exit ${ms(baselines.nodeStart)} ms; php-cgi -v exec → exit ${ms(baselines.phpCgiVersion)} ms.
`;
}

function formatMemory(results: WarmResult[]): string {
  const rows: string[][] = [['mode', 'page', 'bootstrap VmHWM (emulator)', 'bootstrap VmHWM (mini)', 'VmRSS now (mini)', 'php-cgi VmHWM', 'php-cgi run directly']];
  const how = new Set<string>();
  for (const r of results) {
    rows.push([
      r.mode,
      r.page,
      kb(r.memory.bootstrapEmulator),
      kb(r.memory.bootstrapMini),
      kb(r.memory.bootstrapMiniNow),
      kb(r.memory.phpCgi),
      r.mode === 'cgi' ? kb(r.memory.phpCgiDirect) : '',
    ]);
    how.add(`  php-cgi, ${r.mode}: ${r.memory.phpCgiHow}`);
  }
  return `
== Peak memory (VmHWM from /proc/<pid>/status after the warm runs of that page, one bootstrap per page) ==

${table(rows, (c) => c > 1)}
${[...how].join('\n')}
  php-cgi run directly: ru_maxrss of three direct CGI runs (/usr/bin/time), the most of them
  The bootstrap's figures come after all the invocations of that page (warm-up and every path's share); its RSS
  grows with the number of invocations before levelling off, and V8 sizes its heaps from the machine's memory
  (${(os.totalmem() / 2 ** 30).toFixed(0)} GB here), so a Lambda function with less memory will see other figures.
`;
}

function formatTargets(results: WarmResult[]): string {
  const rows: string[][] = [['target', 'measured', '', 'result']];
  const p50 = (mode: PhpMode, page: PageName, key: PathKey): number | undefined =>
    results.find((r) => r.mode === mode && r.page === page)?.paths.find((p) => p.key === key)?.summary.p50;
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
  // 'core' rows: the runtime's own code without the Runtime API transport (informative).
  for (const key of ['emulator', 'mini', 'core'] as const) {
    const value = p50('fastcgi', 'hello', key);
    if (value !== undefined) rows.push([`warm hello p50 <= ${TARGET_HELLO_P50_MS} ms, FastCGI (${PATH_NAMES[key]})`, `${ms(value)} ms`, '', verdict(value <= TARGET_HELLO_P50_MS)]);
  }
  for (const page of ['hello', 'heavy'] as const) {
    for (const key of ['emulator', 'mini', 'core'] as const) {
      const value = p50('fastcgi', page, key);
      const reference = p50('fastcgi', page, 'reference');
      if (value === undefined || reference === undefined) continue;
      const r = value / reference;
      rows.push([`runtime <= ${TARGET_FASTCGI_RATIO}x bare FastCGI round trip, ${page} (${PATH_NAMES[key]})`, ratio(r), `${ms(value)} / ${ms(reference)} ms`, verdict(r <= TARGET_FASTCGI_RATIO)]);
    }
  }
  for (const page of ['hello', 'heavy'] as const) {
    for (const key of ['emulator', 'mini'] as const) {
      const value = p50('cgi', page, key);
      const reference = p50('cgi', page, 'reference');
      if (value === undefined || reference === undefined) continue;
      const r = value / reference;
      rows.push([`CGI mode <= ${TARGET_CGI_RATIO}x php-cgi run directly, ${page} (${PATH_NAMES[key]})`, ratio(r), `${ms(value)} / ${ms(reference)} ms`, verdict(r <= TARGET_CGI_RATIO)]);
    }
  }
  return `
== Targets (p50; ratios are runtime / reference) ==

${table(rows, (c) => c === 1 || c === 2)}
  The emulator rows are the end-to-end figures; the mini rows leave the emulator's own work out; the core rows
  (FastCGI only) also leave the Runtime API transport out: the runtime's code around PHP, in one process.
  The reference for the null runtime (Runtime API client and loop, no PHP) is in the warm table.
`;
}

