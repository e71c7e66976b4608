#!/usr/bin/env bash
# Storage for the kind cluster (run by cluster/up.sh; idempotent, safe to rerun):
#   - the VolumeSnapshot CRDs and the snapshot-controller, from external-snapshotter's own
#     config and deploy files in the Go module cache (nothing upstream is copied into the repo)
#   - kubedrill's CSI hostpath driver (cluster/csi) as a DaemonSet with external-provisioner and
#     csi-snapshotter in --node-deployment mode, in the namespace kubedrill-storage
#   - StorageClasses kubedrill-hostpath (the only default) and kubedrill-hostpath-retain, and the
#     default VolumeSnapshotClass kubedrill-hostpath-snapclass
# Every image is built locally when missing (cluster/offline/build-storage.sh) and loaded onto
# every node with `kind load`; none is pulled (imagePullPolicy IfNotPresent).
set -Eeuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
set -a; source "$here/versions.env"; set +a
NAME=${KUBEDRILL_CLUSTER_NAME:-$KIND_CLUSTER_NAME}
CONTEXT=${KUBEDRILL_CONTEXT:-kind-$NAME}
CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
KIND="$CACHE/bin/kind-$KIND_VERSION"
NS=kubedrill-storage
DRIVER=hostpath.csi.kubedrill.io
MANIFESTS="$here/manifests/storage"
T0=$SECONDS

log() { printf 'kubedrill: storage: %s (%d s)\n' "$*" "$((SECONDS - T0))" >&2; }
die() { printf 'kubedrill: error: storage: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "kubedrill: error: storage: failed at line %s (%s); fix and rerun cluster/storage.sh (it is idempotent).\n" "$LINENO" "$BASH_COMMAND" >&2; exit $rc' ERR
k() { kubectl --context "$CONTEXT" "$@"; }

k get --raw /readyz >/dev/null 2>&1 || die "the cluster behind context $CONTEXT does not answer; run 'make cluster' first."

# ------------------------------------------------------------------ images
# cached per stage: only what changed (or is missing) is built
log "storage images: building what is missing or changed (cluster/offline/build-storage.sh)"
"$here/offline/build-storage.sh" >/dev/null || die "building the storage images failed (see above); rerun cluster/storage.sh once fixed."
images=$("$here/offline/build-storage.sh" --list | tr '\n' ' ')
[[ -x $KIND ]] || KIND=$(command -v kind) || die "kind $KIND_VERSION is not installed; run 'make cluster' (it installs kind into $CACHE/bin)."
# shellcheck source=cluster/kind-load.sh
source "$here/kind-load.sh"
kind_load_missing "$KIND" "$NAME" "$CACHE/logs/kind-load.log" $images
log "every storage image is on every node: $images"
# the pod templates carry the images' IDs: a rebuilt image under the same tag rolls the pods
images_id() { for i in "$@"; do docker image inspect -f '{{.Id}}' "$i"; done | sha256sum | cut -c1-12; }
PLUGIN_IMAGES_ID=$(images_id "$IMAGE_CSI_HOSTPATH" "$IMAGE_CSI_PROVISIONER" "$IMAGE_CSI_SNAPSHOTTER")
CONTROLLER_IMAGES_ID=$(images_id "$IMAGE_SNAPSHOT_CONTROLLER")

# ------------------------------------------------------------------ upstream config from the Go module cache
modir() { # MODULE@VERSION -> its directory in the module cache (downloaded if needed)
  (cd / && GOFLAGS='' go mod download -json "$1" 2>/dev/null | jq -r '.Dir // empty') \
    || true
}
sv=${IMAGE_CSI_SNAPSHOTTER##*:} pv=${IMAGE_CSI_PROVISIONER##*:}
snap_dir=$(modir "github.com/kubernetes-csi/external-snapshotter/v8@$sv")
client_dir=$(modir "github.com/kubernetes-csi/external-snapshotter/client/v8@$sv")
prov_dir=$(modir "github.com/kubernetes-csi/external-provisioner/v5@$pv")
[[ -d $snap_dir && -d $client_dir && -d $prov_dir ]] \
  || die "external-snapshotter $sv and external-provisioner $pv could not be read from the Go module cache; check that Go is installed and the module proxy answers."

log "namespace $NS, VolumeSnapshot CRDs (external-snapshotter client $sv)"
k apply -f "$MANIFESTS/namespace.yaml" >/dev/null
k apply --server-side --force-conflicts -k "$client_dir/config/crd" >/dev/null
k wait --for=condition=Established --timeout=60s \
  crd/volumesnapshots.snapshot.storage.k8s.io crd/volumesnapshotcontents.snapshot.storage.k8s.io \
  crd/volumesnapshotclasses.snapshot.storage.k8s.io >/dev/null \
  || die "the VolumeSnapshot CRDs did not become Established within 60 s."

log "snapshot-controller $sv (upstream deploy files, namespace $NS, distributed snapshotting, replicas on different nodes)"
overlay=$(mktemp -d)
trap 'rm -rf "$overlay"' EXIT
cat >"$overlay/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $NS
resources:
  - $(realpath --relative-to="$overlay" "$snap_dir/deploy/kubernetes/snapshot-controller")
images:
  - name: registry.k8s.io/sig-storage/snapshot-controller
    newName: ${IMAGE_SNAPSHOT_CONTROLLER%:*}
    newTag: ${IMAGE_SNAPSHOT_CONTROLLER##*:}
labels:
  - pairs:
      app.kubernetes.io/part-of: kubedrill-storage
patches:
  - target: {kind: Deployment, name: snapshot-controller}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --enable-distributed-snapshotting=true
      - op: replace
        path: /spec/template/spec/containers/0/imagePullPolicy
        value: IfNotPresent
      - op: add
        path: /spec/template/metadata/annotations
        value: {kubedrill.io/images-id: "$CONTROLLER_IMAGES_ID"}
      - op: add
        path: /spec/template/spec/affinity
        value:
          podAntiAffinity:
            preferredDuringSchedulingIgnoredDuringExecution:
              - weight: 100
                podAffinityTerm:
                  topologyKey: kubernetes.io/hostname
                  labelSelector:
                    matchLabels: {app.kubernetes.io/name: snapshot-controller}
YAML
k apply -k "$overlay" >/dev/null

log "CSI sidecar ClusterRoles (external-provisioner $pv, csi-snapshotter $sv) and kubedrill's bindings"
for f in "$prov_dir/deploy/kubernetes/rbac.yaml" "$snap_dir/deploy/kubernetes/csi-snapshotter/rbac-csi-snapshotter.yaml"; do
  k create --dry-run=client -o json -f "$f" \
    | jq '{apiVersion: "v1", kind: "List", items: [(if .kind == "List" then .items[] else . end) | select(.kind == "ClusterRole")]}' \
    | k apply -f - >/dev/null
done
k apply -f "$MANIFESTS/rbac.yaml" -f "$MANIFESTS/csidriver.yaml" >/dev/null

log "CSI hostpath plugin DaemonSet ($IMAGE_CSI_HOSTPATH)"
sed -e "s#\${IMAGE_CSI_HOSTPATH}#$IMAGE_CSI_HOSTPATH#g" \
    -e "s#\${IMAGE_CSI_PROVISIONER}#$IMAGE_CSI_PROVISIONER#g" \
    -e "s#\${IMAGE_CSI_SNAPSHOTTER}#$IMAGE_CSI_SNAPSHOTTER#g" -e "s#\${PLUGIN_IMAGES_ID}#$PLUGIN_IMAGES_ID#g" "$MANIFESTS/plugin.yaml" | k apply -f - >/dev/null

log "StorageClasses and the default VolumeSnapshotClass"
k apply -f "$MANIFESTS/classes.yaml" >/dev/null
# the CSI class is the only default: every other class loses the default annotation
for sc in $(k get storageclass -o json | jq -r '.items[] | select(.metadata.annotations["storageclass.kubernetes.io/is-default-class"] == "true" and .metadata.name != "kubedrill-hostpath") | .metadata.name'); do
  log "storage class $sc is no longer the default"
  k annotate storageclass "$sc" storageclass.kubernetes.io/is-default-class=false --overwrite >/dev/null
done

# ------------------------------------------------------------------ ready
log "waiting for the plugin on every worker (up to 180 s)"
if ! k -n "$NS" rollout status daemonset/kubedrill-csi --timeout=180s >/dev/null; then
  k -n "$NS" get pods -o wide >&2 || true
  die "the CSI plugin DaemonSet did not become Ready within 180 s; see 'kubectl -n $NS logs ds/kubedrill-csi -c hostpath' and 'kubectl -n $NS describe pods'."
fi
# Ready means registered (the readiness probe); each CSINode must list the driver too
for node in $(k -n "$NS" get pods -l app.kubernetes.io/name=kubedrill-csi -o jsonpath='{.items[*].spec.nodeName}'); do
  timeout 60 sh -c "until kubectl --context '$CONTEXT' get csinode '$node' -o json 2>/dev/null | jq -e --arg d '$DRIVER' 'any(.spec.drivers[]?; .name == \$d)' >/dev/null; do sleep 1; done" \
    || die "node $node's kubelet did not register $DRIVER within 60 s (CSINode $node); see 'kubectl -n $NS logs ds/kubedrill-csi -c hostpath'."
done
log "waiting for the snapshot-controller (up to 180 s)"
if ! k -n "$NS" rollout status deployment/snapshot-controller --timeout=180s >/dev/null; then
  k -n "$NS" get pods -o wide >&2 || true
  die "the snapshot-controller did not become Ready within 180 s; see 'kubectl -n $NS logs deploy/snapshot-controller'."
fi
log "ready: driver $DRIVER on $(k get csinode -o json | jq -r --arg d "$DRIVER" '[.items[] | select(any(.spec.drivers[]?; .name == $d)) | .metadata.name] | join(", ")'); default class kubedrill-hostpath, Retain class kubedrill-hostpath-retain, snapshot class kubedrill-hostpath-snapclass"
