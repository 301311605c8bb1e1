/**
 * `serve` and `invoke` run the local php-cgi with the layer's settings (php-build/php.ini, the file
 * the layer ships), then the app's php/conf.d, as on Lambda: not with the machine's own php.ini.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliServer, runCli } from '../support/cli-process.ts';

const LAYER_INI = path.resolve('php-build/php.ini');

// Reports every setting of the layer's php.ini as PHP reads the file and as it is in force here;
// a POST reports its upload.
const APP_INDEX = `<?php
header('Content-Type: application/json');
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $file = $_FILES['file'] ?? null;
    echo json_encode(['error' => $file['error'] ?? null, 'size' => $file['size'] ?? null,
        'sha256' => ($file['error'] ?? 1) === UPLOAD_ERR_OK ? hash_file('sha256', $file['tmp_name']) : null]);
    exit;
}
$settings = [];
$absent = [];
foreach (parse_ini_file(getenv('LAYER_INI'), false, INI_SCANNER_NORMAL) as $name => $value) {
    // A setting of an extension this PHP does not have (Debian's php-cgi without php-curl): unknown here.
    if (ini_get($name) === false) {
        $absent[$name] = extension_loaded(explode('.', $name)[0]);
        continue;
    }
    $settings[$name] = ['layer' => (string) $value, 'here' => ini_get($name)];
}
echo json_encode(['settings' => $settings, 'absent' => $absent, 'memory_limit' => ini_get('memory_limit'), 'ini' => php_ini_loaded_file()]);
`;

function multipartUpload(file: Buffer): { body: Buffer; contentType: string } {
  const boundary = `----lambda-php-${randomBytes(8).toString('hex')}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="three-mb.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

interface Settings {
  settings: Record<string, { layer: string; here: string | false }>;
  /** Settings of the layer's file this PHP does not know, and whether their extension is loaded. */
  absent: Record<string, boolean>;
  memory_limit: string;
  ini: string;
}

function expectLayerSettings(seen: Settings): void {
  const names = Object.keys(seen.settings);
  // Only the settings of extensions this machine's PHP lacks (the layer has more) may be unknown here.
  for (const [name, extensionLoaded] of Object.entries(seen.absent)) expect(extensionLoaded, `${name} is unknown to a PHP that loads its extension`).toBe(false);
  expect(names).toEqual(expect.arrayContaining(['display_errors', 'upload_max_filesize', 'opcache.enable', 'opcache.file_cache', 'date.timezone']));
  for (const [name, { layer, here }] of Object.entries(seen.settings)) {
    if (name === 'extension_dir' || name === 'opcache.validate_timestamps' || name === 'sendmail_path') continue;
    expect(here, name).toBe(layer);
  }
  // What differs, and only that: edits show, this PHP keeps its own extensions, and the layer's
  // helper for mail() is the repository's copy of it.
  expect(seen.settings['opcache.validate_timestamps']).toEqual({ layer: '0', here: '1' });
  expect(seen.settings.sendmail_path).toEqual({ layer: '/opt/lambda-php/sendmail-unavailable', here: path.resolve('php-build/sendmail-unavailable') });
  expect(seen.settings.extension_dir!.layer).toBe('/opt/php/extensions');
  expect(seen.settings.extension_dir!.here).not.toBe('/opt/php/extensions');
}

describe('the local php-cgi has the layer settings', () => {
  let app: string;
  beforeAll(() => {
    app = mkdtempSync(path.join(tmpdir(), 'layer-ini-app-'));
    writeFileSync(path.join(app, 'index.php'), APP_INDEX);
    // The app's own conf.d comes after the layer's settings, as on Lambda.
    mkdirSync(path.join(app, 'php', 'conf.d'), { recursive: true });
    writeFileSync(path.join(app, 'php', 'conf.d', 'app.ini'), 'memory_limit = 99M\n');
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it('under serve: it says which php-cgi and ini files it uses, ini_get() matches the layer file, and a 3 MB upload works as on Lambda', async () => {
    const server = new CliServer(['serve', app, '--port', '0', '--env', `LAYER_INI=${LAYER_INI}`]);
    try {
      const url = await server.url();
      expect(server.stdout).toMatch(/^php-cgi: \/\S*php-cgi\S* \(PHP \d+\.\d+\.\d+/m);
      expect(server.stdout).toMatch(new RegExp(`^php\\.ini: \\S+/php\\.ini, the layer's ${LAYER_INI.replaceAll('.', '\\.')} with opcache\\.validate_timestamps=1`, 'm'));
      expect(server.stdout).toMatch(new RegExp(`^conf\\.d: .*, then ${path.join(app, 'php', 'conf.d')} \\(app\\.ini\\)$`, 'm'));

      const seen = (await (await fetch(`${url}/`)).json()) as Settings;
      expectLayerSettings(seen);
      expect(seen.memory_limit).toBe('99M');

      // PHP's default (and Debian's php.ini) refuse it: upload_max_filesize = 2M.
      const file = randomBytes(3 * 1024 * 1024);
      const { body, contentType } = multipartUpload(file);
      const upload = (await (await fetch(`${url}/upload`, { method: 'POST', body, headers: { 'content-type': contentType } })).json()) as any;
      expect(upload).toEqual({ error: 0, size: file.length, sha256: createHash('sha256').update(file).digest('hex') });
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  it("without the layer's settings (a PHPRC of the user's own, which wins) the same upload fails with PHP's 2M limit", async () => {
    const ownIni = path.join(app, 'own-php.ini');
    writeFileSync(ownIni, '; nothing set: PHP\'s defaults\n');
    const server = new CliServer(['serve', app, '--port', '0', '--env', `PHPRC=${ownIni}`]);
    try {
      const url = await server.url();
      expect(server.stdout).toContain(`\nphp.ini: ${ownIni}\n`);
      const { body, contentType } = multipartUpload(randomBytes(3 * 1024 * 1024));
      const upload = (await (await fetch(`${url}/upload`, { method: 'POST', body, headers: { 'content-type': contentType } })).json()) as any;
      expect(upload.error).toBe(1); // UPLOAD_ERR_INI_SIZE
    } finally {
      await server.stop();
    }
  });

  it('under invoke too', async () => {
    const event = path.join(app, 'event.json');
    writeFileSync(event, JSON.stringify({ version: '2.0', rawPath: '/', rawQueryString: '', headers: { host: 'localhost' }, requestContext: { http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' } }, isBase64Encoded: false }));
    const { code, stdout } = await runCli(['invoke', '--event', event, app, '--env', `LAYER_INI=${LAYER_INI}`]);
    expect(code).toBe(0);
    const seen = JSON.parse(JSON.parse(stdout).body) as Settings;
    expectLayerSettings(seen);
    expect(seen.memory_limit).toBe('99M');
  });
});
