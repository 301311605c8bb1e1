// Writes the CycloneDX software bill of materials of one layer zip (package-layers.sh).
//
//   node write-sbom.mjs --manifest <variant.manifest> [--patches <variant.patches>]
//     --name <layer-name> --arch <x86_64|arm64>
//     --node-version <x.y.z> --debs <suite>=<dir> [--debs <suite>=<dir>...] --out <file.cdx.json>
//
// The manifest (assemble-layer.sh) has one line per file of the zip: "<path under /opt>\t<origin>",
// origin being deb:<release>:<package> (a file of that Debian package), node, or lambda-php (this
// repository). Every Debian package with a file in the zip becomes a component (name, version,
// source package, architecture, a purl, and the files as evidence), as do Node (provided variant)
// and the runtime itself. The patches file ("<path>\t<what>") names the files changed beyond their
// ELF search paths: they get a property on their component. Package data comes from <dir>/<package>.control (dpkg-deb -f), <suite> being
// the Debian release the packages of <dir> come from (trixie, bullseye). The output
// depends on its inputs only (the serial number is derived from them): the same build, the same SBOM.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    manifest: { type: 'string' },
    patches: { type: 'string' },
    name: { type: 'string' },
    arch: { type: 'string' },
    'node-version': { type: 'string' },
    debs: { type: 'string', multiple: true },
    out: { type: 'string' },
  },
});
for (const required of ['manifest', 'name', 'arch', 'out']) {
  if (!values[required]) throw new Error(`write-sbom: --${required} is required`);
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runtime = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
// Debian's release of each suite the packages come from, for the purl's distro qualifier.
const DEBIAN_RELEASES = { trixie: 'debian-13', bullseye: 'debian-11' };

/** dpkg-deb -f output: "Field: value" lines. */
function readControl(file) {
  const fields = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (match) fields[match[1]] = match[2];
  }
  return fields;
}

const debDirs = new Map();
for (const entry of values.debs ?? []) {
  const [suite, dir] = entry.split(/=(.*)/s);
  if (!suite || !dir || !DEBIAN_RELEASES[suite]) throw new Error(`write-sbom: --debs takes <suite>=<dir> with a suite of ${Object.keys(DEBIAN_RELEASES).join(', ')}, not ${entry}`);
  debDirs.set(suite, dir);
}

function findControl(suite, pkg) {
  const dir = debDirs.get(suite);
  if (!dir) throw new Error(`write-sbom: no --debs ${suite}=<dir> for ${pkg}`);
  const file = path.join(dir, `${pkg}.control`);
  if (!existsSync(file)) throw new Error(`write-sbom: no control data for Debian package ${pkg} in ${file}`);
  return readControl(file);
}

const files = new Map();
for (const line of readFileSync(values.manifest, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const [file, origin] = line.split('\t');
  if (!file || !origin) throw new Error(`write-sbom: bad manifest line: ${line}`);
  if (!files.has(origin)) files.set(origin, []);
  files.get(origin).push(file);
}

const patches = new Map();
if (values.patches && existsSync(values.patches)) {
  for (const line of readFileSync(values.patches, 'utf8').split('\n')) {
    const [file, what] = line.split('\t');
    if (file && what) patches.set(file, what);
  }
}
const patchProperties = (paths) => paths.filter((file) => patches.has(file)).map((file) => ({ name: 'lambda-php:patched', value: `${file}: ${patches.get(file)}` }));

const components = [];
for (const [origin, paths] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  const occurrences = paths.sort().map((location) => ({ location }));
  if (origin.startsWith('deb:')) {
    const [, suite, pkg] = origin.split(':');
    const fields = findControl(suite, pkg);
    const name = fields.Package;
    const version = fields.Version;
    // "Source: glibc" or "Source: glibc (2.41-12)" when the source version differs.
    const sourceMatch = /^(\S+)(?:\s+\((.+)\))?$/.exec(fields.Source ?? '');
    const sourceName = sourceMatch?.[1] ?? name;
    const sourceVersion = sourceMatch?.[2] ?? version;
    const purl = `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=${fields.Architecture}&distro=${DEBIAN_RELEASES[suite]}`;
    components.push({
      type: 'library',
      'bom-ref': purl,
      name,
      version,
      purl,
      properties: [
        { name: 'debian:source', value: sourceName },
        { name: 'debian:source-version', value: sourceVersion },
        { name: 'debian:suite', value: suite },
        ...patchProperties(paths),
      ],
      evidence: { occurrences },
    });
  } else if (origin === 'node') {
    const version = values['node-version'];
    if (!version) throw new Error('write-sbom: the layer ships Node: --node-version is required');
    const purl = `pkg:generic/nodejs/node@${version}?download_url=https://registry.npmjs.org/node-linux-${values.arch === 'arm64' ? 'arm64' : 'x64'}`;
    components.push({ type: 'application', 'bom-ref': purl, name: 'node', version, purl, evidence: { occurrences } });
  } else if (origin === 'lambda-php') {
    const purl = `pkg:npm/${runtime.name}@${runtime.version}`;
    components.push({ type: 'application', 'bom-ref': purl, name: runtime.name, version: runtime.version, description: runtime.description, purl, evidence: { occurrences } });
  } else {
    throw new Error(`write-sbom: unknown origin ${origin}`);
  }
}

const body = { components };
const digest = createHash('sha256').update(JSON.stringify([values.name, values.arch, body])).digest('hex');
const uuid = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-a${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
const bom = {
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  serialNumber: `urn:uuid:${uuid}`,
  version: 1,
  metadata: {
    component: { type: 'platform', 'bom-ref': values.name, name: values.name, version: runtime.version, description: `AWS Lambda layer (${values.arch}) of ${runtime.name}` },
    tools: { components: [{ type: 'application', name: 'lambda-php write-sbom.mjs', version: runtime.version }] },
    properties: [
      { name: 'lambda-php:arch', value: values.arch },
      {
        name: 'lambda-php:elf-search-paths',
        value: 'PHP runs on its own glibc: /opt/bin/php-cgi and /opt/lambda-php/cgi-spawner have the interpreter /opt/php/lib/ld-linux-* and DT_RPATH /opt/php/lib; the search paths of the libraries are removed (gconv modules: $ORIGIN); node/bin/node has DT_RUNPATH /opt/node/lib',
      },
    ],
  },
  components,
  dependencies: [{ ref: values.name, dependsOn: components.map((component) => component['bom-ref']) }],
};
writeFileSync(values.out, `${JSON.stringify(bom, null, 2)}\n`);
