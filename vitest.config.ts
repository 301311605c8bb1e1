import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // AWS's published samples live outside the repository: their suite has a config of its own
    // (vitest.aws-samples.config.ts, `npm run test:aws-samples`) and never runs here.
    exclude: [...configDefaults.exclude, 'test/aws-samples/**'],
    // The end-to-end and container suites run dist/bootstrap.js: build it once before any test.
    globalSetup: ['test/support/build-once.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two cores: end-to-end files each start php-cgi processes; keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
