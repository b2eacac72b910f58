#!/bin/bash
# Record the Docker CLI's output for container commands into
# test/fixtures/reference/container-*.txt (same file format as
# reference-record.sh: "# $ CMD", stdout, "# [stderr]", stderr, "# [exit N]").
#
# Needs the reference engine (scripts/reference-docker.sh) with
# slipway-test/busybox:latest. Unlike reference-record.sh it wipes nothing:
# it creates containers named ref-* (no bridge: --network=none) and removes
# only those. Container IDs and relative times differ between recordings;
# the tests mask them.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/test/fixtures/reference
TMP=$(mktemp -d /tmp/slipway-record-c.XXXXXX)
mkdir -p "$OUT" "$TMP/new" "$TMP/old" "$TMP/work"
rm -f "$OUT"/container-*.txt
ln -s /usr/local/bin/docker "$TMP/new/docker"   # 28.2.2 client
ln -s /usr/bin/docker "$TMP/old/docker"         # 20.10 client
export DOCKER_CLI_HINTS=false
D="$TMP/old/docker"
B=slipway-test/busybox:latest
N='--network=none'

emit() {
  cat "$1"
  if [ -s "$1" ] && [ "$(tail -c1 "$1" | od -An -c | tr -d ' ')" != '\n' ]; then
    printf '\n# [no newline at end]\n'
  fi
}

run_into() {
  local file=$1 bindir=$2 cmd=$3 rc
  (cd "$TMP/work" && PATH="$bindir:$PATH" && eval "$cmd") >"$TMP/o" 2>"$TMP/e" </dev/null
  rc=$?
  {
    printf '# $ %s\n' "$cmd"
    emit "$TMP/o"
    echo '# [stderr]'
    emit "$TMP/e"
    echo "# [exit $rc]"
  } >"$file"
}

# rec NAME CMD [cmp]: container-NAME.txt; with cmp also the 20.10 client when it differs
rec() {
  local name=container-$1 cmd=$2 cmp=${3:-}
  run_into "$OUT/$name.txt" "$TMP/new" "$cmd"
  if [ "$cmp" = cmp ]; then
    run_into "$TMP/old.txt" "$TMP/old" "$cmd"
    # relative times move between the two runs: not a client difference
    if [ "$(mask <"$OUT/$name.txt")" != "$(mask <"$TMP/old.txt")" ]; then
      cp "$TMP/old.txt" "$OUT/$name.client-20.10.txt"
    fi
  fi
  echo "recorded $name"
}

mask() { sed -E 's/(About an? [a-z]+|Less than a second|[0-9]+ [a-z]+)( ago)?/T/g; s/ +/ /g'; }

cleanup() {
  $D ps -aq --filter name='^/?ref-' | xargs -r $D rm -f >/dev/null
}
cleanup

# ---------------------------------------------------------------- states
rec create "docker create $N --name ref-created $B sleep 300"
$D run $N --name ref-exited $B sh -c 'exit 3' >/dev/null
$D run $N --name ref-sized $B sh -c 'echo hello > /hello' >/dev/null
$D run -d $N --name ref-running $B sleep 300 >/dev/null
$D run -d $N --name ref-paused $B sleep 300 >/dev/null
rec pause 'docker pause ref-paused'
sleep 2

rec ps 'docker ps' cmp
rec ps-a 'docker ps -a' cmp
rec ps-a-s 'docker ps -a -s' cmp
rec ps-a-q 'docker ps -a -q' cmp
rec ps-no-trunc 'docker ps -a --no-trunc' cmp
rec ps-format "docker ps -a --format '{{.Names}} {{.State}} {{.Status}}'" cmp
rec ps-format-table "docker ps -a --format 'table {{.Names}}\t{{.State}}\t{{.Size}}\t{{.Networks}}\t{{.Command}}'" cmp
rec ps-format-json "docker ps -a --filter name=ref-exited --format json"
rec ps-filter-paused 'docker ps --filter status=paused' cmp
rec ps-filter-created 'docker ps -a --filter status=created' cmp
rec ps-filter-exited 'docker ps --filter status=exited' cmp
rec ps-filter-exited-3 "docker ps -a --filter exited=3 --format '{{.Names}}'" cmp
rec ps-filter-status-bogus 'docker ps --filter status=bogus' cmp
rec ps-filter-bogus 'docker ps --filter bogus=1' cmp

# ---------------------------------------------------------------- inspect
for c in created exited running paused; do
  rec inspect-state-$c "docker inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Paused}} {{.State.ExitCode}} {{.State.Pid | printf \"%.0d\"}}|{{.Config.Cmd}}|{{json .Config.Cmd}}|{{.Path}} {{.Args}}|{{.Name}}' ref-$c" cmp
done
rec inspect-missing 'docker inspect nosuch' cmp
rec container-inspect-missing 'docker container inspect nosuch' cmp

# ---------------------------------------------------------------- pause / unpause
rec pause-again 'docker pause ref-paused' cmp
rec pause-exited 'docker pause ref-exited' cmp
rec pause-missing 'docker pause nosuch' cmp
rec unpause-running 'docker unpause ref-running' cmp
rec rm-paused 'docker rm ref-paused'
rec unpause 'docker unpause ref-paused'

# ---------------------------------------------------------------- wait / start
rec wait-exited 'docker wait ref-exited' cmp
rec wait-missing 'docker wait nosuch' cmp
$D create $N --name ref-hello $B sh -c 'echo hello; echo oops >&2; exit 5' >/dev/null
rec start-a 'docker start -a ref-hello'
rec start-missing 'docker start nosuch' cmp
rec wait-two 'docker wait ref-hello ref-exited' cmp

# ---------------------------------------------------------------- errors
rec rm-running 'docker rm ref-running' cmp
rec rm-missing 'docker rm nosuch' cmp
rec stop-missing 'docker stop nosuch' cmp
rec kill-exited 'docker kill ref-exited' cmp
rec logs-missing 'docker logs nosuch' cmp
rec run-name-conflict "docker run $N --name ref-exited $B true" cmp
rec create-name-conflict "docker create $N --name ref-exited $B true" cmp
rec run-missing-command "docker run $N --name ref-nocmd $B nosuch"
rec inspect-nocmd "docker inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}' ref-nocmd" cmp
rec start-nocmd 'docker start ref-nocmd' cmp
rec run-runtime-bogus "docker run --rm $N --runtime bogus $B true" cmp
rec create-runtime-bogus "docker create $N --runtime bogus $B true" cmp
rec run-runtime-runc "docker run --rm $N --runtime runc $B echo ok" cmp

# ---------------------------------------------------------------- -p validation (client side)
rec publish-range-mismatch "docker run --rm $N -p 8000-8002:80-81 $B true" cmp
rec publish-bad-container-port "docker run --rm $N -p 8000:80x $B true" cmp
rec publish-bad-proto "docker run --rm $N -p 80/sctpx $B true" cmp
rec publish-bad-host-port "docker run --rm $N -p 99999:80 $B true" cmp
rec publish-bad-ip "docker run --rm $N -p 1.2.3:80:80 $B true" cmp
rec publish-reversed-range "docker run --rm $N -p 8002-8000:80 $B true" cmp
rec publish-too-many-colons "docker run --rm $N -p a:b:c:d $B true" cmp

# ---------------------------------------------------------------- port / rename / top
rec port-none 'docker port ref-running' cmp
rec port-not-published 'docker port ref-running 80' cmp
rec port-bad-spec 'docker port ref-running 80/bogus' cmp
rec port-missing 'docker port nosuch' cmp
rec rename 'docker rename ref-sized ref-renamed'
rec rename-conflict 'docker rename ref-renamed ref-exited' cmp
rec rename-missing 'docker rename nosuch ref-other' cmp
rec rename-same 'docker rename ref-renamed ref-renamed' cmp
rec top-exited 'docker top ref-exited' cmp

cleanup
rm -rf "$TMP"
