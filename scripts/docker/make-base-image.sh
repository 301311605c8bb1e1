#!/usr/bin/env bash
# Builds the local stand-in for Lambda's clean base image, because no container registry can be
# reached here (public.ecr.aws/lambda/provided:al2023 cannot be pulled):
#   debootstrap --variant=minbase bookworm  ->  docker import  ->  lambda-php/debian-base:bookworm
# Cached: does nothing when the image already exists (pass --force to rebuild).
#
# The mirrors are the ones this machine's apt already uses (deb822 URIs: lines in
# /etc/apt/sources.list.d/debian.sources, else the deb lines of /etc/apt/sources.list), so the
# script works wherever apt works. Only the host architecture is built (no qemu here).
# Usage: scripts/docker/make-base-image.sh [--force]
set -euo pipefail

IMAGE=${BASE_IMAGE_NAME:-lambda-php/debian-base:bookworm}
SUITE=bookworm
here=$(cd "$(dirname "$0")" && pwd)

"$here/ensure-docker.sh"

if [ "${1:-}" != "--force" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  exit 0
fi

mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '/^deb / && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || { echo "make-base-image: no Debian mirror found in this machine's apt sources" >&2; exit 1; }
security=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  security=$(awk '/^URIs:/ && $2 ~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$security" ] && [ -f /etc/apt/sources.list ]; then
  security=$(awk '/^deb / && /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
fi
security=${security:-${mirror%/debian}/debian-security}

rootfs=$(mktemp -d /tmp/lambda-php-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

echo "make-base-image: debootstrap $SUITE from $mirror (about a minute)" >&2
debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
  tail -n 40 "$rootfs.log" >&2
  exit 1
}
rm -f "$rootfs.log"

# Point apt inside the image at the same mirrors, security updates included (debootstrap writes
# only the main suite), and keep the image small: no apt lists, no package caches.
printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
  "$mirror" "$SUITE" "$mirror" "$SUITE" "$security" "$SUITE" >"$rootfs/etc/apt/sources.list"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb

tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' \
  - "$IMAGE" >/dev/null
echo "make-base-image: built $IMAGE" >&2
