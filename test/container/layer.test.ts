/**
 * The layer zip handling behind the container (no Docker needed): the zip reader and extractor, the
 * "is build/layers current?" check, and the unpack cache.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync, crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { layerStaleness, layerZipPath, sourceRecordPath, unpackLayer } from '../../src/local/container/layer.ts';
import { ZipArchive } from '../../src/local/container/zip.ts';

interface Entry {
  name: string;
  data?: Buffer | string;
  mode?: number;
  symlink?: string;
}

/** A minimal zip writer (deflate, Unix modes), enough to feed the reader. */
function makeZip(entries: Entry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const isDir = entry.name.endsWith('/');
    const raw = Buffer.from(entry.symlink ?? entry.data ?? '');
    const compressed = isDir ? raw : deflateRawSync(raw);
    const method = isDir ? 0 : 8;
    const type = isDir ? 0o040000 : entry.symlink ? 0o120000 : 0o100000;
    const mode = type | (entry.mode ?? (isDir ? 0o755 : 0o644));
    const name = Buffer.from(entry.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc32(raw), 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc32(raw), 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += 30 + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const work = mkdtempSync(path.join(tmpdir(), 'layer-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('ZipArchive', () => {
  it('reads entries and extracts them with their modes and symlinks', () => {
    const file = path.join(work, 'a.zip');
    writeFileSync(file, makeZip([
      { name: 'bin/' },
      { name: 'bin/php-cgi', data: '#!/bin/sh\necho php\n', mode: 0o755 },
      { name: 'php/conf.d/10-opcache.ini', data: 'zend_extension=opcache\n'.repeat(50) },
      { name: 'lib/libfoo.so', symlink: 'libfoo.so.1' },
    ]));
    const zip = ZipArchive.open(file);
    try {
      expect(zip.entries.map((entry) => entry.name)).toEqual(['bin/', 'bin/php-cgi', 'php/conf.d/10-opcache.ini', 'lib/libfoo.so']);
      expect(zip.read(zip.entry('php/conf.d/10-opcache.ini')!).toString()).toBe('zend_extension=opcache\n'.repeat(50));
      const dest = path.join(work, 'out');
      zip.extractTo(dest);
      expect(statSync(path.join(dest, 'bin/php-cgi')).mode & 0o777).toBe(0o755);
      expect(statSync(path.join(dest, 'php/conf.d/10-opcache.ini')).mode & 0o777).toBe(0o644);
      expect(lstatSync(path.join(dest, 'lib/libfoo.so')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(path.join(dest, 'lib/libfoo.so'))).toBe('libfoo.so.1');
    } finally {
      zip.close();
    }
  });

  it('refuses entries that would land outside the destination', () => {
    const file = path.join(work, 'evil.zip');
    writeFileSync(file, makeZip([{ name: '../escaped.txt', data: 'x' }]));
    const zip = ZipArchive.open(file);
    try {
      expect(() => zip.extractTo(path.join(work, 'evil'))).toThrow(/outside the destination/);
      expect(existsSync(path.join(work, 'escaped.txt'))).toBe(false);
    } finally {
      zip.close();
    }
  });

  it('says so when the file is not a zip', () => {
    const file = path.join(work, 'not.zip');
    writeFileSync(file, 'hello');
    expect(() => ZipArchive.open(file)).toThrow(/not a zip file/);
  });
});

describe('layerStaleness', () => {
  function fakeRepo(name: string, files: Record<string, string>): string {
    const repo = path.join(work, name);
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
      writeFileSync(path.join(repo, file), text);
    }
    return repo;
  }
  const sources = {
    'dist/bootstrap.js': 'runtime v1',
    'php-build/php-env.sh': 'env',
    'php-build/early-php-cgi.sh': 'early',
    'php-build/php.ini': 'memory_limit = 128M',
    'scripts/layer/build-layer.sh': 'build',
    'src/cgi/spawner/cgi-spawner.c': 'int main(void) { return 0; }',
  };
  const PORTABLE = 'layer: portable, PHP 8.4.28-1~deb13u1 from Debian trixie with its own glibc 2.41-12 (x86_64)\n';
  function writeLayer(repo: string, buildInfo: string): string {
    const zipFile = layerZipPath(repo, 'provided', 'x86_64');
    mkdirSync(path.dirname(zipFile), { recursive: true });
    writeFileSync(zipFile, makeZip([{ name: 'bootstrap', data: 'boot', mode: 0o755 }, { name: 'php/build-info.txt', data: buildInfo }]));
    return zipFile;
  }
  /** What build-layer.sh writes once every check passed: "<sha256>  <path>" of each source. */
  function recordSources(repo: string): void {
    const files = Object.keys(sources).filter((file) => existsSync(path.join(repo, file)));
    const lines = files.map((file) => `${createHash('sha256').update(readFileSync(path.join(repo, file))).digest('hex')}  ${file}`);
    mkdirSync(path.dirname(sourceRecordPath(repo, 'x86_64')), { recursive: true });
    writeFileSync(sourceRecordPath(repo, 'x86_64'), `${lines.join('\n')}\n`);
  }

  it('is current when the portable build made the zip from these very sources', () => {
    const repo = fakeRepo('current', sources);
    expect(layerStaleness(repo, 'provided', 'x86_64')).toMatch(/layer-provided-x86_64\.zip does not exist/);
    writeLayer(repo, PORTABLE);
    expect(layerStaleness(repo, 'provided', 'x86_64')).toMatch(/source-files-x86_64\.txt is missing/);
    recordSources(repo);
    expect(layerStaleness(repo, 'provided', 'x86_64')).toBeUndefined();
  });

  it('names the source that changed, was added or was removed, whatever the file times say', () => {
    const repo = fakeRepo('changed', sources);
    writeLayer(repo, PORTABLE);
    recordSources(repo);
    writeFileSync(path.join(repo, 'php-build/php.ini'), 'memory_limit = 256M');
    expect(layerStaleness(repo, 'provided', 'x86_64')).toBe('php-build/php.ini changed since the layer was built');
    recordSources(repo);
    writeFileSync(path.join(repo, 'php-build/early-php-cgi.sh'), 'early v2');
    expect(layerStaleness(repo, 'provided', 'x86_64')).toBe('php-build/early-php-cgi.sh changed since the layer was built');
    recordSources(repo);
    writeFileSync(path.join(repo, 'dist/bootstrap.js'), 'runtime v2');
    writeFileSync(path.join(repo, 'php-build/extensions.txt'), 'intl intl intl php8.4-intl');
    rmSync(path.join(repo, 'scripts/layer/build-layer.sh'));
    expect(layerStaleness(repo, 'provided', 'x86_64')).toBe(
      'dist/bootstrap.js changed, php-build/extensions.txt is new, scripts/layer/build-layer.sh was removed since the layer was built',
    );
  });

  it('touching a source is not a change: content decides', () => {
    const repo = fakeRepo('touched', sources);
    writeLayer(repo, PORTABLE);
    recordSources(repo);
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(repo, 'php-build/php.ini'), later, later);
    expect(layerStaleness(repo, 'provided', 'x86_64')).toBeUndefined();
  });

  it('says which former build made a zip that is not portable', () => {
    const repo = fakeRepo('former', sources);
    recordSources(repo);
    writeLayer(repo, 'PHP 8.2.29\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
    expect(layerStaleness(repo, 'provided', 'x86_64')).toMatch(/built by the former Docker build on Debian bookworm, not by the portable build/);
    writeLayer(repo, 'PHP 8.4.10\nPRETTY_NAME="Amazon Linux 2023"\n');
    expect(layerStaleness(repo, 'provided', 'x86_64')).toMatch(/former Docker build on Amazon Linux 2023/);
  });
});

describe('unpackLayer', () => {
  it('unpacks once per zip content into a shared cache', async () => {
    const zipFile = path.join(work, 'layer-provided-x86_64.zip');
    writeFileSync(zipFile, makeZip([{ name: 'bin/php-cgi', data: 'php', mode: 0o755 }]));
    const cache = path.join(work, 'cache');
    const [first, second] = await Promise.all([unpackLayer(zipFile, cache), unpackLayer(zipFile, cache)]);
    expect(first).toBe(second);
    expect(readFileSync(path.join(first, 'bin/php-cgi'), 'utf8')).toBe('php');
    expect(statSync(first).mode & 0o777).toBe(0o755);
    writeFileSync(zipFile, makeZip([{ name: 'bin/php-cgi', data: 'php 2', mode: 0o755 }]));
    const third = await unpackLayer(zipFile, cache);
    expect(third).not.toBe(first);
    expect(readFileSync(path.join(third, 'bin/php-cgi'), 'utf8')).toBe('php 2');
  });

  it('unpacks a layer and its add-ons into one folder, as Lambda merges layers into /opt', async () => {
    const core = path.join(work, 'layer-provided-x86_64.zip');
    const addon = path.join(work, 'layer-php-intl-x86_64.zip');
    writeFileSync(core, makeZip([{ name: 'php/conf.d/20-curl.ini', data: 'extension=curl.so' }, { name: 'php/lib/libc.so.6', data: 'libc' }]));
    writeFileSync(addon, makeZip([{ name: 'php/conf.d/20-intl.ini', data: 'extension=intl.so' }, { name: 'php/lib/libicuuc.so.76', data: 'icu' }]));
    const merged = await unpackLayer([core, addon], path.join(work, 'cache-merged'));
    expect(readFileSync(path.join(merged, 'php/conf.d/20-curl.ini'), 'utf8')).toBe('extension=curl.so');
    expect(readFileSync(path.join(merged, 'php/conf.d/20-intl.ini'), 'utf8')).toBe('extension=intl.so');
    expect(readFileSync(path.join(merged, 'php/lib/libicuuc.so.76'), 'utf8')).toBe('icu');
    expect(await unpackLayer([core], path.join(work, 'cache-merged'))).not.toBe(merged);
  });
});
