/**
 * scripts/docker/ensure-docker.sh starts the engine when none answers. The daemon must not keep the
 * caller's descriptors: build-layer.sh calls it while holding its build lock (flock on fd 9), and a
 * dockerd that inherited fd 9 held the lock for as long as it ran, so the next build waited forever
 * (a CI run timed out that way). A stand-in engine (DOCKERD, DOCKER, DOCKER_SOCK) records the
 * descriptors it was started with; no real Docker is touched.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const ENSURE = fileURLToPath(new URL('../../scripts/docker/ensure-docker.sh', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'ensure-docker-test-'));
const daemonPids: number[] = [];
afterAll(() => {
  for (const pid of daemonPids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  rmSync(work, { recursive: true, force: true });
});

function executable(name: string, text: string): string {
  const file = path.join(work, name);
  writeFileSync(file, text);
  chmodSync(file, 0o755);
  return file;
}

it('starts the daemon without the descriptors of its caller, so a build lock held by the caller is released when the caller ends', () => {
  const sock = path.join(work, 'engine.sock');
  const fdsFile = path.join(work, 'daemon-fds.json');
  const pidFile = path.join(work, 'daemon.pid');
  // The stand-in daemon: records its open descriptors and its pid, then answers on a socket.
  const dockerd = executable(
    'stand-in-dockerd',
    `#!${process.execPath}
const fs = require('node:fs');
const fds = fs.readdirSync('/proc/self/fd').map(Number).filter((fd) => fs.existsSync('/proc/self/fd/' + fd));
fs.writeFileSync(${JSON.stringify(fdsFile)}, JSON.stringify(fds.map((fd) => [fd, fs.readlinkSync('/proc/self/fd/' + fd)])));
fs.writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
require('node:net').createServer().listen(${JSON.stringify(sock)});
`,
  );
  // The stand-in client: "docker version" succeeds once the socket is there.
  const docker = executable('stand-in-docker', `#!/bin/sh\n[ -S ${JSON.stringify(sock)} ]\n`);
  executable('debootstrap', '#!/bin/sh\nexit 0\n');
  const lock = path.join(work, '.build-layer.lock');

  // As build-layer.sh does: take the lock on fd 9, then make sure an engine runs.
  const caller = spawnSync('bash', ['-c', 'exec 9>"$LOCK"; flock 9; bash "$ENSURE"'], {
    env: {
      ...process.env,
      PATH: `${work}:${process.env.PATH}`,
      LOCK: lock,
      ENSURE,
      DOCKERD: dockerd,
      DOCKER: docker,
      DOCKER_SOCK: sock,
      DOCKERD_LOG: path.join(work, 'dockerd.log'),
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(caller.stderr).toContain('ensure-docker: starting dockerd');
  expect(caller.status).toBe(0);
  expect(existsSync(pidFile)).toBe(true);
  daemonPids.push(Number(readFileSync(pidFile, 'utf8')));

  const fds = JSON.parse(readFileSync(fdsFile, 'utf8')) as [number, string][];
  expect(fds.filter(([, target]) => target === lock)).toEqual([]);
  // The caller has ended and the daemon still runs: the lock is free for the next build.
  const next = spawnSync('flock', ['-n', lock, 'true']);
  expect(next.status).toBe(0);
});
