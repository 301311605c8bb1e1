#!/usr/bin/env bash
# Assembles the two layer variants from the collected trees and zips them (package stage).
#   package-layers.sh <php-tree> <node-tree> <bootstrap.js> <scripts-dir> <out-dir> <dist-dir> <arch>
# <arch> is Lambda's name: x86_64 or arm64. Produces, in <dist-dir>:
#   layer-provided-<arch>.zip  for provided.al2023:     /opt/bootstrap + node + PHP
#   layer-nodejs-<arch>.zip    for nodejs22.x/24.x:     PHP + exec-wrapper (the runtime's own node)
# and leaves the unzipped trees in <out-dir>/{provided,nodejs} for the verify stages.
#
# Layout under /opt (a layer zip is extracted there):
#   bootstrap                      provided only: Lambda's entry point for OS-only runtimes
#   node/bin/node                  provided only: Node 24, stripped
#   lambda-php/bootstrap.js        the runtime (dist/bootstrap.js: one esbuild bundle)
#   lambda-php/php-env.sh          PHPRC, PHP_INI_SCAN_DIR, LD_LIBRARY_PATH; sourced by both
#   lambda-php/early-php-cgi.sh    starts php-cgi side by side with Node (FastCGI); sourced by both
#   lambda-php/cgi-spawner         starts php-cgi in PHP_CGI_MODE=cgi (src/cgi/spawner/cgi-spawner.c)
#   lambda-php/exec-wrapper        nodejs only: AWS_LAMBDA_EXEC_WRAPPER=/opt/lambda-php/exec-wrapper
#   bin/php-cgi                    the bootstrap's default PHP_CGI_BINARY; /opt/bin is on PATH
#   lib/*.so*                      libraries the base image lacks; /opt/lib is on LD_LIBRARY_PATH
#   php/php.ini, php/conf.d/*.ini, php/extensions/*.so, php/build-info.txt
# The zips are reproducible: fixed timestamps, sorted entries, no extra attributes.
set -euo pipefail

[ $# -eq 7 ] || { echo "usage: package-layers.sh <php-tree> <node-tree> <bootstrap.js> <scripts-dir> <out-dir> <dist-dir> <arch>" >&2; exit 2; }
php_tree=$1 node_tree=$2 bootstrap_js=$3 scripts=$4 out=$5 dist=$6 arch=$7

rm -rf "$out" && mkdir -p "$out/provided" "$out/nodejs" "$dist" && rm -f "$dist/sizes.txt"

common() {
  local dest=$1
  cp -a "$php_tree"/. "$dest"/
  mkdir -p "$dest/lambda-php"
  install -m 0644 "$bootstrap_js" "$dest/lambda-php/bootstrap.js"
  install -m 0644 "$scripts/php-env.sh" "$dest/lambda-php/php-env.sh"
  install -m 0644 "$scripts/early-php-cgi.sh" "$dest/lambda-php/early-php-cgi.sh"
  install -m 0755 "$scripts/cgi-spawner" "$dest/lambda-php/cgi-spawner"
}

common "$out/provided"
install -m 0755 "$scripts/bootstrap" "$out/provided/bootstrap"
cp -a "$node_tree"/. "$out/provided"/   # node/bin/node and the libraries node needs (into lib/)

common "$out/nodejs"
install -m 0755 "$scripts/exec-wrapper" "$out/nodejs/lambda-php/exec-wrapper"

for variant in provided nodejs; do
  zip_file="$dist/layer-$variant-$arch.zip"
  rm -f "$zip_file"
  (
    cd "$out/$variant"
    find . -exec touch -h -d '2000-01-01T00:00:00Z' {} +
    find . -mindepth 1 | LC_ALL=C sort | sed 's|^\./||' | zip -q -X -9 -y -@ "$zip_file"
  )
  unzipped=$(find "$out/$variant" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
  zipped=$(stat -c %s "$zip_file")
  awk -v n="${zip_file##*/}" -v z="$zipped" -v u="$unzipped" 'BEGIN {
    printf "%-28s zip %6.1f MiB   unzipped %6.1f MiB (Lambda: 250 MiB unzipped for function + layers)\n", n, z / 1048576, u / 1048576
  }' | tee -a "$dist/sizes.txt"
done
