import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PhpRequest } from '../../../src/cgi/php-executor.ts';

export const PHP_CGI = '/usr/bin/php-cgi';

/** Small PHP scripts, each probing one behaviour of the transport. */
const SCRIPTS: Record<string, string> = {
  'hello.php': `<?php
header('Content-Type: text/plain');
echo 'Hello, world! pid=', getmypid(), ' function_var=', getenv('FUNCTION_VAR') ?: '(unset)';`,

  'pid.php': `<?php echo getmypid();`,

  'echo-body.php': `<?php
$body = file_get_contents('php://input');
header('Content-Type: application/octet-stream');
header('X-Body-Sha256: ' . hash('sha256', $body));
header('X-Body-Length: ' . strlen($body));
echo $body;`,

  'ignore-body.php': `<?php echo 'ignored a body of ', $_SERVER['CONTENT_LENGTH'] ?? '(none)';`,

  'big-response.php': `<?php
header('Content-Type: text/plain');
$size = (int) $_GET['size'];
$chunk = '';
for ($i = 0; strlen($chunk) < 8192; $i++) $chunk .= sprintf('%07d|', $i);
$out = str_repeat($chunk, intdiv($size, strlen($chunk)) + 1);
echo substr($out, 0, $size);`,

  'stderr.php': `<?php
header('Content-Type: text/plain');
echo "one\\n";
error_log('marker-error-log ' . $_GET['id']);
echo "two\\n";
file_put_contents('php://stderr', 'marker-php-stderr ' . $_GET['id'] . "\\n");
echo "three\\n";
trigger_error('marker-warning ' . $_GET['id'], E_USER_WARNING);
echo "four\\n";`,

  // Everything a previous request could leave behind, reported as JSON. The function and the
  // constant are declared on every request: were they to survive, redeclaring them would be fatal.
  'state.php': `<?php
$report = [
  'pid' => getmypid(),
  'global_set' => isset($GLOBALS['leaked_global']),
  'static_count' => counter(),
  'cookie' => $_COOKIE,
  'get' => $_GET,
  'server_x_once' => $_SERVER['HTTP_X_ONCE'] ?? null,
  'getenv_x_once' => getenv('HTTP_X_ONCE'),
  'ob_level' => ob_get_level(),
  'headers' => headers_list(),
  'response_code' => http_response_code(),
];
function counter() { static $n = 0; return ++$n; }
const LEAKED_CONSTANT = 1;
$leaked_global = true;
$n = (int) $_GET['n'];
if ($n % 2 === 1) {
  header('X-Odd: yes');
  setcookie('odd', 'cookie');
  http_response_code(201);
  ob_start();
  ob_start(); // left open on purpose
}
echo json_encode($report);`,

  // A side effect that outlives the request: whether PHP ran it at all.
  'touch.php': `<?php file_put_contents($_GET['file'], 'ran');`,

  'fatal.php': `<?php
echo 'before the error';
no_such_function();`,

  'exit.php': `<?php
echo 'leaving early';
exit(3);
echo 'never printed';`,

  'spawn-and-sleep.php': `<?php
$child = proc_open(['sleep', '30'], [], $pipes);
file_put_contents($_GET['pidfile'], proc_get_status($child)['pid']);
sleep(5);`,

  'sleep.php': `<?php
echo 'pid=', getmypid();
sleep((int) ($_GET['seconds'] ?? 5));
echo 'woke up';`,
};

export interface PhpFixtures {
  dir: string;
  request(script: string, options?: { query?: string; method?: string; body?: Buffer; env?: Record<string, string>; timeoutMs?: number; log?: (line: string) => void }): PhpRequest;
  remove(): void;
}

export function createPhpFixtures(): PhpFixtures {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fcgi-php-'));
  for (const [name, source] of Object.entries(SCRIPTS)) fs.writeFileSync(path.join(dir, name), source);
  return {
    dir,
    request(script, options = {}) {
      const body = options.body ?? Buffer.alloc(0);
      return {
        env: {
          GATEWAY_INTERFACE: 'CGI/1.1',
          SERVER_PROTOCOL: 'HTTP/1.1',
          SERVER_SOFTWARE: 'lambda-php-runtime',
          SERVER_NAME: 'localhost',
          SERVER_PORT: '443',
          REQUEST_METHOD: options.method ?? (body.length > 0 ? 'POST' : 'GET'),
          SCRIPT_FILENAME: path.join(dir, script),
          SCRIPT_NAME: `/${script}`,
          REQUEST_URI: `/${script}${options.query ? `?${options.query}` : ''}`,
          DOCUMENT_ROOT: dir,
          QUERY_STRING: options.query ?? '',
          CONTENT_LENGTH: String(body.length),
          CONTENT_TYPE: body.length > 0 ? 'application/octet-stream' : '',
          REDIRECT_STATUS: '200',
          ...options.env,
        },
        body,
        deadline: Date.now() + (options.timeoutMs ?? 10_000),
        log: options.log ?? (() => {}),
      };
    },
    remove() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CgiResponse {
  headers: Map<string, string[]>;
  body: Buffer;
}

/** Splits raw CGI output at the blank line; enough for assertions, not the runtime's parser. */
export function parseCgiOutput(output: Buffer): CgiResponse {
  const end = output.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no header end in ${JSON.stringify(output.subarray(0, 200).toString())}`);
  const headers = new Map<string, string[]>();
  for (const line of output.subarray(0, end).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { headers, body: output.subarray(end + 4) };
}

/** Whether a process (not a zombie, which Node reaps on its exit event) still exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits, by short sleeps, until `condition` holds; test support only. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Direct children of `pid`, from /proc. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name: state, ppid, …
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}
