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
log() { echo "kubedrill: actionlint: $*" >&2; }
die() { echo "kubedrill: actionlint: $*" >&2; exit 1; }

# name  module  package-in-module  version
TOOLS=("actionlint github.com/rhysd/actionlint ./cmd/actionlint $ACTIONLINT_VERSION")

# shellcheck source=cluster/gotools.sh
source "$here/gotools.sh"

all_there && exit 0
command -v go >/dev/null || die "Go is missing to build actionlint $ACTIONLINT_VERSION; install Go 1.25+ and run again."
mkdir -p "$CACHE/bin"
exec 9>"$CACHE/actionlint-build.lock"
flock 9
# shellcheck disable=SC2086
build ${TOOLS[0]}   # does nothing when the holder of the lock built it while this one waited
