#!/usr/bin/env bash
# Verifies the zips of one architecture in the glibc-only base image (build-layer.sh's "verify"
# stage): each run unpacks zips into a folder, as Lambda extracts layers into /opt, and runs
# verify/verify-layer.sh in a container shaped like Lambda's sandbox:
#   - the base: lambda-php/glibc-base:bullseye-<arch> (glibc 2.31 in Amazon Linux's layout, busybox;
#     scripts/docker/make-base-image.sh), arm64 under qemu user emulation on an x86_64 machine;
#   - the layer read-only at /opt, verify/app read-only at /var/task, this folder read-only at
#     /verify, a read-only root with a tmpfs /tmp, Lambda's user (993:990), no network but loopback.
# Runs:
#   nodejs     layer-nodejs-<arch>.zip alone; the managed runtime's Node stand-in at /var/lang is
#              the provided variant's node/ folder (Node and its C++ runtime)
#   provided   layer-provided-<arch>.zip with every add-on zip (layer-php-*-<arch>.zip)
# Each run's output is kept as <dist-dir>/verify-<variant>-<arch>.txt.
#
#   verify-in-container.sh --arch x86_64|arm64 <dist-dir>
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
arch="" dist=""
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    *) dist=$1; shift ;;
  esac
done
case "$arch" in x86_64) platform=linux/amd64 ;; arm64) platform=linux/arm64 ;; *) echo "verify-in-container: --arch x86_64|arm64" >&2; exit 2 ;; esac
[ -d "$dist" ] || { echo "verify-in-container: usage: verify-in-container.sh --arch <arch> <dist-dir>" >&2; exit 2; }
image=lambda-php/glibc-base:bullseye-$arch
"$repo/scripts/docker/make-base-image.sh" --arch "$arch"

emulated=""
case "$(uname -m)" in aarch64|arm64) [ "$arch" = arm64 ] || emulated=1 ;; *) [ "$arch" = x86_64 ] || emulated=1 ;; esac

work="$dist/verify"
rm -rf "$work" && mkdir -p "$work"
# The app, with files older than opcache.file_update_protection (2 s), as deployed code is.
cp -a "$here/verify/app" "$work/app"
find "$work/app" -exec touch -h -d '2020-01-01T00:00:00Z' {} +
chmod -R a+rX "$work"

# unpack <folder> <zip>...: zips extracted in order into one folder, as Lambda does with layers.
unpack() {
  local dir=$1
  shift
  mkdir -p "$dir"
  for zip_file in "$@"; do unzip -q -o "$zip_file" -d "$dir"; done
  chmod 0755 "$dir"
}

# The modules `php-cgi -m` must print: builtin and core ones, and those of the add-ons present.
expected_modules() {
  awk -v addons=" $* " '!/^#/ && NF >= 4 && ($3 == "builtin" || $3 == "core" || index(addons, " " $3 " ")) {gsub(/\+/, " ", $2); print $2}' \
    "$here/extensions.txt"
}

run() {
  local variant=$1 opt=$2 report="$dist/verify-$1-$arch.txt"
  shift 2
  local mounts=(--mount "type=bind,source=$opt,target=/opt,readonly"
    --mount "type=bind,source=$work/app,target=/var/task,readonly"
    --mount "type=bind,source=$here/verify,target=/verify,readonly")
  [ "$variant" = nodejs ] && mounts+=(--mount "type=bind,source=$work/managed-node,target=/var/lang,readonly")
  local status=0
  docker run --rm --platform "$platform" --pull never --network none --read-only --user 993:990 \
    --tmpfs /tmp:rw,exec,nosuid,nodev,size=512m,mode=1777 "${mounts[@]}" \
    --env "EXPECTED_MODULES=$(expected_modules "$@")" \
    --env "MOCK_TIMEOUT_MS=$([ -n "$emulated" ] && echo 180000 || echo 30000)" \
    "$image" /bin/sh /verify/verify-layer.sh "$variant" >"$report" 2>&1 || status=$?
  sed 's/^/  /' "$report" >&2
  [ "$status" = 0 ] || { echo "verify-in-container: the $variant layer ($arch) failed verification: $report" >&2; exit 1; }
}

addons=()
addon_names=()
for zip_file in "$dist"/layer-php-*-"$arch".zip; do
  [ -f "$zip_file" ] || continue
  addons+=("$zip_file")
  name=${zip_file##*/layer-php-}
  addon_names+=("${name%-"$arch".zip}")
done

unpack "$work/provided" "$dist/layer-provided-$arch.zip" "${addons[@]}"
unpack "$work/nodejs" "$dist/layer-nodejs-$arch.zip"
# The managed nodejs runtime's /var/lang: node in bin/, the libraries it needs in lib/ (first on
# that runtime's LD_LIBRARY_PATH).
mkdir -p "$work/managed-node"
cp -a "$work/provided/node/." "$work/managed-node/"

run nodejs "$work/nodejs"
run provided "$work/provided" "${addon_names[@]}"
rm -rf "$work"
