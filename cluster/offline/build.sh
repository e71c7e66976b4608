#!/usr/bin/env bash
# kubedrill offline builder: builds the kind node image and every image the cluster
# runs, from Go modules (module proxy) and Debian packages, with no container registry.
#
#   cluster/offline/build.sh            build what is missing, print the node image name
#   cluster/offline/build.sh --check    check prerequisites only
#
# Everything is cached outside the repository (KUBEDRILL_CACHE, default
# ~/.cache/kubedrill) and keyed by its inputs: a stage whose key exists is skipped,
# an interrupted stage is redone from the Go build cache / its own partial output.
# Progress: each stage says what it builds and how long it took.
set -Eeuo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# make-level overrides (KUBE_VERSION=... make cluster) come through the environment
# shellcheck source=cluster/pins.sh
source "$repo/cluster/pins.sh"
load_pins

CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
export GOFLAGS=-mod=mod CGO_ENABLED=0
export GOCACHE=${GOCACHE:-$(go env GOCACHE 2>/dev/null || echo "$HOME/.cache/go-build")}
export GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")}
GOPROXY_URL=${GOPROXY_URL:-https://proxy.golang.org}
export GOPROXY_URL
NEED_DISK_GB=${KUBEDRILL_BUILD_DISK_GB:-15}

# shellcheck source=cluster/offline/lib.sh
source "$here/lib.sh"
[[ $KUBE_VERSION =~ ^v1\.[0-9]+\.[0-9]+$ ]] || die "KUBE_VERSION must look like v1.35.4, not '$KUBE_VERSION'."
trap 'rc=$?; printf "kubedrill: error: the offline build failed at line %s (%s); rerun resumes from the cache in %s.\n" "$LINENO" "$BASH_COMMAND" "$CACHE" >&2; exit $rc' ERR

kube_minor() { local v=${KUBE_VERSION#v}; v=${v#*.}; echo "${v%%.*}"; }
staging_version() { local v=${KUBE_VERSION#v}; echo "v0.${v#*.}"; }

# stage NAME KEY FUNCTION [VERSION]: runs FUNCTION unless NAME was done with KEY; timed.
# The stamp holds its slot ("NAME VERSION"; a stamp without one is NAME's alone): a new key
# supersedes the stamps of its own slot only, so that building one Kubernetes (or etcd, CoreDNS,
# pause) version keeps every other version's stamps.
stage() {
  local name=$1 k=$2 fn=$3 stamp="$CACHE/stamps/$1-$2"
  local slot="$name${4:+ $4}" s
  if [[ -e $stamp ]]; then
    log "$name: cached ($k)"
    return 0
  fi
  log "$name: building ($k) ..."
  local t0=$SECONDS
  "$fn" "$k"
  mkdir -p "$CACHE/stamps"
  for s in "$CACHE/stamps/$name-"*; do
    [[ -f $s && $s != "$stamp" ]] || continue
    [[ $(stamp_slot "$s" "$name") == "$slot" ]] && rm -f "$s"
  done
  printf '%s\n' "$slot" >"$stamp"
  log "$name: done in $((SECONDS - t0)) s"
}
stamp_slot() { # STAMP NAME: the slot a stamp was written for
  local s; s=$(<"$1")
  echo "${s:-$2}"
}

check_prereqs() {
  command -v go >/dev/null || die "Go is not installed; install Go 1.25 or newer (https://go.dev/dl) and run again."
  command -v docker >/dev/null || die "the docker CLI is missing; run 'make docker' or install docker.io."
  docker info >/dev/null 2>&1 || die "no Docker engine answers; run 'make docker' (starts one) and run again."
  command -v debootstrap >/dev/null || {
    [[ $(id -u) == 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null 2>&1
    command -v debootstrap >/dev/null || die "debootstrap is missing and could not be installed; run 'apt-get install debootstrap'."
  }
  command -v gcc >/dev/null || die "gcc is missing (needed for the pause image); run 'apt-get install gcc libc6-dev'."
  [[ $(id -u) == 0 ]] || die "the offline build runs debootstrap and must run as root; run it with sudo."
  mkdir -p "$CACHE"
  local free_gb
  free_gb=$(df -P -BG "$CACHE" | awk 'NR==2 {gsub("G","",$4); print $4}')
  # a warm cache needs far less; only ask for the full amount when nothing is built yet
  if [[ ! -e "$CACHE/stamps" ]] && (( free_gb < NEED_DISK_GB )); then
    die "the offline build needs about ${NEED_DISK_GB} GB free under $CACHE and only ${free_gb} GB are; free some disk or set KUBEDRILL_CACHE to a larger disk."
  fi
}

# ---------------------------------------------------------------- Go programs
go_wrapper() { # DIR MODULE VERSION [STAGING]
  "$here/gomod-wrapper.sh" "$@"
}

K8S_DIR() { echo "$CACHE/k8s/$KUBE_VERSION"; }

build_k8s() {
  local d; d=$(K8S_DIR)
  go_wrapper "$d" k8s.io/kubernetes "$KUBE_VERSION" "$(staging_version)"
  local ld="" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$(kube_minor)"
    ld+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.gitTreeState=clean"
    ld+=" -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  local progs=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
  log "kubernetes: go build ${progs[*]} (cold: 25-45 min on 2 cores)"
  (cd "$d" && go build -trimpath -ldflags "-s -w$ld" -o bin/ "${progs[@]/#/k8s.io/kubernetes/cmd/}")
}

build_etcd() {
  local d="$CACHE/etcd/$ETCD_VERSION"
  go_wrapper "$d" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
  (cd "$d" && go build -trimpath -ldflags "-s -w" -o bin/etcd go.etcd.io/etcd/server/v3)
}

build_coredns() {
  local d="$CACHE/coredns/$COREDNS_VERSION"
  go_wrapper "$d" github.com/coredns/coredns "$COREDNS_VERSION"
  (cd "$d" && go build -trimpath -ldflags "-s -w" -o bin/coredns github.com/coredns/coredns)
}

build_pause() {
  local d="$CACHE/pause/$PAUSE_VERSION" src
  src="$GOMODCACHE/k8s.io/kubernetes@$KUBE_VERSION/build/pause/linux/pause.c"
  [[ -f $src ]] || (cd "$(K8S_DIR)" && go mod download k8s.io/kubernetes)
  mkdir -p "$d"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-kubedrill" -o "$d/pause" "$src"
  strip "$d/pause"
}

# ------------------------------------------------------------ Debian rootfs
NODE_PACKAGES="systemd,dbus,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,e2fsprogs,bash,ca-certificates,curl,jq,procps,containerd,runc,containernetworking-plugins,socat,ebtables,ipset,findutils,tar,gzip,less"

build_node_base() {
  local kind_src="$GOMODCACHE/sigs.k8s.io/kind@$KIND_VERSION/images/base/files"
  [[ -d $kind_src ]] || (cd /tmp && GOFLAGS= go mod download -x "sigs.k8s.io/kind@$KIND_VERSION" >/dev/null 2>&1) || true
  [[ -d $kind_src ]] || die "kind's base files (sigs.k8s.io/kind@$KIND_VERSION) could not be downloaded from the Go module proxy."
  local root="$CACHE/rootfs/node-base" tarball="$CACHE/debootstrap/node-$(key "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$NODE_PACKAGES").tar"
  rm -rf "$root"; mkdir -p "$root" "$CACHE/debootstrap"
  if [[ ! -s $tarball ]]; then
    log "node-base: debootstrap $DEBIAN_SUITE minbase with containerd, runc, CNI plugins, systemd"
    debootstrap --variant=minbase --include="$NODE_PACKAGES" "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" \
      >"$CACHE/logs/debootstrap-node.log" 2>&1 || die "debootstrap of the node rootfs failed; see $CACHE/logs/debootstrap-node.log."
    tar -C "$root" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
  else
    log "node-base: reusing the debootstrap tarball $tarball"
    tar -C "$root" -xf "$tarball"
  fi
  # kind's base files, laid out as images/base/Dockerfile does
  install -m 0755 "$kind_src"/usr/local/bin/* "$root/usr/local/bin/"
  mkdir -p "$root/kind/bin" "$root/etc/containerd" "$root/etc/default" "$root/etc/sysctl.d" \
    "$root/etc/systemd/system/kubelet.service.d" "$root/etc/kubernetes/manifests" "$root/opt/cni/bin" "$root/LICENSES"
  install -m 0644 "$kind_src"/kind/README.txt "$root/kind/"
  install -m 0755 "$kind_src"/kind/bin/* "$root/kind/bin/"
  install -m 0644 "$kind_src"/etc/crictl.yaml "$root/etc/"
  install -m 0644 "$kind_src"/etc/default/* "$root/etc/default/"
  install -m 0644 "$kind_src"/etc/sysctl.d/* "$root/etc/sysctl.d/"
  install -m 0644 "$kind_src"/etc/systemd/system/*.service "$kind_src"/etc/systemd/system/*.slice "$root/etc/systemd/system/"
  install -m 0644 "$kind_src"/etc/systemd/system/kubelet.service.d/* "$root/etc/systemd/system/kubelet.service.d/"
  # containerd 1.6 (Debian) reads config version 2; kind's file is version 2 already.
  sed -e "s#registry.k8s.io/pause:[0-9.]*#registry.k8s.io/pause:$PAUSE_VERSION#" \
    "$kind_src/etc/containerd/config.toml" >"$root/etc/containerd/config.toml"
  # Debian installs containerd and runc under /usr/bin and /usr/sbin; kind's units expect /usr/local
  ln -sf /usr/bin/containerd "$root/usr/local/bin/containerd"
  ln -sf /usr/bin/ctr "$root/usr/local/bin/ctr"
  ln -sf /usr/bin/containerd-shim-runc-v2 "$root/usr/local/bin/containerd-shim-runc-v2"
  ln -sf /usr/sbin/runc "$root/usr/local/sbin/runc"
  # Lowering a process's oom_score_adj needs CAP_SYS_RESOURCE; where the node lacks it
  # (this host's bounding set), runc fails every critical pod ("can't get final child's
  # PID from pipe"). containerd's restrict_oom_score_adj clamps instead, as kind does
  # for rootless nodes; decided at each containerd start from the node's own bounding set.
  cat >"$root/kind/bin/kubedrill-containerd-pre.sh" <<'SH'
#!/bin/sh
bnd=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
if [ $(( 0x$bnd >> 24 & 1 )) -eq 0 ]; then
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' /etc/containerd/config.toml
fi
SH
  chmod 0755 "$root/kind/bin/kubedrill-containerd-pre.sh"
  mkdir -p "$root/etc/systemd/system/containerd.service.d"
  printf '[Service]\nExecStartPre=/kind/bin/kubedrill-containerd-pre.sh\n' \
    >"$root/etc/systemd/system/containerd.service.d/10-kubedrill.conf"
  local p
  for p in host-local loopback ptp portmap bridge; do ln -sf "/usr/lib/cni/$p" "$root/opt/cni/bin/$p"; done
  chroot "$root" /bin/sh -ec '
    ctr oci spec \
      | jq ".hooks.createContainer[.hooks.createContainer| length] |= . + {\"path\": \"/kind/bin/mount-product-files.sh\"}" \
      | jq "del(.process.rlimits)" >/etc/containerd/cri-base.json
    find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete
    rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
      /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
      /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
    echo "ReadKMsg=no" >>/etc/systemd/journald.conf
    ln -sf /usr/lib/systemd/systemd /sbin/init
    systemctl enable kubelet.service containerd.service undo-mount-hacks.service
    systemctl mask systemd-binfmt.service
    rm -rf /var/cache/apt/archives/*.deb /var/lib/apt/lists/* /usr/share/doc /usr/share/man /usr/share/locale
  '
  tar -C "$root" -c . | docker import - "$NODE_BASE_IMAGE.rootfs" >/dev/null
  rm -rf "$root"
  # docker import cannot set STOPSIGNAL: one Dockerfile step adds the image config
  local ctx; ctx=$(mktemp -d "$CACHE/rootfs/base.XXXXXX")
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $NODE_BASE_IMAGE.rootfs
ENV container=docker
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build -q -t "$NODE_BASE_IMAGE" "$ctx" >/dev/null 2>"$CACHE/logs/docker-build.log"
  docker rmi "$NODE_BASE_IMAGE.rootfs" >/dev/null
  rm -rf "$ctx"
}

SHELL_PACKAGES="busybox-static,libc6"
build_shell_image() {
  # a small shell-capable image: Debian's static busybox, every applet linked, plus
  # libc6's shared objects: static glibc still dlopens NSS modules for names and users
  local root="$CACHE/rootfs/shell" debs="$CACHE/debs/shell"
  rm -rf "$root" "$debs"; mkdir -p "$root"/{bin,tmp,etc,data} "$debs"
  (cd "$debs" && apt-get download busybox-static libc6 >/dev/null 2>&1) \
    || die "downloading Debian's busybox-static and libc6 failed; check that the Debian archive answers."
  local deb
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$debs/x"; done
  cp "$debs/x/bin/busybox" "$root/bin/busybox"
  cp -a "$debs/x/lib" "$debs/x/lib64" "$root/" 2>/dev/null || cp -a "$debs/x/usr/lib" "$root/lib"
  [[ -e $root/lib64 ]] || cp -a "$debs/x/lib64" "$root/" 2>/dev/null || true
  [[ -d $debs/x/usr/lib ]] && mkdir -p "$root/usr" && cp -a "$debs/x/usr/lib" "$root/usr/"
  rm -rf "$debs" "$root"/usr/lib/gconv 2>/dev/null || true
  local a
  for a in $("$root/bin/busybox" --list); do [[ $a == busybox ]] || ln -sf busybox "$root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  chmod 1777 "$root/tmp"
  tar -C "$root" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$IMAGE_SHELL" >/dev/null
  rm -rf "$root"
}

build_images() {
  local kb; kb="$(K8S_DIR)/bin"
  mkdir -p "$CACHE/rootfs"
  static_image "$IMAGE_KUBE_APISERVER" '' "$kb/kube-apiserver"
  static_image "$IMAGE_KUBE_CONTROLLER_MANAGER" '' "$kb/kube-controller-manager"
  static_image "$IMAGE_KUBE_SCHEDULER" '' "$kb/kube-scheduler"
  static_image "$IMAGE_ETCD" '' "$CACHE/etcd/$ETCD_VERSION/bin/etcd"
  static_image "$IMAGE_COREDNS" '["/usr/local/bin/coredns"]' "$CACHE/coredns/$COREDNS_VERSION/bin/coredns"
  # pause: FROM scratch, /pause
  local r; r=$(mktemp -d "$CACHE/rootfs/pause.XXXXXX")
  install -m 0755 "$CACHE/pause/$PAUSE_VERSION/pause" "$r/pause"
  tar -C "$r" -c . | docker import --change 'ENTRYPOINT ["/pause"]' --change 'USER 65535:65535' - "$IMAGE_PAUSE" >/dev/null
  rm -rf "$r"
  # kube-proxy and the CNI route agent need iptables/ip: layered on the node base
  local ctx; ctx=$(mktemp -d "$CACHE/rootfs/proxy.XXXXXX")
  install -m 0755 "$kb/kube-proxy" "$kb/kubectl" "$ctx/"
  printf 'FROM %s\nCOPY kube-proxy /usr/local/bin/kube-proxy\nCOPY kubectl /usr/local/bin/kubectl\nENTRYPOINT []\nCMD ["/bin/sh"]\n' \
    "$NODE_BASE_IMAGE" >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE_KUBE_PROXY" -t "$IMAGE_CNI" "$ctx" >/dev/null 2>"$CACHE/logs/docker-build.log"
  rm -rf "$ctx"
}

# storage images (CSI driver, sidecars, snapshot-controller, PostgreSQL): build_storage, storage_images
# shellcheck source=cluster/offline/build-storage.sh
source "$here/build-storage.sh"

# the images every node holds in containerd before kubeadm runs
preload_images() {
  echo "$IMAGE_KUBE_APISERVER $IMAGE_KUBE_CONTROLLER_MANAGER $IMAGE_KUBE_SCHEDULER $IMAGE_KUBE_PROXY $IMAGE_ETCD $IMAGE_COREDNS $IMAGE_PAUSE $IMAGE_CNI $IMAGE_SHELL $(storage_images)"
}

# The etcd, CoreDNS and pause versions are the ones kubeadm of KUBE_VERSION deploys (its
# `config images list`); KUBEDRILL_ETCD_VERSION and KUBEDRILL_COREDNS_VERSION build another
# etcd or CoreDNS module version under the same image reference. Recorded in the cache
# (pins_file, cluster/pins.sh) for kubedrill.pins and cluster/up.sh.
record_kubeadm_pins() {
  local list pinned f over var
  list=$("$(K8S_DIR)/bin/kubeadm" config images list --kubernetes-version "$KUBE_VERSION" 2>"$CACHE/logs/kubeadm-images.log") \
    || die "'kubeadm config images list' of $KUBE_VERSION failed; see $CACHE/logs/kubeadm-images.log."
  pinned=$(kubeadm_pins <<<"$list") || die "cannot tell which etcd, CoreDNS and pause kubeadm $KUBE_VERSION deploys (above)."
  for var in ETCD_VERSION COREDNS_VERSION; do
    over=KUBEDRILL_$var
    [[ -n ${!over:-} ]] || continue
    [[ ${!over} =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "$over must look like v1.2.3, not '${!over}'."
    log "$var=${!over} ($over; kubeadm $KUBE_VERSION deploys $(sed -n "s/^$var=//p" <<<"$pinned"))"
    pinned=$(sed "s/^$var=.*/$var=${!over}/" <<<"$pinned")
  done
  set -a
  # shellcheck disable=SC1090
  source <(echo "$pinned")
  set +a
  f=$(pins_file)
  mkdir -p "${f%/*}"
  printf '# kubeadm %s deploys these (kubeadm config images list); written by cluster/offline/build.sh\n%s\n' \
    "$KUBE_VERSION" "$pinned" >"$f.part"
  if cmp -s "$f.part" "$f"; then rm -f "$f.part"; else mv -f "$f.part" "$f"; fi
  log "kubeadm $KUBE_VERSION deploys etcd $IMAGE_ETCD, CoreDNS $IMAGE_COREDNS, pause $IMAGE_PAUSE (recorded in $f)"
}

# every image kubeadm deploys must be one this build makes
check_kubeadm_images() {
  local want got
  want=$(printf '%s\n' "$IMAGE_KUBE_APISERVER" "$IMAGE_KUBE_CONTROLLER_MANAGER" "$IMAGE_KUBE_SCHEDULER" \
    "$IMAGE_KUBE_PROXY" "$IMAGE_COREDNS" "$IMAGE_PAUSE" "$IMAGE_ETCD" | sort)
  got=$("$(K8S_DIR)/bin/kubeadm" config images list --kubernetes-version "$KUBE_VERSION" 2>/dev/null | sort)
  if [[ $want != "$got" ]]; then
    die "kubeadm $KUBE_VERSION deploys $(comm -13 <(echo "$want") <(echo "$got") | xargs), which this build does not make (it makes $(comm -23 <(echo "$want") <(echo "$got") | xargs) instead); see IMAGE_* in cluster/versions.env."
  fi
}

build_node_image() {
  local kb; kb="$(K8S_DIR)/bin"
  local ctx; ctx=$(mktemp -d "$CACHE/rootfs/node.XXXXXX")
  install -m 0755 "$kb/kubeadm" "$kb/kubelet" "$kb/kubectl" "$ctx/"
  echo "$KUBE_VERSION" >"$ctx/version"
  sed "s#kubedrill.local/route-agent:KUBE_VERSION#$IMAGE_CNI#" "$repo/cluster/manifests/cni.yaml" >"$ctx/default-cni.yaml"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $NODE_BASE_IMAGE
COPY kubeadm kubelet kubectl /usr/bin/
COPY version /kind/version
COPY default-cni.yaml /kind/manifests/default-cni.yaml
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build -q -t "$NODE_IMAGE.stage" "$ctx" >/dev/null 2>"$CACHE/logs/docker-build.log"
  # import the images into containerd's k8s.io namespace, as kind's nodeimage builder does
  local c images
  images=$(preload_images)
  c=$(docker run -d --privileged --entrypoint=sleep "$NODE_IMAGE.stage" infinity)
  docker exec "$c" mkdir -p /kind/images
  # shellcheck disable=SC2086
  docker save $images -o "$ctx/images.tar"
  # copied into the container, not the image: removed before the commit, it costs no layer
  tar -C "$ctx" -c images.tar | docker cp - "$c:/kind/images/"
  rm -rf "$ctx"
  docker exec "$c" sh -ec '
    mkdir -p /run/containerd
    (containerd >/var/log/containerd-build.log 2>&1 &)
    timeout 60 sh -c "until ctr version >/dev/null 2>&1; do sleep 0.2; done"
    for t in /kind/images/*; do ctr -n k8s.io images import --all-platforms --no-unpack "$t" >/dev/null; done
    rm -rf /kind/images
    ctr -n k8s.io images ls -q
    pkill -x containerd
    # the stage container runs sleep as PID 1, which reaps nothing: wait for exit, not reaping
    timeout 30 sh -c "while ps -o stat= -C containerd | grep -qv Z; do sleep 0.2; done"
    rm -f /var/log/containerd-build.log
  ' | sed 's/^/kubedrill: build: preloaded /' >&2
  docker commit \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
    --change 'CMD []' \
    "$c" "$NODE_IMAGE" >/dev/null
  docker rm -f "$c" >/dev/null
  docker rmi "$NODE_IMAGE.stage" >/dev/null
  prune_superseded
}

# remove images of earlier builds that this build superseded: node images of this Kubernetes
# version with older keys, node bases no node image left is built on, untagged leftovers.
# Other Kubernetes versions' node images stay (each version is a cache of its own).
prune_superseded() {
  local ref layers
  for ref in $(docker images --format '{{.Repository}}:{{.Tag}}' --filter "reference=kubedrill.local/node:$KUBE_VERSION-*"); do
    [[ $ref == "$NODE_IMAGE" ]] && continue
    docker rmi "$ref" >/dev/null 2>&1 && log "removed superseded image $ref" || true
  done
  layers=$(for ref in $(docker images --format '{{.Repository}}:{{.Tag}}' --filter 'reference=kubedrill.local/node:*'); do
    docker image inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' "$ref"; done)
  for ref in $(docker images --format '{{.Repository}}:{{.Tag}}' --filter 'reference=kubedrill.local/node-base:*'); do
    [[ $ref == "$NODE_BASE_IMAGE" ]] && continue
    # a node image built on this base carries the base's top layer
    grep -qxF "$(docker image inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' "$ref" | grep . | tail -1)" <<<"$layers" && continue
    docker rmi "$ref" >/dev/null 2>&1 && log "removed superseded image $ref" || true
  done
  docker images -q --filter dangling=true | while read -r id; do
    # only images this builder made (docker import leaves this comment); nothing else is touched
    [[ $(docker image inspect -f '{{.Comment}}' "$id" 2>/dev/null) == "Imported from -" ]] && docker rmi "$id" >/dev/null 2>&1 || true
  done
}

main() {
  check_prereqs
  [[ ${1:-} == --check ]] && { log "prerequisites present"; return 0; }
  mkdir -p "$CACHE/logs"
  local kk ek ck pk bk sk ik nk
  kk=$(key "$KUBE_VERSION" "$here/gomod-wrapper.sh" k8s-v1)
  # kubeadm says which etcd, CoreDNS and pause this Kubernetes version deploys: it is built first
  stage kubernetes "$kk" build_k8s "$KUBE_VERSION"
  mkdir -p "$CACHE/bin" && ln -sf "$(K8S_DIR)/bin/kubectl" "$CACHE/bin/kubectl"
  record_kubeadm_pins
  check_kubeadm_images
  ek=$(key "$ETCD_VERSION" "$here/gomod-wrapper.sh" etcd-v1)
  ck=$(key "$COREDNS_VERSION" "$here/gomod-wrapper.sh" coredns-v1)
  pk=$(key "$PAUSE_VERSION" "$KUBE_VERSION" pause-v1)
  bk=$(key "$DEBIAN_SUITE" "$NODE_PACKAGES" "$KIND_VERSION" "$PAUSE_VERSION" base-v1 "$(declare -f build_node_base)")
  NODE_BASE_IMAGE="kubedrill.local/node-base:$bk"
  sk=$(key "$SHELL_PACKAGES" "$IMAGE_SHELL" "$(declare -f build_shell_image)")
  ik=$(key "$kk" "$ek" "$ck" "$pk" "$bk" "$(preload_images)" "$(declare -f build_images static_image static_root)")
  # the storage images are built (or found cached) first: the node image preloads them
  build_storage all
  local stk
  stk=$(key $(for i in $(storage_images); do docker image inspect -f '{{.Id}}' "$i"; done))
  nk=$(key "$ik" "$sk" "$stk" "$(preload_images)" "$repo/cluster/manifests/cni.yaml" "$(declare -f build_node_image)")
  NODE_IMAGE="kubedrill.local/node:$KUBE_VERSION-$nk"

  if [[ ${1:-} == --stage ]]; then # run one stage (for debugging the builder)
    case $2 in
      node-base) stage node-base "$bk" build_node_base "$PAUSE_VERSION" ;;
      shell-image) stage shell-image "$sk" build_shell_image ;;
      etcd) stage etcd "$ek" build_etcd "$ETCD_VERSION" ;;
      coredns) stage coredns "$ck" build_coredns "$COREDNS_VERSION" ;;
      pause) stage pause "$pk" build_pause "$PAUSE_VERSION" ;;
      *) die "unknown stage '$2'; stages: node-base shell-image etcd coredns pause" ;;
    esac
    return 0
  fi
  if image_exists "$NODE_IMAGE" && [[ -z ${KUBEDRILL_REBUILD:-} ]]; then
    log "node image $NODE_IMAGE is built (cache: $CACHE)"
    echo "$NODE_IMAGE"
    return 0
  fi
  stage etcd "$ek" build_etcd "$ETCD_VERSION"
  stage coredns "$ck" build_coredns "$COREDNS_VERSION"
  stage pause "$pk" build_pause "$PAUSE_VERSION"
  image_exists "$NODE_BASE_IMAGE" || rm -f "$CACHE/stamps/node-base-$bk"
  stage node-base "$bk" build_node_base "$PAUSE_VERSION"
  image_exists "$IMAGE_SHELL" || rm -f "$CACHE/stamps/shell-image-$sk"
  stage shell-image "$sk" build_shell_image
  image_exists "$IMAGE_KUBE_PROXY" && image_exists "$IMAGE_ETCD" || rm -f "$CACHE/stamps/images-$ik"
  stage images "$ik" build_images "$KUBE_VERSION"
  stage node-image "$nk" build_node_image "$KUBE_VERSION"
  log "node image $NODE_IMAGE: $(docker image inspect -f '{{.Size}}' "$NODE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
  echo "$NODE_IMAGE"
}

main "$@"
