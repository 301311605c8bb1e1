import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * dist/bootstrap.js started as the layer starts it on Lambda: /opt/bootstrap (php-build/bootstrap) is
 * a shell script that sources php-build/php-env.sh (PHPRC, PHP_INI_SCAN_DIR, the OPcache file cache
 * folder) and execs Node. The bench runs that very script with this machine's paths (/opt/lambda-php
 * → dist/, /opt/node/bin/node → this Node), with PHPRC set first to the layer's own php.ini
 * (php-build/php.ini) with extension_dir pointed at this php-cgi's modules, and PHP_INI_SCAN_DIR to
 * this php-cgi's conf.d (its extension files) in place of /opt/php/conf.d. The PHP settings are the
 * layer's; only the PHP build is Debian's.
 */
export interface LayerStart {
  /** The command that starts the runtime: sh <start script>. */
  command: string[];
  phpIni: string;
  scanDir: string;
}

export function makeLayerStart(root: string, cacheDir: string, phpCgi: string): LayerStart {
  const dir = path.join(cacheDir, 'layer-start');
  mkdirSync(dir, { recursive: true });
  // Its built-in defaults: without PHPRC and PHP_INI_SCAN_DIR (an empty one would mean "none").
  const { PHPRC: _rc, PHP_INI_SCAN_DIR: _scan, ...env } = process.env;
  const info = execFileSync(phpCgi, ['-i'], { encoding: 'utf8', timeout: 10_000, env });
  const extensionDir = cell(info, 'extension_dir');
  const scanDir = cell(info, 'Scan this dir for additional .ini files');
  if (!extensionDir || !scanDir) throw new Error(`${phpCgi} -i does not name its extension_dir and conf.d`);

  const layerIni = readFileSync(path.join(root, 'php-build', 'php.ini'), 'utf8');
  if (!/^extension_dir\s*=/m.test(layerIni)) throw new Error('php-build/php.ini has no extension_dir line to replace');
  const phpIni = path.join(dir, 'php.ini');
  writeFileSync(phpIni, layerIni.replace(/^extension_dir\s*=.*$/m, `extension_dir = "${extensionDir}"`));

  // php-build/bootstrap itself, with the layer's paths replaced by this machine's: whatever the
  // layer's start does (its environment, Node's flags) the bench does too.
  const layerBootstrap = readFileSync(path.join(root, 'php-build', 'bootstrap'), 'utf8');
  const replacements: Array<[string, string]> = [
    ['/opt/lambda-php/php-env.sh', path.join(root, 'php-build', 'php-env.sh')],
    ['/opt/lambda-php/early-php-cgi.sh', path.join(root, 'php-build', 'early-php-cgi.sh')],
    ['/opt/node/bin/node', process.execPath],
    ['/opt/lambda-php/', `${path.join(root, 'dist')}/`],
  ];
  let text = layerBootstrap;
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`php-build/bootstrap no longer mentions ${from}: update bench/lib/layer-start.ts`);
    text = text.replaceAll(from, to);
  }
  const unmapped = text.split('\n').find((line) => !line.trimStart().startsWith('#') && line.includes('/opt/'));
  if (unmapped !== undefined) throw new Error(`php-build/bootstrap uses a path under /opt that the bench does not map: ${unmapped}`);
  const script = path.join(dir, 'bootstrap');
  writeFileSync(
    script,
    text.replace(
      /^(set -eu\n)/m,
      `$1# The bench's copy (bench/lib/layer-start.ts): the layer's php.ini with this machine's modules.
export PHPRC="\${PHPRC:-${phpIni}}"
export PHP_INI_SCAN_DIR="\${PHP_INI_SCAN_DIR:-${scanDir}:\${LAMBDA_TASK_ROOT:-/var/task}/php/conf.d}"
`,
    ),
  );
  chmodSync(script, 0o755);
  return { command: ['/bin/sh', script], phpIni, scanDir };
}

/** A value of `php-cgi -i`'s HTML table (php-cgi prints phpinfo() as HTML). */
function cell(info: string, name: string): string | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const html = new RegExp(`<td class="e">${escaped}\\s*</td><td class="v">([^<]*?)\\s*</td>`).exec(info)?.[1];
  const text = new RegExp(`^${escaped} => (.*?)(?: => .*)?$`, 'm').exec(info)?.[1];
  const value = (html ?? text)?.trim();
  return value && value !== '(none)' && value !== '<i>no value</i>' ? value : undefined;
}
