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

all_there() {
  local t name version
  for t in "${TOOLS[@]}"; do
    read -r name _ _ version <<<"$t"
    [[ -x $CACHE/bin/$name-$version ]] || return 1
  done
}

# go install MODULE/PKG@VERSION; when go install refuses (replace directives in the module's
# go.mod), build in a copy of the downloaded module under the cache, never in the repo.
build() {
  local name=$1 module=$2 pkg=$3 version=$4
  local out="$CACHE/bin/$name-$version" path="$module${pkg#.}" tmp="$CACHE/bin/.$name-$version"
  [[ -x $out ]] && return 0
  log "installing $name $version (go install $path@$version; a few minutes the first time)"
  local started=$SECONDS
  rm -rf "$tmp"
  if GOBIN="$tmp" GOFLAGS= nice -n 10 go install "$path@$version" 2>"$tmp.err"; then
    mv "$tmp/$(basename "$path")" "$out" && rmdir "$tmp" && rm -f "$tmp.err"
  else
    log "go install refused ($(grep -m1 -oE 'replace directives|reading [^ ]*/@v/list: [0-9]+[^:]*' "$tmp.err" || tail -n1 "$tmp.err")):"
    log "building in a copy of the downloaded module under $CACHE/src"
    local dir src="$CACHE/src/${module//\//_}@$version"
    dir=$(GOFLAGS= go mod download -json "$module@$version" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
    [[ -d $dir ]] || die "go mod download $module@$version failed; check that the Go module proxy answers."
    if [[ ! -f $src/go.mod ]]; then
      rm -rf "$src.tmp" && mkdir -p "$(dirname "$src")"
      cp -r "$dir" "$src.tmp" && chmod -R u+w "$src.tmp" && mv "$src.tmp" "$src"
    fi
    (cd "$src" && GOFLAGS= nice -n 10 go build -o "$out.tmp" "$pkg") \
      || die "go build $pkg in $src failed."
    mv "$out.tmp" "$out" && rm -rf "$tmp" "$tmp.err"
  fi
  log "installed $out ($((SECONDS - started)) s)"
}

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
