import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalLambda } from '../../src/local/local-lambda.ts';
import { BootstrapChild, delay } from './bootstrap-child.ts';
import { MiniRuntimeApi } from './mini-runtime-api.ts';
import { table } from './stats.ts';
import type { Setup } from './warm.ts';

/**
 * --profile: where the time goes. The bootstrap is started with --cpu-prof (FastCGI mode, hello
 * page, behind the minimal Runtime API); the emulator, which lives in this process, is profiled with
 * the inspector while it drives its own bootstrap. Samples are attributed to source files through
 * the bundles' source maps.
 */

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileReport {
  title: string;
  invocations: number;
  totalMs: number;
  idleMs: number;
  byFile: Array<{ file: string; selfMs: number }>;
  byFunction: Array<{ name: string; where: string; selfMs: number }>;
}

/** Measured invocations per profile, by page; each after WARMUP unmeasured ones. */
const PROFILE_INVOCATIONS = { hello: 2000, heavy: 500 } as const;
const WARMUP = 200;
const TIMEOUT_MS = 30_000;

export async function profileBootstrap(setup: Setup, page: 'hello' | 'heavy', cacheDir: string, root: string): Promise<ProfileReport> {
  const dir = path.join(cacheDir, 'profiles');
  const name = `bootstrap-fastcgi-${page}.cpuprofile`;
  const count = PROFILE_INVOCATIONS[page];
  mkdirSync(dir, { recursive: true });
  rmSync(path.join(dir, name), { force: true });
  const api = await MiniRuntimeApi.start();
  const child = new BootstrapChild({
    bootstrap: setup.bootstrap,
    taskRoot: setup.taskRoot,
    runtimeApi: api.address,
    mode: 'fastcgi',
    phpCgi: setup.phpCgi,
    command: setup.launch,
    env: { ...setup.phpEnv, NODE_OPTIONS: `--cpu-prof --cpu-prof-interval=100 --cpu-prof-dir=${dir} --cpu-prof-name=${name}` },
  });
  let measuredFrom = 0;
  let measuredTo = 0;
  try {
    await api.nextRequest(TIMEOUT_MS);
    for (let i = 0; i < WARMUP + count; i++) {
      if (i === WARMUP) measuredFrom = performance.now();
      const outcome = await api.invoke(setup.event, TIMEOUT_MS);
      if (outcome.kind !== 'response') throw new Error(`function error while profiling: ${outcome.payload.toString('utf8').slice(0, 300)}`);
      await api.nextRequest(TIMEOUT_MS);
    }
    measuredTo = performance.now();
  } finally {
    // SIGTERM: the bootstrap stops php-cgi and exits normally, which writes the profile.
    await child.stop(5000);
    await api.close();
  }
  const file = path.join(dir, name);
  for (let i = 0; i < 50 && !existsSync(file); i++) await delay(100);
  if (!existsSync(file)) throw new Error(`the bootstrap wrote no CPU profile at ${file}`);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  // The profile starts when the bootstrap's Node has booted (a few tens of ms after exec): a window a
  // little inside the measured loop, whatever that delay, leaves start-up, warm-up and shutdown out.
  const window = { fromMs: measuredFrom - child.startedAt + 10, toMs: measuredTo - child.startedAt - 100 };
  const invocations = (count * (window.toMs - window.fromMs)) / (measuredTo - measuredFrom);
  return analyze(
    `bootstrap (dist/bootstrap.js with --cpu-prof, 100 µs sampling), FastCGI, ${page}: ${count} measured invocations after ${WARMUP} of warm-up\n  profile: ${path.relative(root, file)}`,
    profile,
    invocations,
    root,
    window,
  );
}

export async function profileEmulator(setup: Setup, root: string): Promise<ProfileReport> {
  const lambda = await LocalLambda.start({
    command: setup.launch,
    taskRoot: setup.taskRoot,
    handler: 'index.php',
    env: { PHP_CGI_MODE: 'fastcgi', PHP_CGI_BINARY: setup.phpCgi, ...setup.phpEnv },
    timeoutMs: TIMEOUT_MS,
    log: () => {},
  });
  const session = new Session();
  try {
    for (let i = 0; i < WARMUP; i++) await invokeOk(lambda, setup.event);
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const count = PROFILE_INVOCATIONS.hello;
    for (let i = 0; i < count; i++) await invokeOk(lambda, setup.event);
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    return analyze(`emulator (this process: LocalLambda + RuntimeApiEmulator, inspector, 100 µs sampling), FastCGI, hello, ${count} invocations`, profile, count, root);
  } finally {
    session.disconnect();
    await lambda.stop();
  }
}

async function invokeOk(lambda: LocalLambda, event: Buffer): Promise<void> {
  const result = await lambda.invoke(event);
  if (result.functionError) throw new Error(`function error while profiling: ${result.functionError.errorMessage}`);
}

const sourceMaps = new Map<string, SourceMap | undefined>();

function sourceMapFor(url: string): SourceMap | undefined {
  if (sourceMaps.has(url)) return sourceMaps.get(url);
  let map: SourceMap | undefined;
  try {
    const file = fileURLToPath(url);
    const mapFile = `${file}.map`;
    if (existsSync(mapFile)) map = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')));
  } catch {
    map = undefined;
  }
  sourceMaps.set(url, map);
  return map;
}

/** 'src/cgi/fastcgi/fastcgi-connection.ts:120', 'node_modules/undici/lib/…', 'node:internal/…'. */
function locate(frame: CpuProfileNode['callFrame'], root: string): { file: string; where: string } {
  const { url, lineNumber, columnNumber } = frame;
  if (url === '') return { file: frame.functionName.startsWith('(') ? frame.functionName : '(native)', where: '' };
  if (url.startsWith('node:')) return { file: url, where: `${url}:${lineNumber + 1}` };
  if (url.startsWith('file:')) {
    const map = sourceMapFor(url);
    const entry = map?.findEntry(lineNumber, columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
    if (entry?.originalSource) {
      let source = entry.originalSource;
      if (source.startsWith('file:')) source = fileURLToPath(source);
      const mapDir = path.dirname(fileURLToPath(url));
      const relative = path.relative(root, path.resolve(mapDir, source));
      return { file: relative, where: `${relative}:${(entry.originalLine ?? 0) + 1}` };
    }
    const relative = path.relative(root, fileURLToPath(url));
    return { file: relative, where: `${relative}:${lineNumber + 1}` };
  }
  return { file: url, where: `${url}:${lineNumber + 1}` };
}

/** `window`: only samples this many ms after the profile's start count. */
function analyze(title: string, profile: CpuProfile, invocations: number, root: string, window?: { fromMs: number; toMs: number }): ProfileReport {
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time since the previous sample: the time up to sample i + 1 belongs to sample i.
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at / 1000 < window.fromMs || at / 1000 > window.toMs)) continue;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, delta));
  }
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, { name: string; where: string; selfMs: number }>();
  let idleMs = 0;
  let totalMs = 0;
  for (const node of profile.nodes) {
    const selfMs = (selfUs.get(node.id) ?? 0) / 1000;
    if (selfMs === 0) continue;
    totalMs += selfMs;
    if (node.callFrame.functionName === '(idle)') {
      idleMs += selfMs;
      continue;
    }
    const { file, where } = locate(node.callFrame, root);
    byFile.set(file, (byFile.get(file) ?? 0) + selfMs);
    const name = node.callFrame.functionName || '(anonymous)';
    const key = `${name} ${where}`;
    const entry = byFunction.get(key) ?? { name, where, selfMs: 0 };
    entry.selfMs += selfMs;
    byFunction.set(key, entry);
  }
  return {
    title,
    invocations,
    totalMs,
    idleMs,
    byFile: [...byFile].map(([file, selfMs]) => ({ file, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
    byFunction: [...byFunction.values()].sort((a, b) => b.selfMs - a.selfMs),
  };
}

export function formatProfile(report: ProfileReport): string {
  const busy = report.totalMs - report.idleMs;
  const per = (value: number): string => `${((value * 1000) / report.invocations).toFixed(1)} µs`;
  const share = (value: number): string => `${((value / busy) * 100).toFixed(1)}%`;
  const lines = [
    report.title,
    `  ${report.totalMs.toFixed(0)} ms profiled over ~${report.invocations.toFixed(0)} invocations; busy (not idle) ${busy.toFixed(0)} ms = ${per(busy)} of CPU per invocation`,
    '',
    table([['  self time by file', 'ms', 'per invocation', 'share'], ...report.byFile.slice(0, 14).map((f) => [`  ${f.file}`, f.selfMs.toFixed(1), per(f.selfMs), share(f.selfMs)])], (c) => c > 0),
    '',
    table(
      [['  self time by function', 'where', 'ms', 'per invocation', 'share'], ...report.byFunction.slice(0, 20).map((f) => [`  ${f.name}`, f.where, f.selfMs.toFixed(1), per(f.selfMs), share(f.selfMs)])],
      (c) => c > 1,
    ),
  ];
  return lines.join('\n');
}
