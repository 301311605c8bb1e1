#!/usr/bin/env bash
# Builds, checks and verifies the PHP layers; the zips land in build/layers/. What `./run layer` runs.
#
#   scripts/layer/build-layer.sh [--arch x86_64|arm64|all] [--force]
#
# The layer is PHP 8.4 from Debian trixie and trixie-security (the newest packages at build time),
# shipped with the whole closure of shared libraries it loads, glibc included, so that it runs on
# any Linux kernel whatever glibc the base image has: Lambda's 2.34, or the verification base's
# 2.31. No compiling beyond the small cgi-spawner, no container image to pull: the packages of the
# target architecture are fetched with this machine's apt (scripts/layer/debian-apt.sh) and
# assembled with host tools (patchelf, readelf, zip), the same way for x86_64 and arm64.
#
# Stages, each timed (`build-layer: [x86_64] <stage>: N s`):
#   host tools   patchelf, binutils, zip, unzip, a C compiler for the target (arm64: Debian's
#                cross compiler and qemu user emulation), Docker
#   packages     apt-get update of private apt roots, the package set resolved, new .debs fetched
#                and unpacked (build/cache/debs-<arch>/)
#   node         the Node binary for the provided variant (npm package node-linux-<x64|arm64>)
#   assemble     php-build/assemble-layer.sh: the layer trees (core, add-ons, node)
#   check        php-build/check-layer.sh: ELF checks on the trees, failing the build on any escape
#   package      php-build/package-layers.sh: the zips, sizes.txt and the SBOMs, into a staging dir
#   verify       php-build/verify-layer.sh in the glibc-only base image, on the zips unpacked:
#                nodejs variant alone, provided variant with every add-on (arm64: under qemu)
# The zips replace those of build/layers only once every check passed.
#
# Cached: when the resolved packages, Node and every source file of the layer are those of the
# last successful build of that architecture (build/layers/.inputs-<arch>.txt), nothing is rebuilt
# and the run takes seconds. --force rebuilds anyway.
#
# Env: NODE_VERSION (the provided variant's Node, default the repository's node_modules/node),
#      DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR (default: this machine's apt sources),
#      OUT_DIR (default build/layers), LAYER_CACHE (default build/cache).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/scripts/layer"
export LAYER_CACHE=${LAYER_CACHE:-$repo/build/cache}
out=${OUT_DIR:-$repo/build/layers}
# shellcheck source=debian-apt.sh
. "$here/debian-apt.sh"

case "$(uname -m)" in aarch64|arm64) host_arch=arm64 ;; *) host_arch=x86_64 ;; esac
arches=$host_arch
force=""
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arches=$2; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "build-layer: unknown argument $1 (usage: build-layer.sh [--arch x86_64|arm64|all] [--force])" >&2; exit 2 ;;
  esac
done
[ "$arches" = all ] && arches="x86_64 arm64"
for arch in $arches; do
  case "$arch" in x86_64|arm64) ;; *) echo "build-layer: --arch must be x86_64, arm64 or all, not '$arch'" >&2; exit 2 ;; esac
  # The other architecture needs Debian's cross compiler and qemu user emulation, set up here for
  # arm64 on x86_64 (what CI and most machines are), not the other way round.
  if [ "$host_arch" = arm64 ] && [ "$arch" = x86_64 ]; then
    echo "build-layer: an arm64 machine builds the arm64 layer only: build the x86_64 one on an x86_64 machine" >&2; exit 2
  fi
done

# The Debian packages the layer is made of: php8.4-cgi and the packages of extensions.txt, the time
# zone database and the CA certificates. The bullseye ones are for the provided variant's Node only.
PHP_PACKAGES=$(awk '!/^#/ && NF >= 4 {print $4}' "$repo/php-build/extensions.txt" | sort -u | tr '\n' ' ')
LAYER_PACKAGES="$PHP_PACKAGES tzdata tzdata-legacy ca-certificates"
NODE_LIB_PACKAGES="libstdc++6 libgcc-s1"

[ -f "$repo/dist/bootstrap.js" ] || {
  echo "build-layer: dist/bootstrap.js is missing: run 'node scripts/build.mjs' first (./run layer does)" >&2; exit 1; }

stage_started=0
stage_begin() { stage_name=$1; stage_started=$(date +%s%N); }
stage_end() {
  local ms=$((($(date +%s%N) - stage_started) / 1000000))
  printf 'build-layer: [%s] %-11s %5d.%01d s\n' "$arch" "$stage_name:" $((ms / 1000)) $((ms % 1000 / 100)) >&2
}

# --- host tools ----------------------------------------------------------------------------------
ensure_host_tools() {
  local missing=() tool
  for tool in patchelf:patchelf readelf:binutils zip:zip unzip:unzip flock:util-linux dpkg-deb:dpkg; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
  done
  if [ "$arch" = "$host_arch" ]; then
    command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
  else
    command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
  fi
  if ((${#missing[@]})); then
    [ "$(id -u)" = 0 ] || { echo "build-layer: missing tools, install them (Debian): ${missing[*]}" >&2; exit 1; }
    echo "build-layer: installing Debian's ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  "$repo/scripts/docker/ensure-docker.sh"
  if [ "$arch" != "$host_arch" ]; then "$repo/scripts/docker/ensure-qemu.sh"; fi
}

# --- packages --------------------------------------------------------------------------------------
# resolve_and_unpack <release> <suites> <debian-arch> <dest> <package>...: the packages and their
# whole dependency tree in <release> (<suites>: "" for the newest, with updates and security, else
# a space-separated list), each unpacked into <dest>/<name>/ with its control fields in
# <dest>/<name>.control; prints "name version" lines. An unpacked package is kept while its version
# stays the same: a run where nothing changed downloads nothing.
resolve_and_unpack() {
  local suite=$1 suites=$2 debian_arch=$3 dest=$4
  shift 4
  # shellcheck disable=SC2086
  apt_root "$suite" "$debian_arch" $suites
  # The whole set with apt's own resolver, as the URIs it would fetch into an empty archive folder
  # (quicker than a simulated install, which also orders the installation): each file name is
  # <name>_<version>_<arch>.deb, an epoch's colon written %3a.
  local resolved set
  mkdir -p "$APT_CACHE_ROOT/empty-archive/partial"
  resolved=$(private_apt_get -qq --print-uris -o "Dir::Cache::archives=$APT_CACHE_ROOT/empty-archive/" install --download-only "$@" 2>&1) || {
    echo "build-layer: apt cannot resolve $* in Debian $suite ($debian_arch):" >&2; tail -n 20 <<<"$resolved" >&2; exit 1; }
  set=$(awk '{n = split($2, f, "_"); v = f[2]; for (i = 3; i < n; i++) v = v "_" f[i]; gsub(/%3a/, ":", v); print f[1], v}' <<<"$resolved" | sort)
  [ -n "$set" ] || { echo "build-layer: apt resolved nothing for $*" >&2; exit 1; }
  mkdir -p "$dest"
  local name version deb stamp missing=()
  while read -r name version; do
    stamp="$dest/$name.control"
    [ -f "$stamp" ] && [ "$(sed -n 's/^Version: //p' "$stamp")" = "$version" ] && [ -d "$dest/$name" ] || missing+=("$name=$version")
  done <<<"$set"
  ((${#missing[@]} == 0)) || apt_fetch "$dest/.debs" "${missing[@]}"
  for deb in "$dest"/.debs/*.deb; do
    [ -f "$deb" ] || continue
    name=$(dpkg-deb -f "$deb" Package)
    rm -rf "$dest/$name" && dpkg-deb -x "$deb" "$dest/$name"
    dpkg-deb -f "$deb" Package Version Architecture Source >"$dest/$name.control"
    rm -f "$deb"
  done
  # Packages no longer in the set must not linger (the assembler looks at every unpacked one).
  for stamp in "$dest"/*.control; do
    name=$(basename "$stamp" .control)
    grep -q "^$name " <<<"$set" || rm -rf "$dest/$name" "$stamp"
  done
  echo "$set"
}

# --- node ------------------------------------------------------------------------------------------
# The node binary for the target, from the npm package the repository pins (node@24 installs
# node-<os>-<arch>@<same version>), cached in build/cache/node/.
stage_node() {
  local repo_version npm_arch
  repo_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$repo/node_modules/node/package.json" 2>/dev/null | head -n 1)
  node_version=${NODE_VERSION:-$repo_version}
  [ -n "$node_version" ] || { echo "build-layer: node_modules/node is missing: run npm ci first (./run layer does)" >&2; exit 1; }
  [[ $node_version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || {
    echo "build-layer: NODE_VERSION must be a release such as 24.21.0, not '$node_version'" >&2; exit 2; }
  npm_arch=$([ "$arch" = x86_64 ] && echo x64 || echo arm64)
  node_binary="$LAYER_CACHE/node/node-linux-$npm_arch-$node_version"
  [ -x "$node_binary" ] && return
  mkdir -p "$LAYER_CACHE/node"
  if [ "$arch" = "$host_arch" ] && [ "$node_version" = "$repo_version" ] && [ -x "$repo/node_modules/node/bin/node" ]; then
    cp -L "$repo/node_modules/node/bin/node" "$node_binary.tmp"
  else
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-$npm_arch@$node_version" >/dev/null && tar -xzf ./*.tgz package/bin/node) || {
      echo "build-layer: could not fetch Node $node_version for linux-$npm_arch from the npm registry (package node-linux-$npm_arch@$node_version)" >&2
      rm -rf "$tmp"; exit 1; }
    cp "$tmp/package/bin/node" "$node_binary.tmp"
    rm -rf "$tmp"
  fi
  mv "$node_binary.tmp" "$node_binary"
}

# --- inputs ---------------------------------------------------------------------------------------
# Everything a layer of this architecture is made from, one line each: the packages, Node, and a
# sha256 of every source file (the same list src/local/container/layer.ts compares).
source_files() {
  (cd "$repo" && { find php-build scripts/layer scripts/docker/make-base-image.sh -type f; echo src/cgi/spawner/cgi-spawner.c; echo dist/bootstrap.js; } | LC_ALL=C sort)
}
inputs_list() {
  sed 's/^/trixie /' <<<"$layer_set"
  sed 's/^/bullseye /' <<<"$node_lib_set"
  echo "node $node_version"
  echo "compiler $($cc --version | head -n 1)"
  (cd "$repo" && source_files | xargs sha256sum | sed 's/^/file /')
}

build_arch() {
  local debian_arch triplet cc work trees staging
  case "$arch" in
    x86_64) debian_arch=amd64 triplet=x86_64-linux-gnu cc=gcc ;;
    arm64) debian_arch=arm64 triplet=aarch64-linux-gnu cc=$([ "$host_arch" = arm64 ] && echo gcc || echo aarch64-linux-gnu-gcc) ;;
  esac
  work="$LAYER_CACHE/work-$arch"
  mkdir -p "$work" "$out"

  stage_begin "host tools"; ensure_host_tools; stage_end

  stage_begin packages
  # Both releases at once (apt's work is mostly waiting and parsing). Bullseye's point release
  # only: its C++ runtime has had no update since, and its security archive lacks arm64 files on
  # some mirrors.
  local layer_pid node_pid
  resolve_and_unpack trixie "" "$debian_arch" "$LAYER_CACHE/debs-$arch" $LAYER_PACKAGES >"$work/layer-set.txt" &
  layer_pid=$!
  resolve_and_unpack bullseye bullseye "$debian_arch" "$LAYER_CACHE/node-debs-$arch" $NODE_LIB_PACKAGES >"$work/node-set.txt" &
  node_pid=$!
  wait "$layer_pid" || exit 1
  wait "$node_pid" || exit 1
  layer_set=$(cat "$work/layer-set.txt")
  node_lib_set=$(cat "$work/node-set.txt")
  stage_end

  stage_begin node; stage_node; stage_end

  local inputs_file="$out/.inputs-$arch.txt" inputs
  inputs=$(inputs_list)
  if [ -z "$force" ] && [ -f "$inputs_file" ] && [ "$inputs" = "$(cat "$inputs_file")" ] &&
     [ -f "$out/layer-provided-$arch.zip" ] && [ -f "$out/layer-nodejs-$arch.zip" ]; then
    echo "build-layer: [$arch] up to date: same packages, Node $node_version and sources as the last build" >&2
    return
  fi
  if [ -f "$inputs_file" ]; then
    echo "build-layer: [$arch] changed since the last build:" >&2
    diff <(cat "$inputs_file") <(echo "$inputs") | sed -n 's/^> /  now /p; s/^< /  was /p' | cut -c1-160 | head -n 20 >&2 || true
  fi

  stage_begin assemble
  # cgi-spawner, compiled here and then treated like php-cgi (the layer's glibc, patched ELF).
  "$cc" -O2 -Wall -Wextra -Werror -o "$work/cgi-spawner" "$repo/src/cgi/spawner/cgi-spawner.c"
  trees="$work/trees"
  LAYER_ARCH=$arch TRIPLET=$triplet DEBS="$LAYER_CACHE/debs-$arch" NODE_DEBS="$LAYER_CACHE/node-debs-$arch" \
    NODE_BINARY="$node_binary" NODE_VERSION="$node_version" SPAWNER="$work/cgi-spawner" BOOTSTRAP_JS="$repo/dist/bootstrap.js" \
    bash "$repo/php-build/assemble-layer.sh" "$trees"
  stage_end

  stage_begin check; bash "$repo/php-build/check-layer.sh" "$trees"; stage_end

  stage_begin package
  staging="$work/staging"
  rm -rf "$staging" && mkdir -p "$staging"
  LAYER_ARCH=$arch NODE_VERSION="$node_version" DEBS="$LAYER_CACHE/debs-$arch" NODE_DEBS="$LAYER_CACHE/node-debs-$arch" \
    bash "$repo/php-build/package-layers.sh" "$trees" "$staging"
  stage_end

  stage_begin verify
  bash "$repo/php-build/verify-in-container.sh" --arch "$arch" "$staging"
  stage_end

  # Every check passed: publish this architecture's files (none of a former build's left, so that
  # an add-on no longer made is not picked up), then record what they were made from.
  rm -f "$inputs_file" "$out"/layer-*-"$arch".zip "$out"/sbom-*-"$arch".cdx.json "$out"/verify-*-"$arch".txt
  find "$staging" -maxdepth 1 -type f -name "*-$arch.*" -exec cp -p {} "$out"/ \;
  sed -n 's/^file //p' <<<"$inputs" >"$out/source-files-$arch.txt"
  echo "$inputs" >"$inputs_file"
  bash "$repo/php-build/package-layers.sh" --sizes "$out"
}

mkdir -p "$LAYER_CACHE"
exec 9>"$LAYER_CACHE/.build-layer.lock"
if ! flock -n 9; then
  echo "build-layer: waiting for another build-layer.sh run to finish" >&2
  flock 9
fi
all_started=$(date +%s)
for arch in $arches; do
  echo "build-layer: [$arch] PHP 8.4 from Debian trixie + trixie-security, own glibc -> $out" >&2
  build_arch
done
echo "build-layer: done in $(($(date +%s) - all_started)) s" >&2
[ -f "$out/sizes.txt" ] && cat "$out/sizes.txt"
