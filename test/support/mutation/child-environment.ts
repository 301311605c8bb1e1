/**
 * Under `npm run mutation` (Stryker), the end-to-end tests' bootstrap is a child process running
 * dist/bootstrap.js, which the suite's global setup bundles from the sandbox's instrumented sources:
 * every mutant is in it, switched off. A child only switches one on when its environment names it
 * (__STRYKER_ACTIVE_MUTANT__, read by the instrumented code), and the Lambda-like environment the
 * tests give a bootstrap inherits nothing from the test process: so each harness that starts one
 * adds this. During Stryker's first run it also loads child-coverage.mjs into the child, so that
 * the mutants a child reaches are charged to the test that made it reach them.
 *
 * Outside Stryker this is empty, and the tests run exactly as they do in `./run test`.
 */
import { MUTATION_COVERAGE_DIR_VARIABLE, strykerNamespace } from './stryker-namespace.ts';

const CHILD_COVERAGE = new URL('./child-coverage.mjs', import.meta.url).href;

export function mutationTestingEnvironment(): Record<string, string> {
  const stryker = strykerNamespace();
  if (!stryker) return {};
  const env: Record<string, string> = {};
  if (stryker.activeMutant !== undefined) env.__STRYKER_ACTIVE_MUTANT__ = String(stryker.activeMutant);
  const coverageDir = process.env[MUTATION_COVERAGE_DIR_VARIABLE];
  if (coverageDir) {
    env[MUTATION_COVERAGE_DIR_VARIABLE] = coverageDir;
    env.NODE_OPTIONS = `--import=${CHILD_COVERAGE}`;
  }
  return env;
}
