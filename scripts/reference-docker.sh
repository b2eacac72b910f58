#!/bin/sh
# Start the reference Docker engine (20.10, Debian docker.io) if it is not
# running, and create the base image slipway-test/busybox:latest from
# Debian's busybox-static. Idempotent: safe to run again.
#
# Network rule: the engine runs without a bridge network, iptables or
# masquerading; builds must use --network=host. No registry is contacted.
#
# Usage: sh scripts/reference-docker.sh          # start + base image
#        REBUILD=1 sh scripts/reference-docker.sh # build the base image instead of loading the fixture
#        sh scripts/reference-docker.sh stop     # stop the engine this script started
set -eu

PIDFILE=/tmp/slipway-reference-dockerd.pid
LOG=/tmp/dockerd.log
IMAGE=slipway-test/busybox:latest
OLD_DOCKER=/usr/bin/docker   # 20.10 client, BuildKit built in

if [ "${1:-}" = stop ]; then
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    kill "$(cat "$PIDFILE")"
    echo "stopped dockerd pid $(cat "$PIDFILE")"
  fi
  rm -f "$PIDFILE"
  exit 0
fi

if ! "$OLD_DOCKER" version >/dev/null 2>&1; then
  dockerd --bridge=none --iptables=false --ip-masq=false >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  echo "started dockerd pid $! (log $LOG)"
  i=0
  until "$OLD_DOCKER" version >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 60 ]; then echo "dockerd did not come up, see $LOG" >&2; exit 1; fi
    sleep 0.5
  done
fi

# Prefer the committed fixture so that the image ID is the one recorded in
# test/fixtures/reference/ (set REBUILD=1 to build afresh from busybox-static).
FIXTURE=$(dirname "$0")/../test/fixtures/docker-save-busybox.tar
if [ "${REBUILD:-0}" != 1 ] && [ -f "$FIXTURE" ] && ! "$OLD_DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  "$OLD_DOCKER" load -i "$FIXTURE"
fi

if ! "$OLD_DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/tmp" "$ctx/rootfs/etc"
  cp /bin/busybox "$ctx/rootfs/bin/busybox"
  for applet in sh ls cat echo env id mkdir rm cp mv ln touch sleep true false wc sed grep; do
    ln -s busybox "$ctx/rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$ctx/rootfs/etc/group"
  cat >"$ctx/Dockerfile" <<'DF'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["/bin/sh"]
DF
  DOCKER_BUILDKIT=1 "$OLD_DOCKER" build --network=host -t "$IMAGE" "$ctx"
fi
"$OLD_DOCKER" image inspect -f '{{.Id}} {{.RepoTags}}' "$IMAGE"
