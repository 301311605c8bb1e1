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
// the bootstrap. The layer builds its own for the layer's glibc (scripts/layer/build-layer.sh); this one is
// for running dist/bootstrap.js here. Without a C compiler CGI mode still works, spawning from Node.
const spawnerSource = 'src/cgi/spawner/cgi-spawner.c';
const spawnerBinary = 'dist/cgi-spawner';
const compiler = ['cc', 'gcc'].find((name) => spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0);
if (compiler === undefined) {
  rmSync(spawnerBinary, { force: true });
  console.warn(`build: no C compiler (cc): ${spawnerBinary} not built, so PHP_CGI_MODE=cgi spawns php-cgi from Node`);
} else {
  const compiled = spawnSync(compiler, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', spawnerBinary, spawnerSource], { stdio: 'inherit' });
  if (compiled.status !== 0) throw new Error(`${compiler} could not compile ${spawnerSource}`);
}
