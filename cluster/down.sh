#!/usr/bin/env bash
# make cluster-delete: delete the kind cluster. The build cache stays, so a later
# `make cluster` rebuilds nothing. Only a cluster kubedrill's own record says it created, and
# only while no drill holds it (the drill lock): see cluster/ownership.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
set -a; source "$here/versions.env"; set +a
NAME=${KUBEDRILL_CLUSTER_NAME:-$KIND_CLUSTER_NAME}
CONTEXT="kind-$NAME"
CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
KIND="$CACHE/bin/kind-$KIND_VERSION"
[[ -x $KIND ]] || KIND=$(command -v kind || true)
log() { printf 'kubedrill: cluster: %s\n' "$*" >&2; }
die() { printf 'kubedrill: error: %s\n' "$*" >&2; exit 1; }
if ! docker info >/dev/null 2>&1; then
  log "no Docker engine runs, so no kind cluster runs: nothing to delete"
  exit 0
fi
if [[ -z $KIND ]]; then
  log "kind is not installed: nothing to delete"
  exit 0
fi
source "$here/ownership.sh"
if "$KIND" get clusters 2>/dev/null | grep -qx "$NAME"; then
  refuse_unless_ours "deleting it"
  refuse_if_a_drill_holds_it "deleting the cluster"
  "$KIND" delete cluster --name "$NAME"
  rm -rf "$CACHE/clusters/$NAME"
else
  log "no kind cluster named '$NAME'"
fi
