import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * The tests `npm run mutation` (Stryker, stryker.config.mjs) runs against mutants: the unit and
 * end-to-end suites, with the suite's own settings. The container suite is left out: it runs the
 * layer Docker builds, in a container, which mutant switching cannot reach (and it takes minutes).
 */
export default defineConfig({
  test: {
    ...base.test,
    include: ['test/unit/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    // Stryker's sandbox copies symbolic links as files: put them back, then build dist/ (from the
    // sandbox's instrumented sources, so that the e2e bootstraps carry the mutants).
    globalSetup: ['test/support/mutation/restore-symlinks.ts', 'test/support/build-once.ts'],
    // The kill guard, and the coverage of the e2e bootstraps, which are child processes.
    setupFiles: ['test/support/mutation/setup.ts'],
  },
});
