#!/usr/bin/env bash
# The in-cluster game day (deploy/gameday, docs/gameday.md) on the local kind cluster, or on the
# cluster of CONTEXT:
#   cluster/gameday.sh install        the kubedrill image into the kind nodes (kind load; skipped with
#                                     CONTEXT=, whose nodes pull it from your registry), then
#                                     `kubectl apply -k deploy/gameday/kind` (GAMEDAY_KUSTOMIZE= to choose)
#   cluster/gameday.sh now            one run now: a Job from the CronJob, its log followed; then its
#                                     reports copied from the kubedrill-state claim into
#                                     reports/gameday/<job>/; exits with the run's own exit code
#   cluster/gameday.sh fetch JOB      copy a finished run's reports again (the claim keeps the last run's)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
NAME=${KUBEDRILL_CLUSTER_NAME:-$KIND_CLUSTER_NAME}
CONTEXT=${CONTEXT:-}
NS=kubedrill-gameday
CRONJOB=kubedrill-gameday
CLAIM=kubedrill-state
MOUNT=/var/lib/kubedrill
KUSTOMIZE=${GAMEDAY_KUSTOMIZE:-}
CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
KIND="$CACHE/bin/kind-$KIND_VERSION"   # cluster/up.sh installs it
log() { echo "kubedrill: gameday: $*" >&2; }
die() { echo "kubedrill: error: $*" >&2; exit 4; }

ctx=${CONTEXT:-kind-$NAME}
k() { kubectl --context "$ctx" "$@"; }
# shellcheck source=cluster/kind-load.sh
source "$here/kind-load.sh"

install() {
  if [[ -z $CONTEXT ]]; then
    "$KIND" get clusters 2>/dev/null | grep -qx "$NAME" || die "no kind cluster '$NAME'; run 'make cluster' first."
    docker image inspect "$IMAGE_KUBEDRILL" >/dev/null 2>&1 || die "the image $IMAGE_KUBEDRILL is not built; run 'make image'."
    mkdir -p "$CACHE/logs"
    kind_load_missing "$KIND" "$NAME" "$CACHE/logs/kind-load-gameday.log" "$IMAGE_KUBEDRILL"
    log "$IMAGE_KUBEDRILL is on every node of '$NAME'"
    # the local volume of deploy/gameday/kind/state-volume.yaml, owned by the runner's user
    local node
    for node in $(k get nodes -l node-role.kubernetes.io/control-plane -o name | cut -d/ -f2); do
      docker exec "$node" install -d -o 10001 -g 10001 -m 0750 /var/lib/kubedrill-gameday
    done
  fi
  local dir=${KUSTOMIZE:-$repo/deploy/gameday/kind}
  [[ -n $CONTEXT && -z $KUSTOMIZE ]] && dir=$repo/deploy/gameday
  log "applying $(realpath --relative-to="$repo" "$dir") to context $ctx"
  k apply -k "$dir" | sed 's/^/kubedrill: gameday: /' >&2
  log "installed: CronJob $NS/$CRONJOB ($(k -n "$NS" get cronjob "$CRONJOB" -o jsonpath='{.spec.schedule} {.spec.timeZone}')); 'make gameday-now' runs it once"
}

# a short-lived pod on the claim, to read the reports (the runner's pod has ended): the CronJob's own
# pod template (its node affinity, tolerations, security context and image: the claim may be bound
# to the runner's node) with the claim read-only and `sleep` for a command
reader() {
  local pod=$1
  k -n "$NS" get cronjob "$CRONJOB" -o json | jq --arg name "$pod" --arg mount "$MOUNT" '
    .spec.jobTemplate.spec.template.spec as $t
    | {apiVersion: "v1", kind: "Pod",
       metadata: {name: $name, labels: {"app.kubernetes.io/name": "kubedrill-gameday-reader", "app.kubernetes.io/part-of": "kubedrill"}},
       spec: (($t | {affinity, tolerations, securityContext, nodeSelector} | with_entries(select(.value != null)))
         + {restartPolicy: "Never", terminationGracePeriodSeconds: 0,
            containers: [{name: "reader", image: $t.containers[0].image, imagePullPolicy: "IfNotPresent",
                          command: ["sleep", "600"], securityContext: $t.containers[0].securityContext,
                          volumeMounts: [{name: "state", mountPath: $mount, readOnly: true}]}],
            volumes: [$t.volumes[] | select(.name == "state")]})}' \
    | k -n "$NS" apply -f - >/dev/null
  k -n "$NS" wait --for=condition=Ready "pod/$pod" --timeout=180s >/dev/null \
    || { k -n "$NS" delete pod "$pod" --now >/dev/null 2>&1 || true; die "the reader pod on claim $CLAIM did not start within 180 s."; }
}

fetch() {
  local job=$1 out=${2:-$repo/reports/gameday/$1} reader_pod="kubedrill-reader-$$" rc=0
  reader "$reader_pod"
  rm -rf "$out"; mkdir -p "$out"
  k -n "$NS" exec "$reader_pod" -- tar -C "$MOUNT/reports" -cf - . | tar -C "$out" -xf - || rc=$?
  k -n "$NS" delete pod "$reader_pod" --now --wait=false >/dev/null 2>&1 || true
  ((rc == 0)) || die "copying the reports from claim $CLAIM failed (tar exit $rc)."
  log "reports of $job: $out (results.json, junit.xml, allure-results; the claim $NS/$CLAIM keeps them until the next run)"
}

now() {
  k -n "$NS" get cronjob "$CRONJOB" >/dev/null 2>&1 || die "no CronJob $NS/$CRONJOB on context $ctx; run 'make gameday-install' first."
  local job="$CRONJOB-now-$(date -u +%Y%m%d%H%M%S)"
  k -n "$NS" create job "$job" --from="cronjob/$CRONJOB" >/dev/null
  log "started Job $NS/$job; following its log (the run stops itself at the CronJob's activeDeadlineSeconds)"
  local deadline; deadline=$(k -n "$NS" get job "$job" -o jsonpath='{.spec.activeDeadlineSeconds}')
  local pod code
  # the Job's pod (a Job with backoffLimit 0 makes one), then its container started or ended
  k -n "$NS" wait "job/$job" --for=jsonpath='{.status.active}'=1 --timeout=120s >/dev/null 2>&1 \
    || k -n "$NS" wait "job/$job" --for=jsonpath='{.status.failed}'=1 --timeout=1s >/dev/null 2>&1 \
    || die "Job $job made no pod within 120 s: $(k -n "$NS" describe job "$job" | tail -3)"
  pod=$(k -n "$NS" get pods -l "batch.kubernetes.io/job-name=$job" -o jsonpath='{.items[0].metadata.name}')
  [[ -n $pod ]] || die "Job $job has no pod: $(k -n "$NS" describe job "$job" | tail -3)"
  log "pod $pod; waiting for it to start (its claim bound, its image present)"
  k -n "$NS" wait "pod/$pod" --for=jsonpath='{.status.containerStatuses[0].containerID}' --timeout=600s >/dev/null \
    || die "pod $pod did not start within 600 s: $(k -n "$NS" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.waiting.message}{.status.conditions[?(@.type=="PodScheduled")].message}')"
  k -n "$NS" logs -f "pod/$pod" || log "the log stream ended early; waiting for the run's end"
  k -n "$NS" wait "pod/$pod" --for=jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}' \
    --timeout="${deadline:-10800}s" >/dev/null \
    || die "the run in pod $pod has not ended; follow it with: kubectl --context $ctx -n $NS logs -f $pod"
  code=$(k -n "$NS" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')
  log "Job $job ended: exit $code"
  fetch "$job"
  return "$code"
}

case ${1:-} in
  install) install ;;
  now) now ;;
  fetch) [[ -n ${2:-} ]] || die "usage: cluster/gameday.sh fetch JOB [DIR]"; fetch "$2" "${3:-}" ;;
  *) die "usage: cluster/gameday.sh install|now|fetch JOB [DIR]" ;;
esac
