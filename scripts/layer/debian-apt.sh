# shellcheck shell=bash
# Private apt roots: Debian packages of any release and architecture, fetched with this machine's
# own apt, without touching its package database. Sourced by build-layer.sh and make-base-image.sh.
#
#   apt_root <release> <debian-arch> [<suite>...]
#                                      prepares <cache>/apt/<release>-<arch> and runs apt-get update;
#                                      suites default to <release>, <release>-updates and
#                                      <release>-security (the newest packages)
#   private_apt_get <args>...          apt-get in the last prepared root
#   apt_fetch <dir> <package>...       downloads exactly these packages (no dependencies) into <dir>
#
# The package database of a private root is empty: `apt-get -s install` there resolves a package's
# whole dependency tree, which is what build-layer.sh wants. Its configuration is its own
# (APT_CONFIG): nothing of this machine's apt.conf.d applies (container images often disable apt's
# package cache there, which makes every resolution rebuild it). The mirrors are the ones this machine's
# apt already uses, so the scripts work wherever apt works. Needs: apt, the Debian archive keyring
# (debian-archive-keyring, which holds the keys of bullseye, bookworm and trixie).

APT_CACHE_ROOT=${APT_CACHE_ROOT:-${LAYER_CACHE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/cache}/apt}
APT_KEYRING=${APT_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

# The main and security mirrors of this machine's apt sources (deb822 first, then sources.list).
debian_mirrors() {
  local main="" security=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    main=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    security=$(awk '/^URIs:/ && $2 ~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$main" ] && [ -f /etc/apt/sources.list ]; then
    main=$(awk '/^deb / && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  if [ -z "$security" ] && [ -f /etc/apt/sources.list ]; then
    security=$(awk '/^deb / && /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  main=${DEBIAN_MIRROR:-${main:-http://deb.debian.org/debian}}
  security=${DEBIAN_SECURITY_MIRROR:-${security:-${main%/debian}/debian-security}}
  echo "$main $security"
}

apt_root() {
  local release=$1 arch=$2 root main security suite
  shift 2
  local suites=("$@")
  ((${#suites[@]})) || suites=("$release" "$release-updates" "$release-security")
  root="$APT_CACHE_ROOT/$release-$arch"
  read -r main security < <(debian_mirrors)
  [ -f "$APT_KEYRING" ] || { echo "apt: $APT_KEYRING is missing: apt-get install debian-archive-keyring" >&2; return 1; }
  mkdir -p "$root/etc/apt/apt.conf.d" "$root/etc/apt/preferences.d" "$root/etc/apt/sources.list.d" \
    "$root/var/lib/apt/lists/partial" "$root/var/cache/apt/archives/partial" "$root/var/lib/dpkg"
  [ -f "$root/var/lib/dpkg/status" ] || : >"$root/var/lib/dpkg/status"
  for suite in "${suites[@]}"; do
    case "$suite" in
      *-security) printf 'deb [signed-by=%s] %s %s main\n' "$APT_KEYRING" "$security" "$suite" ;;
      *) printf 'deb [signed-by=%s] %s %s main\n' "$APT_KEYRING" "$main" "$suite" ;;
    esac
  done >"$root/etc/apt/sources.list"
  cat >"$root/etc/apt/apt.conf" <<CONF
Dir "$root/";
Dir::State::status "$root/var/lib/dpkg/status";
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
APT::Install-Recommends "false";
APT::Sandbox::User "root";
Acquire::Retries "3";
Debug::NoLocking "true";
CONF
  APT_CONF="$root/etc/apt/apt.conf"
  local log
  if ! log=$(private_apt_get update 2>&1) || grep -qE '^(E:|W: Failed|Err:)' <<<"$log"; then
    echo "apt: could not read the package lists of Debian ${suites[*]} ($arch) from $main and $security:" >&2
    grep -E '^(E:|W:|Err:)' <<<"$log" | head -n 5 >&2
    echo "apt: the layer is made of Debian packages: this machine must reach a Debian mirror (set DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR to use another one)" >&2
    return 1
  fi
}

private_apt_get() {
  APT_CONFIG="${APT_CONF:?apt_root first}" apt-get -q "$@"
}

apt_fetch() {
  local dir=$1
  shift
  mkdir -p "$dir"
  (cd "$dir" && private_apt_get download "$@" >/dev/null) || {
    echo "apt: could not download $*" >&2; return 1; }
}
