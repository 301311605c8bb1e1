import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLogged } from './run-logged.ts';
import { ZipArchive } from './zip.ts';

/**
 * The PHP layer zips of build/layers (scripts/docker/build-layer.sh): finding out whether they hold
 * the current runtime, rebuilding them when not, and unpacking one for a container to mount at /opt.
 */

/** provided: for provided.al2023 (/opt/bootstrap, own node). nodejs: for the managed nodejs runtimes (exec-wrapper). */
export type LayerVariant = 'provided' | 'nodejs';
/** Which base the layer's PHP was built on: Debian bookworm (no registry needed) or Amazon Linux 2023. */
export type LayerDistro = 'debian' | 'al2023';

export function hostArch(): 'x86_64' | 'arm64' {
  return process.arch === 'arm64' ? 'arm64' : 'x86_64';
}

export function layerZipPath(repoRoot: string, variant: LayerVariant, arch = hostArch()): string {
  return path.join(repoRoot, 'build', 'layers', `layer-${variant}-${arch}.zip`);
}

/**
 * Files compared by content with what the zip holds, zip path -> repository path. The build's
 * other inputs shape the zip without being copied into it: see inputsChanged.
 */
function copiedFiles(variant: LayerVariant): Array<[string, string]> {
  const files: Array<[string, string]> = [
    ['lambda-php/bootstrap.js', 'dist/bootstrap.js'],
    ['lambda-php/php-env.sh', 'php-build/php-env.sh'],
    ['lambda-php/early-php-cgi.sh', 'php-build/early-php-cgi.sh'],
  ];
  files.push(variant === 'provided' ? ['bootstrap', 'php-build/bootstrap'] : ['lambda-php/exec-wrapper', 'php-build/exec-wrapper']);
  return files;
}

/** What the build reads besides dist/bootstrap.js: Dockerfile.build and php-build/. */
function buildInputs(repoRoot: string): string[] {
  const dir = path.join(repoRoot, 'php-build');
  const scripts = existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => path.relative(repoRoot, path.join(entry.parentPath, entry.name))) : [];
  return ['Dockerfile.build', ...scripts].filter((file) => existsSync(path.join(repoRoot, file))).sort();
}

function inputsDigest(repoRoot: string, distro: LayerDistro): string {
  const hash = createHash('sha256').update(`distro=${distro}\n`);
  for (const file of buildInputs(repoRoot)) hash.update(`${file}\n`).update(readFileSync(path.join(repoRoot, file))).update('\n');
  return hash.digest('hex');
}

/**
 * Written beside a zip after this code built it: the digest of the build inputs, and the zip's size
 * and time, so that a zip replaced since (by `./run layer`) no longer matches its record.
 */
interface InputsRecord {
  inputs: string;
  size: number;
  mtimeMs: number;
}

function recordPath(zipFile: string): string {
  return `${zipFile}.inputs.json`;
}

/** Records the current build inputs for both variants' zips: they have just been built from them. */
export function recordLayerInputs(repoRoot: string, distro: LayerDistro): void {
  const inputs = inputsDigest(repoRoot, distro);
  for (const variant of ['provided', 'nodejs'] as const) {
    const zipFile = layerZipPath(repoRoot, variant);
    if (!existsSync(zipFile)) continue;
    const { size, mtimeMs } = statSync(zipFile);
    writeFileSync(recordPath(zipFile), `${JSON.stringify({ inputs, size, mtimeMs } satisfies InputsRecord)}\n`);
  }
}

/**
 * Whether Dockerfile.build or php-build/ changed since the zip was built: by content when this code
 * built the zip (its record), else by time. Times alone are not enough: BuildKit's local export
 * keeps the times the files had in the (possibly cached) build, so a rebuild from cache can leave
 * a zip older than an input that was merely touched.
 */
function inputsChanged(repoRoot: string, zipFile: string, distro: LayerDistro): string | undefined {
  const { size, mtimeMs } = statSync(zipFile);
  let record: InputsRecord | undefined;
  try {
    record = JSON.parse(readFileSync(recordPath(zipFile), 'utf8')) as InputsRecord;
  } catch {
    record = undefined;
  }
  if (record && record.size === size && record.mtimeMs === mtimeMs) {
    return record.inputs === inputsDigest(repoRoot, distro) ? undefined : 'Dockerfile.build or php-build/ changed since the layer was built';
  }
  for (const input of buildInputs(repoRoot)) {
    if (statSync(path.join(repoRoot, input)).mtimeMs > mtimeMs) return `${input} changed after the layer was built`;
  }
  return undefined;
}

/**
 * Why the zip cannot be used as it is, or undefined when it is current: it must exist, hold this
 * dist/bootstrap.js and these php-build scripts, be built for this distro, and from the current
 * Dockerfile.build and php-build/. Content, not times, for the copied files: `npm run build`
 * rewrites dist/bootstrap.js on every run, usually with the same bytes.
 */
export function layerStaleness(repoRoot: string, variant: LayerVariant, distro: LayerDistro): string | undefined {
  const zipFile = layerZipPath(repoRoot, variant);
  if (!existsSync(zipFile)) return `${path.relative(repoRoot, zipFile)} does not exist`;
  const changed = inputsChanged(repoRoot, zipFile, distro);
  if (changed) return changed;
  let zip: ZipArchive;
  try {
    zip = ZipArchive.open(zipFile);
  } catch (error) {
    return `${path.relative(repoRoot, zipFile)} cannot be read: ${String(error)}`;
  }
  try {
    for (const [inZip, inRepo] of copiedFiles(variant)) {
      const entry = zip.entry(inZip);
      const file = path.join(repoRoot, inRepo);
      if (!existsSync(file)) throw new Error(`${inRepo} is missing${inRepo.startsWith('dist/') ? ': build it first (node scripts/build.mjs)' : ''}`);
      if (!entry || !zip.read(entry).equals(readFileSync(file))) return `the layer's /opt/${inZip} differs from ${inRepo}`;
    }
    const info = zip.entry('php/build-info.txt');
    const text = info ? zip.read(info).toString('utf8') : '';
    const builtOn = /Amazon Linux/i.test(text) ? 'al2023' : /Debian/i.test(text) ? 'debian' : undefined;
    if (builtOn !== distro) return `the layer was built for ${builtOn ?? 'an unknown base'}, not ${distro}`;
    return undefined;
  } finally {
    zip.close();
  }
}

export interface EnsureLayerOptions {
  /** The repository: holds scripts/docker/build-layer.sh, dist/bootstrap.js and build/layers. */
  repoRoot: string;
  variant: LayerVariant;
  distro: LayerDistro;
  /** Build progress and decisions, one line at a time. Default: stderr. */
  log?: (line: string) => void;
}

/**
 * The path of a current layer zip, building both variants with scripts/docker/build-layer.sh when
 * the zip is missing or stale (about a minute when only the runtime changed, several on a cold
 * Docker cache). Several processes may ask at once (test files in parallel): one builds, under a
 * lock in build/layers, the others wait for it and check again.
 */
export async function ensureLayer(options: EnsureLayerOptions): Promise<string> {
  const { repoRoot, variant, distro } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const zipFile = layerZipPath(repoRoot, variant);
  if (layerStaleness(repoRoot, variant, distro) === undefined) return zipFile;
  const release = await acquireLock(path.join(repoRoot, 'build', 'layers', '.build-layer.lock'), log);
  try {
    const reason = layerStaleness(repoRoot, variant, distro);
    if (reason === undefined) return zipFile;
    if (!existsSync(path.join(repoRoot, 'scripts', 'docker', 'build-layer.sh'))) {
      throw new Error(`The layer cannot be used (${reason}) and ${repoRoot} has no scripts/docker/build-layer.sh to build it: run from a checkout of lambda-php`);
    }
    log(`Building the PHP layer (${distro}) because ${reason}: scripts/docker/build-layer.sh --distro ${distro}`);
    await runBuild(repoRoot, distro, log);
    recordLayerInputs(repoRoot, distro);
    const still = layerStaleness(repoRoot, variant, distro);
    if (still !== undefined) throw new Error(`The layer build finished but the layer is still not current: ${still}`);
    return zipFile;
  } finally {
    release();
  }
}

async function runBuild(repoRoot: string, distro: LayerDistro, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  await runLogged('bash', [path.join(repoRoot, 'scripts', 'docker', 'build-layer.sh'), '--distro', distro], {
    cwd: repoRoot,
    // BuildKit's plain progress is very chatty: pass on the script's own lines only (a failure
    // brings the last lines in its error).
    onLine: (line) => {
      if (/^build-layer:|^layer-/.test(line)) log(`  ${line}`);
    },
  });
  log(`Layer built in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** A lock directory holding the owner's pid; a lock whose owner died is taken over. */
async function acquireLock(dir: string, log: (line: string) => void, timeoutMs = 20 * 60_000): Promise<() => void> {
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

/** Where unpacked layers are kept, one folder per zip content. */
export function layerCacheRoot(): string {
  return path.join(os.tmpdir(), 'lambda-php-layers');
}

/** Unpacked layers not used for this long are deleted when another one is unpacked. */
const CACHE_MAX_IDLE_MS = 6 * 3600_000;

/**
 * The zip unpacked into a host folder, for a read-only bind mount at /opt. Cached by the zip's
 * content, so containers started one after another (and concurrently) share one copy; a fresh
 * unpack goes to a private folder first and is renamed into place, so nobody sees half a layer.
 */
export async function unpackLayer(zipFile: string, cacheRoot = layerCacheRoot()): Promise<string> {
  const digest = await sha256File(zipFile);
  const target = path.join(cacheRoot, `${path.basename(zipFile, '.zip')}-${digest.slice(0, 16)}`);
  mkdirSync(cacheRoot, { recursive: true });
  if (existsSync(path.join(target, '.complete'))) {
    const now = new Date();
    utimesSync(target, now, now);
    return target;
  }
  const staging = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const zip = ZipArchive.open(zipFile);
    try {
      zip.extractTo(staging);
    } finally {
      zip.close();
    }
    // The container may run as another user (Lambda's sbx_user1051): the root must be traversable.
    chmodSync(staging, 0o755);
    writeFileSync(path.join(staging, '.complete'), `${zipFile}\n`);
    try {
      renameSync(staging, target);
    } catch (error) {
      // Another process unpacked the same zip meanwhile: use theirs.
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
