/**
 * What the layer brings along with its own glibc, checked on the glibc-only base image (bullseye's
 * glibc 2.31 and busybox: no zoneinfo, no CA certificates, no sendmail, no libstdc++), in both PHP
 * modes: HTTPS verification with the layer's CA bundle, time zones, iconv, children on the base's
 * own glibc, mail(), uploads, the intl, gd and CLI add-ons, and an extension the function enables
 * itself.
 * The app is test/fixtures/container-app (handler public/index.php, ?check=... picks the report).
 */
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHP_MODES } from '../support/probe-function.ts';
import { CONTAINER_APP, LAYER_TIMEOUT_MS, startLambdaContainer, type LambdaContainer } from '../support/lambda-container.ts';
import { eventFor } from '../support/sample-events.ts';

const TLS = path.join(CONTAINER_APP, 'tls');
const LAYER_CA_BUNDLE = '/opt/php/ssl/ca-certificates.crt';

describe.each(PHP_MODES)('the layer on the glibc-only base, PHP_CGI_MODE=%s', (mode) => {
  let fn: LambdaContainer;
  let tls: Server;
  let tlsPort: number;
  beforeAll(async () => {
    // An HTTPS server on loopback whose certificate comes from a CA of its own, in no bundle.
    tls = createServer({ cert: readFileSync(path.join(TLS, 'server.pem')), key: readFileSync(path.join(TLS, 'server-key.pem')) }, (_request, response) => {
      response.end('hello over tls');
    });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    tlsPort = (tls.address() as { port: number }).port;
    fn = await startLambdaContainer({ taskRoot: CONTAINER_APP, handler: 'public/index.php', mode });
  }, LAYER_TIMEOUT_MS);
  afterAll(async () => {
    await fn?.stop();
    await new Promise((resolve) => tls?.close(resolve));
  });

  async function check(name: string, request: Parameters<typeof eventFor>[1] = { path: '/' }): Promise<any> {
    const response = await fn.http(eventFor('http-api', { ...request, query: `check=${name}${request.query ? `&${request.query}` : ''}` }));
    expect(response.statusCode, response.body.toString()).toBe(200);
    return JSON.parse(response.body.toString());
  }

  it("verifies HTTPS with the layer's CA bundle: refuses a server whose CA is not in it, accepts it given that CA", async () => {
    const https = await check('https', { path: '/', query: `port=${tlsPort}` });
    expect(https.cafile).toBe(LAYER_CA_BUNDLE);
    expect(https.cainfo).toBe(LAYER_CA_BUNDLE);
    expect(https.ssl_cert_file).toBe(LAYER_CA_BUNDLE);
    // Mozilla's roots, e.g. Let's Encrypt's and Amazon's (AWS endpoints).
    expect(https.bundle_subjects.length).toBeGreaterThan(100);
    expect(https.bundle_subjects).toEqual(expect.arrayContaining(['ISRG Root X1', 'Amazon Root CA 1']));
    // PHP's streams (file_get_contents, the AWS SDK's default handler without curl)...
    expect(https.stream_default.body).toBeNull();
    expect(https.stream_default.error).toMatch(/certificate verify failed/);
    expect(https.stream_with_ca).toEqual({ body: 'hello over tls', error: null });
    // ... and curl (CURLE_PEER_FAILED_VERIFICATION is 60).
    expect(https.curl_default.body).toBeNull();
    expect(https.curl_default.errno).toBe(60);
    expect(https.curl_with_ca).toEqual({ body: 'hello over tls', errno: 0, error: '' });
  });

  it('tells the time in Europe/Paris with no /usr/share/zoneinfo on the base', async () => {
    const time = await check('time');
    expect(time.system_zoneinfo).toBe(false);
    expect(time.paris_winter).toBe('2024-01-01 13:00:00 CET +01:00');
    expect(time.paris_summer).toBe('2024-07-01 14:00:00 CEST +02:00');
    expect(time.new_york).toBe('08:00 EDT');
    expect(time.location).toBe('FR');
    expect(time.zones).toBeGreaterThan(400);
  });

  it('converts with iconv to ISO-8859-1 and to charsets that need other gconv modules', async () => {
    const iconv = await check('iconv');
    expect(iconv.iso_8859_1).toBe('636166e9');
    expect(iconv.windows_1251).toBe('cff0e8e2e5f2');
    expect(iconv.back).toBe('žé');
    expect(iconv.translit).toBe('Creme brulee');
  });

  it("starts the base's own programs, which run on the base's glibc", async () => {
    const children = await check('children');
    expect(children.echo).toEqual([['hello from a child'], 0]);
    // getent is glibc's own program, dynamically linked against the base's glibc 2.31.
    expect(children.getent[1]).toBe(0);
    expect(children.getent[0].join('\n')).toMatch(/localhost/);
    expect(children.shell).toBe('42');
    // The function's own LD_LIBRARY_PATH (Lambda's), nothing of the layer's added to it: PHP finds
    // its libraries through its RPATH.
    expect(children.ld_library_path.child).toBe(children.ld_library_path.php);
    expect(children.ld_library_path.child).toMatch(/^\/lib64:\/usr\/lib64:/);
    expect(children.ld_library_path.child).not.toContain('/opt/php');
  });

  it('fails mail() at once, with a log line that says why', async () => {
    const mail = await check('mail');
    expect(mail).toEqual({ sent: false, sendmail_path: '/opt/lambda-php/sendmail-unavailable' });
    await expect.poll(() => fn.logs()).toMatch(/mail\(\): the message was not sent: Lambda has no sendmail/);
  });

  it('receives an upload in /tmp', async () => {
    const content = randomBytes(48 * 1024);
    const boundary = 'lambda-php-upload-boundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="document"; filename="report.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const upload = await check('upload', { method: 'POST', path: '/', headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body });
    expect(upload).toEqual({
      error: 0,
      tmp_dir: '/tmp',
      size: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      name: 'report.bin',
      upload_tmp_dir: '/tmp',
    });
  });

  it('formats a number in de_DE with the intl add-on', async () => {
    const report = await check('extensions', { path: '/', query: 'names=intl' });
    expect(report.loaded).toEqual({ intl: true });
    expect(report.intl).toBe('1.234.567,891');
  });

  it('writes and reads back WebP and AVIF images with the gd add-on', async () => {
    const gd = await check('gd');
    expect(gd.webp_magic).toBe('RIFF/WEBP');
    expect(gd.read_back).toEqual([16, 16]);
    expect(gd.avif_brand).toBe('ftypavif');
    expect(gd.avif_read_back).toEqual([16, 16]);
    expect(gd.info).toMatchObject({ 'FreeType Support': true, 'JPEG Support': true, 'PNG Support': true, 'WebP Support': true });
  });

  it('runs the PHP CLI add-on (console commands) with the same PHP, settings and extensions', async () => {
    const cli = await check('cli');
    expect(cli.status).toBe(0);
    expect(cli.cli).toEqual(['cli', cli.cgi_version, '/opt/php/php.ini', '77M', true, 'Pacific/Auckland']);
  });

  it("loads an extension the layer ships disabled once the function's php/conf.d enables it", async () => {
    expect(await check('disabled-extension')).toEqual({ loaded: true, days: 29 });
  });
});
