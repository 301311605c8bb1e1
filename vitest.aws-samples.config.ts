import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * An extra suite, not part of `./run test`: AWS's published sample events, which the project's
 * machines keep beside the repository in ../shared/events. The main suite uses the repository's own
 * fixtures (test/fixtures/events) and needs nothing outside it. Run with `npm run test:aws-samples`.
 */
const SAMPLES = new URL('../shared/events/', import.meta.url);
if (!existsSync(SAMPLES)) {
  throw new Error(`AWS's sample events are not at ${SAMPLES.pathname}: this extra suite needs them; the main suite (./run test) does not`);
}

export default defineConfig({
  test: {
    include: ['test/aws-samples/**/*.test.ts'],
    globalSetup: ['test/support/build-once.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
