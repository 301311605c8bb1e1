import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The end-to-end and container suites run dist/bootstrap.js: build it once before any test.
    globalSetup: ['test/support/build-once.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two cores: end-to-end files each start php-cgi processes; keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
