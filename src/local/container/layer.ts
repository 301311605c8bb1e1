import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLogged } from './run-logged.ts';
import { ZipArchive } from './zip.ts';

/**
 * The PHP layer zips of build/layers (scripts/layer/build-layer.sh): finding out whether they hold
 * the current sources, rebuilding them when not, and unpacking them for a container to mount at /opt.
 */

/** provided: for provided.al2023 (/opt/bootstrap, own node). nodejs: for the managed nodejs runtimes (exec-wrapper). */
export type LayerVariant = 'provided' | 'nodejs';
export type LayerArch = 'x86_64' | 'arm64';

export function hostArch(): LayerArch {
  return process.arch === 'arm64' ? 'arm64' : 'x86_64';
}

export function layerZipPath(repoRoot: string, variant: LayerVariant, arch = hostArch()): string {
  return path.join(repoRoot, 'build', 'layers', `layer-${variant}-${arch}.zip`);
}

/** The add-on layers (layer-php-<name>-<arch>.zip: intl, gd) the build made next to the variants. */
export function addonZipPaths(repoRoot: string, arch = hostArch()): string[] {
  const dir = path.join(repoRoot, 'build', 'layers');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.startsWith('layer-php-') && name.endsWith(`-${arch}.zip`))
    .sort()
    .map((name) => path.join(dir, name));
}

/** The build's record of the sources it read: "<sha256>  <path>" lines (sha256sum's format). */
export function sourceRecordPath(repoRoot: string, arch = hostArch()): string {
  return path.join(repoRoot, 'build', 'layers', `source-files-${arch}.txt`);
}

/**
 * The layer's sources as the build lists them (build-layer.sh, source_files): php-build/,
 * scripts/layer/, the base image script, cgi-spawner's source and dist/bootstrap.js.
 */
function sourceFiles(repoRoot: string): string[] {
  const files: string[] = [];
  const walk = (relative: string): void => {
    const full = path.join(repoRoot, relative);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full)) walk(path.join(relative, name));
    } else {
      files.push(relative);
    }
  };
  for (const root of ['php-build', 'scripts/layer', 'scripts/docker/make-base-image.sh', 'src/cgi/spawner/cgi-spawner.c', 'dist/bootstrap.js']) walk(root);
  return files.sort();
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * What changed in the layer's sources since the build recorded them, named: "php-build/php.ini
 * changed", "php-build/new.sh is new", "... was removed". Undefined when nothing did.
 */
function sourcesChanged(repoRoot: string, arch: LayerArch): string | undefined {
  let recorded: Map<string, string>;
  try {
    recorded = new Map(
      readFileSync(sourceRecordPath(repoRoot, arch), 'utf8')
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => {
          const [digest, ...rest] = line.split(/\s+/);
          return [rest.join(' '), digest!] as [string, string];
        }),
    );
  } catch {
    return `${path.relative(repoRoot, sourceRecordPath(repoRoot, arch))} is missing (the zips were not made by scripts/layer/build-layer.sh)`;
  }
  const changes: string[] = [];
  const current = sourceFiles(repoRoot);
  for (const file of current) {
    const before = recorded.get(file);
    if (before === undefined) changes.push(`${file} is new`);
    else if (before !== sha256(path.join(repoRoot, file))) changes.push(`${file} changed`);
  }
  for (const file of recorded.keys()) if (!current.includes(file)) changes.push(`${file} was removed`);
  if (changes.length === 0) return undefined;
  const shown = changes.slice(0, 3).join(', ');
  return `${shown}${changes.length > 3 ? ` and ${changes.length - 3} more` : ''} since the layer was built`;
}

/** The build-info line of a layer made by the portable build (php-build/assemble-layer.sh). */
const PORTABLE_MARKER = /^layer: portable, /m;

/**
 * Why the zips of this variant (and the add-ons) cannot be used as they are, or undefined when they
 * are current: they must exist, come from the portable build (Debian trixie's PHP with its own
 * glibc), and have been built from the current sources, dist/bootstrap.js included.
 */
export function layerStaleness(repoRoot: string, variant: LayerVariant, arch = hostArch()): string | undefined {
  const zipFile = layerZipPath(repoRoot, variant, arch);
  if (!existsSync(zipFile)) return `${path.relative(repoRoot, zipFile)} does not exist`;
  if (!existsSync(path.join(repoRoot, 'dist', 'bootstrap.js'))) throw new Error('dist/bootstrap.js is missing: build it first (node scripts/build.mjs)');
  let zip: ZipArchive;
  try {
    zip = ZipArchive.open(zipFile);
  } catch (error) {
    return `${path.relative(repoRoot, zipFile)} cannot be read: ${String(error)}`;
  }
  try {
    const info = zip.entry('php/build-info.txt');
    const text = info ? zip.read(info).toString('utf8') : '';
    if (!PORTABLE_MARKER.test(text)) {
      const old = /Amazon Linux/i.test(text) ? 'Amazon Linux 2023' : /bookworm|Debian GNU\/Linux 12/i.test(text) ? 'Debian bookworm' : 'an unknown build';
      return `${path.relative(repoRoot, zipFile)} was built by the former Docker build on ${old}, not by the portable build (Debian trixie's PHP with its own glibc)`;
    }
  } finally {
    zip.close();
  }
  return sourcesChanged(repoRoot, arch);
}

export interface EnsureLayerOptions {
  /** The repository: holds scripts/layer/build-layer.sh, dist/bootstrap.js and build/layers. */
  repoRoot: string;
  variant: LayerVariant;
  /** Build progress and decisions, one line at a time. Default: stderr. */
  log?: (line: string) => void;
}

/**
 * The zips for this machine's architecture, the variant's first and then every add-on, building
 * them with scripts/layer/build-layer.sh when missing or stale (seconds when only the runtime
 * changed and the packages are cached; a few minutes on a fresh machine). Several processes may ask
 * at once (test files in parallel): one builds, under a lock in build/layers, the others wait for
 * it and check again.
 */
export async function ensureLayer(options: EnsureLayerOptions): Promise<string[]> {
  const { repoRoot, variant } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const zips = (): string[] => [layerZipPath(repoRoot, variant), ...addonZipPaths(repoRoot)];
  if (layerStaleness(repoRoot, variant) === undefined) return zips();
  const release = await acquireLock(path.join(repoRoot, 'build', 'layers', '.build-layer.lock'), log);
  try {
    const reason = layerStaleness(repoRoot, variant);
    if (reason === undefined) return zips();
    const script = path.join(repoRoot, 'scripts', 'layer', 'build-layer.sh');
    if (!existsSync(script)) {
      throw new Error(`The layer cannot be used (${reason}) and ${repoRoot} has no scripts/layer/build-layer.sh to build it: run from a checkout of lambda-php`);
    }
    log(`Building the PHP layer because ${reason}: scripts/layer/build-layer.sh --arch ${hostArch()}`);
    await runBuild(script, repoRoot, log);
    const still = layerStaleness(repoRoot, variant);
    if (still !== undefined) throw new Error(`The layer build finished but the layer is still not current: ${still}`);
    return zips();
  } finally {
    release();
  }
}

async function runBuild(script: string, repoRoot: string, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  await runLogged('bash', [script, '--arch', hostArch()], {
    cwd: repoRoot,
    // The build's own lines (its stages and their times), not the verification's details: a
    // failure brings the last lines in its error.
    onLine: (line) => {
      if (/^(build-layer|layer-|check-layer|make-base-image|ensure-)/.test(line)) log(`  ${line}`);
    },
  });
  log(`Layer built in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** A lock directory holding the owner's pid; a lock whose owner died is taken over. */
async function acquireLock(dir: string, log: (line: string) => void, timeoutMs = 30 * 60_000): Promise<() => void> {
  mkdirSync(path.dirname(dir), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readTextOr(path.join(dir, 'pid'), ''));
    if (owner > 0 && !processAlive(owner)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for the layer build lock ${dir} (held by pid ${owner || 'unknown'})`);
    if (!announced) {
      log(`Waiting for another layer build to finish (pid ${owner || 'unknown'})`);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function readTextOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Where unpacked layers are kept, one folder per set of zips and their content. */
export function layerCacheRoot(): string {
  return path.join(os.tmpdir(), 'lambda-php-layers');
}

/** Unpacked layers not used for this long are deleted when another one is unpacked. */
const CACHE_MAX_IDLE_MS = 6 * 3600_000;

/**
 * The zips unpacked, in order, into one host folder, as Lambda extracts a function's layers into
 * /opt: for a read-only bind mount there. Cached by the zips' content, so containers started one
 * after another (and concurrently) share one copy; a fresh unpack goes to a private folder first and
 * is renamed into place, so nobody sees half a layer.
 */
export async function unpackLayer(zipFiles: string | string[], cacheRoot = layerCacheRoot()): Promise<string> {
  const zips = Array.isArray(zipFiles) ? zipFiles : [zipFiles];
  if (zips.length === 0) throw new Error('unpackLayer needs at least one zip');
  const hash = createHash('sha256');
  for (const zipFile of zips) hash.update(`${path.basename(zipFile)}\n${await sha256File(zipFile)}\n`);
  const target = path.join(cacheRoot, `${path.basename(zips[0]!, '.zip')}${zips.length > 1 ? `+${zips.length - 1}` : ''}-${hash.digest('hex').slice(0, 16)}`);
  mkdirSync(cacheRoot, { recursive: true });
  if (existsSync(path.join(target, '.complete'))) {
    const now = new Date();
    utimesSync(target, now, now);
    return target;
  }
  const staging = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    for (const zipFile of zips) {
      const zip = ZipArchive.open(zipFile);
      try {
        zip.extractTo(staging);
      } finally {
        zip.close();
      }
    }
    // The container may run as another user (Lambda's sbx_user1051): the root must be traversable.
    chmodSync(staging, 0o755);
    writeFileSync(path.join(staging, '.complete'), `${zips.join('\n')}\n`);
    try {
      renameSync(staging, target);
    } catch (error) {
      // Another process unpacked the same zips meanwhile: use theirs.
      if (!existsSync(path.join(target, '.complete'))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  pruneCache(cacheRoot, target);
  return target;
}

function pruneCache(cacheRoot: string, keep: string): void {
  for (const name of readdirSync(cacheRoot)) {
    const dir = path.join(cacheRoot, name);
    if (dir === keep) continue;
    try {
      if (Date.now() - statSync(dir).mtimeMs > CACHE_MAX_IDLE_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Removed by someone else meanwhile.
    }
  }
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
