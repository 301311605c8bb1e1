#!/usr/bin/env bash
# Zips the layer trees (build-layer.sh's "package" stage), writes their SBOMs and sizes.txt.
#
#   package-layers.sh <trees-dir> <dist-dir>     env: LAYER_ARCH, NODE_VERSION, DEBS, NODE_DEBS
#   package-layers.sh --sizes <dir>              (re)writes <dir>/sizes.txt for every zip in <dir>
#
# In <dist-dir>, for <arch> = x86_64 | arm64:
#   layer-provided-<arch>.zip   for provided.al2023: /opt/bootstrap, Node, PHP
#   layer-nodejs-<arch>.zip     for nodejs22.x/24.x: PHP and /opt/lambda-php/exec-wrapper (the
#                               runtime's own Node; AWS_LAMBDA_EXEC_WRAPPER=/opt/lambda-php/exec-wrapper)
#   layer-php-<name>-<arch>.zip an add-on (extensions.txt: intl, gd), attached next to either
#   sbom-<provided|nodejs|php-<name>>-<arch>.cdx.json   CycloneDX SBOM of each zip
#   sizes.txt                   zipped and unzipped sizes, and the biggest files of each zip
#
# Layout under /opt (a layer zip is extracted there; several layers merge):
#   bootstrap                      provided only: Lambda's entry point for OS-only runtimes
#   node/bin/node, node/lib/       provided only: Node and the C++ runtime it may lack
#   lambda-php/bootstrap.js        the runtime (dist/bootstrap.js: one esbuild bundle)
#   lambda-php/php-env.sh          PHPRC, PHP_INI_SCAN_DIR, GCONV_PATH, SSL_CERT_FILE; sourced by both
#   lambda-php/early-php-cgi.sh    starts php-cgi side by side with Node (FastCGI); sourced by both
#   lambda-php/cgi-spawner         starts php-cgi in PHP_CGI_MODE=cgi (src/cgi/spawner/cgi-spawner.c)
#   lambda-php/sendmail-unavailable  php.ini's sendmail_path: mail() fails at once, with a log line
#   lambda-php/exec-wrapper        nodejs only
#   bin/php-cgi                    the bootstrap's default PHP_CGI_BINARY; /opt/bin is on PATH
#   php/                           php.ini, conf.d/, extensions/, lib/ (glibc and every library
#                                  PHP loads), zoneinfo/, ssl/, build-info.txt
# The zips are reproducible: fixed timestamps, sorted entries, no extra attributes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB (%.1f MB)", b / 1048576, b / 1000000}'; }

write_sizes() {
  local dir=$1 zip_file
  {
    echo "# Layer sizes: zipped (a direct upload may be 50 MB at most) and unzipped (the function and"
    echo "# all its layers together may be 250 MB, 262,144,000 bytes, at most). From package-layers.sh."
    for zip_file in "$dir"/layer-*.zip; do
      [ -f "$zip_file" ] || continue
      unzip -Zl "$zip_file" | awk -v name="${zip_file##*/}" -v zipped="$(stat -c %s "$zip_file")" '
        $1 ~ /^-/ { total += $4; size[$NF] = $4 }
        END {
          printf "%-28s zip %7.1f MiB   unzipped %7.1f MiB = %6.1f MB\n", name, zipped / 1048576, total / 1048576, total / 1000000
          n = 0
          while (n < 6) {
            best = ""; for (f in size) if (best == "" || size[f] > size[best]) best = f
            if (best == "") break
            printf "    %6.1f MiB  %s\n", size[best] / 1048576, best; delete size[best]; n++
          }
        }'
    done
  } >"$dir/sizes.txt"
}

if [ "${1:-}" = --sizes ]; then write_sizes "${2:?usage: package-layers.sh --sizes <dir>}"; exit 0; fi

trees=${1:?usage: package-layers.sh <trees-dir> <dist-dir>}
dist=${2:?usage: package-layers.sh <trees-dir> <dist-dir>}
: "${LAYER_ARCH:?}" "${NODE_VERSION:?}" "${DEBS:?}" "${NODE_DEBS:?}"
arch=$LAYER_ARCH
mkdir -p "$dist"
variants="$dist/trees"
rm -rf "$variants" && mkdir -p "$variants"

# compose <name> <tree>...: a variant's folder from trees, and its manifest.
compose() {
  local name=$1 tree
  shift
  mkdir -p "$variants/$name"
  : >"$variants/$name.manifest"
  : >"$variants/$name.patches"
  for tree in "$@"; do
    cp -a "$trees/$tree"/. "$variants/$name"/
    cat "$trees/$tree.manifest" >>"$variants/$name.manifest"
    [ ! -f "$trees/$tree.patches" ] || cat "$trees/$tree.patches" >>"$variants/$name.patches"
  done
}
compose provided core node
install -m 0755 "$here/bootstrap" "$variants/provided/bootstrap"
printf '%s\t%s\n' /opt/bootstrap lambda-php >>"$variants/provided.manifest"
compose nodejs core
install -m 0755 "$here/exec-wrapper" "$variants/nodejs/lambda-php/exec-wrapper"
printf '%s\t%s\n' /opt/lambda-php/exec-wrapper lambda-php >>"$variants/nodejs.manifest"
names="provided nodejs"
for tree_dir in "$trees"/addon-*; do
  [ -d "$tree_dir" ] || continue
  addon=${tree_dir##*/addon-}
  compose "php-$addon" "addon-$addon"
  names="$names php-$addon"
done

for name in $names; do
  zip_file="$dist/layer-$name-$arch.zip"
  rm -f "$zip_file"
  (
    cd "$variants/$name"
    find . -type d -exec chmod 0755 {} +
    find . -exec touch -h -d '2000-01-01T00:00:00Z' {} +
    find . -mindepth 1 | LC_ALL=C sort | sed 's|^\./||' | zip -q -X -6 -y -@ "$zip_file"
  )
  node "$here/write-sbom.mjs" --manifest "$variants/$name.manifest" --patches "$variants/$name.patches" --name "layer-$name-$arch" --arch "$arch" \
    --node-version "$NODE_VERSION" --debs "trixie=$DEBS" --debs "bullseye=$NODE_DEBS" --out "$dist/sbom-$name-$arch.cdx.json"
done
write_sizes "$dist"
echo "package-layers: $(cd "$dist" && ls ./*.zip | tr '\n' ' ')" >&2
