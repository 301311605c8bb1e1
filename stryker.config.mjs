// Mutation testing with Stryker: `npm run mutation` (scripts/mutation.mjs), which runs Stryker once
// per folder with LAMBDA_PHP_MUTATION_FOLDER set. See the README's "Mutation testing" and
// mutation-baseline.md (the surviving mutants, each with the reason it is equivalent).

import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { MUTATED_FOLDERS } from './scripts/mutation-folders.mjs';

const folder = process.env.LAMBDA_PHP_MUTATION_FOLDER;
if (folder !== undefined && !MUTATED_FOLDERS.includes(folder)) {
  throw new Error(`LAMBDA_PHP_MUTATION_FOLDER=${folder}: expected one of ${MUTATED_FOLDERS.join(', ')}`);
}
const folders = folder === undefined ? MUTATED_FOLDERS : [folder];
// Each folder keeps its own results: Stryker's incremental file holds only the files of its run.
const reports = `reports/mutation/${folder ?? 'all'}`;
// Stryker's pid, for test/support/mutation/kill-guard.mjs: no process as old as this run (or older)
// is ever signalled by a mutant. Stryker's workers and the test processes inherit it.
process.env.LAMBDA_PHP_MUTATION_ROOT_PID = String(process.pid);
process.env.LAMBDA_PHP_MUTATION_KILL_LOG = path.resolve(reports, 'refused-kills.log');
mkdirSync(reports, { recursive: true });
rmSync(process.env.LAMBDA_PHP_MUTATION_KILL_LOG, { force: true });

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: {
    configFile: 'vitest.mutation.config.ts',
    // The e2e tests reach the bootstrap's code through dist/bootstrap.js, not through imports:
    // vitest's "related" filter would never pick them. Coverage per test picks the tests instead.
    related: false,
    pool: 'forks',
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: `${reports}/incremental.json`,
  // The machine is shared: one test runner (and one checker).
  concurrency: 1,
  mutate: [...folders.map((name) => `src/${name}/**/*.ts`), '!src/**/*.d.ts'],
  ignorePatterns: ['dist', 'build', 'reports', '.cache', 'bench'],
  // A mutant's run may take timeoutFactor times what its tests took in the first run, plus
  // timeoutMS. Generous on purpose: the machine is shared, e2e tests wait on child processes, and
  // a static mutant (one in a module-level constant) reloads and runs the whole suite, whose time
  // varies with the load; a run cut short by the clock would count as a kill it is not.
  timeoutFactor: 3,
  timeoutMS: 20_000,
  dryRunTimeoutMinutes: 15,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `${reports}/mutation.html` },
  jsonReporter: { fileName: `${reports}/mutation.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportTests: false, reportScoreTable: true, reportMutants: true },
  thresholds: { high: 90, low: 85, break: null },
};
