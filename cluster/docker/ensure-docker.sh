#!/usr/bin/env bash
# Makes sure a Docker engine answers. Installs Debian's docker.io when dockerd is
# absent, registers the runc shim when this host's capability bounding set lacks
# CAP_SYS_RESOURCE (kind's privileged node containers need it), and starts dockerd
# when none runs. Says what it did; fails with one sentence when it cannot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { echo "kubedrill: docker: $*" >&2; }
die() { echo "kubedrill: error: $*" >&2; exit 1; }

if ! command -v dockerd >/dev/null 2>&1; then
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "no Docker engine is installed and none can be installed here (needs root and apt-get); install Docker and run again."
  fi
  log "no Docker engine installed: installing Debian's docker.io"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io jq >/dev/null \
    || die "installing docker.io with apt-get failed; run 'apt-get install docker.io' to see why."
fi
command -v jq >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq >/dev/null \
  || die "jq is missing and could not be installed; run 'apt-get install jq'."

# kind bind-mounts /lib/modules into every node
[[ -d /lib/modules ]] || mkdir -p /lib/modules 2>/dev/null || true

# CAP_SYS_RESOURCE is capability 24
bnd=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
if (( (16#$bnd >> 24 & 1) == 0 )); then
  shim=/usr/local/libexec/kubedrill/runc-shim
  cfg=/etc/docker/daemon.json
  if ! cmp -s "$here/runc-shim" "$shim" 2>/dev/null || ! grep -q kubedrill-runc "$cfg" 2>/dev/null; then
    [[ $(id -u) == 0 ]] || die "this host lacks CAP_SYS_RESOURCE and Docker must be given kubedrill's runc shim, which needs root; run 'sudo make cluster' once."
    log "this host's capability bounding set lacks CAP_SYS_RESOURCE: registering kubedrill's runc shim as docker's default runtime"
    install -D -m 0755 "$here/runc-shim" "$shim"
    "$here/daemon-json.sh" "$cfg" "$shim"   # atomic: a failed rewrite leaves daemon.json as it was
    if docker info >/dev/null 2>&1; then
      log "restarting dockerd to load the runtime"
      pkill -x dockerd || true
      timeout 30 sh -c 'while pgrep -x dockerd >/dev/null; do sleep 0.2; done' || die "dockerd did not stop; stop it and run again."
    fi
  fi
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi
[[ $(id -u) == 0 ]] || die "no Docker engine is running and starting one needs root; start dockerd and run again."
# a dockerd that was killed (machine or session stopped) leaves its pid file behind
alive() { # a pid that runs and is not a zombie waiting to be reaped
  [[ -n $1 && -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"
}
for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
  if [[ -f $pidfile ]] && ! alive "$(cat "$pidfile" 2>/dev/null)"; then
    log "removing the stale $pidfile of a dockerd that is gone"
    rm -f "$pidfile"
  fi
done
log "no Docker engine running: starting dockerd (log: /var/log/kubedrill-dockerd.log)"
if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
  systemctl start docker || die "systemctl start docker failed; see 'journalctl -u docker'."
else
  setsid nohup dockerd >/var/log/kubedrill-dockerd.log 2>&1 </dev/null &
fi
if ! timeout 60 sh -c 'until docker info >/dev/null 2>&1; do sleep 0.5; done'; then
  die "dockerd did not answer within 60 s; see /var/log/kubedrill-dockerd.log."
fi
log "dockerd is running ($(docker info --format '{{.ServerVersion}}, default runtime {{.DefaultRuntime}}'))"
