#!/usr/bin/env node
// The benchmark's entry point: `./run bench [options]` (builds dist/ first), `npm run bench`, or
// `node bench/run.mjs [options]` after `node scripts/build.mjs`. Options: --help.
//
// The benchmark is TypeScript (bench/bench.ts) and imports the runtime's own modules from src/, which
// Node's type stripping cannot load (parameter properties): it is bundled with esbuild into .cache/
// (gitignored) and run from there. It measures dist/bootstrap.js, the file Lambda runs.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(root, '.cache', 'bench');

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(`The benchmark needs Node 22 or later (this is ${process.version}): export PATH=${root}/node_modules/.bin:$PATH`);
  process.exit(1);
}

try {
  await build({
    // The benchmark, the process that runs the references, and a runtime without PHP.
    entryPoints: ['bench', 'reference-worker', 'null-runtime'].map((name) => ({ in: path.join(root, 'bench', `${name}.ts`), out: name })),
    outdir: cacheDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    sourcemap: 'linked',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  const { main } = await import(pathToFileURL(path.join(cacheDir, 'bench.mjs')).href);
  process.exitCode = await main(process.argv.slice(2), { root, cacheDir });
} catch (error) {
  console.error(`\nbench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
