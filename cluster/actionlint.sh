#!/usr/bin/env bash
# Builds actionlint, pinned (cluster/versions.env ACTIONLINT_VERSION), from its Go module into the
# cache: $KUBEDRILL_CACHE/bin/actionlint-$ACTIONLINT_VERSION (default ~/.cache/kubedrill). Does
# nothing when it is there. The unit tests lint every .github/workflows/*.yml with it
# (tests/unit/test_workflows.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
ACTIONLINT="$CACHE/bin/actionlint-$ACTIONLINT_VERSION"
PKG=github.com/rhysd/actionlint/cmd/actionlint
log() { echo "kubedrill: actionlint: $*" >&2; }
die() { echo "kubedrill: actionlint: $*" >&2; exit 1; }
[[ -x $ACTIONLINT ]] && exit 0
command -v go >/dev/null || die "Go is missing to build actionlint $ACTIONLINT_VERSION; install Go 1.25+ and run again."
mkdir -p "$CACHE/bin"
exec 9>"$CACHE/actionlint-build.lock"
flock 9
[[ -x $ACTIONLINT ]] && exit 0   # built by the holder of the lock while this one waited
log "installing actionlint $ACTIONLINT_VERSION (go install $PKG@$ACTIONLINT_VERSION; under a minute the first time)"
tmp="$CACHE/bin/.actionlint-$ACTIONLINT_VERSION"
rm -rf "$tmp"
GOBIN="$tmp" GOFLAGS= nice -n 10 go install "$PKG@$ACTIONLINT_VERSION" \
  || die "go install $PKG@$ACTIONLINT_VERSION failed; check that the Go module proxy answers."
mv "$tmp/actionlint" "$ACTIONLINT" && rmdir "$tmp"
log "installed $ACTIONLINT"
