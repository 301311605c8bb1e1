import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The layer's PHP settings for a php-cgi on this machine (`serve`, `invoke`), so that local runs
 * behave as the function does on Lambda. The one source is php-build/php.ini, the file the layer
 * ships as /opt/php/php.ini. It is given to php-cgi as PHPRC (the machine's own php.ini, Debian's
 * `upload_max_filesize = 2M` and the like, is then not read), changed only where it cannot or must
 * not apply here:
 * - `extension_dir` is left out: the local PHP keeps its own extensions (its compiled-in
 *   directory, which its own conf.d names them against);
 * - `opcache.validate_timestamps = 1`, so that edits show (Lambda's code never changes);
 * - a setting that names one of the layer's own helpers under /opt/lambda-php (sendmail_path) names
 *   the same file in php-build/, where the layer takes it from;
 * - the folders under /tmp that the settings name are created, as the layer's start script does.
 * Then, as on Lambda, the PHP's own conf.d (its extensions) and the app's php/conf.d are scanned.
 */

/** The settings that differ from the layer's file, and why (printed when `serve` starts). */
export const LOCAL_DIFFERENCES = "opcache.validate_timestamps=1 so that edits show; extension_dir left to this PHP; the layer's /opt/lambda-php helpers from php-build/";

/** Where the layer puts the helper files it ships from php-build/ (package-layers.sh). */
const LAYER_HELPERS = '/opt/lambda-php/';

export interface LocalPhpIni {
  /** The generated php.ini (PHPRC). */
  file: string;
  /** The layer's own file it was made from. */
  source: string;
  /** PHPRC and, when the app has a php/conf.d, PHP_INI_SCAN_DIR. */
  env: Record<string, string>;
  /** Removes the generated file. */
  remove(): void;
}

/** php-build/php.ini from the project root. */
export function layerIniPath(projectRoot: string): string {
  return path.join(projectRoot, 'php-build', 'php.ini');
}

/**
 * The layer's php.ini text with the local changes: `extension_dir` commented out,
 * `opcache.validate_timestamps` set to 1 (added when the file does not set it), and a value naming
 * a helper under /opt/lambda-php/ pointed at that file in `helpersDir` (php-build/).
 */
export function localIniText(layerIni: string, helpersDir?: string): string {
  let validateTimestampsSet = false;
  const lines = layerIni.split('\n').map((line) => {
    const directive = directiveOf(line);
    if (directive?.name === 'extension_dir') return `; (local: this PHP's own extension_dir) ${line}`;
    if (directive?.name === 'opcache.validate_timestamps') {
      validateTimestampsSet = true;
      return `opcache.validate_timestamps = 1 ; (local: edits show; the layer has ${directive.value})`;
    }
    if (helpersDir !== undefined && directive?.value.startsWith(LAYER_HELPERS)) {
      return `${directive.name} = "${path.join(helpersDir, directive.value.slice(LAYER_HELPERS.length))}" ; (local: the layer has ${directive.value})`;
    }
    return line;
  });
  const header = `; Made by lambda-php serve/invoke from the layer's php-build/php.ini: ${LOCAL_DIFFERENCES}.\n`;
  const text = header + lines.join('\n');
  return validateTimestampsSet ? text : `${text}\nopcache.validate_timestamps = 1\n`;
}

/** The folders under /tmp that settings in the file name (opcache.file_cache, upload_tmp_dir, ...). */
export function tmpFoldersNamed(iniText: string): string[] {
  const folders = new Set<string>();
  for (const line of iniText.split('\n')) {
    const value = directiveOf(line)?.value;
    if (value === undefined) continue;
    // session.save_path may be "N;/path": the folder is the last part.
    const folder = value.split(';').at(-1)!;
    if (folder === '/tmp' || folder.startsWith('/tmp/')) folders.add(folder);
  }
  return [...folders];
}

/**
 * Writes the local php.ini into a fresh temporary folder and returns the environment that makes
 * php-cgi read it and then `appConfD` (when it exists). A PHPRC or PHP_INI_SCAN_DIR the user set
 * wins, as on Lambda, where the layer's start script only fills them in.
 */
export function prepareLocalPhpIni(layerIni: string, appConfD: string, userEnv: Record<string, string> = {}): LocalPhpIni {
  if (!existsSync(layerIni)) throw new Error(`The layer's php.ini is missing at ${layerIni}: it is part of the repository (php-build/php.ini)`);
  const layerText = readFileSync(layerIni, 'utf8');
  const text = localIniText(layerText, path.dirname(layerIni));
  // The layer's folders, not the local file's: a helper of php-build/ may itself lie under /tmp.
  for (const folder of tmpFoldersNamed(layerText)) mkdirSync(folder, { recursive: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'lambda-php-ini-'));
  const file = path.join(dir, 'php.ini');
  writeFileSync(file, text);
  const env: Record<string, string> = { PHPRC: userEnv.PHPRC ?? file };
  // The leading ':' keeps the local PHP's compiled-in scan directory (its extensions) first, as the
  // layer scans /opt/php/conf.d before the app's folder.
  const scanDir = userEnv.PHP_INI_SCAN_DIR ?? (existsSync(appConfD) ? `:${appConfD}` : undefined);
  if (scanDir !== undefined) env.PHP_INI_SCAN_DIR = scanDir;
  return { file, source: layerIni, env, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface PhpInUse {
  binary: string;
  version: string;
  loadedIni: string | undefined;
  scannedInis: string[];
}

/**
 * Asks the php-cgi the function will run which ini files it reads with `env`: what `serve` prints
 * when it starts. A php-cgi that cannot run is reported by the function's own init check.
 */
export function phpInUse(binary: string, env: Record<string, string>): Promise<PhpInUse> {
  return new Promise((resolve, reject) => {
    // With no CGI variables php-cgi runs the script on its stdin; -q leaves out the headers.
    const child = spawn(binary, ['-q'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'ignore'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', (error) => reject(new Error(`cannot run ${binary}: ${error.message}`)));
    child.on('close', (code) => {
      const [version, loaded, scanned] = output.split('\u0000');
      if (code !== 0 || scanned === undefined) return reject(new Error(`${binary} could not report its ini files (exit code ${code})`));
      resolve({
        binary,
        version: version!,
        loadedIni: loaded || undefined,
        scannedInis: scanned.split(',').map((file) => file.trim()).filter((file) => file !== ''),
      });
    });
    child.stdin.end('<?php echo PHP_VERSION, "\\0", php_ini_loaded_file() ?: "", "\\0", php_ini_scanned_files() ?: "";');
  });
}

/** Lines for the start of `serve`: the php-cgi, its php.ini, and the scanned files folder by folder. */
export function describePhpInUse(php: PhpInUse, ini: Pick<LocalPhpIni, 'file' | 'source'>): string[] {
  const loaded = php.loadedIni === undefined
    ? 'none (PHPRC points nowhere PHP could read)'
    : php.loadedIni === ini.file ? `${ini.file}, the layer's ${ini.source} with ${LOCAL_DIFFERENCES}` : php.loadedIni;
  const byFolder = new Map<string, string[]>();
  for (const file of php.scannedInis) byFolder.set(path.dirname(file), [...(byFolder.get(path.dirname(file)) ?? []), path.basename(file)]);
  const scanned = [...byFolder].map(([folder, files]) => `${folder} (${files.join(', ')})`).join(', then ');
  return [`php-cgi: ${php.binary} (PHP ${php.version})`, `php.ini: ${loaded}`, `conf.d:  ${scanned || 'none'}`];
}

/** The php-cgi the bootstrap will run, as src/config.ts finds it, made absolute through PATH. */
export function resolveOnPath(binary: string, pathVariable: string | undefined): string {
  if (binary.includes('/')) return path.resolve(binary);
  for (const dir of (pathVariable ?? '').split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  return binary;
}

/** `name = value` of an ini line, the value without quotes or a trailing comment; undefined otherwise. */
function directiveOf(line: string): { name: string; value: string } | undefined {
  const match = /^\s*([A-Za-z0-9_.]+)\s*=\s*(.*?)\s*$/.exec(line);
  if (!match) return undefined;
  const raw = match[2]!;
  const value = raw.startsWith('"') ? raw.slice(1, raw.indexOf('"', 1) < 0 ? undefined : raw.indexOf('"', 1)) : raw.split(';')[0]!.trim();
  return { name: match[1]!, value };
}
