#!/usr/bin/env bash
# Assembles the layer trees from unpacked Debian packages (build-layer.sh's "assemble" stage).
#
#   assemble-layer.sh <trees-dir>
#   env: LAYER_ARCH (x86_64|arm64), TRIPLET (x86_64-linux-gnu|aarch64-linux-gnu),
#        DEBS (trixie packages, <DEBS>/<name>/ unpacked, <DEBS>/<name>.control),
#        NODE_DEBS (bullseye packages for Node's C++ runtime, same layout),
#        NODE_BINARY, NODE_VERSION, SPAWNER (cgi-spawner compiled for the target), BOOTSTRAP_JS
#
# Writes, under <trees-dir> (each tree is what it adds under /opt):
#   core/        both variants' PHP:
#                  bin/php-cgi                 Debian's php-cgi8.4, its ELF interpreter set to
#                                              /opt/php/lib/ld-linux-*.so.*, RPATH /opt/php/lib
#                  php/lib/                    the whole closure of shared libraries php-cgi and the
#                                              core extensions load, glibc included (Debian trixie);
#                                              private to PHP: nothing else looks there
#                  php/lib/gconv/              glibc's iconv modules (their folder is compiled
#                                              into the layer's libc.so.6, see below)
#                  php/extensions/*.so         extensions.txt's core and core-off ones
#                  php/conf.d/NN-<ext>.ini     Debian's ini for each core extension, its priority kept
#                  php/php.ini                 php-build/php.ini
#                  php/zoneinfo/               tzdata (+ tzdata-legacy's old names): Debian's PHP
#                                              reads the system time zone files, not a built-in copy
#                  php/ssl/ca-certificates.crt Mozilla's CA bundle (Debian's ca-certificates)
#                  php/build-info.txt          what went in, for humans and layer.ts
#                  lambda-php/bootstrap.js, php-env.sh, early-php-cgi.sh, cgi-spawner (patched like php-cgi),
#                  sendmail-unavailable (php.ini's sendmail_path: Lambda has no sendmail)
#   addon-<name>/  an add-on layer (extensions.txt): its extensions, their ini files and the
#                  libraries they need that core/ does not have
#   addon-cli/     an add-on with the PHP CLI, bin/php (patched like php-cgi), for console commands
#   node/        the provided variant's Node: node/bin/node (stripped, RUNPATH /opt/node/lib) and
#                node/lib/ with the C++ runtime it needs (libstdc++, libgcc_s) from Debian bullseye,
#                old enough for Lambda's glibc: Node itself runs on the SYSTEM glibc
#   <tree>.manifest   one line per file: "<path under /opt><TAB><origin>", origin
#                deb:<release>:<package> (a file of that Debian package: trixie, or bullseye for
#                Node's C++ runtime), node, or lambda-php (this repository):
#                write-sbom.mjs turns it into the SBOM
#   <tree>.patches    "<path><TAB><what>" for each file changed beyond its search paths (php-cgi's
#                time zone folder, libc.so.6's gconv folder), listed in the SBOM too
#
# Why RPATH and not RUNPATH: Lambda sets LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:...:/opt/lib
# for every process. The loader searches DT_RPATH *before* LD_LIBRARY_PATH (when the object has no
# DT_RUNPATH) and DT_RUNPATH *after* it. With RUNPATH, php-cgi would run on the layer's loader but
# pick Amazon Linux's own /usr/lib64/libc.so.6 (2.34) through LD_LIBRARY_PATH, and break. RPATH is
# also searched for what the objects it loads need, and for what they dlopen (the extensions):
# see patch_php_tree. patchelf --force-rpath writes DT_RPATH (and drops a DT_RUNPATH).
# Nothing goes to /opt/lib: that folder is on LD_LIBRARY_PATH of every process of the function
# (Node, other layers, programs PHP starts), which would then pick trixie's libraries needing
# glibc 2.38+.
set -euo pipefail

trees=${1:?usage: assemble-layer.sh <trees-dir>}
: "${LAYER_ARCH:?}" "${TRIPLET:?}" "${DEBS:?}" "${NODE_DEBS:?}" "${NODE_BINARY:?}" "${NODE_VERSION:?}" "${SPAWNER:?}" "${BOOTSTRAP_JS:?}"
here=$(cd "$(dirname "$0")" && pwd)
OPT=/opt
PHP_LIB=$OPT/php/lib
# The Debian release of the packages being added (manifest origins): PHP's are trixie's.
RELEASE=trixie
case "$LAYER_ARCH" in
  x86_64) LOADER=ld-linux-x86-64.so.2 STRIP=strip ;;
  arm64) LOADER=ld-linux-aarch64.so.1 STRIP=$([ "$(uname -m)" = aarch64 ] && echo strip || echo aarch64-linux-gnu-strip) ;;
  *) echo "assemble-layer: LAYER_ARCH must be x86_64 or arm64" >&2; exit 2 ;;
esac

die() { echo "assemble-layer: $*" >&2; exit 1; }

rm -rf "$trees" && mkdir -p "$trees"

# --- the shared-library index -------------------------------------------------------------------
# soname -> "<package> <file>", for every library file (or symlink) in the library directories of
# the given unpacked packages. The loader looks a DT_NEEDED entry up by that file name.
declare -A LIB_INDEX
index_libraries() {
  local debs=$1 pkg dir file
  for pkg in "$debs"/*/; do
    pkg=${pkg%/}
    for dir in usr/lib/$TRIPLET lib/$TRIPLET usr/lib lib; do
      [ -d "$pkg/$dir" ] || continue
      for file in "$pkg/$dir"/*.so "$pkg/$dir"/*.so.*; do
        [ -e "$file" ] || continue
        [ -n "${LIB_INDEX[${file##*/}]:-}" ] || LIB_INDEX[${file##*/}]="${pkg##*/} $file"
      done
    done
  done
}

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# closure <elf>...: prints the sonames of the whole DT_NEEDED closure, failing on one no package
# has (call it in an assignment: a failure inside $(...) of a command's arguments goes unnoticed).
closure() {
  local -A seen=()
  local queue=("$@") elf soname path
  while ((${#queue[@]})); do
    elf=${queue[0]}
    queue=("${queue[@]:1}")
    for soname in $(needed "$elf"); do
      [ -n "${seen[$soname]:-}" ] && continue
      seen[$soname]=1
      [ -n "${LIB_INDEX[$soname]:-}" ] || die "$soname, needed by ${elf##*/}, is in no package of the set"
      path=${LIB_INDEX[$soname]#* }
      echo "$soname"
      queue+=("$path")
    done
  done
}

# add <tree> <path under /opt> <origin> <source file> [mode]: copies a file into a tree (symlinks
# dereferenced) and records it in the tree's manifest.
add() {
  local tree=$1 rel=$2 origin=$3 src=$4 mode=${5:-0644}
  mkdir -p "$trees/$tree/$(dirname "$rel")"
  cp -L "$src" "$trees/$tree/$rel"
  chmod "$mode" "$trees/$tree/$rel"
  printf '%s\t%s\n' "$OPT/$rel" "$origin" >>"$trees/$tree.manifest"
}

# copy_libraries <tree> <soname>...: the libraries into <tree>/php/lib, named by soname.
copy_libraries() {
  local tree=$1 soname pkg path mode
  shift
  for soname in "$@"; do
    read -r pkg path <<<"${LIB_INDEX[$soname]}"
    mode=0644
    [ "$soname" = "$LOADER" ] && mode=0755
    add "$tree" "php/lib/$soname" "deb:$RELEASE:$pkg" "$path" "$mode"
  done
}

# Search paths. Only the executables (php-cgi, cgi-spawner) get DT_RPATH /opt/php/lib, with the
# layer's loader as their interpreter: the loader searches the *executable's* DT_RPATH for every
# library any object of the process needs, as long as that object has no DT_RUNPATH of its own
# (glibc, elf/dl-load.c), dlopen'ed extensions and what they need included. So the libraries carry
# no search path at all: any DT_RPATH or DT_RUNPATH Debian gave them is removed (Debian's abseil has
# RUNPATH $ORIGIN; a RUNPATH would also switch that library's own lookups to LD_LIBRARY_PATH first).
# Patching only two files also leaves the libraries byte for byte Debian's but for that removal:
# setting a longer search path on each would make patchelf copy its .dynstr (1 MB in all).
# The gconv modules that need a table of their own (EUC-JP.so needs libJIS.so) find it next to them:
# Debian gives them RUNPATH $ORIGIN, turned into RPATH $ORIGIN.
is_elf() { [ -f "$1" ] && [ ! -L "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }
has_search_path() { readelf -d "$1" | grep -qE '\((RPATH|RUNPATH)\)'; }
patch_php_tree() {
  local tree=$1 file rel elf
  while IFS=$'\t' read -r file _; do
    rel=${file#"$OPT"/}
    elf="$trees/$tree/$rel"
    is_elf "$elf" || continue
    case "$rel" in
      bin/*|lambda-php/*)
        patchelf --set-interpreter "$PHP_LIB/$LOADER" --force-rpath --set-rpath "$PHP_LIB" "$elf" ;;
      php/lib/gconv/*)
        if has_search_path "$elf"; then patchelf --force-rpath --set-rpath '$ORIGIN' "$elf"; fi ;;
      *)
        if has_search_path "$elf"; then patchelf --remove-rpath "$elf"; fi ;;
    esac
  done <"$trees/$tree.manifest"
}

# --- extensions.txt ---------------------------------------------------------------------------
extension_rows() { awk -v w="$1" '!/^#/ && NF >= 4 && $3 == w {print $1, $4}' "$here/extensions.txt"; }
extension_file() {
  local file=$1 pkg=$2 so
  so=$(ls "$DEBS/$pkg"/usr/lib/php/*/"$file.so" 2>/dev/null | head -n 1)
  [ -n "$so" ] || die "$pkg has no $file.so (extensions.txt)"
  echo "$so"
}
# Debian's ini for an extension ("; priority=NN", then extension=<file>.so): kept as it is, named
# NN-<file>.ini so that PHP loads e.g. pdo (10) before pdo_mysql (20).
add_extension() {
  local tree=$1 file=$2 pkg=$3 load=$4 so ini priority
  so=$(extension_file "$file" "$pkg")
  add "$tree" "php/extensions/$file.so" "deb:$RELEASE:$pkg" "$so"
  [ "$load" = on ] || return 0
  ini=$(ls "$DEBS/$pkg"/usr/share/"$pkg"/*/"$file.ini" 2>/dev/null | head -n 1)
  [ -n "$ini" ] || die "$pkg has no $file.ini"
  priority=$(sed -n 's/^; *priority=\([0-9]*\).*/\1/p' "$ini")
  add "$tree" "php/conf.d/${priority:-20}-$file.ini" "deb:$RELEASE:$pkg" "$ini"
}

# --- core -----------------------------------------------------------------------------------------
# Debian's PHP reads time zones from the system's /usr/share/zoneinfo (its use_embedded_timezonedb
# patch; the built-in copy is gone), compiled in as three strings ("<dir>/zone.tab", "<dir>/%s",
# "<dir>/%s/%s"). Lambda's base has no zoneinfo, and without one PHP crashes on date(). Point them
# at the layer's copy: the new directory has the same length (19 characters), so the rest of each
# string, and any string the linker merged into its tail, keeps its place.
point_php_at_zoneinfo() {
  local tree=$1 rel=$2 tzdir=/usr/share/zoneinfo layer_tzdir=/opt/php/zoneinfo/. count
  [ ${#tzdir} = ${#layer_tzdir} ] || die "time zone paths must have the same length"
  count=$(grep -c -a -o "$tzdir" "$trees/$tree/$rel" || true)
  [ "$count" -ge 1 ] || die "$rel has no $tzdir: Debian's time zone patch changed, see point_php_at_zoneinfo"
  perl -pi -e "s|\Q$tzdir\E|$layer_tzdir|g" "$trees/$tree/$rel"
  ! grep -q -a "$tzdir" "$trees/$tree/$rel" || die "$rel still reads $tzdir"
  printf '%s\t%s\n' "$OPT/$rel" "time zone folder: $tzdir -> $layer_tzdir" >>"$trees/$tree.patches"
}

assemble_core() {
  local php_cgi file pkg
  php_cgi="$DEBS/php8.4-cgi/usr/lib/cgi-bin/php8.4"
  [ -f "$php_cgi" ] || die "php8.4-cgi has no usr/lib/cgi-bin/php8.4"
  : >"$trees/core.manifest"
  : >"$trees/core.patches"
  add core bin/php-cgi "deb:$RELEASE:php8.4-cgi" "$php_cgi" 0755
  point_php_at_zoneinfo core bin/php-cgi
  while read -r file pkg; do add_extension core "$file" "$pkg" on; done < <(extension_rows core)
  while read -r file pkg; do add_extension core "$file" "$pkg" off; done < <(extension_rows core-off)
  install -D -m 0644 "$here/php.ini" "$trees/core/php/php.ini"
  printf '%s\t%s\n' "$OPT/php/php.ini" lambda-php >>"$trees/core.manifest"

  add core lambda-php/cgi-spawner lambda-php "$SPAWNER" 0755
  add core lambda-php/bootstrap.js lambda-php "$BOOTSTRAP_JS"
  add core lambda-php/php-env.sh lambda-php "$here/php-env.sh"
  add core lambda-php/early-php-cgi.sh lambda-php "$here/early-php-cgi.sh"
  add core lambda-php/sendmail-unavailable lambda-php "$here/sendmail-unavailable" 0755

  local roots=("$trees/core/bin/php-cgi" "$trees/core/lambda-php/cgi-spawner" "$trees"/core/php/extensions/*.so)
  local libraries
  libraries=$(closure "${roots[@]}")   # an assignment, so that a failed closure stops the build
  # shellcheck disable=SC2086
  copy_libraries core $libraries
  # The loader is each library's DT_NEEDED only sometimes, but always the executables' interpreter.
  [ -f "$trees/core/php/lib/$LOADER" ] || copy_libraries core "$LOADER"

  add_gconv_modules
  add_zoneinfo
  add_ca_bundle
  patch_php_tree core
}

# glibc's iconv modules: the set glibc itself lists in its main gconv-modules file (ISO-8859-1,
# ISO-8859-15, CP1252, UTF-7/16/32, ...), plus the other European and Cyrillic single-byte tables
# (18 KB each). Not the CJK ones (1.5 MB of the 8 MB of the full set): PHP's mbstring converts
# Shift_JIS, EUC-JP, GB18030, Big5 and UHC by itself (mb_convert_encoding).
GCONV_EXTRA="ISO8859-2 ISO8859-3 ISO8859-4 ISO8859-5 ISO8859-6 ISO8859-7 ISO8859-8 ISO8859-9 ISO8859-10
  ISO8859-11 ISO8859-13 ISO8859-14 ISO8859-16 CP1250 CP1251 CP1253 CP1254 CP1255 CP1256 CP1257 CP1258
  KOI8-R KOI8-U IBM437 IBM850 IBM852 IBM866 MACINTOSH"
add_gconv_modules() {
  local src="$DEBS/libc6/usr/lib/$TRIPLET/gconv" keep module
  [ -f "$src/gconv-modules" ] || die "libc6 has no gconv modules in usr/lib/$TRIPLET/gconv"
  keep=$(awk '$1 == "module" {print $4}' "$src/gconv-modules" | sort -u)
  keep="$keep $GCONV_EXTRA"
  for module in $keep; do
    [ -f "$src/$module.so" ] || die "glibc has no gconv module $module.so"
    add core "php/lib/gconv/$module.so" "deb:$RELEASE:libc6" "$src/$module.so"
  done
  # The configuration: glibc's main file, and the lines of the extra one that name a kept module
  # (module lines by file, alias lines by the name they point to).
  mkdir -p "$trees/core/php/lib/gconv"
  {
    cat "$src/gconv-modules"
    echo "# From gconv-modules.d/gconv-modules-extra.conf: the modules the layer ships."
    awk -v keep=" $(echo $keep) " '
      $1 == "module" && index(keep, " " $4 " ") { print; names[$2] = 1; names[$3] = 1; next }
      $1 == "alias" { alias[NR] = $0; target[NR] = $3 }
      END { for (n in alias) if (target[n] in names) print alias[n] }
    ' "$src/gconv-modules.d/gconv-modules-extra.conf" | LC_ALL=C sort
  } >"$trees/core/php/lib/gconv/gconv-modules"
  printf '%s\t%s\n' "$OPT/php/lib/gconv/gconv-modules" "deb:$RELEASE:libc6" >>"$trees/core.manifest"
  point_libc_at_gconv_modules
}

# glibc finds its gconv modules in a folder compiled into libc.so.6 (Debian's
# /usr/lib/<triplet>/gconv, also the prefix of the module cache's path), or in GCONV_PATH. An
# environment variable would reach every program PHP starts, whose own (older) glibc cannot load
# trixie's modules (they need GLIBC_ABI_DT_RELR, glibc 2.36+): their iconv would fail instead of
# using their system's modules. So the layer's libc.so.6 gets the layer's folder compiled in
# instead, written over Debian's path at the same length ("/opt/php/lib/gconv" padded with "/."),
# so that every string around it keeps its place. No module cache is shipped: glibc then reads
# the gconv-modules file.
point_libc_at_gconv_modules() {
  local libc="$trees/core/php/lib/libc.so.6" debian_dir="/usr/lib/$TRIPLET/gconv" layer_dir="$PHP_LIB/gconv"
  while [ $((${#debian_dir} - ${#layer_dir})) -ge 2 ]; do layer_dir="$layer_dir/."; done
  [ ${#layer_dir} = ${#debian_dir} ] || layer_dir="$layer_dir/"
  grep -q -a "$debian_dir" "$libc" || die "libc.so.6 has no $debian_dir: see point_libc_at_gconv_modules"
  perl -pi -e "s|\Q$debian_dir\E|$layer_dir|g" "$libc"
  ! grep -q -a "$debian_dir" "$libc" || die "libc.so.6 still names $debian_dir"
  printf '%s\t%s\n' "$OPT/php/lib/libc.so.6" "gconv folder: $debian_dir -> $layer_dir" >>"$trees/core.patches"
}

add_zoneinfo() {
  local pkg src rel
  for pkg in tzdata tzdata-legacy; do
    src="$DEBS/$pkg/usr/share/zoneinfo"
    [ -d "$src" ] || die "$pkg has no usr/share/zoneinfo"
    # right/ (leap-second variants) and posix/ are not time zone names PHP lists; localtime points
    # at the system's /etc/localtime.
    while IFS= read -r rel; do
      rel=${rel#./}
      case "$rel" in right|right/*|posix|posix/*|localtime|posixrules) continue ;; esac
      # PHP reads zone.tab and the TZif files; not the source (tzdata.zi) or leap-second tables.
      case "$rel" in tzdata.zi|leapseconds|leap-seconds.list|iso3166.tab|zone1970.tab|zonenow.tab|SECURITY) continue ;; esac
      if [ -L "$src/$rel" ]; then
        case "$(readlink "$src/$rel")" in /*) die "$pkg: $rel is an absolute symlink" ;; esac
        mkdir -p "$trees/core/php/zoneinfo/$(dirname "$rel")"
        cp -P "$src/$rel" "$trees/core/php/zoneinfo/$rel"
        printf '%s\t%s\n' "$OPT/php/zoneinfo/$rel" "deb:$RELEASE:$pkg" >>"$trees/core.manifest"
      elif [ -f "$src/$rel" ]; then
        add core "php/zoneinfo/$rel" "deb:$RELEASE:$pkg" "$src/$rel"
      fi
    done < <(cd "$src" && find . -mindepth 1 \( -type f -o -type l \) | LC_ALL=C sort)
  done
  [ -f "$trees/core/php/zoneinfo/Europe/Paris" ] && [ -f "$trees/core/php/zoneinfo/zone.tab" ] || die "zoneinfo is incomplete"
}

# Mozilla's CA certificates as one PEM bundle, as update-ca-certificates would make it.
add_ca_bundle() {
  local src="$DEBS/ca-certificates/usr/share/ca-certificates/mozilla"
  [ -d "$src" ] || die "ca-certificates has no usr/share/ca-certificates/mozilla"
  mkdir -p "$trees/core/php/ssl"
  find "$src" -name '*.crt' | LC_ALL=C sort | xargs cat >"$trees/core/php/ssl/ca-certificates.crt"
  [ "$(grep -c 'BEGIN CERTIFICATE' "$trees/core/php/ssl/ca-certificates.crt")" -gt 50 ] || die "the CA bundle is too small"
  printf '%s\t%s\n' "$OPT/php/ssl/ca-certificates.crt" "deb:$RELEASE:ca-certificates" >>"$trees/core.manifest"
}

# --- add-ons --------------------------------------------------------------------------------------
assemble_addon() {
  local name=$1 tree="addon-$1" file pkg
  : >"$trees/$tree.manifest"
  while read -r file pkg; do add_extension "$tree" "$file" "$pkg" on; done < <(extension_rows "$name")
  add_addon_libraries "$tree" "$trees/$tree"/php/extensions/*.so
}

# The PHP CLI (Debian's php8.4, the same build as php-cgi), for the runtime's console commands
# (/opt/bin/php): an add-on, since most functions never start it. It reads the same php.ini,
# conf.d and extensions as php-cgi, and needs no library the core lacks.
assemble_cli_addon() {
  local cli="$DEBS/php8.4-cli/usr/bin/php8.4"
  [ -f "$cli" ] || die "php8.4-cli has no usr/bin/php8.4"
  : >"$trees/addon-cli.manifest"
  : >"$trees/addon-cli.patches"
  add addon-cli bin/php "deb:$RELEASE:php8.4-cli" "$cli" 0755
  point_php_at_zoneinfo addon-cli bin/php
  add_addon_libraries addon-cli "$trees/addon-cli/bin/php"
}

# add_addon_libraries <tree> <elf>...: the libraries the ELF files need that the core lacks, into
# the add-on's php/lib; then its search paths, as for the core.
add_addon_libraries() {
  local tree=$1 soname
  shift
  local missing=() libraries
  libraries=$(closure "$@")
  for soname in $libraries; do
    [ -e "$trees/core/php/lib/$soname" ] || missing+=("$soname")
  done
  ((${#missing[@]} == 0)) || copy_libraries "$tree" "${missing[@]}"
  patch_php_tree "$tree"
}

# --- node -----------------------------------------------------------------------------------------
assemble_node() {
  local soname pkg path
  : >"$trees/node.manifest"
  add node node/bin/node node "$NODE_BINARY" 0755
  "$STRIP" --strip-all "$trees/node/node/bin/node"
  # Node keeps the system glibc: its C++ runtime comes from bullseye (built for glibc 2.31), found
  # through RUNPATH, i.e. after LD_LIBRARY_PATH: a base image's own libstdc++ is preferred.
  LIB_INDEX=()
  RELEASE=bullseye
  index_libraries "$NODE_DEBS"
  local libraries
  libraries=$(closure "$trees/node/node/bin/node")
  for soname in $libraries; do
    read -r pkg path <<<"${LIB_INDEX[$soname]}"
    [ "$pkg" = libc6 ] && continue
    add node "node/lib/$soname" "deb:$RELEASE:$pkg" "$path"
  done
  patchelf --set-rpath "$OPT/node/lib" "$trees/node/node/bin/node"
}

write_build_info() {
  local version
  version=$(sed -n 's/^Version: //p' "$DEBS/php8.4-cgi.control")
  {
    echo "# What this layer's PHP was built from (php-build/assemble-layer.sh)."
    echo "layer: portable, PHP $version from Debian trixie with its own glibc $(sed -n 's/^Version: //p' "$DEBS/libc6.control") ($LAYER_ARCH)"
    echo "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie) packages\""
    echo "extensions (conf.d):"; (cd "$trees/core/php/conf.d" && ls -1) | sed 's/^/  /'
    echo "extensions shipped but not loaded: $(awk '!/^#/ && $3 == "core-off" {printf "%s ", $1}' "$here/extensions.txt")"
    echo "libraries (php/lib):"; (cd "$trees/core/php/lib" && ls -1 | grep -v '^gconv$') | sed 's/^/  /'
  } >"$trees/core/php/build-info.txt"
  printf '%s\t%s\n' "$OPT/php/build-info.txt" lambda-php >>"$trees/core.manifest"
}

index_libraries "$DEBS"
assemble_core
for addon in $(awk '!/^#/ && NF >= 4 && $3 !~ /^(builtin|core|core-off)$/ {print $3}' "$here/extensions.txt" | sort -u); do
  assemble_addon "$addon"
done
assemble_cli_addon
write_build_info
assemble_node
echo "assemble-layer: trees in $trees: $(cd "$trees" && ls -d */ | tr -d / | tr '\n' ' ')" >&2
