# shellcheck shell=sh
# Sourced (POSIX sh) by /opt/bootstrap and /opt/lambda-php/exec-wrapper before they start the
# runtime: the environment php-cgi needs. The runtime passes its whole environment on to php-cgi,
# so these reach PHP without any -d flag. Installed as /opt/lambda-php/php-env.sh.
# A value the function already sets (in its configuration) is kept, so each can be overridden on
# purpose; PHP_INI_SCAN_DIR then replaces ours entirely.

# The layer's php.ini, then its conf.d (one ini per extension, add-on layers' included), then the
# function's own conf.d. A missing directory in the scan list is skipped silently by PHP.
export PHPRC="${PHPRC:-/opt/php/php.ini}"
export PHP_INI_SCAN_DIR="${PHP_INI_SCAN_DIR:-/opt/php/conf.d:${LAMBDA_TASK_ROOT:-/var/task}/php/conf.d}"

# php-cgi runs on the layer's own glibc: its libraries are found through its RPATH, never through
# LD_LIBRARY_PATH, and glibc's gconv modules through the folder compiled into the layer's libc
# (assemble-layer.sh), so nothing here reaches the programs PHP starts but what they can use.
# The CA certificates are for OpenSSL code that does not read php.ini's openssl.cafile and
# curl.cainfo (which point at the same file). Node ignores SSL_CERT_FILE unless started with
# --use-openssl-ca; a program PHP starts gets Mozilla's bundle, as its system would give it.
export SSL_CERT_FILE="${SSL_CERT_FILE:-/opt/php/ssl/ca-certificates.crt}"

# opcache.file_cache (php.ini) needs an existing directory, and /tmp starts empty in every new
# execution environment.
mkdir -p /tmp/php-opcache 2>/dev/null || true
