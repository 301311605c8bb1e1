#!/usr/bin/env bash
# ELF checks on the assembled layer trees (build-layer.sh's "check" stage); any failure fails the
# build. Static: nothing of the target architecture runs here (verify-layer.sh runs it, in the
# glibc-only base).
#
#   check-layer.sh <trees-dir>      trees as assemble-layer.sh writes them (core/, addon-*/, node/,
#                                   <tree>.manifest naming glibc's own files "deb:<release>:libc6")
#
# PHP's trees (core/, addon-*/) run on the layer's own glibc:
#   - an executable (an ELF file with an interpreter, but glibc's own) has the interpreter
#     /opt/php/lib/<loader>, that loader is in core/, and its DT_RPATH is /opt/php/lib;
#   - no ELF file has a DT_RUNPATH, and no search path leaves /opt ($ORIGIN stays in the file's own
#     folder). The check reads DT_RPATH, not DT_RUNPATH: the loader searches an executable's RPATH
#     before Lambda's LD_LIBRARY_PATH (/lib64:/usr/lib64:...) for everything the process loads, but
#     RUNPATH after it, and a library with a RUNPATH would look on LD_LIBRARY_PATH first for its own
#     needs, finding the base's libraries (see assemble-layer.sh);
#   - every DT_NEEDED library is in the layer (core's php/lib, or the add-on's own), so nothing is
#     left to the base image;
#   - no file requires a newer glibc than the layer's.
# Node's tree (node/) runs on the SYSTEM glibc:
#   - no file requires more than GLIBC_2.34, Lambda's (provided.al2023, nodejs22.x/24.x);
#   - its interpreter is the system's loader, its search paths stay in /opt, and every DT_NEEDED
#     library is glibc's or in /opt/node/lib.
set -euo pipefail

trees=${1:?usage: check-layer.sh <trees-dir>}
LAMBDA_GLIBC=${LAMBDA_GLIBC:-2.34}
failures=0
fail() { echo "check-layer: FAIL $*" >&2; failures=$((failures + 1)); }

is_elf() { [ -f "$1" ] && [ ! -L "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }
dynamic_entry() { readelf -d "$1" 2>/dev/null | sed -n "s/.*($2).*\[\(.*\)\]/\1/p"; }
interpreter() { readelf -l "$1" 2>/dev/null | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p'; }
# The highest GLIBC_x.y a file requires (version needs), empty when none.
glibc_needed() {
  readelf -V --wide "$1" 2>/dev/null | awk '/Version needs section/ {n = 1} n && /Name: GLIBC_[0-9]/ {sub(/.*Name: GLIBC_/, ""); print $1}' |
    sort -V | tail -n 1
}
version_le() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$1" ]; }
glibc_sonames='^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libresolv\.so\.2|libutil\.so\.1|libanl\.so\.1|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$'

core="$trees/core"
[ -d "$core/php/lib" ] || { echo "check-layer: $core/php/lib is missing" >&2; exit 1; }
loader=$(cd "$core/php/lib" && ls ld-linux-*.so.* 2>/dev/null | head -n 1)
[ -n "$loader" ] && [ -x "$core/php/lib/$loader" ] || fail "core/php/lib has no executable ld-linux loader"
[ -f "$core/php/lib/libc.so.6" ] || fail "core/php/lib has no libc.so.6"
layer_glibc=$(readelf -V --wide "$core/php/lib/libc.so.6" 2>/dev/null | awk '/Version definition section/ {d = 1} /Version needs section/ {d = 0} d && /Name: GLIBC_[0-9]/ {sub(/.*Name: GLIBC_/, ""); print $1}' | sort -V | tail -n 1)
[ -n "$layer_glibc" ] || fail "cannot read the glibc version of core/php/lib/libc.so.6"

checked=0
check_php_tree() {
  local tree=$1 elf rel rpath runpath interp need max is_glibc dir
  while IFS= read -r elf; do
    is_elf "$elf" || continue
    checked=$((checked + 1))
    rel=${elf#"$trees"/}
    is_glibc=""
    grep -qx "/opt/${elf#"$trees/$tree"/}	deb:[a-z]*:libc6" "$trees/$tree.manifest" 2>/dev/null && is_glibc=1
    rpath=$(dynamic_entry "$elf" RPATH)
    runpath=$(dynamic_entry "$elf" RUNPATH)
    [ -z "$runpath" ] || fail "$rel has DT_RUNPATH $runpath: searched after LD_LIBRARY_PATH, it would load the base's libraries"
    local entry
    for entry in ${rpath//:/ }; do
      case "$entry" in /opt/*|'$ORIGIN'|'$ORIGIN'/*) ;; *) fail "$rel has RPATH entry $entry, outside /opt" ;; esac
    done
    interp=$(interpreter "$elf")
    if [ -n "$interp" ] && [ -z "$is_glibc" ]; then
      [ "$interp" = "/opt/php/lib/$loader" ] || fail "$rel has interpreter $interp, not the layer's /opt/php/lib/$loader"
      [ "$rpath" = /opt/php/lib ] || fail "$rel is an executable with RPATH '$rpath', not /opt/php/lib: it would load the base's libraries"
    fi
    for need in $(dynamic_entry "$elf" NEEDED); do
      if [ -e "$core/php/lib/$need" ] || [ -e "$trees/$tree/php/lib/$need" ]; then continue; fi
      case "$rel" in */php/lib/gconv/*) dir=$(dirname "$elf"); [ -e "$dir/$need" ] && continue ;; esac
      fail "$rel needs $need, which is not in the layer (core/php/lib or $tree/php/lib)"
    done
    max=$(glibc_needed "$elf")
    if [ -n "$max" ] && [ -n "$layer_glibc" ] && ! version_le "$max" "$layer_glibc"; then
      fail "$rel requires GLIBC_$max, newer than the layer's $layer_glibc"
    fi
  done < <(find "$trees/$tree" -type f | LC_ALL=C sort)
}

check_node_tree() {
  local elf rel need max interp entry
  while IFS= read -r elf; do
    is_elf "$elf" || continue
    checked=$((checked + 1))
    rel=${elf#"$trees"/}
    max=$(glibc_needed "$elf")
    if [ -n "$max" ] && ! version_le "$max" "$LAMBDA_GLIBC"; then
      fail "$rel runs on the system's glibc but requires GLIBC_$max, newer than Lambda's $LAMBDA_GLIBC"
    fi
    interp=$(interpreter "$elf")
    case "$interp" in ''|/lib64/ld-linux-x86-64.so.2|/lib/ld-linux-aarch64.so.1) ;; *) fail "$rel has interpreter $interp, not the system's loader" ;; esac
    for entry in $(dynamic_entry "$elf" RPATH | tr ':' ' ') $(dynamic_entry "$elf" RUNPATH | tr ':' ' '); do
      case "$entry" in /opt/*|'$ORIGIN'|'$ORIGIN'/*) ;; *) fail "$rel has search path $entry, outside /opt" ;; esac
    done
    for need in $(dynamic_entry "$elf" NEEDED); do
      [[ $need =~ $glibc_sonames ]] && continue
      [ -e "$trees/node/node/lib/$need" ] || fail "$rel needs $need, which is neither glibc's nor in /opt/node/lib"
    done
  done < <(find "$trees/node" -type f | LC_ALL=C sort)
}

for tree_dir in "$trees"/core "$trees"/addon-*; do
  [ -d "$tree_dir" ] && check_php_tree "${tree_dir##*/}"
done
[ -d "$trees/node" ] && check_node_tree

if [ "$failures" -gt 0 ]; then
  echo "check-layer: $failures problem(s) in $checked ELF files" >&2
  exit 1
fi
echo "check-layer: $checked ELF files: PHP's on the layer's glibc $layer_glibc (RPATH /opt/php/lib, complete closure), Node's on the system's (<= GLIBC_$LAMBDA_GLIBC)" >&2
