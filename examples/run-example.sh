#!/bin/sh
# The example: on a local store (no daemon, no registry, no network), make a
# base image from Debian's static busybox, build examples/hello on it, rebuild
# it from the cache, look at it the way `docker` shows images, run it, and ship it as
# a tar and load it back.
set -eu
cd "$(dirname "$0")/.."
SLIPWAY="dist/slipway"   # the npm bin, as `slipway` on your PATH after `npm install -g .`
export SLIPWAY_ROOT="${SLIPWAY_ROOT:-$PWD/.tmp/example-store}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/rootfs/bin" "$work/rootfs/etc"
cp /bin/busybox "$work/rootfs/bin/busybox"
for tool in sh echo ls cat wc; do ln -s busybox "$work/rootfs/bin/$tool"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/rootfs/etc/passwd"
tar -C "$work/rootfs" --numeric-owner --owner=0 --group=0 -czf "$work/rootfs.tar.gz" .

step() { printf '\n$ slipway %s\n' "$*"; }
step import -c 'CMD ["/bin/sh"]' -m 'busybox rootfs' rootfs.tar.gz example/busybox:1.0
$SLIPWAY import -c 'CMD ["/bin/sh"]' -m 'busybox rootfs' "$work/rootfs.tar.gz" example/busybox:1.0
step build --progress=plain -t example/hello:1.0 examples/hello
$SLIPWAY build --progress=plain -t example/hello:1.0 examples/hello
step build -t example/hello:latest examples/hello '(again: every step CACHED, same image ID)'
$SLIPWAY build --progress=plain -t example/hello:latest examples/hello 2>&1 | grep -E 'CACHED|writing image'
step images
$SLIPWAY images
step inspect -f '{{.Config.Env}} {{.Config.Cmd}} {{.Config.ExposedPorts}}' example/hello:1.0
$SLIPWAY inspect -f '{{.Config.Env}} {{.Config.Cmd}} {{.Config.ExposedPorts}}' example/hello:1.0
step run --rm example/hello:1.0
$SLIPWAY run --rm example/hello:1.0
step history example/hello:1.0
$SLIPWAY history example/hello:1.0
step save -o hello.tar example/hello:1.0
$SLIPWAY save -o "$work/hello.tar" example/hello:1.0
step rmi example/hello:1.0 example/hello:latest
$SLIPWAY rmi example/hello:1.0 example/hello:latest
step load -i hello.tar
$SLIPWAY load -i "$work/hello.tar"
step system df
$SLIPWAY system df
