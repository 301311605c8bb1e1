/**
 * The `lambda-php` command (bin/lambda-php) as a user gets it: on the PATH after `npm link` /
 * `npm install -g` of the clone, or from a packed package; from a fresh clone with no dist/ yet;
 * with the ready events of examples/events.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHttpRequest } from '../../src/events/detect-event-source.ts';
import { run } from '../support/cli-process.ts';

const ROOT = process.cwd();
const LAUNCHER = path.join(ROOT, 'bin', 'lambda-php');
const PROJECT_NODE_VERSION = execFileSync(path.join(ROOT, 'node_modules', '.bin', 'node'), ['--version'], { encoding: 'utf8' }).trim();
/** The machine's own folders, without the project's node_modules/.bin: the system Node, if any, comes first. */
const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin';

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

/** `npm <args>` as a user would run it, quietly. */
function npm(args: string[], cwd = ROOT): void {
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, stdio: 'pipe' });
}

/** The Node first on a PATH, and whether the CLI can run on it (22.22 or later). */
function nodeOnPath(pathVariable: string): { node: string; version: string; recentEnough: boolean } | undefined {
  for (const dir of pathVariable.split(':')) {
    const node = path.join(dir, 'node');
    if (!existsSync(node)) continue;
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    const [major, minor] = version.slice(1).split('.').map(Number) as [number, number];
    return { node, version, recentEnough: major > 22 || (major === 22 && minor >= 22) };
  }
  return undefined;
}

describe('examples/events', () => {
  const SOURCES: Record<string, string> = {
    'alb.json': 'alb',
    'function-url.json': 'api-gateway-v2',
    'http-api.json': 'api-gateway-v2',
    'rest-api.json': 'api-gateway-v1',
  };

  /** The ready events that are not HTTP, for examples/worker: what each gets from it. */
  const WORKER_EVENTS: Record<string, RegExp> = {
    'console-migrate.json': /^\{"exitCode":0,"output":"(Created|Nothing to migrate: )/,
    'sqs.json': /^\{"batchItemFailures":\[\{"itemIdentifier":"0f6c8b5e-1a2b-4c3d-8e9f-0a1b2c3d4e02"\}\]\}$/,
    'scheduled.json': /^\{"job":"daily-report","scheduledAt":"2026-03-05T06:00:00Z","orders":2,/,
    'direct.json': /^\{"orderId":1001,"item":"Green tea","quantity":2,/,
    'console.json': /^\{"exitCode":0,"output":"#1001  2x Green tea/,
    // The worker takes no other source: the error names it.
    'eventbridge.json': /^\{"errorType":"UnhandledEventSource","errorMessage":"worker\.php takes .* not \\"Order Shipped\\" events"/,
    's3.json': /"errorType":"UnhandledEventSource".*not aws:s3 events/,
    'sns.json': /not aws:sns events/,
    'dynamodb.json': /not aws:dynamodb events/,
    'kinesis.json': /not aws:kinesis events/,
  };

  it('has a ready event for every other source, each answered by examples/worker through lambda-php invoke (its worker.php found by itself)', async () => {
    const orders = path.join(tempDir('worker-orders-'), 'orders.json');
    for (const [file, expected] of Object.entries(WORKER_EVENTS)) {
      const eventFile = path.join('examples', 'events', file);
      const { code, stdout, stderr } = await run(LAUNCHER, ['invoke', '--event', eventFile, '--env', `ORDERS_FILE=${orders}`, 'examples/worker']);
      expect(stdout.trimEnd(), `${file}: ${stderr}`).toMatch(expected);
      expect(code, file).toBe(stdout.startsWith('{"errorType"') ? 1 : 0);
    }
  });

  it('has one ready event per source, each HTTP one answered by the hello app through lambda-php invoke', async () => {
    expect(readdirSync(path.join(ROOT, 'examples', 'events')).sort()).toEqual([...Object.keys(SOURCES), ...Object.keys(WORKER_EVENTS)].sort());
    for (const [file, source] of Object.entries(SOURCES)) {
      const eventFile = path.join('examples', 'events', file);
      const event = JSON.parse(readFileSync(eventFile, 'utf8'));
      const { source: detected, request } = toHttpRequest(event);
      expect(detected, file).toBe(source);
      const { code, stdout, stderr } = await run(LAUNCHER, ['invoke', '--event', eventFile, 'examples/hello']);
      expect(code, stderr).toBe(0);
      const result = JSON.parse(stdout);
      expect(result.statusCode, file).toBe(200);
      const target = request.rawQueryString === '' ? request.path : `${request.path}?${request.rawQueryString}`;
      expect(result.body, file).toBe(`Hello World! You've reached ${target}\n`);
    }
  });
});

describe('the example API under lambda-php', () => {
  it("keeps its items in /tmp/lambda-php-example-api.json, the file the README names (on the host's /tmp: kept across restarts)", async () => {
    const index = path.join(tempDir('api-index-'), 'index.json');
    const event = JSON.parse(readFileSync('examples/events/http-api.json', 'utf8'));
    writeFileSync(index, JSON.stringify({ ...event, rawPath: '/', requestContext: { ...event.requestContext, http: { ...event.requestContext.http, path: '/' } } }));
    const { code, stdout, stderr } = await run(LAUNCHER, ['invoke', '--event', index, 'examples/api']);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(JSON.parse(stdout).body).data_file).toBe('/tmp/lambda-php-example-api.json');
    expect(readFileSync('README.md', 'utf8')).toContain('The API\'s state is the file `/tmp/lambda-php-example-api.json`');
  });
});

describe('the lambda-php command', () => {
  it('is on the PATH after a global install of the clone (npm link, npm install -g .), and runs on the project Node ahead of the system one', async () => {
    const prefix = tempDir('lambda-php-global-');
    npm(['install', '--global', '--prefix', prefix, '--ignore-scripts', ROOT]);
    const env = { ...process.env, PATH: `${path.join(prefix, 'bin')}:${SYSTEM_PATH}` };
    const version = await run('lambda-php', ['version'], { env });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(new RegExp(`^lambda-php \\d+\\.\\d+\\.\\d+ \\(Node\\.js ${PROJECT_NODE_VERSION.replaceAll('.', '\\.')}, `));
    const invoked = await run('lambda-php', ['invoke', '--event', 'examples/events/function-url.json', 'examples/hello'], { env });
    expect(invoked.code, invoked.stderr).toBe(0);
    expect(JSON.parse(invoked.stdout).body).toBe("Hello World! You've reached /hello?name=Ada\n");
  });

  it("installed from its package (without the project's Node) runs on a recent Node, and refuses an older one in one line", async () => {
    const packed = tempDir('lambda-php-pack-');
    // dist/ is already built (the suite's global setup); --ignore-scripts keeps prepack from rebuilding it under running tests.
    npm(['pack', '--ignore-scripts', '--pack-destination', packed]);
    const tarball = path.join(packed, readdirSync(packed).find((file) => file.endsWith('.tgz'))!);
    const prefix = tempDir('lambda-php-package-');
    npm(['install', '--global', '--prefix', prefix, '--ignore-scripts', '--prefer-offline', tarball]);
    const bin = path.join(prefix, 'bin');
    expect(existsSync(path.join(prefix, 'lib', 'node_modules', 'lambda-php-runtime', 'node_modules', '.bin', 'node'))).toBe(false);

    // A recent Node first on the PATH (here the project's own, standing for a system Node 24).
    const recent = await run('lambda-php', ['version'], { env: { ...process.env, PATH: `${bin}:${path.join(ROOT, 'node_modules', '.bin')}:${SYSTEM_PATH}` } });
    expect(recent.code, recent.stderr).toBe(0);
    expect(recent.stdout).toContain(`(Node.js ${PROJECT_NODE_VERSION}, `);

    // The machine's own Node (Node 20 on the project's Debian machines).
    const systemPath = `${bin}:${SYSTEM_PATH}`;
    const system = nodeOnPath(SYSTEM_PATH);
    const outcome = await run('lambda-php', ['version'], { env: { ...process.env, PATH: systemPath } });
    if (system === undefined) {
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toBe('lambda-php: no Node.js found: put Node.js 22.22 or later first on the PATH\n');
    } else if (!system.recentEnough) {
      expect(outcome.code).toBe(1);
      expect(outcome.stdout).toBe('');
      expect(outcome.stderr).toBe(`lambda-php: needs Node.js 22.22 or later, and ${system.node} is ${system.version}: put Node.js 22.22 or later first on the PATH\n`);
    } else {
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stdout).toContain(`(Node.js ${system.version}, `);
    }
  });

  it('builds dist/ first in a fresh clone, where it does not exist yet', async () => {
    const clone = tempDir('lambda-php-clone-');
    for (const entry of ['src', 'scripts', 'node_modules', 'examples', 'php-build', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      symlinkSync(path.join(ROOT, entry), path.join(clone, entry));
    }
    mkdirSync(path.join(clone, 'bin'));
    copyFileSync(LAUNCHER, path.join(clone, 'bin', 'lambda-php'));
    expect(existsSync(path.join(clone, 'dist'))).toBe(false);
    const { code, stdout, stderr } = await run(path.join(clone, 'bin', 'lambda-php'), ['invoke', '--event', 'examples/events/http-api.json', 'examples/hello'], { env: { ...process.env, PATH: SYSTEM_PATH } });
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout).body).toBe("Hello World! You've reached /items\n");
    expect(existsSync(path.join(clone, 'dist', 'cli.js'))).toBe(true);
    expect(existsSync(path.join(clone, 'dist', 'bootstrap.js'))).toBe(true);
  });
});
