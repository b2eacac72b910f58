#!/bin/sh
# One-time set-up on a Debian 12 machine: the Debian packages slipway and its
# tests use, then the npm dependencies. Idempotent; fast when all is present.
set -eu
cd "$(dirname "$0")/.."

PKGS="skopeo umoci zstd xz-utils bzip2 tar attr golang-go busybox-static runc docker-registry util-linux apache2-utils openssl curl"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages:$missing" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit --loglevel=error
fi
