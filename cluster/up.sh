#!/usr/bin/env bash
# make cluster: create, or reuse when healthy, the kind cluster (1 control plane, 2 workers).
#   KUBEDRILL_CLUSTER_MODE=auto|online|offline   (make cluster MODE=offline)
#   KUBEDRILL_KUBE_VERSION=v1.35.4                 (make cluster KUBE_VERSION=v1.36.3; the etcd, CoreDNS
#                                                   and pause versions are the ones its kubeadm deploys)
#   KUBEDRILL_CLUSTER_REUSE_ONLY=1                 reuse the cluster as it is, or fail: never start,
#                                                  create or delete a node (a cluster others share)
# A stopped node container is started again; a cluster that still is not Ready, or runs
# another node image than the one wanted, is deleted and created anew. Never reported
# ready unless every node is Ready and kube-system's pods are Ready.
# Only a cluster kubedrill's own record says it created is used, repaired or deleted, and only
# while no drill holds it (the drill lock): see cluster/ownership.sh.
set -Eeuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=cluster/pins.sh
source "$here/pins.sh"
load_pins
NAME=${KUBEDRILL_CLUSTER_NAME:-$KIND_CLUSTER_NAME}
MODE=${KUBEDRILL_CLUSTER_MODE:-auto}
CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
CONTEXT="kind-$NAME"
T0=$SECONDS

log() { printf 'kubedrill: cluster: %s\n' "$*" >&2; }
die() { printf 'kubedrill: error: %s\n' "$*" >&2; exit 1; }
step() { log "$* ($((SECONDS - T0)) s)"; }
# $1: what reusing the cluster as it is would need instead
reuse_only() {
  if [[ -n ${KUBEDRILL_CLUSTER_REUSE_ONLY:-} ]]; then
    die "KUBEDRILL_CLUSTER_REUSE_ONLY is set: the cluster '$NAME' is left as it is instead of $1."
  fi
}

case $MODE in auto|online|offline) ;; *) die "MODE must be auto, online or offline, not '$MODE'." ;; esac
[[ $KUBE_VERSION =~ ^v1\.[0-9]+\.[0-9]+$ ]] || die "KUBE_VERSION must look like v1.35.4, not '$KUBE_VERSION'."
mkdir -p "$CACHE/bin" "$CACHE/logs"
exec 9>"$CACHE/cluster.lock"
flock -n 9 || { log "another 'make cluster' runs; waiting for it"; flock 9; }

# ------------------------------------------------------------------ kind
KIND="$CACHE/bin/kind-$KIND_VERSION"
if [[ ! -x $KIND ]]; then
  if command -v kind >/dev/null && [[ $(kind version 2>/dev/null) == "kind $KIND_VERSION "* ]]; then
    ln -sf "$(command -v kind)" "$KIND"
  else
    command -v go >/dev/null || die "kind $KIND_VERSION is not installed and Go is missing to build it; install Go 1.25+ and run again."
    log "installing kind $KIND_VERSION (go install sigs.k8s.io/kind@$KIND_VERSION)"
    GOBIN="$CACHE/bin/.kind-$KIND_VERSION" GOFLAGS= go install "sigs.k8s.io/kind@$KIND_VERSION" \
      || die "go install sigs.k8s.io/kind@$KIND_VERSION failed; check that the Go module proxy answers."
    mv "$CACHE/bin/.kind-$KIND_VERSION/kind" "$KIND" && rmdir "$CACHE/bin/.kind-$KIND_VERSION"
  fi
fi
kind() { "$KIND" "$@"; }
source "$here/ownership.sh"

# ------------------------------------------------------------------ mode and node image
online_image=${ONLINE_NODE_IMAGE%:*}:$KUBE_VERSION
if [[ $MODE == auto ]]; then
  if docker image inspect "$online_image" >/dev/null 2>&1; then
    MODE=online; why="$online_image is already present"
  elif out=$(timeout 20 docker pull -q "$online_image" 2>&1); then
    MODE=online; why="pulled $online_image"
  else
    MODE=offline; why="cannot pull $online_image: $(tail -1 <<<"$out" | cut -c1-120)"
  fi
  log "mode: $MODE (chosen automatically: $why)"
else
  log "mode: $MODE (forced)"
fi
if [[ $MODE == online ]]; then
  docker image inspect "$online_image" >/dev/null 2>&1 || docker pull "$online_image" \
    || die "MODE=online but $online_image cannot be pulled; use MODE=offline to build every image locally."
  NODE_IMAGE=$online_image
  # what the node image's kubeadm deploys, recorded as the offline build records it (pins_file)
  pinned=$(docker run --rm --entrypoint kubeadm "$NODE_IMAGE" config images list --kubernetes-version "$KUBE_VERSION" 2>/dev/null \
    | kubeadm_pins) || die "cannot tell which etcd, CoreDNS and pause images the kubeadm of $NODE_IMAGE deploys."
  mkdir -p "$CACHE/pins"
  printf '# kubeadm %s deploys these (kubeadm config images list in %s); written by cluster/up.sh\n%s\n' \
    "$KUBE_VERSION" "$NODE_IMAGE" "$pinned" >"$(pins_file).part"
  mv -f "$(pins_file).part" "$(pins_file)"
else
  step "offline: building or reusing the node image (cache: $CACHE)"
  NODE_IMAGE=$("$here/offline/build.sh")
fi
load_pins
step "kubeadm $KUBE_VERSION deploys $IMAGE_ETCD, $IMAGE_COREDNS, $IMAGE_PAUSE ($(pins_file))"
step "node image: $NODE_IMAGE"
export PATH="$CACHE/bin:$PATH"
command -v kubectl >/dev/null || die "kubectl is missing; install it (Debian: kubernetes-client), or use MODE=offline, whose build links one into $CACHE/bin."

# ------------------------------------------------------------------ host limits
# Every kubelet and control-plane component takes inotify instances of the host's one
# per-user budget (128 by default); a second cluster exhausts it and kubelets fail with
# "too many open files" (kind's known-issues page gives the same fix).
for kv in fs.inotify.max_user_instances=8192 fs.inotify.max_user_watches=1048576; do
  k=${kv%=*} want=${kv#*=}
  have=$(sysctl -n "$k" 2>/dev/null || echo 0)
  if (( have < want )); then
    if sysctl -qw "$kv" 2>/dev/null; then
      log "raised $k from $have to $want (kind nodes need more inotify instances than the default)"
    else
      log "warning: $k is $have and cannot be raised here (needs root); kubelets may fail with 'too many open files'"
    fi
  fi
done

# ------------------------------------------------------------------ kind config
# Snapshots live in one host directory mounted into every node (a snapshot store off the
# nodes, as a cloud's would be): a restore can land on any worker, even after the
# snapshot's node is lost. Volumes stay node-local. (docs/storage.md)
state_dir="$CACHE/clusters/$NAME"
snapshots="$state_dir/snapshots"
cfg="$state_dir/kind.next.yaml"
mkdir -p "$state_dir"
mount_yaml="    extraMounts:
      - hostPath: $snapshots
        containerPath: /var/lib/kubedrill-csi/snapshots"
{
  cat <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: $NAME
nodes:
  - role: control-plane
  - role: worker
$mount_yaml
  - role: worker
$mount_yaml
# the nodes' containerd reads registry hosts from /etc/containerd/certs.d/<host:port>/hosts.toml
# (a team's registry and its CA; kind's local-registry way): tests/e2e/test_registry.py
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
YAML
  if [[ ! -f /sys/fs/cgroup/cgroup.controllers ]]; then
    cat <<YAML
kubeadmConfigPatches:
  - |
    kind: KubeletConfiguration
    failCgroupV1: false
YAML
  fi
} >"$cfg"
if [[ ! -f /sys/fs/cgroup/cgroup.controllers ]]; then
  log "cgroup v1 host: setting the kubelet's failCgroupV1: false (Kubernetes 1.35+ refuses cgroup v1 otherwise)"
fi

# ------------------------------------------------------------------ health
nodes_ready() { # seconds: all three nodes registered, then all Ready
  local deadline=$((SECONDS + $1))
  timeout "$1" sh -c "until [ \$(kubectl --context '$CONTEXT' get nodes --no-headers 2>/dev/null | wc -l) -eq 3 ]; do sleep 1; done" \
    && kubectl --context "$CONTEXT" wait --for=condition=Ready node --all --timeout="$((deadline - SECONDS > 1 ? deadline - SECONDS : 1))s" >/dev/null 2>&1
}
system_ready() { # seconds
  kubectl --context "$CONTEXT" -n kube-system wait --for=condition=Ready pod --all \
    --field-selector=status.phase!=Succeeded --timeout="${1}s" >/dev/null
}
containers() { docker ps -a --filter "label=io.x-k8s.kind.cluster=$NAME" --format '{{.Names}} {{.State}}'; }

# (A restart can give the nodes other IPs; kind's entrypoint rewrites the kubeadm
# manifests and kubelet flags to the new ones, so nothing here needs to.)

healthy_or_repaired() {
  local bad=0 name state img
  if ! cmp -s "$cfg" "$state_dir/kind.yaml"; then
    log "the cluster was made with another kind configuration than this one ($state_dir/kind.yaml): the cluster will be created anew"
    return 1
  fi
  while read -r name state; do
    [[ -z $name ]] && continue
    img=$(docker inspect -f '{{.Config.Image}}' "$name")
    if [[ $img != "$NODE_IMAGE" ]]; then
      log "node $name runs $img, not $NODE_IMAGE: the cluster will be created anew"
      return 1
    fi
    if [[ $state != running ]]; then
      reuse_only "starting its node container $name ($state)"
      log "node container $name is $state: starting it"
      docker start "$name" >/dev/null || bad=1
    fi
  done < <(containers)
  (( bad == 0 )) || return 1
  [[ $(containers | wc -l) -eq 3 ]] || { log "the cluster has $(containers | wc -l) node containers, not 3: the cluster will be created anew"; return 1; }
  kubectl config get-contexts "$CONTEXT" >/dev/null 2>&1 || kind export kubeconfig --name "$NAME" >/dev/null 2>&1
  step "waiting for the API server (up to 90 s)"
  api_answers 90 || { log "the API server does not answer after 90 s"; return 1; }
  step "waiting for 3 nodes Ready (up to 120 s)"
  nodes_ready 120 || { log "nodes are not all Ready after 120 s:"; kubectl --context "$CONTEXT" get nodes >&2 || true; return 1; }
  step "waiting for kube-system pods Ready (up to 120 s)"
  system_ready 120 || { log "kube-system pods are not all Ready after 120 s"; return 1; }
  return 0
}

create() {
  step "creating kind cluster '$NAME' (1 control plane, 2 workers)"
  rm -rf "$snapshots" && mkdir -p "$snapshots"
  rm -f "$record"
  cp "$cfg" "$state_dir/kind.yaml"
  if ! kind create cluster --name "$NAME" --image "$NODE_IMAGE" --config "$cfg" --wait 0s; then
    write_record || true
    die "kind create cluster failed; 'kind export logs --name $NAME' collects the node logs (the half-created cluster was left for that; 'make cluster' deletes and recreates it)."
  fi
  write_record || die "the new cluster's control plane container $control_plane cannot be found, so kubedrill cannot record the cluster as its own."
  step "waiting for 3 nodes Ready (up to 300 s)"
  nodes_ready 300 || { kubectl --context "$CONTEXT" get nodes >&2 || true; die "the new cluster's nodes did not all become Ready within 300 s; 'kind export logs --name $NAME' collects the node logs."; }
  step "waiting for kube-system pods Ready (up to 300 s)"
  system_ready 300 || { kubectl --context "$CONTEXT" -n kube-system get pods -o wide >&2 || true; die "kube-system pods did not all become Ready within 300 s."; }
}

if kind get clusters 2>/dev/null | grep -qx "$NAME"; then
  refuse_unless_ours "using, repairing or deleting it"
  step "cluster '$NAME' exists: checking that no drill holds it"
  refuse_if_a_drill_holds_it "repairing, restarting or deleting the cluster"
  step "cluster '$NAME': checking its health"
  if ! healthy_or_repaired; then
    reuse_only "deleting and creating it anew (it cannot be reused as it is)"
    log "cluster '$NAME' cannot be reused as it is: deleting and creating it anew"
    kind delete cluster --name "$NAME" >/dev/null 2>&1 || true
    create
  fi
else
  reuse_only "creating it (it does not exist)"
  create
fi

if [[ -x $here/storage.sh ]]; then
  step "storage"
  KUBEDRILL_CLUSTER_MODE=$MODE "$here/storage.sh"
fi
step "cluster '$NAME' is ready: context $CONTEXT, $(kubectl --context "$CONTEXT" version -o json 2>/dev/null | jq -r .serverVersion.gitVersion), mode $MODE"
