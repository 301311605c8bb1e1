/**
 * php-build/write-sbom.mjs: a layer's manifest and dpkg's metadata in, a CycloneDX SBOM out, with
 * every Debian package that has a file in the layer (name, version, source, release, the files),
 * Node, and the runtime itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const WRITE_SBOM = fileURLToPath(new URL('../../php-build/write-sbom.mjs', import.meta.url));
const runtime = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const work = mkdtempSync(path.join(tmpdir(), 'write-sbom-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function control(dir: string, fields: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${fields.Package}.control`), `${Object.entries(fields).map(([key, value]) => `${key}: ${value}`).join('\n')}\n`);
}

function writeSbom(name: string, manifest: string[], patches: string[] = []): any {
  const trixie = path.join(work, 'trixie');
  const bullseye = path.join(work, 'bullseye');
  control(trixie, { Package: 'libc6', Version: '2.41-12+deb13u5', Architecture: 'amd64', Source: 'glibc' });
  control(trixie, { Package: 'php8.4-cgi', Version: '8.4.28-1~deb13u1', Architecture: 'amd64', Source: 'php8.4' });
  control(trixie, { Package: 'libgcc-s1', Version: '14.2.0-19', Architecture: 'amd64', Source: 'gcc-14 (14.2.0-19)' });
  control(bullseye, { Package: 'libgcc-s1', Version: '10.2.1-6', Architecture: 'amd64', Source: 'gcc-10' });
  writeFileSync(path.join(work, `${name}.manifest`), `${manifest.join('\n')}\n`);
  writeFileSync(path.join(work, `${name}.patches`), patches.map((line) => `${line}\n`).join(''));
  const out = path.join(work, `${name}.cdx.json`);
  execFileSync(process.execPath, [WRITE_SBOM, '--manifest', path.join(work, `${name}.manifest`), '--patches', path.join(work, `${name}.patches`),
    '--name', `layer-${name}-x86_64`, '--arch', 'x86_64', '--node-version', '24.21.0', '--debs', `trixie=${trixie}`, '--debs', `bullseye=${bullseye}`, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(readFileSync(out, 'utf8'));
}

describe('write-sbom.mjs', () => {
  const manifest = [
    '/opt/bin/php-cgi\tdeb:trixie:php8.4-cgi',
    '/opt/php/lib/libc.so.6\tdeb:trixie:libc6',
    '/opt/php/lib/ld-linux-x86-64.so.2\tdeb:trixie:libc6',
    '/opt/php/lib/libgcc_s.so.1\tdeb:trixie:libgcc-s1',
    '/opt/node/lib/libgcc_s.so.1\tdeb:bullseye:libgcc-s1',
    '/opt/node/bin/node\tnode',
    '/opt/lambda-php/bootstrap.js\tlambda-php',
  ];

  it('lists each Debian package with its version, source package, release and files, then Node and the runtime', () => {
    const sbom = writeSbom('provided', manifest, ['/opt/bin/php-cgi\ttime zone folder: /usr/share/zoneinfo -> /opt/php/zoneinfo/.']);
    expect(sbom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1 });
    expect(sbom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sbom.metadata.component.name).toBe('layer-provided-x86_64');
    const byRef = new Map(sbom.components.map((component: any) => [component['bom-ref'], component]));
    expect(byRef.get('pkg:deb/debian/libc6@2.41-12%2Bdeb13u5?arch=amd64&distro=debian-13')).toMatchObject({
      type: 'library',
      name: 'libc6',
      version: '2.41-12+deb13u5',
      properties: [
        { name: 'debian:source', value: 'glibc' },
        { name: 'debian:source-version', value: '2.41-12+deb13u5' },
        { name: 'debian:suite', value: 'trixie' },
      ],
      evidence: { occurrences: [{ location: '/opt/php/lib/ld-linux-x86-64.so.2' }, { location: '/opt/php/lib/libc.so.6' }] },
    });
    // A source package with a version of its own; the same package from two releases, apart.
    expect(byRef.get('pkg:deb/debian/libgcc-s1@14.2.0-19?arch=amd64&distro=debian-13')).toMatchObject({ properties: expect.arrayContaining([{ name: 'debian:source', value: 'gcc-14' }]) });
    expect(byRef.get('pkg:deb/debian/libgcc-s1@10.2.1-6?arch=amd64&distro=debian-11')).toMatchObject({ evidence: { occurrences: [{ location: '/opt/node/lib/libgcc_s.so.1' }] } });
    // A file changed beyond its search paths says so.
    expect(byRef.get('pkg:deb/debian/php8.4-cgi@8.4.28-1~deb13u1?arch=amd64&distro=debian-13')).toMatchObject({
      properties: expect.arrayContaining([{ name: 'lambda-php:patched', value: '/opt/bin/php-cgi: time zone folder: /usr/share/zoneinfo -> /opt/php/zoneinfo/.' }]),
    });
    expect(sbom.components.find((component: any) => component.name === 'node')).toMatchObject({ type: 'application', version: '24.21.0' });
    expect(sbom.components.find((component: any) => component.name === runtime.name)).toMatchObject({ version: runtime.version, purl: `pkg:npm/${runtime.name}@${runtime.version}` });
    expect(sbom.dependencies[0].dependsOn).toHaveLength(sbom.components.length);
  });

  it('is the same for the same inputs (serial number included), and differs when they do', () => {
    const first = writeSbom('again-1', manifest);
    const second = writeSbom('again-1', manifest);
    expect(second).toEqual(first);
    expect(writeSbom('again-2', manifest.slice(1)).serialNumber).not.toBe(first.serialNumber);
  });

  it('refuses a file whose package it knows nothing about', () => {
    expect(() => writeSbom('unknown', ['/opt/php/lib/libfoo.so.1\tdeb:trixie:libfoo1'])).toThrow(/no control data for Debian package libfoo1/);
  });
});
