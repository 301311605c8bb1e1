/**
 * A vitest setup file of vitest.mutation.config.ts only. It installs the kill guard (kill-guard.mjs)
 * in the test process. In Stryker's first run (the "dry run", which records which tests reach which
 * mutants), it also gives the children of each test file a folder to write the mutants they reach
 * (child-hooks.mjs), and after each test charges what they wrote to that test. Stryker then runs
 * the end-to-end tests against the mutants of the bootstrap's code, and only the tests that reach
 * a mutant.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, inject } from 'vitest';
import { installKillGuard } from './kill-guard.mjs';
import { MUTATION_COVERAGE_DIR_VARIABLE, strykerNamespace } from './stryker-namespace.ts';

installKillGuard();

/** How long a child gets to answer SIGUSR2; one busy past it keeps its record until the next ask. */
const FLUSH_WAIT_MS = 2_000;

// Provided by Stryker's vitest runner: 'dry-run' for the first run, 'mutant' for each mutant's.
const mode = inject('mode' as never) as unknown;

if (mode === 'dry-run') {
  const directory = mkdtempSync(path.join(tmpdir(), 'lambda-php-mutation-coverage-'));
  process.env[MUTATION_COVERAGE_DIR_VARIABLE] = directory;
  // Vitest runs after-hooks in reverse order: this one runs after the test file's own (which may
  // stop its children) and before Stryker's, which forgets the current test.
  afterEach(() => collect(directory));
  afterAll(() => {
    delete process.env[MUTATION_COVERAGE_DIR_VARIABLE];
    rmSync(directory, { recursive: true, force: true });
  });
}

async function collect(directory: string): Promise<void> {
  const pids = readdirSync(directory).filter((name) => name.endsWith('.pid')).map((name) => Number(name.slice(0, -'.pid'.length)));
  await Promise.all(pids.map((pid) => askToFlush(directory, pid)));
  const stryker = strykerNamespace();
  const testId = stryker?.currentTestId;
  for (const name of readdirSync(directory).filter((entry) => entry.endsWith('.coverage.json'))) {
    const file = path.join(directory, name);
    const reached = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
    rmSync(file);
    if (!stryker || testId === undefined) continue;
    const coverage = (stryker.mutantCoverage ??= { static: {}, perTest: {} });
    const perTest = (coverage.perTest[testId] ??= {});
    for (const [mutant, hits] of Object.entries(reached)) perTest[mutant] = (perTest[mutant] ?? 0) + hits;
  }
}

/** SIGUSR2 to a child that registered in `directory`, if it still runs; waits for its acknowledgement. */
async function askToFlush(directory: string, pid: number): Promise<void> {
  if (!isRegisteredChild(directory, pid)) {
    rmSync(path.join(directory, `${pid}.pid`), { force: true });
    return;
  }
  const ackFile = path.join(directory, `${pid}.ack`);
  const before = readCount(ackFile);
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return;
  }
  for (let waited = 0; waited < FLUSH_WAIT_MS; waited += 10) {
    if (readCount(ackFile) > before || !isRegisteredChild(directory, pid)) return;
    await delay(10);
  }
}

/**
 * Whether `pid` is still the Node child that registered in `directory`: pids are reused (pid_max is
 * often 32768), and SIGUSR2 ends a process that does not handle it.
 */
function isRegisteredChild(directory: string, pid: number): boolean {
  try {
    if (readlinkSync(`/proc/${pid}/exe`) !== readlinkSync('/proc/self/exe')) return false;
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${MUTATION_COVERAGE_DIR_VARIABLE}=${directory}`);
  } catch {
    return false;
  }
}

function readCount(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8')) || 0;
  } catch {
    return 0;
  }
}
