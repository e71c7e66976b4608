# kind_load_missing: put docker images onto every node of a kind cluster with `kind load`, only
# where a node lacks the exact image ID, and check them there afterwards. Sourced by storage.sh
# and gameday.sh, which define log, die and k (kubectl on the cluster's context).
# (`kind load` checks with crictl, which these nodes do not configure: it would reload every time.)

# "ref config-digest" of every image in a node's containerd (the digest is docker's image ID)
node_images() {
  docker exec "$1" sh -c 'ctr -n k8s.io images ls 2>/dev/null | awk "NR > 1 && \$1 !~ /^sha256:/ {print \$1, \$3}" |
    while read -r ref digest; do echo "$ref $(ctr -n k8s.io content get "$digest" | jq -r .config.digest)"; done'
}

kind_load_missing() { # KIND NAME LOGFILE IMAGE...
  local kind=$1 name=$2 logfile=$3; shift 3
  local node have load i
  for node in $(k get nodes -o name | cut -d/ -f2); do
    have=$(node_images "$node")
    load=()
    for i in "$@"; do
      grep -qxF "$i $(docker image inspect -f '{{.Id}}' "$i")" <<<"$have" || load+=("$i")
    done
    ((${#load[@]})) || continue
    log "loading onto $node: ${load[*]}"
    # a second try: a node restarted meanwhile (a drill stops and starts nodes) kills the import
    "$kind" load docker-image --name "$name" --nodes "$node" "${load[@]}" >"$logfile" 2>&1 \
      || { log "kind load onto $node failed ($(grep -m1 -o 'exit status [0-9]*' "$logfile" || echo error)); trying once more"
           "$kind" load docker-image --name "$name" --nodes "$node" "${load[@]}" >"$logfile" 2>&1; } \
      || die "'kind load docker-image --name $name --nodes $node ${load[*]}' failed; see $logfile."
    have=$(node_images "$node")
    for i in "${load[@]}"; do
      grep -qxF "$i $(docker image inspect -f '{{.Id}}' "$i")" <<<"$have" \
        || die "image $i is not on node $node after 'kind load'; see '$kind load docker-image --name $name --nodes $node $i'."
    done
  done
}
