import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** First pause after a refused or missing socket; doubles up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 1;
const MAX_RETRY_MS = 50;

/**
 * Connects to the Unix socket `socketPath` as soon as a server listens there, and resolves with
 * the connected socket; rejects when `signal` aborts (the server exited, or took too long) or on an
 * error other than "not there yet".
 *
 * Why not a fixed polling loop: php-cgi takes 15-20 ms to load its extensions before it binds, and
 * every millisecond of that wait is cold-start latency. A watch on the directory reports the
 * socket file the moment php-cgi binds it, and a connect attempt follows at once. php-cgi binds,
 * chmods and only then listens, so that first attempt can still be refused (ECONNREFUSED): those
 * retries follow a short doubling back-off (1, 2, 4 ms…), reset by each event on the file. The
 * back-off, capped at 50 ms, also keeps things moving should the watch miss an event (some
 * filesystems do not report), so a lost event costs latency, never a hang.
 *
 * A listening socket is not proof that the server works: the caller decides what is (for php-cgi,
 * an answer to a FastCGI query on this very socket).
 */
export function connectWhenListening(socketPath: string, signal: AbortSignal): Promise<net.Socket> {
  const directory = path.dirname(socketPath);
  const fileName = path.basename(socketPath);

  return new Promise((resolve, reject) => {
    let watcher: fs.FSWatcher | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let probe: net.Socket | undefined;
    let retryDelay = FIRST_RETRY_MS;
    let settled = false;

    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      watcher?.close();
      clearTimeout(retryTimer);
      signal.removeEventListener('abort', onAbort);
      if (error) {
        probe?.destroy();
        reject(error);
      } else resolve(probe!);
    };
    const onAbort = (): void => settle(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));

    const attempt = (): void => {
      if (settled || probe) return;
      clearTimeout(retryTimer);
      const socket = net.createConnection(socketPath);
      probe = socket;
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        settle();
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        socket.destroy();
        probe = undefined;
        if (error.code !== 'ENOENT' && error.code !== 'ECONNREFUSED') return settle(error);
        retryTimer = setTimeout(attempt, retryDelay);
        retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
      });
    };

    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    // A server started before us (the layer's early php-cgi) is usually listening already: then
    // no watch is needed, and setting one up costs a few ms of Node's first use of fs.watch.
    if (fs.existsSync(socketPath)) return attempt();
    try {
      watcher = fs.watch(directory, { persistent: false }, (_event, changed) => {
        if (changed !== fileName) return;
        retryDelay = FIRST_RETRY_MS;
        attempt();
      });
      // Losing the watch only costs latency: the back-off keeps trying.
      watcher.on('error', () => watcher?.close());
    } catch (error) {
      return settle(new Error(`cannot watch ${directory} for php-cgi's socket: ${(error as Error).message}`));
    }
    // Not at once: the server was started a moment ago and is not listening yet, and a process's
    // first Unix-socket connect costs a few ms of Node's own lazy set-up. After one turn of the
    // event loop, that cost falls after whatever the caller has queued (at a cold start: the
    // first GET /next, which ends Lambda's init).
    setImmediate(attempt);
  });
}
