/**
 * The references, run in a small Node process of their own (started by bench/lib/reference-pool.ts):
 * PHP without the runtime, driven from a process the size of a bootstrap rather than from the bench
 * process, whose larger heap makes every fork()/exec of php-cgi dearer and would flatter the runtime.
 *
 * Messages (IPC): start → ready | error; run {n, wantBody} → done {latencies, wallMs, body}; stop.
 */
import { cgiBody, FastCgiReference, runPhpCgiOnce } from './lib/references.ts';

type Message =
  | { type: 'start'; mode: 'fastcgi' | 'cgi'; phpCgi: string; cgiEnv: Record<string, string>; functionEnv: Record<string, string> }
  | { type: 'run'; n: number; wantBody: boolean }
  | { type: 'stop' };

let once: (() => Promise<Buffer>) | undefined;
let server: FastCgiReference | undefined;

function send(message: object): void {
  process.send?.(message);
}

function shutdown(): void {
  server?.stop();
  server = undefined;
  process.exit(0);
}

process.on('disconnect', shutdown);
process.once('SIGTERM', shutdown);

process.on('message', (message: Message) => {
  void handle(message).catch((error: Error) => send({ type: 'error', message: error.stack ?? error.message }));
});

async function handle(message: Message): Promise<void> {
  switch (message.type) {
    case 'start': {
      const { mode, phpCgi, cgiEnv, functionEnv } = message;
      if (mode === 'fastcgi') {
        const started = await FastCgiReference.start(phpCgi, functionEnv);
        server = started;
        once = () => started.request(cgiEnv);
      } else {
        once = () => runPhpCgiOnce(phpCgi, cgiEnv);
      }
      send({ type: 'ready', phpCgiPid: server?.pid });
      return;
    }
    case 'run': {
      if (!once) throw new Error('run before start');
      const latencies: number[] = [];
      let output: Buffer | undefined;
      const t0 = performance.now();
      for (let i = 0; i < message.n; i++) {
        const start = performance.now();
        output = await once();
        latencies.push(performance.now() - start);
      }
      const wallMs = performance.now() - t0;
      send({ type: 'done', latencies, wallMs, body: message.wantBody && output ? cgiBody(output) : undefined });
      return;
    }
    case 'stop':
      shutdown();
  }
}
