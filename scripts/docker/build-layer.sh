#!/usr/bin/env bash
# Builds and verifies the PHP layers with Dockerfile.build; the zips land in build/layers/.
#
#   scripts/docker/build-layer.sh [--distro al2023|debian] [--arch x86_64|arm64] [--context DIR]
#
#   --distro al2023  (default) the real target: BASE_IMAGE=public.ecr.aws/lambda/provided:al2023-<arch>,
#                    PHP_VERSION=8.4. Needs access to that registry.
#   --distro debian  the stand-in that works without any container registry:
#                    BASE_IMAGE=lambda-php/debian-base:bookworm (made by make-base-image.sh),
#                    PHP_VERSION=8.2. Host architecture only.
#   --arch           default: this machine's. Another one needs qemu binfmt emulation
#                    (apt-get install qemu-user-static) and a base image of that architecture.
#   --context        the build context (default: the repository root). It must hold
#                    dist/bootstrap.js (`node scripts/build.mjs`) and php-build/; the node binary
#                    is staged into <context>/build/node/linux-<amd64|arm64>/node here.
# Env overrides: BASE_IMAGE, PHP_VERSION, OUT_DIR (default <repo>/build/layers), DOCKER (client),
#   NODE_VERSION: the Node the provided layer ships (default: the repository's, node_modules/node),
#   fetched from the npm package node-linux-<x64|arm64>@NODE_VERSION, e.g. NODE_VERSION=26.10.0.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/scripts/docker"
distro=al2023
context=$repo
case "$(uname -m)" in x86_64) arch=x86_64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
host_arch=$arch

while [ $# -gt 0 ]; do
  case "$1" in
    --distro) distro=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --context) context=$(cd "$2" && pwd); shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "build-layer: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$arch" in
  x86_64) docker_arch=amd64 npm_arch=x64 ;;
  arm64) docker_arch=arm64 npm_arch=arm64 ;;
  *) echo "build-layer: --arch must be x86_64 or arm64" >&2; exit 2 ;;
esac
out=${OUT_DIR:-$repo/build/layers}

"$here/ensure-docker.sh"

case "$distro" in
  al2023)
    base=${BASE_IMAGE:-public.ecr.aws/lambda/provided:al2023-$arch}
    php=${PHP_VERSION:-8.4}
    ;;
  debian)
    if [ "$arch" != "$host_arch" ]; then
      echo "build-layer: the debian base image is built for this machine's architecture ($host_arch) only" >&2; exit 2
    fi
    "$here/make-base-image.sh"
    base=${BASE_IMAGE:-lambda-php/debian-base:bookworm}
    php=${PHP_VERSION:-8.2}
    ;;
  *) echo "build-layer: --distro must be al2023 or debian" >&2; exit 2 ;;
esac

[ -f "$context/dist/bootstrap.js" ] || {
  echo "build-layer: $context/dist/bootstrap.js is missing: run 'node scripts/build.mjs' first" >&2; exit 1; }

# The node binary for the target, from the npm package the repository pins (node@24 installs
# node-<os>-<arch>@<same version>): this machine's copy when the architectures match, otherwise
# the other architecture's package fetched with npm. Cached in <context>/build/node.
# NODE_VERSION picks another release (the managed nodejs variant always runs AWS's own Node).
repo_node_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$repo/node_modules/node/package.json" 2>/dev/null | head -n 1)
node_version=${NODE_VERSION:-$repo_node_version}
[ -n "$node_version" ] || { echo "build-layer: node_modules/node is missing: run npm ci first" >&2; exit 1; }
[[ $node_version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || {
  echo "build-layer: NODE_VERSION must be a release such as 24.21.0, not '$node_version'" >&2; exit 2; }
staged="$context/build/node/linux-$docker_arch/node"
if [ ! -x "$staged" ] || [ "$(cat "$staged.version" 2>/dev/null)" != "$node_version" ]; then
  mkdir -p "$(dirname "$staged")"
  if [ "$arch" = "$host_arch" ] && [ "$node_version" = "$repo_node_version" ] && [ -x "$repo/node_modules/node/bin/node" ]; then
    cp "$repo/node_modules/node/bin/node" "$staged"
  else
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-$npm_arch@$node_version" >/dev/null && tar -xzf ./*.tgz package/bin/node) || {
      echo "build-layer: could not fetch Node $node_version for linux-$npm_arch from the npm registry (package node-linux-$npm_arch@$node_version)" >&2
      rm -rf "$tmp"; exit 1; }
    cp "$tmp/package/bin/node" "$staged"
    rm -rf "$tmp"
  fi
  echo "$node_version" >"$staged.version"
fi

# Debian's docker.io 20.10 client has BuildKit built in (DOCKER_BUILDKIT=1); newer clients need
# the buildx plugin for it. Use whichever client can do a BuildKit build.
if [ -z "${DOCKER:-}" ]; then
  if docker buildx version >/dev/null 2>&1; then DOCKER=docker; else DOCKER=/usr/bin/docker; fi
fi

mkdir -p "$out"
echo "build-layer: distro=$distro arch=$arch base=$base php=$php node=$node_version -> $out" >&2
start=$(date +%s)
DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain \
  -f "$repo/Dockerfile.build" \
  --platform "linux/$docker_arch" \
  --build-arg "BASE_IMAGE=$base" \
  --build-arg "DISTRO=$distro" \
  --build-arg "PHP_VERSION=$php" \
  --output "type=local,dest=$out" \
  "$context"
echo "build-layer: done in $(($(date +%s) - start)) s" >&2
cat "$out/sizes.txt"
