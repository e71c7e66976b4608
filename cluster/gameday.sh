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
log() { echo "kubedrill: gameday: $*" >&2; }
die() { echo "kubedrill: error: $*" >&2; exit 4; }

ctx=${CONTEXT:-kind-$NAME}
k() { kubectl --context "$ctx" "$@"; }

install() {
  if [[ -z $CONTEXT ]]; then
    kind get clusters 2>/dev/null | grep -qx "$NAME" || die "no kind cluster '$NAME'; run 'make cluster' first."
    docker image inspect "$IMAGE_KUBEDRILL" >/dev/null 2>&1 || die "the image $IMAGE_KUBEDRILL is not built; run 'make image'."
    log "loading $IMAGE_KUBEDRILL into the nodes of '$NAME' (kind load docker-image)"
    kind load docker-image "$IMAGE_KUBEDRILL" --name "$NAME" 2>&1 | sed 's/^/kubedrill: gameday: kind: /' >&2
  fi
  local dir=${KUSTOMIZE:-$repo/deploy/gameday/kind}
  [[ -n $CONTEXT && -z $KUSTOMIZE ]] && dir=$repo/deploy/gameday
  log "applying $(realpath --relative-to="$repo" "$dir") to context $ctx"
  k apply -k "$dir" | sed 's/^/kubedrill: gameday: /' >&2
  log "installed: CronJob $NS/$CRONJOB ($(k -n "$NS" get cronjob "$CRONJOB" -o jsonpath='{.spec.schedule} {.spec.timeZone}')); 'make gameday-now' runs it once"
}

# a short-lived pod on the claim, to read the reports (the runner's pod has ended)
reader() {
  local pod=$1
  k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  namespace: $NS
  labels: {app.kubernetes.io/name: kubedrill-gameday-reader, app.kubernetes.io/part-of: kubedrill}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 0
  securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: {type: RuntimeDefault}}
  tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]
  containers:
    - name: reader
      image: $(k -n "$NS" get cronjob "$CRONJOB" -o jsonpath='{.spec.jobTemplate.spec.template.spec.containers[0].image}')
      imagePullPolicy: IfNotPresent
      command: [sleep, "600"]
      securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
      volumeMounts: [{name: state, mountPath: $MOUNT, readOnly: true}]
  volumes: [{name: state, persistentVolumeClaim: {claimName: $CLAIM, readOnly: true}}]
YAML
  k -n "$NS" wait --for=condition=Ready "pod/$pod" --timeout=180s >/dev/null \
    || { k -n "$NS" delete pod "$pod" --now >/dev/null 2>&1 || true; die "the reader pod on claim $CLAIM did not start within 180 s."; }
}

fetch() {
  local job=$1 out=${2:-$repo/reports/gameday/$1} pod="kubedrill-reader-$$"
  reader "$pod"
  trap 'k -n "$NS" delete pod "$pod" --now --wait=false >/dev/null 2>&1 || true' RETURN
  rm -rf "$out"; mkdir -p "$out"
  k -n "$NS" exec "$pod" -- tar -C "$MOUNT/reports" -cf - . | tar -C "$out" -xf -
  log "reports of $job: $out (results.json, junit.xml, allure-results; the claim $NS/$CLAIM keeps them until the next run)"
}

now() {
  k -n "$NS" get cronjob "$CRONJOB" >/dev/null 2>&1 || die "no CronJob $NS/$CRONJOB on context $ctx; run 'make gameday-install' first."
  local job="$CRONJOB-now-$(date -u +%Y%m%d%H%M%S)"
  k -n "$NS" create job "$job" --from="cronjob/$CRONJOB" >/dev/null
  log "started Job $NS/$job; following its log (the run stops itself at the CronJob's activeDeadlineSeconds)"
  local deadline; deadline=$(k -n "$NS" get job "$job" -o jsonpath='{.spec.activeDeadlineSeconds}')
  k -n "$NS" logs -f "job/$job" --pod-running-timeout=10m || log "the log stream ended early; waiting for the run's end"
  local pod code
  pod=$(k -n "$NS" get pods -l "batch.kubernetes.io/job-name=$job" -o jsonpath='{.items[0].metadata.name}')
  [[ -n $pod ]] || die "Job $job has no pod: $(k -n "$NS" describe job "$job" | tail -5)"
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
