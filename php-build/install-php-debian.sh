#!/usr/bin/env bash
# Installs php-cgi and the layer's extensions on a Debian base (the local stand-in for Lambda's
# base image: bookworm ships PHP 8.2). This and install-php-al2023.sh are the only
# distribution-specific steps; collect-layer.sh then works the same on both.
# Usage: install-php-debian.sh <php-version>      e.g. 8.2
#
# Debian's php8.2-cgi has these built in (no .so): Core date filter hash json libxml openssl pcre
# random Reflection session sodium SPL standard zlib. php8.2-common brings, as shared modules:
# calendar ctype exif ffi fileinfo ftp gettext iconv pdo phar posix shmop sockets sysvmsg sysvsem
# sysvshm tokenizer. The packages below add the rest; each enables itself for the CGI SAPI in
# /etc/php/<v>/cgi/conf.d, which collect-layer.sh reads.
# Data files outside the binaries: fileinfo bundles libmagic and its database (no magic.mgc
# needed), intl's ICU data is a library (libicudata), but date reads the system tzdata
# (/usr/share/zoneinfo, Debian's patch): the base must have it (verify-layer.sh checks).
set -euo pipefail

v=${1:?usage: install-php-debian.sh <php-version, e.g. 8.2>}

packages=(
  "php$v-cgi"
  "php$v-opcache"
  "php$v-mbstring"
  "php$v-xml"      # dom simplexml xml xmlreader xmlwriter xsl
  "php$v-curl"
  "php$v-mysql"    # mysqlnd mysqli pdo_mysql
  "php$v-pgsql"    # pgsql pdo_pgsql
  "php$v-sqlite3"  # sqlite3 pdo_sqlite
  "php$v-intl"
  "php$v-zip"
  "php$v-bcmath"
  "php$v-gd"
)
# Build tools for collect-layer.sh and the package step: strip (binutils), zip, ldd (libc-bin),
# and a C compiler for cgi-spawner.
tools=(binutils zip gcc libc6-dev)

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" "${tools[@]}" >/dev/null
rm -rf /var/lib/apt/lists/*

# collect-layer.sh finds php-cgi on PATH; Debian's alternatives point /usr/bin/php-cgi at php-cgi<v>.
test "$(readlink -f "$(command -v php-cgi)")" = "/usr/bin/php-cgi$v"
php-cgi -v | head -n 1
