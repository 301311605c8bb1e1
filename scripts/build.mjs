// Bundles the runtime and the CLI into single files that need no node_modules at run time:
// the layer ships dist/bootstrap.js alone next to php-cgi.
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
