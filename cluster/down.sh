#!/usr/bin/env bash
# make cluster-delete: delete the kind cluster. The build cache stays, so a later
# `make cluster` rebuilds nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
set -a; source "$here/versions.env"; set +a
NAME=${KUBEDRILL_CLUSTER_NAME:-$KIND_CLUSTER_NAME}
CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
KIND="$CACHE/bin/kind-$KIND_VERSION"
[[ -x $KIND ]] || KIND=$(command -v kind || true)
if ! docker info >/dev/null 2>&1; then
  echo "kubedrill: cluster: no Docker engine runs, so no kind cluster runs: nothing to delete" >&2
  exit 0
fi
if [[ -z $KIND ]]; then
  echo "kubedrill: cluster: kind is not installed: nothing to delete" >&2
  exit 0
fi
if "$KIND" get clusters 2>/dev/null | grep -qx "$NAME"; then
  "$KIND" delete cluster --name "$NAME"
  rm -rf "$CACHE/clusters/$NAME"
else
  echo "kubedrill: cluster: no kind cluster named '$NAME'" >&2
fi
