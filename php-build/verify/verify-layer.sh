#!/bin/sh
# Checks a layer at /opt inside the glibc-only base image (scripts/docker/make-base-image.sh), with
# the environment Lambda gives a function; run by verify-in-container.sh, as Lambda's user, with
# /opt, /var/task (verify/app) and this folder (at /verify) read-only and only /tmp writable.
# POSIX sh on purpose: the base has busybox's, no bash.
#
#   verify-layer.sh provided   layer-provided-<arch>.zip (+ add-ons) at /opt: own Node, /opt/bootstrap
#   verify-layer.sh nodejs     layer-nodejs-<arch>.zip at /opt, the managed runtime's Node at
#                              /var/lang (bin/node, lib/), started through exec-wrapper
# Env: EXPECTED_MODULES   every line `php-cgi -m` must print, one per line, and nothing else
#      VERIFY_MODES       the PHP_CGI_MODEs of check 5 (default "fastcgi cgi")
#      MOCK_TIMEOUT_MS    check 5's time limit per mode (default 30000; more under qemu)
# Checks, in order:
#   1. shared libraries: the loader lists every ELF file (as ldd does): nothing missing; php-cgi
#      and cgi-spawner, with Lambda's LD_LIBRARY_PATH set, load the layer's libraries only
#      (/opt/php/lib, never the base's, which LD_LIBRARY_PATH names first); Node's files load the
#      system's glibc. (Check 3 also reads the live php-cgi's own memory map.)
#   2. php-cgi -m: exactly EXPECTED_MODULES, without any startup warning;
#   3. a CGI request straight to php-cgi (verify/app/smoke.php): the layer's ini decisions, time
#      zones, iconv, children on the system's glibc, every extension doing real work;
#   4. the bootstrap without AWS_LAMBDA_RUNTIME_API exits at once with a clear error;
#   5. end to end: the bootstrap against mock-runtime-api.mjs answers API Gateway v2 events, in
#      each PHP_CGI_MODE; in FastCGI mode from the php-cgi the start script started before Node
#      (early-php-cgi.sh, with the base's busybox mkfifo and setsid), taken over without a warning;
#   6. that early php-cgi dies with a bootstrap killed by SIGKILL (cgi-spawner --tied-exec).
set -u

variant=${1:?usage: verify-layer.sh provided|nodejs}
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
    set -- /opt/bootstrap
    ;;
  nodejs)
    # The managed runtime puts its node in /var/lang and that first on LD_LIBRARY_PATH; Lambda
    # runs the wrapper with the interpreter and the runtime's own arguments.
    export PATH=/var/lang/bin:$PATH LD_LIBRARY_PATH=/var/lang/lib:$LD_LIBRARY_PATH
    node=/var/lang/bin/node
    set -- /opt/lambda-php/exec-wrapper /var/lang/bin/node --expose-gc --max-http-header-size 81920 /var/runtime/index.mjs
    ;;
  *) echo "unknown variant $variant" >&2; exit 2 ;;
esac
unset AWS_LAMBDA_RUNTIME_API PHPRC PHP_INI_SCAN_DIR GCONV_PATH SSL_CERT_FILE
echo "verify-layer: $variant on $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release), $(uname -m), as $(id -u):$(id -g)"

# ---------------------------------------------------------------------------------------------
section "1. shared libraries ($variant)"
elf_magic=$(printf '\177ELF')
is_elf() { [ -f "$1" ] && [ ! -L "$1" ] && [ "$(head -c 4 "$1")" = "$elf_magic" ]; }
php_loader=$(ls /opt/php/lib/ld-linux-*.so.* 2>/dev/null | head -n 1)
system_loader=$(ls /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1 2>/dev/null | head -n 1)
[ -x "$php_loader" ] || fail "no loader in /opt/php/lib"
checked=0
# list <loader> <elf> <how>: the loader's own listing (what ldd shows) of the libraries <elf> loads:
#   executable  php-cgi, cgi-spawner, with Lambda's LD_LIBRARY_PATH: every library, glibc included,
#               from /opt/php/lib, none from the base's /lib64 or /usr/lib64, which LD_LIBRARY_PATH
#               names first (their DT_RPATH is searched before it);
#   library     an extension or library, with the search path php-cgi gives it (its DT_RPATH,
#               /opt/php/lib): nothing missing;
#   system      Node's files: they run on the system's glibc; its libraries with the search path
#               Node gives them (its RUNPATH, its lib/ folder, after LD_LIBRARY_PATH).
list() {
  if [ "$3" = library ]; then
    out=$(LD_LIBRARY_PATH=/opt/php/lib "$1" --list "$2" 2>&1)
  elif [ "$3" = system ]; then
    out=$(LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(dirname "$(dirname "$node")")/lib" "$1" --list "$2" 2>&1)
  else
    out=$("$1" --list "$2" 2>&1)
  fi
  rc=$?
  checked=$((checked + 1))
  if [ "$rc" != 0 ] || echo "$out" | grep -qE 'not found|version .* not found'; then
    fail "$2 (exit $rc):"; echo "$out" | grep -v '=> /' | sed 's/^/         /'; return
  fi
  case "$3" in
    executable|library)
      escaped=$(echo "$out" | awk '$2 == "=>" && $3 !~ /^\/opt\/php\/lib\// {print $1 " => " $3}')
      [ -z "$escaped" ] || { fail "$2 loads libraries from outside the layer:"; echo "$escaped" | sed 's/^/         /'; } ;;
    system)
      libc=$(echo "$out" | awk '$1 == "libc.so.6" {print $3}')
      case "$libc" in /opt/*|'') fail "$2 must run on the system's glibc, loads libc from '$libc'" ;; esac ;;
  esac
}
for elf in $(find /opt/bin /opt/lambda-php -type f 2>/dev/null | sort); do
  is_elf "$elf" && list "$php_loader" "$elf" executable
done
for elf in $(find /opt/php -type f 2>/dev/null | sort); do
  is_elf "$elf" && list "$php_loader" "$elf" library
done
for elf in $(find "$(dirname "$(dirname "$node")")" -type f 2>/dev/null | sort); do
  is_elf "$elf" && list "$system_loader" "$elf" system
done
[ "$failures" = 0 ] && ok "$checked ELF files: PHP's load only /opt/php/lib (glibc $(sed -n 's/^layer: .* glibc \([^ ]*\).*/\1/p' /opt/php/build-info.txt)), Node's the system's glibc"

# The same environment the bootstrap gives php-cgi.
. /opt/lambda-php/php-env.sh
echo "  env  PHPRC=$PHPRC PHP_INI_SCAN_DIR=$PHP_INI_SCAN_DIR SSL_CERT_FILE=$SSL_CERT_FILE"

# ---------------------------------------------------------------------------------------------
section "2. php-cgi -m"
if /opt/bin/php-cgi -m >"$work/modules.txt" 2>"$work/modules.err"; then ok "php-cgi -m runs"; else fail "php-cgi -m exited $?"; fi
if [ -s "$work/modules.err" ] || grep -qiE 'warning|error|unable' "$work/modules.txt"; then
  fail "startup messages:"; cat "$work/modules.err" "$work/modules.txt" | grep -iE 'warning|error|unable' | sed 's/^/         /'
fi
grep -v -e '^\[' -e '^$' "$work/modules.txt" | sort -fu >"$work/modules.actual"
printf '%s\n' "${EXPECTED_MODULES:?EXPECTED_MODULES is not set}" | grep -v '^$' | sort -fu >"$work/modules.expected"
if diff "$work/modules.expected" "$work/modules.actual" >"$work/modules.diff"; then
  ok "exactly the declared extensions: $(tr '\n' ' ' <"$work/modules.actual")"
else
  fail "php-cgi -m differs from the declared extensions (< declared only, > loaded only):"; grep '^[<>]' "$work/modules.diff" | sed 's/^/         /'
fi

# The PHP CLI add-on (console commands), when attached: the same PHP, settings and extensions.
if [ -x /opt/bin/php ]; then
  if /opt/bin/php -m >"$work/cli-modules.txt" 2>&1; then
    grep -v -e '^\[' -e '^$' "$work/cli-modules.txt" | sort -fu >"$work/cli-modules.actual"
    grep -vix 'cgi-fcgi' "$work/modules.expected" >"$work/cli-modules.expected"
    if diff "$work/cli-modules.expected" "$work/cli-modules.actual" >"$work/cli-modules.diff"; then
      ok "php (CLI) -m: the same extensions but cgi-fcgi"
    else
      fail "php (CLI) -m differs (< declared only, > loaded only):"; grep '^[<>]' "$work/cli-modules.diff" | sed 's/^/         /'
    fi
  else
    fail "php (CLI) -m exited $?:"; sed 's/^/         /' "$work/cli-modules.txt"
  fi
  cli=$(/opt/bin/php -r 'echo PHP_SAPI, " ", php_ini_loaded_file(), " ", ini_get("memory_limit"), " ", (new DateTime("2024-07-01 12:00", new DateTimeZone("Europe/Paris")))->format("T"), " ", iconv("UTF-8", "ISO-8859-2", "ž") === "\xBE" ? "iconv" : "no-iconv";' 2>&1)
  if [ "$cli" = "cli /opt/php/php.ini 96M CEST iconv" ]; then ok "php (CLI) runs a script with the layer's settings: $cli"; else fail "php (CLI): $cli"; fi
fi

# ---------------------------------------------------------------------------------------------
section "3. CGI request to php-cgi"
REQUEST_METHOD=GET SCRIPT_FILENAME=/var/task/smoke.php SCRIPT_NAME=/smoke.php REQUEST_URI=/smoke.php \
  QUERY_STRING='' REDIRECT_STATUS=200 SERVER_PROTOCOL=HTTP/1.1 GATEWAY_INTERFACE=CGI/1.1 \
  timeout 60 /opt/bin/php-cgi >"$work/smoke.out" 2>"$work/smoke.err"
rc=$?
if [ "$rc" = 0 ] && grep -q '^smoke-done' "$work/smoke.out"; then ok "php-cgi answered"; else fail "php-cgi exited $rc"; cat "$work/smoke.out" "$work/smoke.err"; fi
grep -E '^(ok|FAIL) ' "$work/smoke.out" | sed 's/^/  /'
failures=$((failures + $(grep -c '^FAIL ' "$work/smoke.out")))
if grep -qi '^x-powered-by' "$work/smoke.out"; then fail "X-Powered-By header sent (expose_php)"; else ok "no X-Powered-By header"; fi
if grep -q 'verify-layer warning' "$work/smoke.out"; then fail "a PHP warning reached the response"; else ok "warnings stay out of the response"; fi
if grep -q 'verify-layer warning' "$work/smoke.err"; then ok "warnings go to stderr"; else fail "the warning did not reach stderr"; fi
other=$(grep -v 'verify-layer warning' "$work/smoke.err")
[ -z "$other" ] || { fail "unexpected stderr:"; echo "$other" | sed 's/^/         /'; }
# CGI mode starts one php-cgi per request: only the file cache lets the next one reuse the work.
if [ -n "$(ls -A /tmp/php-opcache 2>/dev/null)" ]; then ok "opcache file cache written under /tmp/php-opcache"; else fail "opcache file cache empty"; fi

# ---------------------------------------------------------------------------------------------
section "4. bootstrap without a Runtime API"
if node_version=$("$node" --version 2>&1); then ok "node $node_version ($node)"; else fail "$node --version: $node_version"; fi
timeout 60 "$@" >"$work/noapi.out" 2>&1
rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$rc" != 143 ] && grep -q 'AWS_LAMBDA_RUNTIME_API' "$work/noapi.out"; then
  ok "exits $rc with: $(grep -m1 AWS_LAMBDA_RUNTIME_API "$work/noapi.out" | cut -c1-150)"
else
  fail "expected a quick non-zero exit naming AWS_LAMBDA_RUNTIME_API, got $rc:"; sed 's/^/         /' "$work/noapi.out"
fi

# ---------------------------------------------------------------------------------------------
section "5. end to end against a mock Runtime API"
for mode in ${VERIFY_MODES:-fastcgi cgi}; do
  PHP_CGI_MODE=$mode _HANDLER=index.php "$node" /verify/mock-runtime-api.mjs /verify/events.json -- "$@" \
    >"$work/e2e-$mode.out" 2>"$work/e2e-$mode.err"
  rc=$?
  get=$(grep '"verify-1"' "$work/e2e-$mode.out")
  post=$(grep '"verify-2"' "$work/e2e-$mode.out")
  if [ "$rc" = 0 ] &&
     echo "$get" | grep -q 'statusCode\\":200' &&
     echo "$get" | grep -q 'lambda-php-verify-ok' &&
     echo "$get" | grep -q 'method=GET name=get' &&
     echo "$post" | grep -q 'method=POST name=post' &&
     echo "$get" | grep -q 'memory_limit=96M'; then
    ok "PHP_CGI_MODE=$mode: GET and POST answered 200 by /var/task/index.php"
  else
    fail "PHP_CGI_MODE=$mode (exit $rc):"; cat "$work/e2e-$mode.out" "$work/e2e-$mode.err" | tail -n 30 | sed 's/^/         /'
  fi
  # FastCGI: the start script's php-cgi must be the one that served, not a fallback.
  if [ "$mode" = fastcgi ]; then
    if echo "$get" | grep -q -- '-b /tmp/lambda-php-early-[0-9]*\.sock' && echo "$post" | grep -q -- '-b /tmp/lambda-php-early-[0-9]*\.sock' &&
       ! grep -qE 'was not taken over|cannot be run' "$work/e2e-$mode.err"; then
      ok "PHP_CGI_MODE=fastcgi: served by the php-cgi early-php-cgi.sh started before Node, taken over"
    else
      fail "PHP_CGI_MODE=fastcgi: not served by the early php-cgi ($(echo "$get" | grep -o 'cgi=[^\\]*' | head -n 1)):"
      grep -E 'WARN|cannot' "$work/e2e-$mode.err" | tail -n 10 | sed 's/^/         /'
    fi
  fi
done

# ---------------------------------------------------------------------------------------------
section "6. the early php-cgi dies with its bootstrap"
# proc_field <pid> <n>: field n of /proc/<pid>/stat, counted after the command name (3 = state, 4 = ppid).
proc_field() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f$(($2 - 2)); }
# The bootstrap with no event to give it: its first /next waits while its php-cgi runs.
echo '[]' >"$work/no-events.json"
PHP_CGI_MODE=fastcgi _HANDLER=index.php "$node" /verify/mock-runtime-api.mjs "$work/no-events.json" -- "$@" >"$work/tie.out" 2>"$work/tie.err" &
mock=$!
early="" bootstrap=""
waited=0
while [ -z "$bootstrap" ] && [ "$waited" -lt 600 ]; do
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [ "$(cat "$dir/comm" 2>/dev/null)" = php-cgi ] || continue
    case "$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null)" in *"-b /tmp/lambda-php-early-"*) ;; *) continue ;; esac
    parent=$(proc_field "$pid" 4)
    # Listening, and its socket named after its parent: the shell that became the bootstrap.
    if [ -S "/tmp/lambda-php-early-$parent.sock" ]; then early=$pid bootstrap=$parent; break; fi
  done
  [ -n "$bootstrap" ] || { sleep 0.1; waited=$((waited + 1)); }
done
if [ -z "$bootstrap" ]; then
  fail "no early php-cgi listening after 60 s:"; cat "$work/tie.err" | tail -n 10 | sed 's/^/         /'
else
  kill -KILL "$bootstrap"
  waited=0
  # Gone, or a zombie of its new parent (this shell is PID 1 and reaps when it can).
  while [ -d "/proc/$early" ] && [ "$(proc_field "$early" 3)" != Z ] && [ "$waited" -lt 50 ]; do sleep 0.1; waited=$((waited + 1)); done
  if [ -d "/proc/$early" ] && [ "$(proc_field "$early" 3)" != Z ]; then
    fail "php-cgi (pid $early) outlived its bootstrap (pid $bootstrap), killed with SIGKILL"
    kill -KILL "$early" 2>/dev/null
  else
    ok "php-cgi (pid $early) died with its bootstrap (pid $bootstrap), killed with SIGKILL"
  fi
fi
kill "$mock" 2>/dev/null
wait "$mock" 2>/dev/null

rm -rf "$work"
echo "== $variant: $([ "$failures" = 0 ] && echo "all checks passed" || echo "$failures check(s) failed")"
[ "$failures" = 0 ]
