#!/usr/bin/env bash
# Builds the glibc-only base image, the stand-in for Lambda's base image on which the layer is
# verified and the container tests run (no container registry is reachable, so AWS's images cannot
# be pulled; and a base that is *older* and *emptier* than Lambda's proves more):
#
#   lambda-php/glibc-base:bullseye-<x86_64|arm64>
#     /usr/lib64                 Debian bullseye's glibc 2.31 (libc6), older than Lambda's 2.34,
#                                laid out as Amazon Linux lays out its own: /usr/lib64 with
#                                /lib64 -> usr/lib64, the loader at /lib64/ld-linux-x86-64.so.2
#                                (x86_64) or /lib/ld-linux-aarch64.so.1 (arm64). No library is in
#                                Debian's /usr/lib/<triplet>, where Debian-built programs would look
#                                by default, so nothing found there can hide a missing library
#                                (only a link to the gconv modules, for glibc's own programs).
#     /usr/bin, /usr/sbin        glibc's own programs (libc-bin: getent, iconv, locale, ldconfig),
#                                dynamically linked against that glibc: children of PHP that run
#                                on the system's glibc, as /bin/* do on Lambda
#     /usr/bin/busybox           a static shell and tools (busybox-static), linked as sh, echo, ...
#     /etc                       passwd, group, nsswitch.conf, ld.so.conf (/usr/lib64), os-release
#   Nothing else: no libgcc_s, no libstdc++, no zoneinfo, no CA certificates, no OpenSSL, no bash.
#
# Made from .deb files fetched with this machine's apt (scripts/layer/debian-apt.sh), added to an
# empty image. Cached: does nothing when the image exists and was made by this very script
# (its sha256 is the image's label lambda-php.base-script); --force rebuilds anyway.
# Usage: scripts/docker/make-base-image.sh [--arch x86_64|arm64] [--force]
# arm64 on an x86_64 machine needs qemu user emulation (ensure-qemu.sh, run here).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../layer/debian-apt.sh
. "$repo/scripts/layer/debian-apt.sh"

case "$(uname -m)" in aarch64|arm64) arch=arm64 ;; *) arch=x86_64 ;; esac
force=""
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --force) force=1; shift ;;
    *) echo "make-base-image: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$arch" in
  x86_64) debian_arch=amd64 triplet=x86_64-linux-gnu loader_link=lib64/ld-linux-x86-64.so.2 ;;
  arm64) debian_arch=arm64 triplet=aarch64-linux-gnu loader_link=usr/lib/ld-linux-aarch64.so.1 ;;
  *) echo "make-base-image: --arch must be x86_64 or arm64" >&2; exit 2 ;;
esac
IMAGE=${BASE_IMAGE_NAME:-lambda-php/glibc-base:bullseye-$arch}

"$here/ensure-docker.sh"
script_digest=$(sha256sum "$0" | cut -d' ' -f1)
if [ -z "$force" ] && [ "$(docker image inspect --format '{{ index .Config.Labels "lambda-php.base-script" }}' "$IMAGE" 2>/dev/null)" = "$script_digest" ]; then
  exit 0
fi
host=$(uname -m)
if [ "$arch" = arm64 ] && [ "$host" != aarch64 ]; then "$here/ensure-qemu.sh"; fi

work=$(mktemp -d /tmp/lambda-php-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "make-base-image: $IMAGE from Debian bullseye's libc6, libc-bin and busybox-static ($debian_arch)" >&2
# Bullseye's last point release (a stand-in needs no security updates, and the security archive
# lacks arm64 files on some mirrors).
apt_root bullseye "$debian_arch" bullseye
apt_fetch "$work/debs" libc6 libc-bin busybox-static
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/pkg"; done

root="$work/rootfs"
mkdir -p "$root"/usr/{lib64,bin,sbin,lib} "$root"/etc "$root"/{tmp,opt,var/task,var/runtime,var/lang,root,home,proc,sys,dev}
chmod 1777 "$root/tmp"
ln -s usr/lib64 "$root/lib64"
ln -s usr/lib "$root/lib"
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"

# glibc: every library of libc6 (relative symlinks such as libc.so.6 -> libc-2.31.so move along),
# its gconv modules where Amazon Linux keeps them.
cp -a "$work/pkg/lib/$triplet/." "$root/usr/lib64/"
cp -a "$work/pkg/usr/lib/$triplet/gconv" "$root/usr/lib64/gconv"
# This glibc was built to find them in Debian's folder: a link there, for the base's own programs
# (the only thing in /usr/lib/<triplet>; the layer's libc has its own folder compiled in).
mkdir -p "$root/usr/lib/$triplet"
ln -s ../../lib64/gconv "$root/usr/lib/$triplet/gconv"
if [ "$arch" = arm64 ]; then ln -s ../lib64/ld-linux-aarch64.so.1 "$root/$loader_link"; fi
[ -e "$root/$loader_link" ] || { echo "make-base-image: no loader at /$loader_link" >&2; exit 1; }
# glibc's programs (dynamic, on this glibc), its C.UTF-8 locale and its small config files.
cp -a "$work/pkg/usr/bin/." "$root/usr/bin/"
cp -a "$work/pkg/sbin/." "$root/usr/sbin/"
cp -a "$work/pkg/usr/sbin/." "$root/usr/sbin/" 2>/dev/null || true
[ -d "$work/pkg/usr/lib/locale" ] && cp -a "$work/pkg/usr/lib/locale" "$root/usr/lib/locale"
rm -f "$root/usr/bin/ldd"   # a bash script, and there is no bash here
# busybox: every applet glibc's programs do not already provide, as a symlink.
install -m 0755 "$work/pkg/bin/busybox" "$root/usr/bin/busybox"
for applet in $("$root/usr/bin/busybox" --list); do
  [ -e "$root/usr/bin/$applet" ] || [ -e "$root/usr/sbin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
done

cat >"$root/etc/ld.so.conf" <<'EOF'
/usr/lib64
EOF
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
sbx_user1051:x:993:990::/home/sbx_user1051:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
sbx_user1051:x:990:
EOF
cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
EOF
glibc_version=$(dpkg-deb -f "$(ls "$work"/debs/libc6_*.deb)" Version)
cat >"$root/etc/os-release" <<EOF
NAME="lambda-php glibc-only base"
ID=lambda-php-glibc-base
VERSION_ID="bullseye"
PRETTY_NAME="glibc-only base: Debian bullseye's glibc $glibc_version in Amazon Linux's layout, busybox"
EOF
# The loader cache, by the image's own (static) ldconfig: Debian's glibc looks in its multiarch
# directories by default, Amazon Linux's in /usr/lib64; the cache tells it /usr/lib64.
"$root/usr/sbin/ldconfig" -r "$root"

# An image FROM scratch with the root file system added, built by BuildKit for the target platform
# (docker import cannot record another architecture, and docker run --platform checks it). No
# image is pulled: scratch is no image.
tar -C "$root" -cf "$work/rootfs.tar" .
cat >"$work/Dockerfile" <<EOF
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
LABEL lambda-php.base-script=$script_digest
CMD ["/bin/sh"]
EOF
docker_client=docker
docker buildx version >/dev/null 2>&1 || docker_client=/usr/bin/docker
DOCKER_BUILDKIT=1 "$docker_client" build --quiet --platform "linux/$debian_arch" -t "$IMAGE" "$work" >/dev/null
echo "make-base-image: built $IMAGE" >&2
