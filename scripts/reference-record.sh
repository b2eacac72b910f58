#!/bin/bash
# Record reference outputs of the Docker CLI into test/fixtures/reference/.
#
# Needs the reference engine (scripts/reference-docker.sh) and wipes its
# images and containers first: run it only against that engine.
# Each output file: line 1 is "# $ <command line>", then stdout verbatim,
# then a line "# [stderr]" and stderr verbatim, then "# [exit N]".
# When stdout or stderr does not end with a newline, a line
# "# [no newline at end]" follows it.
# Commands marked "cmp" also run with the 20.10 client (/usr/bin/docker);
# if its output differs, it is kept as <name>.client-20.10.txt.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FIX=$ROOT/test/fixtures
OUT=$FIX/reference
TMP=$(mktemp -d /tmp/slipway-record.XXXXXX)
mkdir -p "$OUT" "$TMP/new" "$TMP/old" "$TMP/work"
rm -f "$OUT"/*.txt
ln -s /usr/local/bin/docker "$TMP/new/docker"   # 28.2.2 client
ln -s /usr/bin/docker "$TMP/old/docker"         # 20.10 client
export DOCKER_CLI_HINTS=false
D="$TMP/old/docker"                             # quiet helper for set-up steps
REG_PID=

# run_into FILE BINDIR CMD: run CMD (bash syntax) in $TMP/work, write FILE.
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

emit() {
  cat "$1"
  if [ -s "$1" ] && [ "$(tail -c1 "$1" | od -An -c | tr -d ' ')" != '\n' ]; then
    printf '\n# [no newline at end]\n'
  fi
}

# rec NAME CMD [cmp]
rec() {
  local name=$1 cmd=$2 cmp=${3:-}
  run_into "$OUT/$name.txt" "$TMP/new" "$cmd"
  if [ "$cmp" = cmp ]; then
    run_into "$TMP/old.txt" "$TMP/old" "$cmd"
    # keep only real differences: rows of equal CREATED seconds come in
    # random order (daemon map iteration), which is not a client difference
    if ! cmp -s "$OUT/$name.txt" "$TMP/old.txt" &&
      [ "$(sort "$OUT/$name.txt")" != "$(sort "$TMP/old.txt")" ]; then
      cp "$TMP/old.txt" "$OUT/$name.client-20.10.txt"
    fi
  fi
  echo "recorded $name"
}

cleanup_engine() {
  $D ps -aq | xargs -r $D rm -f >/dev/null
  for _ in 1 2 3; do $D images -aq | sort -u | xargs -r $D rmi -f >/dev/null 2>&1; done
}

# ---------------------------------------------------------------- empty store
cleanup_engine
rec images-empty 'docker images' cmp
rec images-empty-q 'docker images -q' cmp
rec system-df-empty 'docker system df' cmp
rec image-prune-empty 'docker image prune -f' cmp

# ---------------------------------------------------------------- load
cp "$FIX"/docker-save-*.tar "$FIX"/docker25-save-oci.tar "$TMP/work/"
rec load-single 'docker load -i docker-save-single.tar'
rec load-single-again 'docker load -i docker-save-single.tar'
rec load-multi 'docker load -i docker-save-multi.tar'
rec load-by-id-q 'docker load -q -i docker-save-by-id.tar'
rec load-busybox-stdin 'docker load < docker-save-busybox.tar'
head -c 20000 "$TMP/work/docker-save-single.tar" >"$TMP/work/truncated.tar"
printf 'this is not a tar archive\n' >"$TMP/work/corrupt.tar"
rec load-truncated 'docker load -i truncated.tar'
rec load-corrupt 'docker load -i corrupt.tar'
rec load-empty-stdin 'docker load < /dev/null'
rec load-missing-file 'docker load -i nosuch.tar'

# ---------------------------------------------------------------- more state
# live BuildKit base + legacy-builder image (intermediate images, IDs in history)
DOCKER_BUILDKIT=1 $D build -q --network=host -t slipway-test/base:1 "$FIX/dockerfiles/multi-base" >/dev/null
DOCKER_BUILDKIT=0 $D build -q --network=host -t slipway-test/legacy:1 "$FIX/dockerfiles/legacy" >/dev/null
# a local registry on loopback, to get RepoDigests
cat >"$TMP/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $TMP/registry
http:
  addr: 127.0.0.1:5000
EOF
docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
REG_PID=$!
sleep 1
$D tag slipway-test/single:1.0 localhost:5000/slipway-test/single:1.0
rec push-local-registry 'docker push localhost:5000/slipway-test/single:1.0'
$D create --name slipway-ref-created --network=none slipway-test/busybox:latest true >/dev/null
$D run --name slipway-ref-exited --network=none slipway-test/busybox:latest sh -c 'echo hi > /tmp/x' >/dev/null
tar -C "$FIX/dockerfiles/single/files" -cf "$TMP/work/rootfs.tar" .

# ---------------------------------------------------------------- import
rec import-tagged "docker import -c 'CMD [\"/bin/sh\"]' -m msg rootfs.tar slipway-test/imported:1"
rec import-stdin 'cat rootfs.tar | docker import -'
rec import-missing 'docker import nosuch.tar'

# ---------------------------------------------------------------- images
rec images 'docker images' cmp
rec images-a 'docker images -a' cmp
rec images-q 'docker images -q' cmp
rec images-aq 'docker images -a -q' cmp
rec images-digests 'docker images --digests' cmp
rec images-no-trunc 'docker images --no-trunc' cmp
rec images-filter-dangling 'docker images --filter dangling=true' cmp
rec images-filter-dangling-false 'docker images --filter dangling=false' cmp
rec images-filter-reference-glob "docker images --filter reference='slip*'" cmp
rec images-filter-reference-repo-glob "docker images --filter reference='slipway-test/*'" cmp
rec images-filter-reference-tag "docker images --filter reference='*/*:1'" cmp
rec images-filter-label 'docker images --filter label=x=y' cmp
rec images-filter-label-key 'docker images --filter label=org.example.team' cmp
rec images-filter-before 'docker images --filter before=slipway-test/single:1.0' cmp
rec images-filter-since 'docker images --filter since=slipway-test/single:1.0' cmp
rec images-filter-bogus 'docker images --filter bogus=1' cmp
rec images-filter-dangling-bad 'docker images --filter dangling=maybe' cmp
rec images-format-repo-tag "docker images --format '{{.Repository}}:{{.Tag}}'" cmp
rec images-format-table-id-size "docker images --format 'table {{.ID}}\t{{.Size}}'" cmp
rec images-format-json 'docker images --format json' cmp
rec images-format-json-dot "docker images --format '{{json .}}'" cmp
rec images-format-all-fields "docker images --format 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.CreatedSince}}\t{{.CreatedAt}}\t{{.Size}}\t{{.VirtualSize}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}'" cmp
rec images-format-bad-field "docker images --format '{{.Nope}}'" cmp
rec images-format-parse-error "docker images --format '{{.ID'" cmp
rec images-repo-arg 'docker images slipway-test/single' cmp
rec images-repo-tag-arg 'docker images slipway-test/single:1.0' cmp
rec image-ls-busybox 'docker image ls busybox' cmp
rec image-ls-slipway-busybox 'docker image ls slipway-test/busybox' cmp
rec images-two-args 'docker images a b' cmp
rec images-bogus-flag 'docker images --bogus' cmp
rec docker-bogus-command 'docker bogus' cmp

# ---------------------------------------------------------------- inspect
rec inspect-single 'docker inspect slipway-test/single:1.0' cmp
rec image-inspect-single 'docker image inspect slipway-test/single:1.0' cmp
rec inspect-legacy 'docker image inspect slipway-test/legacy:1' cmp
rec inspect-imported 'docker image inspect slipway-test/imported:1' cmp
rec inspect-busybox 'docker image inspect slipway-test/busybox:latest' cmp
rec inspect-by-short-id 'docker image inspect bfc0bce35b92' cmp
rec inspect-two 'docker image inspect slipway-test/app-a:1 slipway-test/app-b:1' cmp
rec inspect-f-env "docker inspect -f '{{.Config.Env}}' slipway-test/single:1.0" cmp
rec inspect-f-exposed "docker inspect -f '{{.Config.ExposedPorts}}' slipway-test/single:1.0" cmp
rec inspect-f-json-config "docker inspect -f '{{json .Config}}' slipway-test/single:1.0" cmp
rec inspect-f-layers "docker inspect -f '{{.RootFS.Layers}}' slipway-test/single:1.0" cmp
rec inspect-f-labels "docker inspect -f '{{.Config.Labels}}' slipway-test/single:1.0" cmp
rec inspect-f-index-label "docker inspect -f '{{index .Config.Labels \"x\"}}' slipway-test/single:1.0" cmp
rec inspect-f-cmd-entrypoint "docker inspect -f '{{.Config.Cmd}} {{.Config.Entrypoint}} {{.Config.User}} {{.Config.WorkingDir}}' slipway-test/single:1.0" cmp
rec inspect-f-misc "docker inspect -f '{{.Id}} {{.Size}} {{.Created}} {{.Architecture}}/{{.Os}} {{.Parent}} {{.RepoTags}} {{.RepoDigests}}' slipway-test/single:1.0" cmp
rec inspect-f-range "docker inspect -f '{{range .RepoTags}}{{.}} {{end}}' slipway-test/single:1.0" cmp
rec inspect-f-json-repotags "docker inspect -f '{{json .RepoTags}} {{json .RepoDigests}} {{len .RootFS.Layers}}' slipway-test/single:1.0" cmp
rec inspect-f-nil-values "docker inspect -f '{{.Config.Volumes}} {{.Config.OnBuild}} {{.Config.Healthcheck}} {{json .Config.Volumes}}' slipway-test/single:1.0" cmp
rec inspect-f-container-config "docker inspect -f '{{.ContainerConfig}}' slipway-test/single:1.0" cmp
rec inspect-f-graphdriver "docker inspect -f '{{.GraphDriver.Name}} {{.Metadata}}' slipway-test/single:1.0" cmp
rec inspect-f-foo "docker inspect -f '{{.Foo}}' slipway-test/single:1.0" cmp
rec image-inspect-f-foo "docker image inspect -f '{{.Foo}}' slipway-test/single:1.0" cmp
rec inspect-f-parse-error-unclosed "docker inspect -f '{{.Config.Env' slipway-test/single:1.0" cmp
rec inspect-f-parse-error-brace "docker inspect -f '{{ .Config }' slipway-test/single:1.0" cmp
rec inspect-format-json 'docker image inspect --format json slipway-test/busybox:latest' cmp
rec inspect-missing 'docker inspect nosuch' cmp
rec image-inspect-missing 'docker image inspect nosuch' cmp
rec image-inspect-one-missing 'docker image inspect slipway-test/base:1 nosuch' cmp

# ---------------------------------------------------------------- history
rec history-single 'docker history slipway-test/single:1.0' cmp
rec history-single-no-trunc 'docker history --no-trunc slipway-test/single:1.0' cmp
rec history-single-q 'docker history -q slipway-test/single:1.0' cmp
rec history-single-H-false 'docker history -H=false slipway-test/single:1.0' cmp
rec history-single-format "docker history --format '{{.ID}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}' slipway-test/single:1.0" cmp
rec history-single-format-table "docker history --format 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedAt}}\t{{.Size}}' slipway-test/single:1.0" cmp
rec history-single-format-json 'docker history --format json slipway-test/single:1.0' cmp
rec history-legacy 'docker history slipway-test/legacy:1' cmp
rec history-legacy-q 'docker history -q slipway-test/legacy:1' cmp
rec history-busybox 'docker history slipway-test/busybox:latest' cmp
rec history-imported 'docker history slipway-test/imported:1' cmp
rec history-by-id 'docker history bfc0bce35b92' cmp
rec history-missing 'docker history nosuch' cmp

# ---------------------------------------------------------------- system df
rec system-df 'docker system df' cmp
rec system-df-v 'docker system df -v' cmp
rec system-df-format "docker system df --format '{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}'" cmp
rec system-df-format-json 'docker system df --format json' cmp

# ---------------------------------------------------------------- save
rec save-tty 'script -eqc "docker save slipway-test/single:1.0" /dev/null'
rec save-repo-all-tags 'docker save slipway-test/single | tar -xO manifest.json repositories'
rec save-tagged-by-id 'docker save eda48a51142c | tar -xO manifest.json; docker save eda48a51142c | tar -t | grep -c repositories'
rec save-missing 'docker save -o x.tar nosuch' cmp
rec save-o 'docker save -o saved.tar slipway-test/single:1.0 && tar tf saved.tar | sort' cmp

# ---------------------------------------------------------------- tag
rec tag 'docker tag slipway-test/single:1.0 slipway-test/single:extra'
rec tag-missing 'docker tag nosuch slipway-test/x:1' cmp
rec tag-uppercase 'docker tag slipway-test/single:1.0 Slipway/Bad:1' cmp
rec tag-no-args 'docker tag' cmp

# ---------------------------------------------------------------- rmi
$D tag slipway-test/app-a:1 slipway-test/app-a-copy:1
rec rmi-tag-others-remain 'docker rmi slipway-test/single:extra'
rec rmi-id-two-repos 'docker rmi cfccf37a6f33' cmp
rec rmi-last-tag 'docker rmi slipway-test/app-b:1'
rec rmi-f-id-two-repos 'docker rmi -f cfccf37a6f33'
rec rmi-short-id-untagged 'docker rmi bfc0bce35b92'
DIGEST_REF=$($D image inspect -f '{{index .RepoDigests 0}}' localhost:5000/slipway-test/single:1.0)
rec rmi-by-digest "docker rmi $DIGEST_REF"
rec rmi-used-by-container 'docker rmi slipway-test/busybox:latest' cmp
BASE_ID=$($D image inspect -f '{{.Id}}' slipway-test/base:1 | cut -c8-19)
rec rmi-id-with-children "docker rmi $BASE_ID" cmp
rec rmi-missing 'docker rmi nosuch' cmp
rec rmi-missing-and-present 'docker rmi nosuch slipway-test/single:latest'
rec rmi-no-args 'docker rmi' cmp
rec rmi-tag-with-children 'docker rmi slipway-test/base:1'

# ---------------------------------------------------------------- load over existing tag
$D tag slipway-test/legacy:1 slipway-test/single:1.0
rec load-tag-moves 'docker load -i docker-save-single.tar'
rec load-multi-after-rmi 'docker load -i docker-save-multi.tar'

# ---------------------------------------------------------------- raw engine API (v1.41) for reference
API='curl -s --unix-socket /var/run/docker.sock http://localhost/v1.41'
rec api-images-json "$API/images/json"
rec api-images-json-all "$API/images/json?all=1"
rec api-image-inspect "$API/images/slipway-test/single:1.0/json"
rec api-image-history "$API/images/slipway-test/single:1.0/history"
rec api-image-history-imported "$API/images/slipway-test/imported:1/history"
rec api-system-df "$API/system/df"

# ---------------------------------------------------------------- prune
rec image-prune-prompt-no 'echo n | docker image prune'
rec image-prune-a-prompt-no 'echo n | docker image prune -a'
rec image-prune-a-until-24h 'docker image prune -a -f --filter until=24h'
rec images-before-prune 'docker images -a'
rec image-prune-f 'docker image prune -f'
rec image-prune-a-f-label 'docker image prune -a -f --filter label=x=y'
rec image-prune-a-f-until-1m 'docker image prune -a -f --filter until=1m'
rec image-prune-a-f 'docker image prune -a -f'
rec images-after-prune 'docker images -a'
rec system-df-after-prune 'docker system df' cmp

# ---------------------------------------------------------------- Docker 25+ layout tar (hand-assembled) loads on 20.10
rec load-docker25-oci 'docker load -i docker25-save-oci.tar'
rec rmi-id-two-tags-same-repo 'docker rmi eda48a51142c'   # tags: single:1.0 + single:latest only

[ -n "$REG_PID" ] && kill "$REG_PID"
rm -rf "$TMP"
echo "done: $OUT"
