#!/usr/bin/env bash
# Builds the registry tools, pinned (cluster/versions.env), from their Go modules into the cache
# $KUBEDRILL_CACHE/bin (default ~/.cache/kubedrill): registry-$DISTRIBUTION_VERSION (distribution's
# cmd/registry, an OCI registry) and crane-$CRANE_VERSION (go-containerregistry's cmd/crane, which
# `make push` pushes the images with). Does nothing when they are there.
# `--print NAME` prints the path of one of them, registry or crane (built first when it is missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
log() { echo "kubedrill: registry tools: $*" >&2; }
die() { echo "kubedrill: registry tools: $*" >&2; exit 1; }

# name  module  package-in-module  version
TOOLS=(
  "registry github.com/distribution/distribution/v3 ./cmd/registry $DISTRIBUTION_VERSION"
  "crane github.com/google/go-containerregistry ./cmd/crane $CRANE_VERSION"
)

path_of() {
  local t name version
  for t in "${TOOLS[@]}"; do
    read -r name _ _ version <<<"$t"
    [[ $name == "$1" ]] && { echo "$CACHE/bin/$name-$version"; return 0; }
  done
  die "no tool named '$1' (registry or crane)."
}

# shellcheck source=cluster/gotools.sh
source "$here/gotools.sh"

want=
if [[ ${1:-} == --print ]]; then
  [[ -n ${2:-} ]] || die "--print needs a tool's name (registry or crane)."
  want=$(path_of "$2")
elif [[ $# -gt 0 ]]; then
  die "unknown argument '$1' (usage: cluster/registry.sh [--print registry|crane])."
fi

if [[ -n $want && -x $want ]] || { [[ -z $want ]] && all_there; }; then
  [[ -z $want ]] || echo "$want"
  exit 0
fi
command -v go >/dev/null || die "Go is missing to build the registry tools; install Go 1.25+ and run again."
mkdir -p "$CACHE/bin"
exec 9>"$CACHE/registry-build.lock"
flock 9
for t in "${TOOLS[@]}"; do
  read -r name _ _ _ <<<"$t"
  [[ -z $want || $want == "$(path_of "$name")" ]] || continue
  # shellcheck disable=SC2086
  build $t
done
[[ -z $want ]] || echo "$want"
