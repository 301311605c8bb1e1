#!/bin/sh
# Prints, one per line and sorted, the file names of every shared library the dynamic loader can
# find in THIS image without help. Run in the clean base stage (the stand-in for Lambda's base
# image): collect-layer.sh copies into the layer exactly the libraries php-cgi, the extensions and
# node need that are NOT on this list.
#
# Two sources, because each alone misses some:
#   - the loader cache (ldconfig -p): every library in the configured system directories;
#   - the directories themselves, in case the image ships without a fresh cache. These are the
#     system directories of both distributions (/lib64 and /usr/lib64 are also the first entries
#     of Lambda's LD_LIBRARY_PATH).
# Plain sh on purpose: the minimal base image may lack find/awk.
set -eu

{
  if command -v ldconfig >/dev/null 2>&1; then
    ldconfig -p 2>/dev/null | while read -r name _; do
      case "$name" in *.so*) echo "$name" ;; esac
    done
  fi
  for dir in /lib64 /usr/lib64 /lib /usr/lib /lib/*-linux-gnu /usr/lib/*-linux-gnu; do
    [ -d "$dir" ] || continue
    for file in "$dir"/*.so "$dir"/*.so.*; do
      [ -e "$file" ] && echo "${file##*/}"
    done
  done
} | sort -u
