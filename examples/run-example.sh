#!/bin/sh
# The example: make an image from a static busybox root filesystem on a local
# store (no daemon, no registry, no network), look at it the way `docker`
# shows images, ship it as a tar and load it back.
set -eu
cd "$(dirname "$0")/.."
SLIPWAY="node dist/slipway.js"
export SLIPWAY_ROOT="${SLIPWAY_ROOT:-$PWD/.tmp/example-store}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/rootfs/bin" "$work/rootfs/etc"
cp /bin/busybox "$work/rootfs/bin/busybox"
for tool in sh echo ls cat; do ln -s busybox "$work/rootfs/bin/$tool"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/rootfs/etc/passwd"
tar -C "$work/rootfs" --numeric-owner --owner=0 --group=0 -czf "$work/rootfs.tar.gz" .

step() { printf '\n$ slipway %s\n' "$*"; }
step import -c 'CMD ["/bin/sh","-c","echo hello from slipway"]' -m 'example rootfs' rootfs.tar.gz example/busybox:1.0
$SLIPWAY import -c 'CMD ["/bin/sh","-c","echo hello from slipway"]' -m 'example rootfs' "$work/rootfs.tar.gz" example/busybox:1.0
step tag example/busybox:1.0 example/busybox:latest
$SLIPWAY tag example/busybox:1.0 example/busybox:latest
step images
$SLIPWAY images
step inspect -f '{{.Config.Cmd}} {{.Architecture}}/{{.Os}} {{len .RootFS.Layers}} layer' example/busybox:1.0
$SLIPWAY inspect -f '{{.Config.Cmd}} {{.Architecture}}/{{.Os}} {{len .RootFS.Layers}} layer' example/busybox:1.0
step history example/busybox
$SLIPWAY history example/busybox
step save -o example.tar example/busybox:1.0
$SLIPWAY save -o "$work/example.tar" example/busybox:1.0
step rmi example/busybox:1.0 example/busybox:latest
$SLIPWAY rmi example/busybox:1.0 example/busybox:latest
step load -i example.tar
$SLIPWAY load -i "$work/example.tar"
step system df
$SLIPWAY system df
