#!/usr/bin/env bash
# Turns an installed PHP (from install-php-<distro>.sh) into the layer's PHP tree, the same way on
# every distribution. Runs in the build stage; the layer dir is what ends up at /opt on Lambda.
#
#   collect-layer.sh php  <layer-dir> <base-libs.txt>
#       <layer>/bin/php-cgi                  the CGI binary (the bootstrap's default, /opt/bin/php-cgi;
#                                            /opt/bin is also on Lambda's PATH)
#       <layer>/php/extensions/*.so          every extension the distro enables for the CGI SAPI
#       <layer>/php/php.ini                  the layer's settings (PHPRC=/opt/php/php.ini)
#       <layer>/php/conf.d/NN-<ext>.ini      one file per extension, the distro's load order kept
#                                            (PHP_INI_SCAN_DIR=/opt/php/conf.d:/var/task/php/conf.d)
#       <layer>/lib/*.so*                    the shared libraries those need that the clean base lacks
#                                            (/opt/lib is on Lambda's LD_LIBRARY_PATH)
#       <layer>/php/build-info.txt           what went in, for humans
#   collect-layer.sh node <layer-dir> <base-libs.txt> <node-binary>
#       <layer>/node/bin/node (stripped) and the libraries it needs that the base lacks in <layer>/lib
#
# <base-libs.txt> is list-base-libs.sh's output in the clean base stage. A library is copied when
# its file name (as ldd resolves it) is not on that list. glibc itself is never copied: the layer
# must be built on the same distribution release as the base it runs on.
set -euo pipefail

# Everything under /opt is absolute in the ini files: a layer is always extracted to /opt.
OPT=/opt

# Extensions a distro enables that a web layer should not: readline is for the interactive CLI
# only (and pulls libedit in), FFI lets PHP code call arbitrary C functions.
EXCLUDED_EXTENSIONS=${EXCLUDED_EXTENSIONS:-readline ffi}

die() { echo "collect-layer: $*" >&2; exit 1; }

# ldd prints "soname => /path (addr)"; print "soname path" for every resolved dependency of the
# given ELF files (ldd lists the whole transitive closure), failing on any unresolved one.
resolved_deps() {
  local out
  for elf in "$@"; do
    out=$(ldd "$elf" 2>&1) || die "ldd failed on $elf: $out"
    if grep -q 'not found' <<<"$out"; then die "unresolved libraries in the build stage for $elf:"$'\n'"$out"; fi
    awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' <<<"$out"
  done | sort -u
}

# glibc's own libraries: always part of the base; copying one would break the loader.
is_glibc() {
  case "$1" in
    ld-linux*|libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|libresolv.so.*|libutil.so.*|\
    libanl.so.*|libmvec.so.*|libnss_*|libthread_db.so.*|libBrokenLocale.so.*|libc_malloc_debug.so.*) return 0 ;;
  esac
  return 1
}

# copy_missing_libs <lib-dir> <base-libs.txt> <elf>...: copies what the base lacks, named by the
# soname ldd resolved (the name the loader looks for), symlinks dereferenced.
copy_missing_libs() {
  local libdir=$1 base=$2 deps soname path
  shift 2
  mkdir -p "$libdir"
  deps=$(resolved_deps "$@")   # not a process substitution: its failure must stop the build
  while read -r soname path; do
    [ -n "$soname" ] || continue
    is_glibc "$soname" && continue
    grep -qxF "$soname" "$base" && continue
    cp -L "$path" "$libdir/$soname"
    echo "$soname"
  done <<<"$deps"
}

strip_all() {
  # --strip-unneeded keeps what dynamic linking needs (safe for .so and executables alike).
  for f in "$@"; do chmod u+w "$f"; strip --strip-unneeded "$f"; done
}

collect_php() {
  local layer=$1 base=$2
  local php_cgi extdir tmp
  php_cgi=$(readlink -f "$(command -v php-cgi)") || die "php-cgi is not on PATH"
  mkdir -p "$layer/bin" "$layer/lib" "$layer/php/extensions" "$layer/php/conf.d"
  cp "$php_cgi" "$layer/bin/php-cgi"

  # Ask PHP itself (with the distro's own configuration for the CGI SAPI) where its modules are and
  # which ini files enable them: no distro-specific paths here.
  tmp=$(mktemp -d)
  cat >"$tmp/introspect.php" <<'PHP'
<?php
echo "extdir ", PHP_EXTENSION_DIR, "\n";
foreach (array_filter(array_map('trim', explode(',', (string) php_ini_scanned_files()))) as $f) echo "ini ", $f, "\n";
PHP
  php-cgi -q "$tmp/introspect.php" >"$tmp/introspect.txt"
  extdir=$(awk '$1 == "extdir" {print $2}' "$tmp/introspect.txt")
  [ -d "$extdir" ] || die "extension dir '$extdir' not found"

  local ini file prefix kind name count=0
  while read -r _ ini; do
    file=${ini##*/}
    prefix=$(sed -n 's/^\([0-9][0-9]*\)-.*/\1/p' <<<"$file")
    prefix=${prefix:-20}
    # extension=name | extension=name.so | extension="/abs/name.so" | zend_extension=...
    while read -r kind name; do
      name=${name##*/}; name=${name%.so}
      case " $EXCLUDED_EXTENSIONS " in *" $name "*) echo "collect-layer: leaving out $name" >&2; continue ;; esac
      [ -f "$extdir/$name.so" ] || die "$ini enables $name but $extdir/$name.so does not exist"
      cp "$extdir/$name.so" "$layer/php/extensions/$name.so"
      printf '; %s, from the build distribution'"'"'s %s\n%s=%s\n' "$name" "$file" "$kind" "$name" \
        >"$layer/php/conf.d/$prefix-$name.ini"
      count=$((count + 1))
    done < <(sed -n 's/^[[:space:]]*\(zend_extension\|extension\)[[:space:]]*=[[:space:]]*"\{0,1\}\([^";[:space:]]*\).*/\1 \2/p' "$ini")
  done < <(grep '^ini ' "$tmp/introspect.txt")
  [ "$count" -gt 0 ] || die "no extension found in the distro's ini files"
  rm -rf "$tmp"

  write_php_ini "$layer/php/php.ini"

  echo "collect-layer: shared libraries copied into $layer/lib:" >&2
  copy_missing_libs "$layer/lib" "$base" "$layer/bin/php-cgi" "$layer"/php/extensions/*.so | sed 's/^/  /' >&2

  strip_all "$layer/bin/php-cgi" "$layer"/php/extensions/*.so "$layer"/lib/*.so*

  {
    echo "# What this layer's PHP was built from (collect-layer.sh)."
    "$layer/bin/php-cgi" -n -v | head -n 1
    grep -h '^PRETTY_NAME=' /etc/os-release || true
    echo "extensions (conf.d):"; (cd "$layer/php/conf.d" && ls -1) | sed 's/^/  /'
    echo "libraries (lib):"; (cd "$layer/lib" && ls -1) | sed 's/^/  /'
  } >"$layer/php/build-info.txt"
}

# The layer's php.ini. Decisions, each overridable by the function in /var/task/php/conf.d/*.ini
# (scanned after /opt/php/conf.d) unless noted:
write_php_ini() {
  cat >"$1" <<INI
; lambda-php layer: php.ini (PHPRC=$OPT/php/php.ini). Extensions are enabled in $OPT/php/conf.d;
; a function adds or overrides settings in \$LAMBDA_TASK_ROOT/php/conf.d/*.ini (scanned last).

; Modules are copied into the layer, so the path is absolute at the layer's mount point.
extension_dir = "$OPT/php/extensions"

; Errors go to the log, never into the response. error_log is deliberately unset: PHP then writes
; to stderr, which the runtime turns into log lines (CloudWatch). fastcgi.logging=0 keeps that
; true in FastCGI mode too (otherwise errors travel on the FastCGI stderr stream instead).
display_errors = Off
display_startup_errors = Off
log_errors = On
html_errors = Off
error_reporting = E_ALL
fastcgi.logging = 0

; No "X-Powered-By: PHP/x.y" header.
expose_php = Off

; As php.ini-production: headers can still change after the first echo (header(), a redirect,
; setcookie()), and a fatal error after some output still answers 500 instead of a partial 200.
output_buffering = 4096

; The runtime computes SCRIPT_FILENAME / PATH_INFO itself; PHP must not second-guess them.
; cgi.force_redirect stays on (the runtime sends REDIRECT_STATUS=200).
cgi.fix_pathinfo = 0

; Only /tmp is writable on Lambda.
sys_temp_dir = "/tmp"
upload_tmp_dir = "/tmp"
session.save_path = "/tmp"

; Lambda runs in UTC; say so instead of relying on the fallback.
date.timezone = UTC

; getenv(), \$_ENV and \$_SERVER all see the function's environment (PHP's built-in default,
; stated because php.ini-production would drop the E).
variables_order = "EGPCS"

; Production assertions: compiled out. (zend.assertions can only be set here or in conf.d.)
zend.assertions = -1

; Code under /var/task never changes during an execution environment's life.
realpath_cache_size = 4096K
realpath_cache_ttl = 600

; OPcache. Shared memory serves the long-lived php-cgi of FastCGI mode; the file cache under /tmp
; lets the short-lived processes of CGI mode (one per request) reuse compiled scripts too. The
; wrappers create the directory (PHP does not, and disables the file cache when it is missing).
opcache.enable = 1
opcache.enable_cli = 0
opcache.file_cache = "/tmp/php-opcache"
opcache.memory_consumption = 128
opcache.interned_strings_buffer = 16
opcache.max_accelerated_files = 20000
; validate_timestamps=0: never stat scripts again once cached. Safe on Lambda, where /var/task is
; read-only; NOT for development (edits would not show): a dev setup that uses this layer (e.g.
; a local container behind \`serve\`) must add opcache.validate_timestamps=1 in its conf.d. Code
; that rewrites PHP files under /tmp and includes them again at the same path must do the same.
opcache.validate_timestamps = 0
; (opcache.file_update_protection keeps its default of 2 s: a PHP file written under /tmp less
; than 2 s ago is not cached yet, so half-written generated files are never cached.)
INI
}

collect_node() {
  local layer=$1 base=$2 node=$3
  mkdir -p "$layer/node/bin" "$layer/lib"
  cp -L "$node" "$layer/node/bin/node"
  echo "collect-layer: shared libraries copied for node into $layer/lib:" >&2
  copy_missing_libs "$layer/lib" "$base" "$layer/node/bin/node" | sed 's/^/  /' >&2
  strip_all "$layer/node/bin/node"
  if compgen -G "$layer/lib/*.so*" >/dev/null; then strip_all "$layer"/lib/*.so*; fi
}

case "${1:-}" in
  php) [ $# -eq 3 ] || die "usage: collect-layer.sh php <layer-dir> <base-libs.txt>"; collect_php "$2" "$3" ;;
  node) [ $# -eq 4 ] || die "usage: collect-layer.sh node <layer-dir> <base-libs.txt> <node-binary>"; collect_node "$2" "$3" "$4" ;;
  *) die "usage: collect-layer.sh php|node <layer-dir> <base-libs.txt> [<node-binary>]" ;;
esac
