import { readdir, readFile, rm, lstat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/**
 * php-cgi sockets that a killed bootstrap left behind (a SIGKILL runs no cleanup), removed when a
 * bootstrap starts so that /tmp does not fill up with them on a developer's machine.
 *
 * Only a socket that nothing serves goes: one that no socket in this network namespace is bound to
 * (/proc/net/unix, where readable: this also keeps the socket of a php-cgi that has bound but not
 * yet listened) and to which a connection is refused (a php-cgi in another namespace, a container
 * sharing /tmp, would accept it).
 */

/** The socket files PhpFastCgiServer creates, and those of the layer's early php-cgi (early-php-cgi.sh). */
const SOCKET_NAME = /^(?:php-fcgi-.+|lambda-php-early-\d+)\.sock$/;

/** Removes the stale php-cgi sockets in `dir` other than `keep`; resolves with the paths removed, never rejects. */
export async function removeStaleSockets(dir: string, keep: string): Promise<string[]> {
  const removed: string[] = [];
  try {
    const names = (await readdir(dir)).filter((name) => SOCKET_NAME.test(name) && path.join(dir, name) !== keep);
    if (names.length === 0) return removed;
    const bound = await boundSocketPaths();
    for (const name of names) {
      const socketPath = path.join(dir, name);
      if (bound?.has(socketPath)) continue;
      const stats = await lstat(socketPath).catch(() => undefined);
      if (!stats?.isSocket()) continue;
      if ((await connectOutcome(socketPath)) !== 'ECONNREFUSED') continue;
      // Another user's socket in a sticky /tmp cannot be removed: left as it is.
      if (await rm(socketPath).then(() => true, () => false)) removed.push(socketPath);
    }
  } catch {
    // A folder that cannot be read: nothing to clean.
  }
  return removed;
}

/** The paths Unix sockets of this network namespace are bound to; undefined without /proc. */
async function boundSocketPaths(): Promise<Set<string> | undefined> {
  let table: string;
  try {
    table = await readFile('/proc/net/unix', 'utf8');
  } catch {
    return undefined;
  }
  return boundPathsIn(table);
}

/**
 * The paths in a /proc/net/unix table: "Num RefCount Protocol Flags Type St Inode Path", where the
 * path, when there is one, is the rest of the line after the inode (printed "%5lu", so padded with
 * spaces when short), its spaces as they are.
 */
export function boundPathsIn(table: string): Set<string> {
  const paths = new Set<string>();
  for (const line of table.split('\n')) {
    const bound = /^\S+: \S+ \S+ \S+ \S+ \S+ +\d+ (.+)$/.exec(line);
    if (bound) paths.add(bound[1]!);
  }
  return paths;
}

/** 'connected', or the error code of a connection attempt. */
function connectOutcome(socketPath: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}
