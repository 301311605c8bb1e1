/**
 * Under `npm run mutation` (Stryker), the end-to-end tests' bootstrap is a child process running
 * dist/bootstrap.js, which the suite's global setup bundles from the sandbox's instrumented sources:
 * every mutant is in it, switched off. A child only switches one on when its environment names it
 * (__STRYKER_ACTIVE_MUTANT__, read by the instrumented code), and the Lambda-like environment the
 * tests give a bootstrap inherits nothing from the test process: so each harness that starts one
 * adds this. It also loads child-hooks.mjs into the child (the kill guard, and during Stryker's
 * first run the report of the mutants the child reaches).
 *
 * Outside Stryker this is empty, and the tests run exactly as they do in `./run test`.
 */
import { MUTATION_COVERAGE_DIR_VARIABLE, MUTATION_KILL_LOG_VARIABLE, MUTATION_ROOT_PID_VARIABLE, strykerNamespace } from './stryker-namespace.ts';

const CHILD_HOOKS = new URL('./child-hooks.mjs', import.meta.url).href;

export function mutationTestingEnvironment(): Record<string, string> {
  const stryker = strykerNamespace();
  const rootPid = process.env[MUTATION_ROOT_PID_VARIABLE];
  if (!stryker || rootPid === undefined) return {};
  const env: Record<string, string> = { [MUTATION_ROOT_PID_VARIABLE]: rootPid, NODE_OPTIONS: `--import=${CHILD_HOOKS}` };
  if (stryker.activeMutant !== undefined) env.__STRYKER_ACTIVE_MUTANT__ = String(stryker.activeMutant);
  const killLog = process.env[MUTATION_KILL_LOG_VARIABLE];
  if (killLog) env[MUTATION_KILL_LOG_VARIABLE] = killLog;
  const coverageDir = process.env[MUTATION_COVERAGE_DIR_VARIABLE];
  if (coverageDir) env[MUTATION_COVERAGE_DIR_VARIABLE] = coverageDir;
  return env;
}
