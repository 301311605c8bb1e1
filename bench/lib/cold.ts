import { spawn } from 'node:child_process';
import { BootstrapChild, type PhpMode } from './bootstrap-child.ts';
import { resultBody } from './event.ts';
import { MiniRuntimeApi } from './mini-runtime-api.ts';
import { PAGES } from './pages.ts';
import { median } from './stats.ts';
import type { Setup } from './warm.ts';

/**
 * Cold starts through the bench's minimal Runtime API: the event is queued first, then the bootstrap
 * is exec'd; we note when its first GET /next arrives (its init is over: Lambda's Init Duration) and
 * when its answer to that first event has been read (what a caller of a cold function waits for).
 */

export interface ColdResult {
  mode: PhpMode;
  toFirstNext: number[];
  toFirstResponse: number[];
}

export interface Baselines {
  /** Exec → exit of `node -e 0`: Node's own start-up, which every bootstrap start includes. */
  nodeStart: number;
  /** Exec → exit of `php-cgi -v`: what CGI mode's init check costs. */
  phpCgiVersion: number;
}

const TIMEOUT_MS = 30_000;

export async function measureCold(mode: PhpMode, setup: Setup, runs: number): Promise<ColdResult> {
  const api = await MiniRuntimeApi.start();
  const result: ColdResult = { mode, toFirstNext: [], toFirstResponse: [] };
  try {
    for (let i = 0; i < runs; i++) {
      api.reset();
      const answer = api.invoke(setup.event, TIMEOUT_MS);
      answer.catch(() => {});
      const child = new BootstrapChild({ bootstrap: setup.bootstrap, taskRoot: setup.taskRoot, runtimeApi: api.address, mode, phpCgi: setup.phpCgi, command: setup.launch, env: setup.phpEnv });
      try {
        const outcome = await Promise.race([
          answer,
          child.exited.then(() => Promise.reject(new Error(`the bootstrap exited during a cold start:\n${child.output.join('\n')}`))),
        ]);
        if (outcome.kind !== 'response') throw new Error(`function error on a cold start (${mode}): ${outcome.payload.toString('utf8').slice(0, 500)}`);
        if (i === 0) PAGES.hello.verify(resultBody(outcome.payload));
        if (api.firstNextAt === undefined) throw new Error('no GET /next was seen');
        result.toFirstNext.push(api.firstNextAt - child.startedAt);
        result.toFirstResponse.push(outcome.marks.answered - child.startedAt);
        if (api.initError) throw new Error(`the bootstrap posted /init/error: ${api.initError}`);
      } finally {
        await child.stop();
      }
    }
  } finally {
    await api.close();
  }
  return result;
}

export async function measureBaselines(phpCgi: string, runs: number): Promise<Baselines> {
  const nodeStart: number[] = [];
  const phpVersion: number[] = [];
  for (let i = 0; i < runs; i++) {
    nodeStart.push(await timeExit(process.execPath, ['-e', '0']));
    phpVersion.push(await timeExit(phpCgi, ['-v']));
  }
  return { nodeStart: median(nodeStart), phpCgiVersion: median(phpVersion) };
}

function timeExit(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    });
  });
}
