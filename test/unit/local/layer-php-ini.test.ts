import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { layerIniPath, localIniText, prepareLocalPhpIni, tmpFoldersNamed } from '../../../src/local/layer-php-ini.ts';

const LAYER_INI = layerIniPath(process.cwd());

/** name -> value of every directive line (what PHP would read, comments and blank lines aside). */
function directives(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z0-9_.]+)\s*=\s*(.*?)\s*(;.*)?$/.exec(line);
    if (match) found.set(match[1]!, match[2]!);
  }
  return found;
}

describe('localIniText', () => {
  it("keeps every setting of the layer's php.ini but extension_dir, and turns on opcache.validate_timestamps", () => {
    const layer = directives(readFileSync(LAYER_INI, 'utf8'));
    const local = directives(localIniText(readFileSync(LAYER_INI, 'utf8')));
    expect(layer.get('extension_dir')).toBe('"/opt/php/extensions"');
    expect(layer.get('opcache.validate_timestamps')).toBe('0');
    expect(local.has('extension_dir')).toBe(false);
    expect(local.get('opcache.validate_timestamps')).toBe('1');
    for (const [name, value] of layer) {
      if (name === 'extension_dir' || name === 'opcache.validate_timestamps') continue;
      expect(local.get(name), name).toBe(value);
    }
    expect(local.size).toBe(layer.size - 1);
  });

  it("points a setting naming one of the layer's /opt/lambda-php helpers at that file in php-build/, where the layer takes it from", () => {
    const helpers = path.dirname(LAYER_INI);
    const local = directives(localIniText(readFileSync(LAYER_INI, 'utf8'), helpers));
    expect(directives(readFileSync(LAYER_INI, 'utf8')).get('sendmail_path')).toBe('"/opt/lambda-php/sendmail-unavailable"');
    expect(local.get('sendmail_path')).toBe(`"${path.join(helpers, 'sendmail-unavailable')}"`);
    expect(existsSync(path.join(helpers, 'sendmail-unavailable'))).toBe(true);
    // Without the folder (the text alone), nothing is remapped.
    expect(directives(localIniText('sendmail_path = "/opt/lambda-php/x"\n')).get('sendmail_path')).toBe('"/opt/lambda-php/x"');
  });

  it('adds opcache.validate_timestamps = 1 to a file that does not set it', () => {
    expect(directives(localIniText('memory_limit = 64M\n')).get('opcache.validate_timestamps')).toBe('1');
  });
});

describe('tmpFoldersNamed', () => {
  it('finds the folders under /tmp that settings name, quoted or not, session.save_path "N;/path" too', () => {
    expect(tmpFoldersNamed('opcache.file_cache = "/tmp/php-opcache"\nupload_tmp_dir = /tmp\nsession.save_path = "2;/tmp/sessions"\ninclude_path = ".:/usr/share/php"\n').sort())
      .toEqual(['/tmp', '/tmp/php-opcache', '/tmp/sessions']);
    expect(tmpFoldersNamed(readFileSync(LAYER_INI, 'utf8'))).toContain('/tmp/php-opcache');
  });
});

describe('prepareLocalPhpIni', () => {
  const made: Array<{ remove(): void }> = [];
  let app: string | undefined;
  afterEach(() => {
    for (const ini of made.splice(0)) ini.remove();
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it("writes the local php.ini and points PHPRC at it; the app's conf.d is scanned after PHP's own", () => {
    app = mkdtempSync(path.join(tmpdir(), 'ini-app-'));
    mkdirSync(path.join(app, 'php', 'conf.d'), { recursive: true });
    const ini = prepareLocalPhpIni(LAYER_INI, path.join(app, 'php', 'conf.d'));
    made.push(ini);
    expect(ini.env).toEqual({ PHPRC: ini.file, PHP_INI_SCAN_DIR: `:${path.join(app, 'php', 'conf.d')}` });
    expect(readFileSync(ini.file, 'utf8')).toBe(localIniText(readFileSync(LAYER_INI, 'utf8'), path.dirname(LAYER_INI)));
    expect(existsSync('/tmp/php-opcache')).toBe(true);
    ini.remove();
    expect(existsSync(ini.file)).toBe(false);
  });

  it("leaves PHP's own scan directory alone without an app conf.d, and keeps what the user set", () => {
    const plain = prepareLocalPhpIni(LAYER_INI, '/nonexistent/php/conf.d');
    made.push(plain);
    expect(plain.env).toEqual({ PHPRC: plain.file });
    const own = prepareLocalPhpIni(LAYER_INI, '/nonexistent/php/conf.d', { PHPRC: '/etc/my-php.ini', PHP_INI_SCAN_DIR: '/etc/my-conf.d' });
    made.push(own);
    expect(own.env).toEqual({ PHPRC: '/etc/my-php.ini', PHP_INI_SCAN_DIR: '/etc/my-conf.d' });
  });

  it("says so when the layer's php.ini is missing", () => {
    expect(() => prepareLocalPhpIni('/nonexistent/php.ini', '/nonexistent')).toThrow(/The layer's php.ini is missing at \/nonexistent\/php.ini/);
  });
});
