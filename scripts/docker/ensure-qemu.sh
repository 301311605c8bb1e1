#!/usr/bin/env bash
# Lets this machine run arm64 Linux binaries, in and out of containers, through qemu user
# emulation: what `--arch arm64` needs on an x86_64 machine to verify the arm64 layer (and to make
# its base image). Idempotent; does nothing on an arm64 machine.
#   1. installs Debian's qemu-user-static when missing;
#   2. mounts binfmt_misc when it is not mounted (the kernel supports it; nothing mounts it here);
#   3. registers qemu-aarch64-static for aarch64 ELF files with the F flag: the kernel opens the
#      interpreter once, at registration, so it also works inside containers, whose root file
#      system has no qemu binary; and the P flag: the program keeps its own argv[0], which
#      multi-call binaries such as busybox need to know which tool they are.
# Must run as root.
set -euo pipefail

case "$(uname -m)" in aarch64|arm64) exit 0 ;; esac

QEMU=/usr/bin/qemu-aarch64-static
BINFMT=/proc/sys/fs/binfmt_misc

if [ ! -x "$QEMU" ]; then
  echo "ensure-qemu: installing Debian's qemu-user-static" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
fi

if [ ! -e "$BINFMT/register" ]; then
  mount -t binfmt_misc binfmt_misc "$BINFMT" || {
    echo "ensure-qemu: cannot mount binfmt_misc on $BINFMT (needs root and a kernel with binfmt_misc)" >&2; exit 1; }
fi

entry="$BINFMT/qemu-aarch64"
if [ -e "$entry" ]; then
  # An existing registration (Debian's binfmt-support, systemd-binfmt) may lack F or P, or point
  # elsewhere: only one with both and a present interpreter works for busybox inside containers.
  if grep -q '^enabled' "$entry" && grep -q '^flags:.*P.*F\|^flags:.*F.*P' "$entry" && [ -x "$(sed -n 's/^interpreter //p' "$entry")" ]; then
    exit 0
  fi
  echo -1 >"$entry"
fi
# The aarch64 ELF header (64-bit, little-endian, e_machine 183) and its mask, as binfmt-support's
# qemu-aarch64 entry has them.
magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
printf ':qemu-aarch64:M::%s:%s:%s:POCF' "$magic" "$mask" "$QEMU" >"$BINFMT/register"
echo "ensure-qemu: registered $QEMU for aarch64 binaries (binfmt_misc, flags POCF)" >&2
