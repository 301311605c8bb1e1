// A minimal stand-in for Lambda's Runtime API, used only by verify-layer.sh inside the verify
// stage (no dependency: it runs on the layer's own node). It is not shipped in the layer.
//
//   node mock-runtime-api.mjs <events.json> -- <command> [args...]
//
// Listens on 127.0.0.1 (random port), starts <command> with AWS_LAMBDA_RUNTIME_API pointing at
// it, hands out the events of <events.json> (an array) one per /invocation/next, and prints one
// JSON line per outcome: {"requestId", "kind": "response" | "error" | "init-error", "body"}.
// Exits 0 once every event got a response, 1 on an init error, an invocation error, the
// command exiting early, or the time limit (MOCK_TIMEOUT_MS, default 30 s).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [eventsFile, dashes, command, ...args] = process.argv.slice(2);
if (!eventsFile || dashes !== '--' || !command) {
  console.error('usage: node mock-runtime-api.mjs <events.json> -- <command> [args...]');
  process.exit(2);
}
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
const timeoutMs = Number(process.env.MOCK_TIMEOUT_MS ?? 30000);
const base = '/2018-06-01/runtime';
let next = 0;
let answered = 0;
let child;

function finish(code, why) {
  if (why) console.error(`mock-runtime-api: ${why}`);
  if (child && child.exitCode === null) child.kill('SIGKILL');
  process.exit(code);
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://runtime');
  if (req.method === 'GET' && url.pathname === `${base}/invocation/next`) {
    if (next >= events.length) return; // no more work: hold the long poll open, like Lambda
    const requestId = `verify-${next + 1}`;
    const event = events[next++];
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': requestId,
      'lambda-runtime-deadline-ms': String(Date.now() + 20000),
      'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:123456789012:function:verify',
      'lambda-runtime-trace-id': 'Root=1-00000000-000000000000000000000000;Sampled=0',
    });
    return res.end(JSON.stringify(event));
  }
  const body = await readBody(req);
  let m;
  if (req.method === 'POST' && (m = url.pathname.match(/^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/))) {
    res.writeHead(202).end('{"status":"OK"}');
    console.log(JSON.stringify({ requestId: m[1], kind: m[2], body }));
    if (m[2] === 'error') return finish(1, `invocation ${m[1]} failed`);
    if (++answered === events.length) finish(0);
    return;
  }
  if (req.method === 'POST' && url.pathname === `${base}/init/error`) {
    res.writeHead(202).end('{"status":"OK"}');
    console.log(JSON.stringify({ requestId: null, kind: 'init-error', body }));
    return finish(1, 'the runtime reported an init error');
  }
  res.writeHead(404).end();
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  child = spawn(command, args, {
    env: { ...process.env, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}` },
    // The runtime's own logs go to stderr, keeping stdout for the outcome lines.
    stdio: ['ignore', 2, 2],
  });
  child.on('exit', (code, signal) => finish(1, `the runtime exited early (code ${code}, signal ${signal})`));
  setTimeout(() => finish(1, `timed out after ${timeoutMs} ms with ${answered}/${events.length} responses`), timeoutMs).unref();
});
