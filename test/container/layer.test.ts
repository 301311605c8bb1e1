/**
 * The layer zip handling behind the container (no Docker needed): the zip reader and extractor, the
 * "is build/layers current?" check, and the unpack cache.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync, crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { layerStaleness, layerZipPath, recordLayerInputs, unpackLayer } from '../../src/local/container/layer.ts';
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
  const sources = { 'dist/bootstrap.js': 'runtime v1', 'php-build/php-env.sh': 'env', 'php-build/early-php-cgi.sh': 'early', 'php-build/bootstrap': 'boot', 'Dockerfile.build': 'FROM x' };
  function writeLayer(repo: string, bootstrapJs: string, osName: string): string {
    const zipFile = layerZipPath(repo, 'provided');
    mkdirSync(path.dirname(zipFile), { recursive: true });
    writeFileSync(zipFile, makeZip([
      { name: 'bootstrap', data: 'boot', mode: 0o755 },
      { name: 'lambda-php/bootstrap.js', data: bootstrapJs },
      { name: 'lambda-php/php-env.sh', data: 'env' },
      { name: 'lambda-php/early-php-cgi.sh', data: 'early' },
      { name: 'php/build-info.txt', data: `PHP 8.2\nPRETTY_NAME="${osName}"\n` },
    ]));
    return zipFile;
  }

  it('is current when the zip holds this dist/bootstrap.js and scripts, built for this distro', () => {
    const repo = fakeRepo('current', sources);
    expect(layerStaleness(repo, 'provided', 'debian')).toMatch(/does not exist/);
    writeLayer(repo, 'runtime v1', 'Debian GNU/Linux 12 (bookworm)');
    expect(layerStaleness(repo, 'provided', 'debian')).toBeUndefined();
    expect(layerStaleness(repo, 'provided', 'al2023')).toMatch(/built for debian, not al2023/);
  });

  it('is stale when dist/bootstrap.js changed, whatever the file times say', () => {
    const repo = fakeRepo('changed', sources);
    const zipFile = writeLayer(repo, 'runtime v0', 'Debian GNU/Linux 12 (bookworm)');
    const later = new Date(Date.now() + 60_000);
    utimesSync(zipFile, later, later);
    expect(layerStaleness(repo, 'provided', 'debian')).toMatch(/lambda-php\/bootstrap\.js differs from dist\/bootstrap\.js/);
  });

  it('is stale when a build input is newer than the zip', () => {
    const repo = fakeRepo('newer', { ...sources, 'php-build/install-php-debian.sh': 'apt-get install' });
    const zipFile = writeLayer(repo, 'runtime v1', 'Debian GNU/Linux 12 (bookworm)');
    const earlier = new Date(Date.now() - 60_000);
    utimesSync(zipFile, earlier, earlier);
    expect(layerStaleness(repo, 'provided', 'debian')).toMatch(/changed after the layer was built/);
  });

  it('goes by content once the build recorded its inputs: a touched file is fine, an edited one is not', () => {
    const repo = fakeRepo('recorded', { ...sources, 'php-build/install-php-debian.sh': 'apt-get install' });
    const zipFile = writeLayer(repo, 'runtime v1', 'Debian GNU/Linux 12 (bookworm)');
    // A cached BuildKit export keeps old file times.
    const earlier = new Date(Date.now() - 60_000);
    utimesSync(zipFile, earlier, earlier);
    recordLayerInputs(repo, 'debian');
    expect(layerStaleness(repo, 'provided', 'debian')).toBeUndefined();
    writeFileSync(path.join(repo, 'php-build/install-php-debian.sh'), 'apt-get install php-extra');
    expect(layerStaleness(repo, 'provided', 'debian')).toMatch(/php-build\/ changed since the layer was built/);
    // A zip replaced by another build no longer matches the record: back to comparing times.
    writeLayer(repo, 'runtime v1', 'Debian GNU/Linux 12 (bookworm)');
    expect(layerStaleness(repo, 'provided', 'debian')).toBeUndefined();
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
});
