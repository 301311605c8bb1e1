/**
 * What PHP finds in the Lambda-like container, in both PHP_CGI_MODEs: the function's own
 * php/conf.d changes settings, only /tmp is writable, the layer's extensions load and work, OPcache
 * runs (and persists across requests in fastcgi mode), PHP runs as Lambda's user.
 * The app is test/fixtures/container-app (handler public/index.php, ?check=... picks the report).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHP_MODES } from '../support/probe-function.ts';
import { CONTAINER_APP, LAYER_TIMEOUT_MS, prepareLayer, startLambdaContainer, type LambdaContainer } from '../support/lambda-container.ts';
import { eventFor } from '../support/sample-events.ts';

const EXTENSIONS = ['mbstring', 'pdo_sqlite', 'sqlite3', 'intl', 'Zend OPcache', 'curl', 'json', 'openssl', 'sodium', 'gd', 'zip', 'dom', 'simplexml', 'bcmath', 'fileinfo', 'pdo_mysql', 'pdo_pgsql'];

describe.each(PHP_MODES)('container sandbox, PHP_CGI_MODE=%s', (mode) => {
  let fn: LambdaContainer;
  let layerDir: string;
  beforeAll(async () => {
    const host = await prepareLayer('provided');
    layerDir = host.layerDir;
    fn = await startLambdaContainer({ taskRoot: CONTAINER_APP, handler: 'public/index.php', mode, host, functionName: 'container-app' });
  }, LAYER_TIMEOUT_MS);
  afterAll(async () => {
    await fn?.stop();
  });

  async function check(name: string, query = ''): Promise<any> {
    const response = await fn.http(eventFor('http-api', { path: '/', query: `check=${name}${query ? `&${query}` : ''}` }));
    expect(response.statusCode, response.body.toString()).toBe(200);
    expect(response.headers.get('x-container-app')).toEqual(['yes']);
    return JSON.parse(response.body.toString());
  }

  it("applies the function's /var/task/php/conf.d/custom.ini after the layer's settings", async () => {
    const ini = await check('ini');
    // The layer's own values differ: the function's file is what changed them.
    const layerIni = readFileSync(path.join(layerDir, 'php', 'php.ini'), 'utf8');
    expect(layerIni).not.toMatch(/^memory_limit\s*=\s*77M/m);
    expect(layerIni).toMatch(/^date\.timezone\s*=\s*UTC/m);
    expect(ini.memory_limit).toBe('77M');
    expect(ini['date.timezone']).toBe('Pacific/Auckland');
    expect(ini.default_timezone).toBe('Pacific/Auckland');
    expect(ini.loaded_file).toBe('/opt/php/php.ini');
    expect(ini.scanned_files.at(-1)).toBe('/var/task/php/conf.d/custom.ini');
    expect(ini.scanned_files.filter((file: string) => file.startsWith('/opt/php/conf.d/')).length).toBeGreaterThan(10);
  });

  it('lets PHP write to /tmp only: /var/task, /opt and the root file system are read-only', async () => {
    const writes = await check('writes');
    expect(writes['/tmp']).toEqual({ ok: true, error: null });
    for (const dir of ['/var/task', '/var/task/php', '/opt', '/opt/php', '/', '/etc', '/var', '/root', '/home']) {
      expect(writes[dir].ok, `${dir} must not be writable`).toBe(false);
      // As Lambda's user, most of these fail on permissions already; the root test below shows the mounts are read-only.
      expect(writes[dir].error, dir).toMatch(/Read-only file system|Permission denied/);
    }
    // The layer's php.ini puts PHP's temporary files in /tmp too.
    expect(writes.sys_get_temp_dir).toBe('/tmp');
    expect(writes.tempnam).toBe(true);
  });

  it("loads and uses the layer's extensions", async () => {
    const report = await check('extensions', `names=${encodeURIComponent(EXTENSIONS.join(','))}`);
    expect(report.loaded).toEqual(Object.fromEntries(EXTENSIONS.map((name) => [name, true])));
    expect(report.pdo_sqlite).toBe('ünïcødé');
    expect(report.mbstring).toBe('ÜNÏCØDÉ');
    expect(report.intl).toBe('1.234.567,891');
  });

  it('runs PHP as Lambda\'s user, from /var/task, on the base image', async () => {
    const identity = await check('identity');
    expect(identity.uid).toBe(993);
    expect(identity.gid).toBe(990);
    expect(identity.sapi).toBe('cgi-fcgi');
    expect(identity.os_release).toMatch(/PRETTY_NAME=/);
    expect(identity.env.LAMBDA_TASK_ROOT).toBe('/var/task');
    expect(identity.env.LD_LIBRARY_PATH).toMatch(/^\/lib64:\/usr\/lib64:\/var\/runtime:\/var\/runtime\/lib:\/var\/task:\/var\/task\/lib:\/opt\/lib(:|$)/);
  });

  if (mode === 'fastcgi') {
    it('has OPcache enabled, its cache kept from one request to the next', async () => {
      const first = await check('opcache');
      const second = await check('opcache');
      expect(first.function_exists).toBe(true);
      expect(first.enabled).toBe(true);
      expect(first.ini['opcache.file_cache']).toBe('/tmp/php-opcache');
      // One persistent php-cgi: the same process, and the script already cached.
      expect(second.pid).toBe(first.pid);
      expect(second.cached_scripts).toBeGreaterThanOrEqual(1);
    });

    it("is served by the php-cgi the layer's start script started before Node, taken over by the runtime", async () => {
      // early-php-cgi.sh, with the base's busybox sh, mkfifo and setsid, through cgi-spawner --tied-exec:
      // not a php-cgi the runtime started after finding the early one wanting.
      const identity = await check('identity');
      expect(identity.cmdline).toMatch(/^\/opt\/bin\/php-cgi -b \/tmp\/lambda-php-early-\d+\.sock$/);
      // Its parent is the bootstrap: Node running the layer's bootstrap.js.
      expect(identity.parent_cmdline).toMatch(/^\S*\/node .*\/opt\/lambda-php\/bootstrap\.js$/);
      expect(fn.logs()).not.toMatch(/was not taken over|cannot be run/);
    });
  } else {
    it('starts a php-cgi per request (no shared OPcache memory between requests)', async () => {
      const first = await check('opcache');
      const second = await check('opcache');
      expect(second.pid).not.toBe(first.pid);
      expect(first.ini['opcache.enable']).toBe('1');
    });

    it("starts php-cgi through the layer's cgi-spawner, not by forking the bootstrap", async () => {
      expect((await check('identity')).parent).toBe('cgi-spawner');
    });
  }
});

describe('container sandbox as root', () => {
  let fn: LambdaContainer;
  beforeAll(async () => {
    fn = await startLambdaContainer({ taskRoot: CONTAINER_APP, handler: 'public/index.php', mode: 'fastcgi', user: 'root' });
  }, LAYER_TIMEOUT_MS);
  afterAll(async () => {
    await fn?.stop();
  });

  it('is read-only everywhere but /tmp even for root: the mounts and the root file system refuse writes', async () => {
    const response = await fn.http(eventFor('rest', { path: '/', query: 'check=writes' }));
    const writes = JSON.parse(response.body.toString());
    expect(writes['/tmp']).toEqual({ ok: true, error: null });
    for (const dir of ['/var/task', '/var/task/php', '/opt', '/opt/php', '/', '/etc', '/var', '/root']) {
      expect(writes[dir].ok, `${dir} must not be writable`).toBe(false);
      expect(writes[dir].error, dir).toMatch(/Read-only file system/);
    }
  });
});
