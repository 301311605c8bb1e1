// Bundles the runtime and the CLI into single files that need no node_modules at run time:
// the layer ships dist/bootstrap.js alone next to php-cgi.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'none',
  // undici and friends use require() of node builtins; give the ESM bundle a require().
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
};

await build({ ...common, entryPoints: { bootstrap: 'src/bootstrap.ts', cli: 'src/local/cli.ts' }, outdir: 'dist', outExtension: { '.js': '.js' } });

// cgi-spawner (src/cgi/spawner/cgi-spawner.c) lets PHP_CGI_MODE=cgi start php-cgi without forking
// the bootstrap, and ties every php-cgi (both modes) to the bootstrap's life, so that none outlives
// a bootstrap killed with SIGKILL. The layer builds its own for the layer's glibc
// (scripts/layer/build-layer.sh); this one is for running dist/bootstrap.js here. Without a C
// compiler both modes still work, php-cgi spawned from Node: CGI mode then forks the bootstrap on
// every request (about a millisecond), and a SIGKILLed bootstrap leaves its php-cgi running.
const spawnerSource = 'src/cgi/spawner/cgi-spawner.c';
const spawnerBinary = 'dist/cgi-spawner';
const compiler = ['cc', 'gcc'].find((name) => spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0);
if (compiler === undefined) {
  rmSync(spawnerBinary, { force: true });
  console.warn(`build: no C compiler (cc): ${spawnerBinary} not built, so php-cgi is spawned from Node (CGI mode forks the bootstrap per request) and can outlive a bootstrap killed with SIGKILL`);
} else {
  const compiled = spawnSync(compiler, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', spawnerBinary, spawnerSource], { stdio: 'inherit' });
  if (compiled.status !== 0) throw new Error(`${compiler} could not compile ${spawnerSource}`);
}
