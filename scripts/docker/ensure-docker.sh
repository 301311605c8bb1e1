#!/usr/bin/env bash
# Makes a Docker engine usable on this machine, idempotently and quietly:
#   1. installs Debian's docker.io (and debootstrap, which make-base-image.sh needs) when missing;
#   2. starts dockerd in the background when no engine answers, logging to $DOCKERD_LOG;
#   3. waits until /var/run/docker.sock answers.
# Must run as root (CI and developer machines are root). Safe to call before every docker use.
#
# Why Debian's docker.io: the only registries reachable are npm and Debian apt, so Docker's own
# packages cannot be installed. docker.io 20.10 ships the classic CLI with BuildKit built in
# (DOCKER_BUILDKIT=1 /usr/bin/docker build --output ...), which is all the layer build needs;
# build-layer.sh explains how the client is chosen.
set -euo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
# The programs, overridable only so that a test can stand in for the engine.
DOCKERD=${DOCKERD:-dockerd}
DOCKER=${DOCKER:-/usr/bin/docker}

need_install=()
command -v "$DOCKERD" >/dev/null 2>&1 || need_install+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_install+=(debootstrap)
if ((${#need_install[@]})); then
  echo "ensure-docker: installing ${need_install[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_install[@]}" >/dev/null
fi

engine_up() { [ -S "$SOCK" ] && "$DOCKER" -H "unix://$SOCK" version >/dev/null 2>&1; }

if engine_up; then exit 0; fi

# No engine answers. Start one unless a dockerd of ours is already starting.
# The daemon starts with no descriptor but stdin, stdout and stderr: it keeps what it inherits for
# its whole life, and a caller's lock would then never be released. build-layer.sh holds its build
# lock (flock) on fd 9 while it calls this script; a dockerd that inherited fd 9 held that lock until
# the machine stopped, and the next build waited for it forever (a CI run timed out that way).
start_dockerd() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then eval "exec $fd>&-"; fi
  done
  # setsid + nohup: the daemon outlives this script and the shell that called it.
  exec setsid nohup "$DOCKERD" >>"$DOCKERD_LOG" 2>&1 </dev/null
}
if ! { command -v pgrep >/dev/null 2>&1 && pgrep -x "$(basename "$DOCKERD")" >/dev/null 2>&1; }; then
  echo "ensure-docker: starting dockerd (log: $DOCKERD_LOG)" >&2
  start_dockerd &
fi

for _ in $(seq 1 120); do
  if engine_up; then exit 0; fi
  sleep 0.5
done
echo "ensure-docker: dockerd did not answer on $SOCK within 60 s; last log lines:" >&2
tail -n 30 "$DOCKERD_LOG" >&2 || true
exit 1
