#!/usr/bin/env bash
# Checks a layer extracted at /opt inside a CLEAN base image (nothing installed on top), with the
# environment Lambda gives a function. Run by the verify stages of Dockerfile.build:
#   verify-layer.sh provided   layer-provided-<arch>.zip at /opt (own node, /opt/bootstrap)
#   verify-layer.sh nodejs     layer-nodejs-<arch>.zip at /opt, node at /var/lang/bin/node as in
#                              the managed nodejs runtimes, started through exec-wrapper
# Checks, in order:
#   1. ldd: no "not found" for php-cgi, each extension, each shipped library, node;
#   2. php-cgi -m: the required extensions load, without any startup warning;
#   3. a CGI request straight to php-cgi answers, with the layer's ini decisions in force, the
#      function's conf.d scanned last, errors on stderr only, and each extension really working;
#   4. the bootstrap without AWS_LAMBDA_RUNTIME_API exits at once with a clear error;
#   5. end to end: the bootstrap against mock-runtime-api.mjs answers API Gateway v2 events, in
#      each PHP_CGI_MODE of VERIFY_MODES (default "fastcgi cgi").
# Env: REQUIRED_EXTENSIONS (space-separated php -m names, case-insensitive, "+" for a space)
# replaces the default list; VERIFY_MODES picks the PHP_CGI_MODEs of check 5.
set -euo pipefail

variant=${1:?usage: verify-layer.sh provided|nodejs}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/verify-layer.XXXXXX)
failures=0
ok() { echo "  ok   $*"; }
fail() { echo "  FAIL $*"; failures=$((failures + 1)); }
section() { echo "== $*"; }

# Lambda's environment for a function (AWS docs, "Defined runtime environment variables").
export LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime TZ=:UTC LANG=en_US.UTF-8
export PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin
export LD_LIBRARY_PATH=/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib
case "$variant" in
  provided)
    node=/opt/node/bin/node
    start=(/opt/bootstrap)
    ;;
  nodejs)
    # The managed runtime puts its node in /var/lang and that first on LD_LIBRARY_PATH; Lambda
    # runs the wrapper with the interpreter and the runtime's own arguments.
    export PATH=/var/lang/bin:$PATH LD_LIBRARY_PATH=/var/lang/lib:$LD_LIBRARY_PATH
    node=/var/lang/bin/node
    start=(/opt/lambda-php/exec-wrapper /var/lang/bin/node --expose-gc --max-http-header-size 81920 /var/runtime/index.mjs)
    ;;
  *) echo "unknown variant $variant" >&2; exit 2 ;;
esac
unset AWS_LAMBDA_RUNTIME_API PHPRC PHP_INI_SCAN_DIR

# ---------------------------------------------------------------------------------------------
section "1. shared libraries ($variant)"
# ldd where the base has it; otherwise the loader itself does the same listing.
list_deps() {
  if command -v ldd >/dev/null 2>&1; then ldd "$1" 2>&1; return; fi
  local loader
  for loader in /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1; do
    [ -x "$loader" ] && { "$loader" --list "$1" 2>&1; return; }
  done
  echo "no ldd and no loader found"
}
elves=(/opt/bin/php-cgi /opt/php/extensions/*.so "$node" /opt/lambda-php/cgi-spawner)
for lib in /opt/lib/*.so*; do [ -e "$lib" ] && elves+=("$lib"); done
missing=0
for elf in "${elves[@]}"; do
  if out=$(list_deps "$elf") && ! grep -q 'not found' <<<"$out"; then :; else
    fail "$elf:"; grep 'not found' <<<"$out" | sed 's/^/         /'; missing=1
  fi
done
[ "$missing" = 0 ] && ok "${#elves[@]} ELF files resolve every library"

# The same environment the bootstrap gives php-cgi.
. /opt/lambda-php/php-env.sh
echo "  env  PHPRC=$PHPRC PHP_INI_SCAN_DIR=$PHP_INI_SCAN_DIR"

# ---------------------------------------------------------------------------------------------
section "2. php-cgi -m"
required=${REQUIRED_EXTENSIONS:-"Core date filter hash json libxml openssl pcre random Reflection session SPL standard zlib
  ctype curl dom exif fileinfo iconv intl mbstring mysqli mysqlnd openssl PDO pdo_mysql pdo_pgsql pdo_sqlite pgsql Phar
  SimpleXML sodium sqlite3 tokenizer xml xmlreader xmlwriter zip bcmath gd posix Zend+OPcache"}
if /opt/bin/php-cgi -m >"$work/modules.txt" 2>"$work/modules.err"; then ok "php-cgi -m runs"; else fail "php-cgi -m exited $?"; fi
if [ -s "$work/modules.err" ] || grep -qiE 'warning|error|unable' "$work/modules.txt"; then
  fail "startup messages:"; sed 's/^/         /' "$work/modules.err" "$work/modules.txt" | grep -iE 'warning|error|unable' || true
fi
# A "+" stands for a space ("Zend+OPcache"); names match whole lines of php-cgi -m.
absent=()
for ext in $required; do
  grep -qixF "${ext//+/ }" "$work/modules.txt" || absent+=("${ext//+/ }")
done
if [ "${#absent[@]}" -eq 0 ]; then ok "all required extensions loaded ($(grep -c . "$work/modules.txt") lines)"; else fail "missing extensions: ${absent[*]}"; fi

# ---------------------------------------------------------------------------------------------
section "3. CGI request to php-cgi"
mkdir -p /var/task/php/conf.d
# The function's own conf.d must be scanned after the layer's: it overrides memory_limit.
printf 'memory_limit = 96M\n' >/var/task/php/conf.d/99-verify.ini
cat >"$work/smoke.php" <<'PHP'
<?php
$checks = [
  'php.ini is the layer one' => php_ini_loaded_file() === '/opt/php/php.ini',
  'function conf.d scanned last' => ini_get('memory_limit') === '96M',
  'display_errors off' => !ini_get('display_errors'),
  'log_errors on' => (bool) ini_get('log_errors'),
  'error_log unset (stderr)' => ini_get('error_log') === '' || ini_get('error_log') === false,
  'cgi.fix_pathinfo 0' => ini_get('cgi.fix_pathinfo') === '0',
  'opcache enabled' => function_exists('opcache_get_status') && (opcache_get_status(false)['opcache_enabled'] ?? false),
  'sys_temp_dir /tmp' => sys_get_temp_dir() === '/tmp',
  'getenv sees the function env' => getenv('LAMBDA_TASK_ROOT') === '/var/task' && ($_ENV['LAMBDA_TASK_ROOT'] ?? '') === '/var/task',
  'timezones (tzdata)' => (new DateTime('2024-07-01 12:00', new DateTimeZone('Europe/Paris')))->getOffset() === 7200,
  'fileinfo (bundled magic database)' => (new finfo(FILEINFO_MIME_TYPE))->buffer(base64_decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')) === 'image/png',
  'intl (ICU data)' => (new NumberFormatter('de_DE', NumberFormatter::DECIMAL))->format(1234.5) === '1.234,5',
  'mbstring' => mb_strtoupper('été') === 'ÉTÉ',
  'gd' => (function () { $i = imagecreatetruecolor(2, 2); ob_start(); imagepng($i); return str_starts_with(ob_get_clean(), "\x89PNG"); })(),
  'pdo_sqlite' => (new PDO('sqlite::memory:'))->query('select 41 + 1')->fetchColumn() == 42,
  'sodium' => (function () { $k = sodium_crypto_secretbox_keygen(); $n = random_bytes(24); return sodium_crypto_secretbox_open(sodium_crypto_secretbox('x', $n, $k), $n, $k) === 'x'; })(),
  'zip' => (function () { $f = tempnam('/tmp', 'z'); $z = new ZipArchive(); $z->open($f, ZipArchive::OVERWRITE); $z->addFromString('a', 'b'); $z->close(); $z->open($f); $r = $z->getFromName('a'); unlink($f); return $r === 'b'; })(),
  'dom/simplexml' => (string) simplexml_load_string('<a><b>1</b></a>')->b === '1' && (new DOMDocument())->loadXML('<x/>'),
  'bcmath' => bcadd('1.5', '2.25', 2) === '3.75',
  'openssl' => strlen(openssl_random_pseudo_bytes(8)) === 8 && openssl_digest('a', 'sha256') !== false,
  'curl' => is_array(curl_version()),
  'json' => json_decode('{"a":[1]}', true) === ['a' => [1]],
];
trigger_error('verify-layer warning on stderr', E_USER_WARNING);
header('Content-Type: text/plain');
foreach ($checks as $name => $passed) echo $passed ? "ok   " : "FAIL ", $name, "\n";
echo "smoke-done\n";
PHP
# OPcache skips files changed in the last 2 s (opcache.file_update_protection); deployed code is older.
touch -d '2020-01-01 00:00:00' "$work/smoke.php"
set +e
REQUEST_METHOD=GET SCRIPT_FILENAME="$work/smoke.php" SCRIPT_NAME=/smoke.php REQUEST_URI=/smoke.php \
  QUERY_STRING='' REDIRECT_STATUS=200 SERVER_PROTOCOL=HTTP/1.1 GATEWAY_INTERFACE=CGI/1.1 \
  /opt/bin/php-cgi >"$work/smoke.out" 2>"$work/smoke.err"
rc=$?
set -e
if [ "$rc" = 0 ] && grep -q '^smoke-done' "$work/smoke.out"; then ok "php-cgi answered"; else fail "php-cgi exited $rc"; cat "$work/smoke.out" "$work/smoke.err"; fi
{ grep -E '^(ok|FAIL) ' "$work/smoke.out" || true; } | while read -r status rest; do echo "  $status $rest"; done
failures=$((failures + $(grep -c '^FAIL ' "$work/smoke.out" || true)))
if grep -qi '^x-powered-by' "$work/smoke.out"; then fail "X-Powered-By header sent (expose_php)"; else ok "no X-Powered-By header"; fi
if grep -q 'verify-layer warning' "$work/smoke.out"; then fail "a PHP warning reached the response"; else ok "warnings stay out of the response"; fi
if grep -q 'verify-layer warning' "$work/smoke.err"; then ok "warnings go to stderr"; else fail "the warning did not reach stderr"; fi
# CGI mode starts one php-cgi per request: only the file cache lets the next one reuse the work.
if [ -n "$(ls -A /tmp/php-opcache 2>/dev/null)" ]; then ok "opcache file cache written under /tmp/php-opcache"; else fail "opcache file cache empty"; fi

# ---------------------------------------------------------------------------------------------
section "4. bootstrap without a Runtime API"
if node_version=$("$node" --version 2>&1); then ok "node $node_version ($node)"; else fail "$node --version: $node_version"; fi
set +e
timeout 20 "${start[@]}" >"$work/noapi.out" 2>&1
rc=$?
set -e
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q 'AWS_LAMBDA_RUNTIME_API' "$work/noapi.out"; then
  ok "exits $rc with: $(grep -m1 AWS_LAMBDA_RUNTIME_API "$work/noapi.out" | cut -c1-150)"
else
  fail "expected a quick non-zero exit naming AWS_LAMBDA_RUNTIME_API, got $rc:"; sed 's/^/         /' "$work/noapi.out"
fi

# ---------------------------------------------------------------------------------------------
section "5. end to end against a mock Runtime API"
cat >/var/task/index.php <<'PHP'
<?php
header('Content-Type: text/plain');
echo "lambda-php-verify-ok\n";
echo "method=", $_SERVER['REQUEST_METHOD'], " name=", $_POST['name'] ?? $_GET['name'] ?? '', "\n";
echo "ini=", php_ini_loaded_file(), " memory_limit=", ini_get('memory_limit'), "\n";
PHP
cat >"$work/events.json" <<'JSON'
[
  {"version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "name=get",
   "headers": {"host": "verify.local", "user-agent": "verify-layer"},
   "queryStringParameters": {"name": "get"},
   "requestContext": {"accountId": "123456789012", "apiId": "verify", "domainName": "verify.local",
     "domainPrefix": "verify", "requestId": "verify-get", "routeKey": "$default", "stage": "$default",
     "time": "01/Jan/2025:00:00:00 +0000", "timeEpoch": 1735689600000,
     "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "verify-layer"}},
   "isBase64Encoded": false},
  {"version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
   "headers": {"host": "verify.local", "content-type": "application/x-www-form-urlencoded"},
   "requestContext": {"accountId": "123456789012", "apiId": "verify", "domainName": "verify.local",
     "domainPrefix": "verify", "requestId": "verify-post", "routeKey": "$default", "stage": "$default",
     "time": "01/Jan/2025:00:00:00 +0000", "timeEpoch": 1735689600000,
     "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "verify-layer"}},
   "body": "name=post", "isBase64Encoded": false}
]
JSON
for mode in ${VERIFY_MODES:-fastcgi cgi}; do
  set +e
  PHP_CGI_MODE=$mode _HANDLER=index.php "$node" "$here/mock-runtime-api.mjs" "$work/events.json" -- "${start[@]}" \
    >"$work/e2e-$mode.out" 2>"$work/e2e-$mode.err"
  rc=$?
  set -e
  if [ "$rc" = 0 ] &&
     grep '"verify-1"' "$work/e2e-$mode.out" | grep -q 'statusCode\\":200' &&
     grep '"verify-1"' "$work/e2e-$mode.out" | grep -q 'lambda-php-verify-ok' &&
     grep '"verify-1"' "$work/e2e-$mode.out" | grep -q 'method=GET name=get' &&
     grep '"verify-2"' "$work/e2e-$mode.out" | grep -q 'method=POST name=post' &&
     grep '"verify-1"' "$work/e2e-$mode.out" | grep -q 'memory_limit=96M'; then
    ok "PHP_CGI_MODE=$mode: GET and POST answered 200 by /var/task/index.php"
  else
    fail "PHP_CGI_MODE=$mode (exit $rc):"; sed 's/^/         /' "$work/e2e-$mode.out" "$work/e2e-$mode.err" | tail -n 30
  fi
done

rm -rf "$work" /var/task/php/conf.d/99-verify.ini /var/task/index.php
echo "== $variant: $([ "$failures" = 0 ] && echo "all checks passed" || echo "$failures check(s) failed")"
[ "$failures" = 0 ]
