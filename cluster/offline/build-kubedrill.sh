#!/usr/bin/env bash
# kubedrill's own image (the in-cluster game-day runner, deploy/gameday), built offline:
#
#   cluster/offline/build-kubedrill.sh     build what is missing, print the image name
#
# Two stages, each cached by its inputs (KUBEDRILL_CACHE, default ~/.cache/kubedrill):
#   base     Debian (debootstrap minbase of DEBIAN_SUITE) with Python 3 and a virtualenv at
#            /opt/venv holding kubedrill's dependencies at exactly the versions of the project's
#            .venv (the ones the tests ran on), installed from downloaded wheels; keyed by those pins
#   image    the project (the kubedrill package, scenarios/, fixtures/, conftest.py, pytest.ini,
#            examples/, schemas/, cluster/versions.env) at /opt/kubedrill, installed editable
#            into the base's virtualenv (kubedrill finds its schemas and pins beside the package);
#            rebuilt when any of those files changes
# The image runs as user 10001 with a read-only root: HOME and MPLCONFIGDIR belong on /tmp
# (deploy/gameday/cronjob.yaml mounts an emptyDir there).
set -Eeuo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck disable=SC1091
set -a; source "$repo/cluster/versions.env"; set +a
CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
VENV_PY=${KUBEDRILL_VENV_PYTHON:-$repo/.venv/bin/python}
# shellcheck source=cluster/offline/lib.sh
source "$here/lib.sh"
trap 'rc=$?; printf "kubedrill: error: the image build failed at line %s (%s); rerun resumes from the cache in %s.\n" "$LINENO" "$BASH_COMMAND" "$CACHE" >&2; exit $rc' ERR

IMAGE_PACKAGES="python3,python3-venv,ca-certificates,tzdata"
# what of the project the image carries (the drill's own files; no tests, benchmarks or cluster build)
PROJECT_PATHS=(kubedrill scenarios fixtures examples schemas conftest.py pytest.ini pyproject.toml README.md cluster/versions.env)

check_prereqs() {
  command -v docker >/dev/null && docker info >/dev/null 2>&1 || die "no Docker engine answers; run 'make docker' and run again."
  [[ -x $VENV_PY ]] || die "the project's virtualenv is missing ($VENV_PY); run 'make venv' first: the image takes its dependency versions from it."
  command -v debootstrap >/dev/null || {
    [[ $(id -u) == 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null 2>&1
    command -v debootstrap >/dev/null || die "debootstrap is missing and could not be installed; run 'apt-get install debootstrap'."
  }
  [[ $(id -u) == 0 ]] || die "the image build runs debootstrap and chroot and must run as root; run it with sudo."
}

# setuptools to install kubedrill itself (editable, without build isolation: the image build is offline);
# pyproject.toml's build-system wants setuptools>=68
BUILD_PINS="setuptools==80.9.0"
# the runtime pins: every distribution of the project's .venv except kubedrill itself (editable)
# and the virtualenv's own setuptools, plus BUILD_PINS
pins() {
  { "$VENV_PY" -m pip freeze --exclude-editable --all 2>/dev/null | grep -v -i -E '^(kubedrill|setuptools)[= ]|^-e '
    printf '%s\n' $BUILD_PINS; } | LC_ALL=C sort
}

build_base() { # KEY
  local k=$1 root="$CACHE/rootfs/kubedrill-base" wheels="$CACHE/wheels/kubedrill-$1"
  local tarball="$CACHE/debootstrap/kubedrill-$(key "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$IMAGE_PACKAGES").tar"
  rm -rf "$root"; mkdir -p "$root" "$CACHE/debootstrap" "$CACHE/logs"
  if [[ ! -s $tarball ]]; then
    log "kubedrill-base: debootstrap $DEBIAN_SUITE minbase with $IMAGE_PACKAGES"
    debootstrap --variant=minbase --include="$IMAGE_PACKAGES" "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" \
      >"$CACHE/logs/debootstrap-kubedrill.log" 2>&1 || die "debootstrap of the kubedrill rootfs failed; see $CACHE/logs/debootstrap-kubedrill.log."
    tar -C "$root" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
  else
    log "kubedrill-base: reusing the debootstrap tarball $tarball"
    tar -C "$root" -xf "$tarball"
  fi
  # the wheels of the pinned versions, built or downloaded by the project's own Python: the image's
  # python3 is the same Debian $DEBIAN_SUITE one (checked), so its wheels fit
  local pyver hostver
  pyver=$(chroot "$root" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  hostver=$("$VENV_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  [[ $pyver == "$hostver" ]] || die "the image's Python ($DEBIAN_SUITE: $pyver) is not the project's virtualenv's ($hostver); the pinned wheels would not fit."
  if [[ ! -e $wheels/.complete ]]; then
    log "kubedrill-base: $(pins | wc -l) pinned wheels for Python $pyver"
    rm -rf "$wheels"; mkdir -p "$wheels"
    pins >"$wheels/constraints.txt"
    "$VENV_PY" -m pip wheel -q --no-deps -w "$wheels" -r "$wheels/constraints.txt" >"$CACHE/logs/wheels-kubedrill.log" 2>&1 \
      || die "getting the pinned wheels failed; see $CACHE/logs/wheels-kubedrill.log."
    touch "$wheels/.complete"
  fi
  mkdir -p "$root/tmp/wheels"
  cp "$wheels"/*.whl "$wheels/constraints.txt" "$root/tmp/wheels/"
  chroot "$root" /bin/sh -ec '
    python3 -m venv /opt/venv
    /opt/venv/bin/pip install -q --no-index --find-links /tmp/wheels -r /tmp/wheels/constraints.txt
    rm -rf /tmp/wheels /root/.cache
    /opt/venv/bin/python -m compileall -q /opt/venv >/dev/null
    groupadd -g 10001 kubedrill && useradd -u 10001 -g 10001 -d /tmp -s /usr/sbin/nologin -M kubedrill
    rm -rf /var/cache/apt/archives/*.deb /var/lib/apt/lists/* /usr/share/doc /usr/share/man /usr/share/locale
  ' >"$CACHE/logs/venv-kubedrill.log" 2>&1 || die "installing the wheels in the image failed; see $CACHE/logs/venv-kubedrill.log."
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PYTHONDONTWRITEBYTECODE=1' --change 'ENV PYTHONUNBUFFERED=1' \
    --change 'ENV HOME=/tmp' --change 'ENV MPLCONFIGDIR=/tmp/matplotlib' \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
}

build_image() {
  local ctx; ctx=$(mktemp -d "$CACHE/rootfs/kubedrill.XXXXXX")
  mkdir -p "$ctx/project"
  (cd "$repo" && project_files | tar -c -T - ) | tar -C "$ctx/project" -x
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $BASE_IMAGE
COPY project /opt/kubedrill
RUN /opt/venv/bin/pip install -q --no-index --no-deps --no-build-isolation -e /opt/kubedrill \\
 && python -m compileall -q /opt/kubedrill >/dev/null \\
 && rm -rf /opt/kubedrill/kubedrill.egg-info/SOURCES.txt /tmp/* \\
 && kubedrill version
ENV KUBEDRILL_PROJECT=/opt/kubedrill
WORKDIR /opt/kubedrill
USER 10001:10001
ENTRYPOINT []
CMD ["kubedrill", "--help"]
LABEL org.opencontainers.image.title=kubedrill org.opencontainers.image.version=$PROJECT_VERSION io.kubedrill.key=$IMAGE_KEY
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE_KUBEDRILL" "$ctx" >/dev/null 2>"$CACHE/logs/docker-build-kubedrill.log" \
    || { rm -rf "$ctx"; die "building $IMAGE_KUBEDRILL failed; see $CACHE/logs/docker-build-kubedrill.log."; }
  rm -rf "$ctx"
}

# the project's files the image carries: tracked and untracked-but-not-ignored (a working copy's
# changes are drilled as they are), sorted so that the cache key is stable
project_files() {
  if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$repo" ls-files -co --exclude-standard -- "${PROJECT_PATHS[@]}" | while read -r f; do [[ -f $f ]] && echo "$f"; done | LC_ALL=C sort
  else
    find "${PROJECT_PATHS[@]}" -type f -not -path '*/__pycache__/*' -not -name '*.pyc' | LC_ALL=C sort
  fi
}

main() {
  check_prereqs
  mkdir -p "$CACHE/rootfs" "$CACHE/logs" "$CACHE/stamps"
  PROJECT_VERSION=$("$VENV_PY" -c 'import importlib.metadata as m; print(m.version("kubedrill"))')
  local bk ik
  bk=$(key "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$IMAGE_PACKAGES" "$(pins)" "$(declare -f build_base)")
  BASE_IMAGE="kubedrill.local/kubedrill-base:$bk"
  if image_exists "$BASE_IMAGE"; then
    log "kubedrill-base: cached ($bk)"
  else
    local t0=$SECONDS
    log "kubedrill-base: building ($bk) ..."
    build_base "$bk"
    log "kubedrill-base: done in $((SECONDS - t0)) s"
  fi
  ik=$(key "$bk" "$(cd "$repo" && project_files | while read -r f; do sha256sum "$f"; done)" "$(declare -f build_image)")
  if image_exists "$IMAGE_KUBEDRILL" && [[ $(docker image inspect -f '{{index .Config.Labels "io.kubedrill.key"}}' "$IMAGE_KUBEDRILL") == "$ik" ]]; then
    log "kubedrill image $IMAGE_KUBEDRILL is built ($ik)"
  else
    local t0=$SECONDS
    log "kubedrill image: building $IMAGE_KUBEDRILL ($ik) ..."
    IMAGE_KEY=$ik build_image
    docker image inspect "$IMAGE_KUBEDRILL" >/dev/null
    log "kubedrill image: done in $((SECONDS - t0)) s"
  fi
  # superseded bases (older pins) go; nothing else is touched
  local ref
  for ref in $(docker images --format '{{.Repository}}:{{.Tag}}' --filter 'reference=kubedrill.local/kubedrill-base'); do
    [[ $ref == "$BASE_IMAGE" ]] || { docker rmi "$ref" >/dev/null 2>&1 && log "removed superseded image $ref" || true; }
  done
  log "kubedrill image $IMAGE_KUBEDRILL: $(docker image inspect -f '{{.Size}}' "$IMAGE_KUBEDRILL" | awk '{printf "%.0f MB", $1/1e6}')"
  echo "$IMAGE_KUBEDRILL"
}

main "$@"
