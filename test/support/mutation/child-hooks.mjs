/**
 * Loaded into each bootstrap (or CLI) child of an e2e test by NODE_OPTIONS=--import, under
 * `npm run mutation` only (child-environment.ts sets it). Two things:
 * - the kill guard (kill-guard.mjs), so that a mutant in the bootstrap cannot signal processes
 *   this run did not start;
 * - during Stryker's first run, the coverage report: Stryker records which mutants the code reaches
 *   in `globalThis.__stryker__.mutantCoverage`, but a child's record dies with the child. This
 *   writes it to LAMBDA_PHP_MUTATION_COVERAGE_DIR, where the test process picks it up after each
 *   test (setup.ts) and charges it to that test. Without it Stryker would believe that no e2e test
 *   reaches the bootstrap's code, and never run one against its mutants.
 *
 * Plain JavaScript: Node loads it before the bundle, with no TypeScript step in between.
 */
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { installKillGuard } from './kill-guard.mjs';

installKillGuard();

const directory = process.env.LAMBDA_PHP_MUTATION_COVERAGE_DIR;

if (directory) {
  // The instrumented code creates the same objects when it runs first; sharing them is the point.
  const stryker = (globalThis.__stryker__ ??= {});
  const coverage = (stryker.mutantCoverage ??= { static: {}, perTest: {} });
  let written = 0;

  /** Writes the mutants reached since the last write (mutant id to hit count), atomically. */
  const flush = () => {
    const reached = coverage.static;
    if (Object.keys(reached).length === 0) return;
    coverage.static = {};
    const file = path.join(directory, `${process.pid}-${written++}.coverage.json`);
    try {
      writeFileSync(`${file}.partial`, JSON.stringify(reached));
      renameSync(`${file}.partial`, file);
    } catch {
      // The test file has ended and its folder is gone: nobody is left to charge this to.
    }
  };

  // The test process asks with SIGUSR2 at the end of each test and waits for the acknowledgement.
  let acknowledged = 0;
  process.on('SIGUSR2', () => {
    flush();
    try {
      writeFileSync(path.join(directory, `${process.pid}.ack`), String(++acknowledged));
    } catch {
      // As above.
    }
  });
  process.on('exit', flush);
  // A bootstrap killed with SIGKILL runs no handler: what it reached until the last tick is kept.
  setInterval(flush, 100).unref();
  try {
    writeFileSync(path.join(directory, `${process.pid}.pid`), '');
  } catch {
    // As above.
  }
}
