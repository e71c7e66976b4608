#!/usr/bin/env bash
# kubedrill storage images, built offline: kubedrill's CSI hostpath driver (cluster/csi), the
# CSI sidecars and snapshot-controller from their Go modules, and the PostgreSQL workload image
# from Debian packages. Same cache and stamps as build.sh (KUBEDRILL_CACHE, ~/.cache/kubedrill).
#
#   cluster/offline/build-storage.sh           build what is missing; print the image references
#   cluster/offline/build-storage.sh --list    print the image references only (nothing is built)
#   cluster/offline/build-storage.sh --stage NAME   run one stage (driver, sidecars, postgres)
#
# Sourceable: build.sh may `source` it and call build_storage (its stage/key/log/static_image
# helpers are used when defined) and add $(storage_images) to its preload list.
set -Eeuo pipefail

storage_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
storage_repo=$(cd "$storage_here/../.." && pwd)

# ------------------------------------------------------------------ helpers (build.sh's when sourced)
storage_defaults() {
  [[ -n ${IMAGE_CSI_HOSTPATH:-} ]] || { set -a; source "$storage_repo/cluster/versions.env"; set +a; }
  CACHE=${KUBEDRILL_CACHE:-${CACHE:-$HOME/.cache/kubedrill}}
  export GOFLAGS=-mod=mod CGO_ENABLED=0
  export GOCACHE=${GOCACHE:-$(go env GOCACHE 2>/dev/null || echo "$HOME/.cache/go-build")}
  export GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")}
  export GOPROXY_URL=${GOPROXY_URL:-https://proxy.golang.org}
  mkdir -p "$CACHE/logs" "$CACHE/rootfs" "$CACHE/stamps"
}
# shellcheck source=cluster/offline/lib.sh
source "$storage_here/lib.sh"
declare -F stage >/dev/null || stage() { # NAME KEY FUNCTION: runs FUNCTION unless NAME was done with KEY; timed
  local name=$1 k=$2 fn=$3 stamp="$CACHE/stamps/$1-$2"
  if [[ -e $stamp ]]; then log "$name: cached ($k)"; return 0; fi
  log "$name: building ($k) ..."
  local t0=$SECONDS
  "$fn" "$k"
  mkdir -p "$CACHE/stamps"; rm -f "$CACHE/stamps/$name-"*; touch "$stamp"
  log "$name: done in $((SECONDS - t0)) s"
}

# The images `make cluster` puts on every node for storage (IfNotPresent; never pulled).
storage_images() {
  echo "$IMAGE_CSI_HOSTPATH $IMAGE_CSI_PROVISIONER $IMAGE_CSI_SNAPSHOTTER $IMAGE_SNAPSHOT_CONTROLLER $IMAGE_POSTGRES"
}
tag_of() { echo "${1##*:}"; }

# ------------------------------------------------------------------ kubedrill's CSI driver
build_csi_driver() {
  local out
  out="$CACHE/csi/kubedrill-csi/$(tag_of "$IMAGE_CSI_HOSTPATH")"
  mkdir -p "$out"
  log "csi-driver: go build ./cluster/csi (kubedrill's hostpath driver)"
  (cd "$storage_repo/cluster/csi" && go build -trimpath \
    -ldflags "-s -w -X main.version=$(tag_of "$IMAGE_CSI_HOSTPATH")" -o "$out/kubedrill-csi" .)
  # tar and gzip for snapshots (as upstream's hostpath plugin): Debian's static busybox
  local debs="$CACHE/debs/csi"
  rm -rf "$debs"; mkdir -p "$debs"
  # an old or empty package list: refresh it once (root) and try again
  (cd "$debs" && apt-get download busybox-static >/dev/null 2>&1) \
    || { [[ $(id -u) == 0 ]] && apt-get update -q >/dev/null 2>&1 && (cd "$debs" && apt-get download busybox-static >/dev/null 2>&1); } \
    || die "downloading Debian's busybox-static failed; run 'apt-get update' and check that the Debian archive answers."
  dpkg-deb -x "$debs"/busybox-static_*.deb "$debs/x"
  local r; r=$(mktemp -d "$CACHE/rootfs/csi.XXXXXX")
  static_root "$r"
  mkdir -p "$r/bin"
  install -m 0755 "$debs/x/bin/busybox" "$r/bin/busybox"
  local a
  for a in sh tar gzip cat ls du df mount umount rm mkdir sync; do ln -sf busybox "$r/bin/$a"; done
  install -m 0755 "$out/kubedrill-csi" "$r/usr/local/bin/kubedrill-csi"
  tar -C "$r" -c . | docker import --change 'ENV PATH=/usr/local/bin:/bin' \
    --change 'ENTRYPOINT ["/usr/local/bin/kubedrill-csi"]' - "$IMAGE_CSI_HOSTPATH" >/dev/null
  rm -rf "$r" "$debs"
}

# ------------------------------------------------------------------ CSI sidecars (Go modules)
# sidecar NAME MODULE VERSION [REQUIRE ...]: a wrapper module (their go.mod carries replace
# directives), one static binary in $CACHE/csi/NAME/VERSION/bin/NAME
build_sidecar() {
  local name=$1 mod=$2 ver=$3; shift 3
  local d="$CACHE/csi/$name/$ver"
  "$storage_here/gomod-wrapper.sh" "$d" "$mod" "$ver"
  local r
  for r in "$@"; do echo "require $r" >>"$d/go.mod"; done
  log "$name: go build $mod/cmd/$name@$ver"
  (cd "$d" && go build -trimpath -ldflags "-s -w -X main.version=$ver" -o "bin/$name" "$mod/cmd/$name") \
    >"$CACHE/logs/build-$name.log" 2>&1 || { tail -20 "$CACHE/logs/build-$name.log" >&2; die "building $name $ver failed; see $CACHE/logs/build-$name.log."; }
}

SNAPSHOTTER_MOD=github.com/kubernetes-csi/external-snapshotter/v8
SNAPSHOTTER_CLIENT_MOD=github.com/kubernetes-csi/external-snapshotter/client/v8
PROVISIONER_MOD=github.com/kubernetes-csi/external-provisioner/v5

build_sidecars() {
  local sv pv
  sv=$(tag_of "$IMAGE_CSI_SNAPSHOTTER") pv=$(tag_of "$IMAGE_CSI_PROVISIONER")
  [[ $(tag_of "$IMAGE_SNAPSHOT_CONTROLLER") == "$sv" ]] || die "IMAGE_SNAPSHOT_CONTROLLER and IMAGE_CSI_SNAPSHOTTER must carry the same external-snapshotter version."
  # external-snapshotter replaces its client module with ./client: the same tag from the proxy
  build_sidecar csi-snapshotter "$SNAPSHOTTER_MOD" "$sv" "$SNAPSHOTTER_CLIENT_MOD $sv"
  build_sidecar snapshot-controller "$SNAPSHOTTER_MOD" "$sv" "$SNAPSHOTTER_CLIENT_MOD $sv"
  build_sidecar csi-provisioner "$PROVISIONER_MOD" "$pv"
  # upstream images: a distroless root, the binary as the entrypoint
  static_image "$IMAGE_CSI_SNAPSHOTTER" '["/usr/local/bin/csi-snapshotter"]' "$CACHE/csi/csi-snapshotter/$sv/bin/csi-snapshotter"
  static_image "$IMAGE_SNAPSHOT_CONTROLLER" '["/usr/local/bin/snapshot-controller"]' "$CACHE/csi/snapshot-controller/$sv/bin/snapshot-controller"
  static_image "$IMAGE_CSI_PROVISIONER" '["/usr/local/bin/csi-provisioner"]' "$CACHE/csi/csi-provisioner/$pv/bin/csi-provisioner"
}

# Online (KUBEDRILL_CLUSTER_MODE=online): upstream's sidecar images at the pinned tags, pulled
# when missing; false (build them) when any cannot be pulled.
pull_sidecars() {
  [[ ${KUBEDRILL_CLUSTER_MODE:-} == online ]] || return 1
  local i
  for i in "$IMAGE_CSI_PROVISIONER" "$IMAGE_CSI_SNAPSHOTTER" "$IMAGE_SNAPSHOT_CONTROLLER"; do
    image_exists "$i" && continue
    log "csi-sidecars: online: pulling $i"
    timeout 120 docker pull -q "$i" >/dev/null 2>&1 || { log "csi-sidecars: pulling $i failed: building the sidecars instead"; return 1; }
  done
  log "csi-sidecars: online: upstream images present"
}

# ------------------------------------------------------------------ PostgreSQL (Debian packages)
POSTGRES_PACKAGES="postgresql-15"
build_postgres() {
  command -v debootstrap >/dev/null || {
    [[ $(id -u) == 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null 2>&1
    command -v debootstrap >/dev/null || die "debootstrap is missing and could not be installed; run 'apt-get install debootstrap'."
  }
  [[ $(id -u) == 0 ]] || die "the PostgreSQL image is built with debootstrap and chroot, which need root; run it with sudo."
  local root="$CACHE/rootfs/postgres" tarball
  tarball="$CACHE/debootstrap/postgres-$(key "${DEBIAN_SUITE:-bookworm}" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" "$POSTGRES_PACKAGES").tar"
  rm -rf "$root"; mkdir -p "$root" "$CACHE/debootstrap"
  if [[ ! -s $tarball ]]; then
    log "postgres: debootstrap ${DEBIAN_SUITE:-bookworm} minbase with $POSTGRES_PACKAGES"
    debootstrap --variant=minbase --include="$POSTGRES_PACKAGES" "${DEBIAN_SUITE:-bookworm}" "$root" \
      "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$CACHE/logs/debootstrap-postgres.log" 2>&1 \
      || die "debootstrap of the PostgreSQL rootfs failed; see $CACHE/logs/debootstrap-postgres.log."
    tar -C "$root" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
  else
    log "postgres: reusing the debootstrap tarball $tarball"
    tar -C "$root" -xf "$tarball"
  fi
  # the official image's user ids (999:999), so fsGroup/runAsUser read the same everywhere;
  # the cluster Debian's postinst made is dropped: the entrypoint runs initdb on the volume
  chroot "$root" /bin/sh -ec '
    old_uid=$(id -u postgres); old_gid=$(id -g postgres)
    groupmod -g 999 postgres && usermod -u 999 -g 999 postgres
    find / -xdev \( -uid "$old_uid" -o -gid "$old_gid" \) -exec chown -h 999:999 {} +
    rm -rf /etc/postgresql/15/main /var/lib/postgresql/15
    mkdir -p /var/run/postgresql /var/lib/postgresql/data && chown 999:999 /var/run/postgresql /var/lib/postgresql/data
    chmod 2777 /var/run/postgresql
    rm -rf /var/cache/apt/archives/*.deb /var/lib/apt/lists/* /usr/share/doc /usr/share/man \
      /usr/share/info /usr/share/locale /usr/share/postgresql/15/man /var/cache/debconf/*-old \
      /var/log/*.log /usr/share/lintian /usr/share/i18n
    # no JIT: LLVM, z3 and the bitcode are two thirds of the image; without its provider
    # PostgreSQL runs with JIT unavailable (pg_jit_available() is false), queries unchanged
    rm -rf /usr/lib/postgresql/15/lib/bitcode /usr/lib/postgresql/15/lib/llvmjit*.so \
      /usr/lib/x86_64-linux-gnu/libLLVM-*.so* /usr/lib/x86_64-linux-gnu/libz3.so*
  '
  install -m 0755 "$storage_repo/cluster/csi/postgres-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PGDATA=/var/lib/postgresql/data/pgdata' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'USER 999:999' \
    --change 'EXPOSE 5432' \
    --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
    --change 'CMD ["postgres"]' - "$IMAGE_POSTGRES.rootfs" >/dev/null
  rm -rf "$root"
  # docker import cannot set STOPSIGNAL: SIGINT is PostgreSQL's fast shutdown (as upstream's image)
  local ctx; ctx=$(mktemp -d "$CACHE/rootfs/postgres.XXXXXX")
  printf 'FROM %s\nSTOPSIGNAL SIGINT\n' "$IMAGE_POSTGRES.rootfs" >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE_POSTGRES" "$ctx" >/dev/null 2>"$CACHE/logs/docker-build-postgres.log" \
    || die "docker build of $IMAGE_POSTGRES failed; see $CACHE/logs/docker-build-postgres.log."
  docker rmi "$IMAGE_POSTGRES.rootfs" >/dev/null
  rm -rf "$ctx"
}

# ------------------------------------------------------------------ main
build_storage() {
  storage_defaults
  command -v go >/dev/null || die "Go is not installed; install Go 1.25 or newer and run again."
  # one storage build at a time (make cluster and a hand-run build may overlap)
  exec 8>"$CACHE/storage-build.lock"
  flock -n 8 || { log "another storage image build runs; waiting for it"; flock 8; }
  docker info >/dev/null 2>&1 || die "no Docker engine answers; run 'make docker' and run again."
  local i
  for i in "$IMAGE_CSI_PROVISIONER" "$IMAGE_CSI_SNAPSHOTTER" "$IMAGE_SNAPSHOT_CONTROLLER"; do
    image_exists "$i" || rm -f "$CACHE/stamps/csi-sidecars-"*
  done
  image_exists "$IMAGE_CSI_HOSTPATH" || rm -f "$CACHE/stamps/csi-driver-"*
  image_exists "$IMAGE_POSTGRES" || rm -f "$CACHE/stamps/postgres-image-"*
  case ${1:-all} in
    all|sidecars) pull_sidecars || stage csi-sidecars "$(key "$IMAGE_CSI_PROVISIONER" "$IMAGE_CSI_SNAPSHOTTER" "$IMAGE_SNAPSHOT_CONTROLLER" \
      "$storage_here/gomod-wrapper.sh" "$(declare -f build_sidecars build_sidecar static_image static_root)")" build_sidecars ;;&
    all|driver) stage csi-driver "$(key "$IMAGE_CSI_HOSTPATH" "$(cd "$storage_repo/cluster/csi" && cat go.mod go.sum ./*.go)" \
      "$(declare -f build_csi_driver)")" build_csi_driver ;;&
    all|postgres) stage postgres-image "$(key "$IMAGE_POSTGRES" "$POSTGRES_PACKAGES" "$storage_repo/cluster/csi/postgres-entrypoint.sh" \
      "$(declare -f build_postgres)")" build_postgres ;;&
    all|driver|sidecars|postgres) ;;
    *) die "unknown stage '$1'; stages: driver sidecars postgres" ;;
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  trap 'rc=$?; printf "kubedrill: error: the storage image build failed at line %s (%s); rerun resumes from the cache.\n" "$LINENO" "$BASH_COMMAND" >&2; exit $rc' ERR
  case ${1:-} in
    --list) storage_defaults; storage_images | tr ' ' '\n' ;;
    --stage) build_storage "${2:?stage name}" ;;
    "") build_storage all; storage_images | tr ' ' '\n' ;;
    *) die "usage: $0 [--list | --stage driver|sidecars|postgres]" ;;
  esac
fi
