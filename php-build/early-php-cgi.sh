# shellcheck shell=sh
# Sourced (POSIX sh) by /opt/bootstrap and /opt/lambda-php/exec-wrapper after php-env.sh, right
# before they exec Node. Installed as /opt/lambda-php/early-php-cgi.sh.
#
# A cold start's longest steps are Node's own start and php-cgi's (each about 30 ms): started
# here, php-cgi boots while Node does instead of after it, and the first invocation does not
# wait for the second. The runtime adopts this php-cgi (LAMBDA_PHP_EARLY_FASTCGI: its pid and the
# path its socket and FIFO are named after) once it has checked that it is the php-cgi it would
# have started itself; if anything
# here fails or does not match, the runtime starts php-cgi itself, as it always can. Its output
# goes to a FIFO the runtime reads, so that its log lines still carry request ids.
#
# FastCGI mode only, with the same settings the runtime gives the php-cgi it spawns: one process
# (PHP_FCGI_CHILDREN=0), never recycled unless the function asks (PHP_FCGI_MAX_REQUESTS), in a
# session of its own when setsid is there (so that a deadline kill reaches what PHP started).
#
# Tied to the bootstrap's life as the runtime's own php-cgi is: started through
# `cgi-spawner --tied-exec $$` when the caller names the spawner (lambda_php_spawner, a shell
# variable), php-cgi gets SIGKILL from the kernel when this process dies (PR_SET_PDEATHSIG), even
# by SIGKILL. "This process" is the shell, which then execs Node: the same pid and the same thread,
# so the tie holds for Node's life. (The shell's job control is off, so setsid does not fork and
# the spawner's parent is this shell.) Without the spawner php-cgi still starts, untied.
if [ "${PHP_CGI_MODE:-fastcgi}" = fastcgi ] && [ -z "${LAMBDA_PHP_EARLY_FASTCGI:-}" ]; then
  lambda_php_cgi=${PHP_CGI_BINARY:-/opt/bin/php-cgi}
  lambda_php_early=/tmp/lambda-php-early-$$
  case "$lambda_php_cgi" in
    /*) ;;
    *) lambda_php_cgi= ;; # a name to look up on PATH: the runtime's own lookup decides
  esac
  # (One external command on Node's path, mkfifo: each costs a fork and an exec.)
  if [ -n "$lambda_php_cgi" ] && [ -x "$lambda_php_cgi" ] && mkfifo -m 600 "$lambda_php_early.fifo" 2>/dev/null; then
    lambda_php_setsid=
    if command -v setsid >/dev/null 2>&1; then lambda_php_setsid=setsid; fi
    lambda_php_tie=
    if [ -n "${lambda_php_spawner:-}" ] && [ -x "$lambda_php_spawner" ]; then lambda_php_tie=1; fi
    # The FIFO is opened read-write (9<>) so that opening it does not wait for a reader.
    PHP_FCGI_CHILDREN=0 PHP_FCGI_MAX_REQUESTS="${PHP_FCGI_MAX_REQUESTS:-0}" \
      $lambda_php_setsid ${lambda_php_tie:+"$lambda_php_spawner" --tied-exec "$$"} "$lambda_php_cgi" -b "$lambda_php_early.sock" 9<>"$lambda_php_early.fifo" </dev/null >&9 2>&9 9>&- &
    LAMBDA_PHP_EARLY_FASTCGI="$! $lambda_php_early"
    export LAMBDA_PHP_EARLY_FASTCGI
  fi
  unset lambda_php_cgi lambda_php_early lambda_php_setsid lambda_php_tie
fi
unset lambda_php_spawner
