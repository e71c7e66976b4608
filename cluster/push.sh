#!/usr/bin/env bash
# Pushes kubedrill's images from the local docker store to a team's registry: `make push
# REGISTRY=registry.example.com/team`. Each image keeps its name's last part and its tag:
#   IMAGE_KUBEDRILL kubedrill.local/kubedrill:dev -> REGISTRY/kubedrill:dev
#   IMAGE_SHELL     kubedrill.local/shell:1       -> REGISTRY/shell:1       (--prober-image, --writer-image)
#   IMAGE_POSTGRES  kubedrill.local/postgres:15   -> REGISTRY/postgres:15
# With crane (cluster/registry.sh builds it): `docker save`, then `crane push`. crane logs in as
# docker does, from $DOCKER_CONFIG/config.json (default ~/.docker/config.json, credential helpers
# included): `docker login HOST` or `crane auth login HOST` first. A registry whose certificate a
# private CA signed: SSL_CERT_FILE=ca-bundle.pem. --insecure: plain HTTP, or any certificate.
#
# usage: cluster/push.sh [--insecure] [--images "kubedrill shell postgres"] REGISTRY
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
say() { echo "kubedrill: push: $*"; }
die() { echo "kubedrill: push: $*" >&2; exit 1; }

ALL="kubedrill shell postgres"
insecure=() images=$ALL registry=
while [[ $# -gt 0 ]]; do
  case $1 in
    --insecure) insecure=(--insecure) ;;
    --images) [[ $# -ge 2 ]] || die "--images needs a list of images ($ALL)."; images=$2; shift ;;
    --images=*) images=${1#--images=} ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    -*) die "unknown option '$1' (usage: cluster/push.sh [--insecure] [--images \"$ALL\"] REGISTRY)." ;;
    *) [[ -z $registry ]] || die "one REGISTRY only, not '$registry' and '$1'."; registry=$1 ;;
  esac
  shift
done
[[ -n ${images// /} ]] || images=$ALL

# REGISTRY: a registry host (a dot, a port or localhost: a bare name would be Docker Hub's
# namespace) and an optional repository path, no scheme, no tag, no digest
[[ -n $registry ]] || die "REGISTRY is not set: make push REGISTRY=registry.example.com/team (the registry host and path the images go to)."
registry=${registry%/}
[[ $registry != *://* ]] || die "REGISTRY is a host and path without a scheme: '${registry#*://}', not '$registry' (INSECURE=1 for plain HTTP)."
[[ $registry != *@* ]] || die "REGISTRY names where the images go, not an image: no digest in '$registry'."
host=${registry%%/*} path=
[[ $registry == */* ]] && path=${registry#*/}
[[ $host == *.* || $host == *:* || $host == localhost ]] \
  || die "REGISTRY must start with the registry's host (registry.example.com/team, localhost:5000): '$host' would be a namespace on Docker Hub."
[[ $host =~ ^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\])(:[0-9]+)?$ ]] || die "REGISTRY's host '$host' is not a host[:port]."
if [[ -n $path ]]; then
  component='[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*'
  [[ $path =~ ^$component(/$component)*$ ]] \
    || die "REGISTRY's path '$path' is not a repository path (lower-case letters, digits, '.', '_', '-', '/'; no tag)."
fi

# the images, all checked before the first push
declare -a sources targets
for name in $images; do
  case $name in
    kubedrill) src=${IMAGE_KUBEDRILL:-} how="make image" ;;
    shell) src=$IMAGE_SHELL how="make images" ;;
    postgres) src=$IMAGE_POSTGRES how="make images" ;;
    *) die "no image named '$name' (IMAGES: one or more of $ALL)." ;;
  esac
  [[ -n $src ]] || die "cluster/versions.env pins no IMAGE_${name^^}."
  docker image inspect "$src" >/dev/null 2>&1 \
    || die "$src is not in the local docker store: '$how' builds it (nothing was pushed)."
  repo=${src%:*} tag=${src##*:}
  sources+=("$src") targets+=("$registry/${repo##*/}:$tag")
done

crane=$("$here/registry.sh" --print crane)
work=$(mktemp -d "${TMPDIR:-/tmp}/kubedrill-push.XXXXXX")
trap 'rm -rf "$work"' EXIT
for i in "${!sources[@]}"; do
  src=${sources[$i]} dst=${targets[$i]}
  started=$SECONDS
  docker save -o "$work/image.tar" "$src" || die "docker save $src failed."
  "$crane" push "${insecure[@]}" --image-refs "$work/ref" "$work/image.tar" "$dst" >/dev/null \
    || die "crane push of $src to $dst failed (nothing more was pushed); the line above says why."
  rm -f "$work/image.tar"
  ref=$(cat "$work/ref")   # REPOSITORY@DIGEST
  say "pushed $src to $dst@${ref##*@} ($((SECONDS - started)) s)"
done
say "in a CronJob: kustomize edit set image kubedrill/kubedrill=$registry/kubedrill:${IMAGE_KUBEDRILL##*:}"
say "in a drill: make drill PROBER_IMAGE=$registry/shell:${IMAGE_SHELL##*:} WRITER_IMAGE=$registry/shell:${IMAGE_SHELL##*:} (or --prober-image/--writer-image)"
