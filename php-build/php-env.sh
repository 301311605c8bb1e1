# shellcheck shell=sh
# Sourced (POSIX sh) by /opt/bootstrap and /opt/lambda-php/exec-wrapper before they start the
# runtime: the environment php-cgi needs. The runtime passes its whole environment on to php-cgi,
# so these reach PHP without any -d flag. Installed as /opt/lambda-php/php-env.sh.
# A value the function already sets (in its configuration) is kept, so PHPRC / PHP_INI_SCAN_DIR
# can be overridden on purpose; PHP_INI_SCAN_DIR then replaces ours entirely.

# The layer's php.ini, then its conf.d (one ini per extension), then the function's own conf.d.
# A missing directory in the scan list is skipped silently by PHP.
export PHPRC="${PHPRC:-/opt/php/php.ini}"
export PHP_INI_SCAN_DIR="${PHP_INI_SCAN_DIR:-/opt/php/conf.d:${LAMBDA_TASK_ROOT:-/var/task}/php/conf.d}"

# Lambda's LD_LIBRARY_PATH already ends in /opt/lib, after the system directories, so the layer's
# libraries only fill gaps. Add it where it is missing (container images, local runs).
case ":${LD_LIBRARY_PATH:-}:" in
  *:/opt/lib:*) ;;
  *) export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/opt/lib" ;;
esac

# opcache.file_cache (php.ini) needs an existing directory, and /tmp starts empty in every new
# execution environment.
mkdir -p /tmp/php-opcache 2>/dev/null || true
