#!/usr/bin/env bash
# Installs php-cgi and the layer's extensions on Amazon Linux 2023 (the distribution of Lambda's
# provided.al2023 and nodejs22.x/24.x runtimes). This and install-php-debian.sh are the only
# distribution-specific steps; collect-layer.sh then works the same on both.
# Usage: install-php-al2023.sh <php-version>      e.g. 8.4 (AL2023 ships php8.1 ... php8.4 as
# namespaced packages: php8.4-cli, php8.4-mbstring, ...)
#
# AL2023's PHP packages follow Fedora's spec:
#   - there is no separate -cgi package: php<v>-cli holds /usr/bin/php, /usr/bin/php-cgi and phpdbg;
#   - built into the binaries: Core date filter hash json libxml openssl pcre random Reflection
#     session SPL standard zlib;
#   - php<v>-common holds shared modules bz2 calendar ctype curl exif fileinfo ftp gettext iconv
#     phar sockets tokenizer (fileinfo bundles its own libmagic and magic data);
#   - separate packages: opcache, mbstring, xml (dom simplexml xml xmlreader xmlwriter xsl),
#     pdo (pdo pdo_sqlite sqlite3), mysqlnd (mysqlnd mysqli pdo_mysql), pgsql (pgsql pdo_pgsql),
#     intl, sodium (NOT built in, unlike Debian), zip, bcmath, gd, process (posix shmop sysv*).
#   - modules live in /usr/lib64/php/modules, their ini files in /etc/php.d/NN-name.ini (10- for
#     opcache, 20- for most, 30- for those that need another one loaded first): collect-layer.sh
#     keeps that order.
# NOT VERIFIED HERE (no AL2023 image can be pulled on the machine this was written on): the exact
# package set of the current AL2023 repository for PHP 8.4. If a package is missing, dnf fails
# loudly and the list below is the place to fix.
#
# provided.al2023 is built on AL2023's *minimal* container image: its package manager is microdnf
# (reachable as `dnf`), which knows install/clean and --setopt but not every dnf option. The image
# also locks the repository to its own release (deterministic); PHP 8.4 needs a release from late
# 2024 or newer, so use a current base image rather than passing --releasever=latest (that could
# pull a newer glibc than the runtime has).
set -euo pipefail

v=${1:?usage: install-php-al2023.sh <php-version, e.g. 8.4>}

packages=(
  "php$v-cli"      # php-cgi lives here
  "php$v-common"
  "php$v-opcache"
  "php$v-mbstring"
  "php$v-xml"
  "php$v-pdo"
  "php$v-mysqlnd"
  "php$v-pgsql"
  "php$v-intl"
  "php$v-sodium"
  "php$v-zip"
  "php$v-bcmath"
  "php$v-gd"
  "php$v-process"
)
# Build tools for collect-layer.sh and the package step: strip (binutils), zip, find (findutils),
# ldd (glibc-common; normally already present), and a C compiler for cgi-spawner.
tools=(binutils zip findutils glibc-common gcc glibc-devel)

dnf=$(command -v dnf || command -v microdnf)
"$dnf" install -y --setopt=install_weak_deps=0 "${packages[@]}" "${tools[@]}"
"$dnf" clean all

command -v php-cgi
php-cgi -v | head -n 1
