/**
 * The global object through which Stryker's instrumented code and its vitest runner talk
 * (`globalThis.__stryker__`): which mutant is on, which test is running, and the mutants each test
 * reached. It exists only under `npm run mutation`.
 */
export interface StrykerNamespace {
  activeMutant?: string | number;
  currentTestId?: string;
  mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> };
}

/** Where child processes write the mutants they reached (set by setup.ts, in Stryker's first run only). */
export const MUTATION_COVERAGE_DIR_VARIABLE = 'LAMBDA_PHP_MUTATION_COVERAGE_DIR';
/** Stryker's own pid (set by stryker.config.mjs): processes older than it are never signalled (kill-guard.mjs). */
export const MUTATION_ROOT_PID_VARIABLE = 'LAMBDA_PHP_MUTATION_ROOT_PID';
/** Where kill-guard.mjs notes each signal it refused (set by stryker.config.mjs). */
export const MUTATION_KILL_LOG_VARIABLE = 'LAMBDA_PHP_MUTATION_KILL_LOG';

export function strykerNamespace(): StrykerNamespace | undefined {
  return (globalThis as { __stryker__?: StrykerNamespace }).__stryker__;
}
