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

  install -m 0644 "$(dirname "$0")/php.ini" "$layer/php/php.ini"

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
