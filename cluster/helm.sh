#!/usr/bin/env bash
# Builds helm, pinned (cluster/versions.env HELM_VERSION), from its Go module into the cache:
# $KUBEDRILL_CACHE/bin/helm-$HELM_VERSION (default ~/.cache/kubedrill). Does nothing when it is there.
# Experiments with a helm target render (helm template) or install their chart with it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
HELM="$CACHE/bin/helm-$HELM_VERSION"
log() { echo "kubedrill: helm: $*" >&2; }
die() { echo "kubedrill: helm: $*" >&2; exit 1; }
[[ -x $HELM ]] && exit 0
command -v go >/dev/null || die "Go is missing to build helm $HELM_VERSION; install Go 1.25+ and run again."
mkdir -p "$CACHE/bin"
exec 9>"$CACHE/helm-build.lock"
flock 9
[[ -x $HELM ]] && exit 0
log "installing helm $HELM_VERSION (go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION; about 2 minutes the first time)"
tmp="$CACHE/bin/.helm-$HELM_VERSION"
GOBIN="$tmp" GOFLAGS= go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
  || die "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed; check that the Go module proxy answers."
mv "$tmp/helm" "$HELM" && rmdir "$tmp"
log "installed $HELM"
