/**
 * php-build/check-layer.sh, the ELF checks that fail the layer build, on small trees made from this
 * machine's own binaries (no Docker, no layer build): a tree laid out as assemble-layer.sh lays it
 * out passes, and each mistake the checks exist for makes them fail, naming the file and the cause.
 * Needs readelf and patchelf (./run test installs them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CHECK = fileURLToPath(new URL('../../php-build/check-layer.sh', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'check-layer-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** This machine's glibc, as ldd resolves it for a small program: libc.so.6 and the loader. */
function hostGlibc(): { libc: string; loader: string; loaderName: string } {
  const out = execFileSync('ldd', ['/bin/true'], { encoding: 'utf8' });
  const libc = /libc\.so\.6 => (\S+)/.exec(out)?.[1];
  const loader = /^\s*(\/\S*ld-linux\S*)/m.exec(out)?.[1];
  if (!libc || !loader) throw new Error(`cannot read this machine's glibc from ldd:\n${out}`);
  return { libc, loader, loaderName: path.basename(loader) };
}

function sharedLibrary(name: string): string {
  const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' });
  const found = new RegExp(`^\\s*${name.replaceAll('.', '\\.')} \\(.*\\) => (\\S+)$`, 'm').exec(out)?.[1];
  if (!found) throw new Error(`${name} is not installed here`);
  return found;
}

const patchelf = (...args: string[]): void => {
  execFileSync('patchelf', args);
};

/**
 * A tree as assemble-layer.sh writes it: core/bin/php-cgi (this machine's /bin/true, on the
 * layer's loader with RPATH /opt/php/lib), core/php/lib/ with glibc, an extension (libz), and
 * node/node/bin/node (/bin/true again, on the system's glibc).
 */
function goodTrees(name: string): string {
  const { libc, loader, loaderName } = hostGlibc();
  const trees = path.join(work, name);
  const lib = path.join(trees, 'core/php/lib');
  mkdirSync(lib, { recursive: true });
  mkdirSync(path.join(trees, 'core/bin'), { recursive: true });
  mkdirSync(path.join(trees, 'core/php/extensions'), { recursive: true });
  mkdirSync(path.join(trees, 'node/node/bin'), { recursive: true });
  mkdirSync(path.join(trees, 'node/node/lib'), { recursive: true });
  copyFileSync(libc, path.join(lib, 'libc.so.6'));
  copyFileSync(loader, path.join(lib, loaderName));
  chmodSync(path.join(lib, loaderName), 0o755);
  const phpCgi = path.join(trees, 'core/bin/php-cgi');
  copyFileSync('/bin/true', phpCgi);
  patchelf('--set-interpreter', `/opt/php/lib/${loaderName}`, '--force-rpath', '--set-rpath', '/opt/php/lib', phpCgi);
  copyFileSync(sharedLibrary('libz.so.1'), path.join(trees, 'core/php/extensions/zlib.so'));
  copyFileSync('/bin/true', path.join(trees, 'node/node/bin/node'));
  writeFileSync(
    path.join(trees, 'core.manifest'),
    [`/opt/php/lib/libc.so.6\tdeb:trixie:libc6`, `/opt/php/lib/${loaderName}\tdeb:trixie:libc6`, '/opt/bin/php-cgi\tdeb:trixie:php8.4-cgi', '/opt/php/extensions/zlib.so\tdeb:trixie:php8.4-common', ''].join('\n'),
  );
  writeFileSync(path.join(trees, 'node.manifest'), '/opt/node/bin/node\tnode\n');
  return trees;
}

function check(trees: string): { status: number | null; output: string } {
  const result = spawnSync('bash', [CHECK, trees], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('check-layer.sh', () => {
  it('passes a tree laid out as the build lays it out', () => {
    const result = check(goodTrees('good'));
    expect(result.output).toMatch(/check-layer: 5 ELF files: PHP's on the layer's glibc/);
    expect(result.status).toBe(0);
  });

  it('fails the build on a RUNPATH, which the loader searches after LD_LIBRARY_PATH', () => {
    const trees = goodTrees('runpath');
    patchelf('--set-rpath', '/opt/php/lib', path.join(trees, 'core/php/extensions/zlib.so'));
    const result = check(trees);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/FAIL core\/php\/extensions\/zlib\.so has DT_RUNPATH \/opt\/php\/lib: searched after LD_LIBRARY_PATH/);
  });

  it('fails the build on a search path that escapes /opt', () => {
    const trees = goodTrees('escape');
    patchelf('--force-rpath', '--set-rpath', '/opt/php/lib:/usr/lib/x86_64-linux-gnu', path.join(trees, 'core/bin/php-cgi'));
    patchelf('--force-rpath', '--set-rpath', '/usr/lib', path.join(trees, 'core/php/extensions/zlib.so'));
    const result = check(trees);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/FAIL core\/bin\/php-cgi has RPATH entry \/usr\/lib\/x86_64-linux-gnu, outside \/opt/);
    expect(result.output).toMatch(/FAIL core\/bin\/php-cgi is an executable with RPATH '\/opt\/php\/lib:\/usr\/lib\/x86_64-linux-gnu', not \/opt\/php\/lib/);
    expect(result.output).toMatch(/FAIL core\/php\/extensions\/zlib\.so has RPATH entry \/usr\/lib, outside \/opt/);
  });

  it("fails the build on an executable that runs on the system's loader instead of the layer's", () => {
    const trees = goodTrees('interpreter');
    patchelf('--set-interpreter', hostGlibc().loader, path.join(trees, 'core/bin/php-cgi'));
    const result = check(trees);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/FAIL core\/bin\/php-cgi has interpreter \/\S+, not the layer's \/opt\/php\/lib\//);
  });

  it('fails the build on a library missing from the closure', () => {
    const trees = goodTrees('missing');
    patchelf('--add-needed', 'libmissing.so.7', path.join(trees, 'core/php/extensions/zlib.so'));
    const result = check(trees);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/FAIL core\/php\/extensions\/zlib\.so needs libmissing\.so\.7, which is not in the layer/);
  });

  it("fails the build on a file of Node's that needs a glibc newer than Lambda's", () => {
    const trees = goodTrees('new-glibc');
    // On this machine's glibc X.Y: "Lambda's" is made older than what /bin/true needs.
    const result = spawnSync('bash', [CHECK, trees], { encoding: 'utf8', env: { ...process.env, LAMBDA_GLIBC: '2.3' } });
    expect(result.status).toBe(1);
    expect(`${result.stdout}${result.stderr}`).toMatch(/FAIL node\/node\/bin\/node runs on the system's glibc but requires GLIBC_2\.\d+, newer than Lambda's 2\.3/);
  });

  it('fails the build on a library Node needs that is neither glibc nor in /opt/node/lib', () => {
    const trees = goodTrees('node-missing');
    patchelf('--add-needed', 'libstdc++.so.6', path.join(trees, 'node/node/bin/node'));
    const result = check(trees);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/FAIL node\/node\/bin\/node needs libstdc\+\+\.so\.6, which is neither glibc's nor in \/opt\/node\/lib/);
  });
});
