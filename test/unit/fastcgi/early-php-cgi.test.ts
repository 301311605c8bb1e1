/**
 * Taking over the php-cgi that php-build/early-php-cgi.sh starts before Node, at the moments the
 * script's background child can be in: a fork of the shell that has not exec'd yet (its command
 * line is still the shell's), php-cgi itself, or something that is not php-cgi at all. The whole
 * start script is test/e2e/early-php-cgi.test.ts's; here the child is made by hand, to hold it in
 * each state as long as needed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { discardEarlyPhpCgi } from '../../../src/cgi/fastcgi/early-php-cgi.ts';
import { PhpFastCgiServer } from '../../../src/cgi/fastcgi/php-fastcgi-server.ts';
import { createPhpFixtures, PHP_CGI, processExists, type PhpFixtures } from './php-fixtures.ts';

let php: PhpFixtures;
let dir: string;
const started: ChildProcess[] = [];

beforeAll(() => {
  php = createPhpFixtures();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'early-adopt-'));
});

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(() => {
  php.remove();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A child of this process, as the script starts it: stdout and stderr on `<early>.fifo`, running
 * `script` in a shell, whose command line names no php-cgi until `exec` replaces it.
 */
function startChild(name: string, script: string, args: string[] = []): { pid: number; path: string; child: ChildProcess } {
  const early = path.join(dir, name);
  execFileSync('mkfifo', ['-m', '600', `${early}.fifo`]);
  const fifo = fs.openSync(`${early}.fifo`, fs.constants.O_RDWR);
  const child = spawn('/bin/sh', ['-c', script.replaceAll('$EARLY', early), 'sh', ...args.map((arg) => arg.replaceAll('$EARLY', early))], {
    stdio: ['ignore', fifo, fifo],
    // Its own process group, as setsid gives the script's php-cgi: the kill that gives up on it
    // then takes what it started (the shell's sleep) along.
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PHP_FCGI_CHILDREN: '0' },
  });
  fs.closeSync(fifo);
  started.push(child);
  return { pid: child.pid!, path: early, child };
}

const options = { phpCgiBinary: PHP_CGI, env: { PATH: '/usr/bin:/bin' }, log: () => {} };

describe('PhpFastCgiServer.adopt (the php-cgi the start script started)', () => {
  it('waits for a child that has not exec’d php-cgi yet (a busy machine starts Node first), then serves with it', async () => {
    const early = startChild('late-exec', `sleep 0.3; exec ${PHP_CGI} -b $EARLY.sock`);
    const server = await PhpFastCgiServer.adopt(options, early);
    try {
      expect(server.pid).toBe(early.pid);
      const connection = await server.connection();
      const response = await connection.request({ params: php.request('pid.php').env, body: Buffer.alloc(0), log: () => {} });
      expect(response.stdout.toString()).toMatch(new RegExp(`\\r\\n\\r\\n${early.pid}$`));
      expect(fs.existsSync(`${early.path}.fifo`), 'the FIFO is unlinked once opened').toBe(false);
    } finally {
      await server.kill();
    }
  });

  it('gives up on a child that runs something else, kills it and removes its files, saying what it runs', async () => {
    const early = startChild('never-php', 'sleep 30');
    await expect(PhpFastCgiServer.adopt(options, early)).rejects.toThrow(
      new RegExp(`^process ${early.pid} is not ${PHP_CGI} -b ${early.path}\\.sock \\(it runs: /bin/sh -c sleep 30 sh\\)$`),
    );
    await new Promise((resolve) => early.child.once('exit', resolve));
    expect(early.child.signalCode).toBe('SIGKILL');
    expect(fs.existsSync(`${early.path}.fifo`)).toBe(false);
  });

  it('refuses a child that names the socket but is not php-cgi, and php-cgi listening on another socket', async () => {
    // `; :` keeps the shell from exec'ing sleep in its place: its command line stays the shell's.
    const impostor = startChild('impostor', 'sleep 30; :', ['-b', '$EARLY.sock']);
    await expect(PhpFastCgiServer.adopt(options, impostor)).rejects.toThrow(`process ${impostor.pid} is not ${PHP_CGI} -b ${impostor.path}.sock (it runs: /bin/sh -c sleep 30; : sh -b ${impostor.path}.sock)`);
    const elsewhere = startChild('elsewhere', `exec ${PHP_CGI} -b $EARLY.other.sock`);
    await expect(PhpFastCgiServer.adopt(options, elsewhere)).rejects.toThrow(`process ${elsewhere.pid} is not ${PHP_CGI} -b ${elsewhere.path}.sock (it runs: ${PHP_CGI} -b ${elsewhere.path}.other.sock)`);
  });

  it('stops waiting for the exec when the child exits first, and says so', async () => {
    const early = startChild('dies-waiting', 'sleep 0.2; exit 3');
    await expect(PhpFastCgiServer.adopt(options, early)).rejects.toThrow(new Error(`php-cgi (pid ${early.pid}) had already exited`));
  });

  it('reports why php-cgi could not start, even when what is at its socket path cannot be removed (a folder)', async () => {
    fs.mkdirSync(`${path.join(dir, 'folder-in-the-way')}.sock`);
    const early = startChild('folder-in-the-way', `exec ${PHP_CGI} -b $EARLY.sock`);
    // Usually caught running (then its own words say why); on a slow machine it may be gone already.
    await expect(PhpFastCgiServer.adopt(options, early)).rejects.toThrow(/before answering FastCGI requests: .*Couldn't create FastCGI listen socket|had already exited/);
    expect(fs.statSync(`${early.path}.sock`).isDirectory()).toBe(true);
  });

  it('sees php-cgi exit even while something it started still holds its output open: SIGCHLD, not the end of the output, tells', async () => {
    const early = startChild('output-held', `sleep 30 & exec ${PHP_CGI} -b $EARLY.sock`);
    const server = await PhpFastCgiServer.adopt(options, early);
    try {
      process.kill(early.pid, 'SIGKILL');
      const exit = await Promise.race([server.exited, delay(5000, 'still waiting')]);
      expect(exit).not.toBe('still waiting');
      expect(server.running).toBe(false);
    } finally {
      killGroup(early.pid); // the sleep that holds the FIFO
    }
  });

  it('refuses a child that exited before it exec’d php-cgi (reaped, it is no child any more)', async () => {
    const early = startChild('exits', 'exit 3');
    await new Promise((resolve) => early.child.once('exit', resolve));
    await expect(PhpFastCgiServer.adopt(options, early)).rejects.toThrow(`process ${early.pid} is not a child of this runtime`);
    expect(processExists(early.pid)).toBe(false);
  });
});

describe('discardEarlyPhpCgi (a runtime that will not take the early php-cgi over)', () => {
  it('kills its child and removes its files', async () => {
    const early = startChild('discarded', `exec ${PHP_CGI} -b $EARLY.sock`);
    const exited = once(early.child, 'exit');
    discardEarlyPhpCgi(early);
    await exited;
    expect(early.child.signalCode).toBe('SIGKILL');
    expect(fs.existsSync(`${early.path}.fifo`)).toBe(false);
  });

  it('leaves be a process that is not its child (a stale or hand-set variable), and its files', async () => {
    const parent = spawn('/bin/sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    started.push(parent);
    try {
      const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
      const grandchild = Number(line.toString().trim());
      const early = path.join(dir, 'not-ours');
      fs.writeFileSync(`${early}.fifo`, '');
      discardEarlyPhpCgi({ pid: grandchild, path: early });
      await delay(100);
      expect(processExists(grandchild)).toBe(true);
      expect(fs.existsSync(`${early}.fifo`)).toBe(true);
    } finally {
      killGroup(parent.pid!);
    }
  });
});

/** SIGKILLs a process group this file started, if it is still there. */
function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}
