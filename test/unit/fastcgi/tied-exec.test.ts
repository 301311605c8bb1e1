import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PhpFastCgiServer } from '../../../src/cgi/fastcgi/php-fastcgi-server.ts';

const SPAWNER = 'dist/cgi-spawner';

/** PPid and the executable's name, from /proc. */
function parentAndName(pid: number): { ppid: number; name: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  return { ppid: Number(/^PPid:\s+(\d+)/m.exec(status)![1]), name: /^Name:\s+(\S+)/m.exec(status)![1]! };
}

describe('PhpFastCgiServer with tiedExec (cgi-spawner --tied-exec)', () => {
  const servers: PhpFastCgiServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.kill()));
  });

  it('starts php-cgi through cgi-spawner, which becomes php-cgi itself: same pid, a child of this process', async () => {
    const lines: string[] = [];
    const server = await PhpFastCgiServer.start({ phpCgiBinary: 'php-cgi', env: { PATH: process.env.PATH ?? '' }, log: (line) => lines.push(line), tiedExec: SPAWNER });
    servers.push(server);
    expect(parentAndName(server.pid)).toEqual({ ppid: process.pid, name: 'php-cgi' });
    expect(lines).toEqual([]);
  });

  it('starts php-cgi directly, and says what that costs, when cgi-spawner cannot be run', async () => {
    const lines: string[] = [];
    const server = await PhpFastCgiServer.start({ phpCgiBinary: 'php-cgi', env: { PATH: process.env.PATH ?? '' }, log: (line) => lines.push(line), tiedExec: '/nonexistent/cgi-spawner' });
    servers.push(server);
    expect(parentAndName(server.pid)).toEqual({ ppid: process.pid, name: 'php-cgi' });
    expect(lines).toEqual([expect.stringMatching(/^\/nonexistent\/cgi-spawner cannot be run \(.*ENOENT.*\): php-cgi is started directly, and would outlive a bootstrap killed with SIGKILL$/)]);
  });
});
