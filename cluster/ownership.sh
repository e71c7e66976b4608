# Sourced by cluster/up.sh and cluster/down.sh, which set NAME, CONTEXT, CACHE, KIND, repo, log
# and die: which kind cluster is kubedrill's, and whether a drill holds it.
#
# kubedrill's record: $CACHE/clusters/$NAME/created holds the id of the control-plane container
# that `kind create cluster` made for kubedrill. A cluster of that name whose control plane is
# another container (a user's, or one made after the cache was wiped) is not kubedrill's: it is
# never used, repaired, recreated or deleted here.
#
# The drill lock is a Lease in the cluster (kubedrill.lock.DrillLock) that a live drill renews;
# `python -m kubedrill.lock` watches it and exits 0 when no live drill holds it (no lease, or one
# that stays unchanged for its whole duration: up to about 2 minutes), 3 when one does (it is
# renewed while watched), 2 when it cannot be read. Its last line says which.

record_dir="$CACHE/clusters/$NAME"
record="$record_dir/created"
control_plane="$NAME-control-plane"
PY=${KUBEDRILL_PYTHON:-$repo/.venv/bin/python}

control_plane_id() { docker inspect -f '{{.Id}}' "$control_plane" 2>/dev/null; }

write_record() { # right after `kind create cluster`: this control plane is kubedrill's
  local id
  id=$(control_plane_id) || return 1
  mkdir -p "$record_dir"
  printf '%s\n' "$id" >"$record.tmp.$$" && mv -f "$record.tmp.$$" "$record"
}

# A cluster made before the record existed: that up.sh wrote kind.yaml just before it ran
# `kind create cluster`, so a control plane created within minutes after it is the one it made.
adopt_earlier() {
  [[ ! -f $record && -f $record_dir/kind.yaml ]] || return 1
  local created made written
  created=$(docker inspect -f '{{.Created}}' "$control_plane" 2>/dev/null) && [[ -n $created ]] || return 1
  made=$(date -d "$created" +%s) && written=$(stat -c %Y "$record_dir/kind.yaml") || return 1
  (( made >= written && made - written <= 300 )) || return 1
  write_record || return 1
  log "recorded cluster '$NAME' as kubedrill's (in $record): its control plane was created $((made - written)) s after kubedrill wrote its configuration"
}

is_ours() { # the cluster named $NAME is the one kubedrill created
  local id
  id=$(control_plane_id) && [[ -n $id ]] || return 1
  [[ -f $record && $(<"$record") == "$id" ]] || adopt_earlier
}

refuse_unless_ours() { # $1: what is about to be done
  is_ours || die "a kind cluster named '$NAME' exists that kubedrill did not create (no record of its control plane in $record): $1 is not kubedrill's to do. Delete it yourself if it may go ('kind delete cluster --name $NAME'), or drill it as an existing cluster (make drill CONTEXT=kind-$NAME)."
}

api_answers() { # seconds
  timeout "$1" sh -c "until kubectl --context '$CONTEXT' get --raw /readyz >/dev/null 2>&1; do sleep 1; done"
}

# Dies when a live drill holds the cluster (or when that cannot be known while the API server
# answers). A cluster whose control plane is stopped, or whose API server does not answer
# within 90 s, cannot be serving a drill.
refuse_if_a_drill_holds_it() { # $1: what is about to be done
  if [[ $(docker inspect -f '{{.State.Running}}' "$control_plane" 2>/dev/null) != true ]]; then
    log "its control plane container is not running: no drill can hold the cluster"
    return 0
  fi
  kubectl config get-contexts "$CONTEXT" >/dev/null 2>&1 || "$KIND" export kubeconfig --name "$NAME" >/dev/null 2>&1 || true
  if ! api_answers 90; then
    log "its API server does not answer after 90 s: no drill can hold the cluster"
    return 0
  fi
  [[ -x $PY ]] || die "kubedrill's virtualenv ($PY) is missing, so the drill lock cannot be read before $1; run 'make venv', then again."
  local out rc=0
  log "reading the drill lock before $1 (a lease that no drill renews counts as free once it stayed unchanged for its whole duration)"
  out=$("$PY" -m kubedrill.lock --context "$CONTEXT" 2>&1) || rc=$?
  out=${out##*$'\n'}
  case $rc in
    0) return 0 ;;
    3) die "${out#kubedrill: }: not $1 under that drill; run again once it has ended." ;;
    *) die "${out#kubedrill: error: }; not $1 without knowing that no drill holds the cluster." ;;
  esac
}
