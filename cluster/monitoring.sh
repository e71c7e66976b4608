#!/usr/bin/env bash
# Builds the monitoring tools, pinned (cluster/versions.env), from their Go modules into the cache
# $KUBEDRILL_CACHE/bin (default ~/.cache/kubedrill): pushgateway-$PUSHGATEWAY_VERSION,
# prometheus-$PROMETHEUS_VERSION and promtool-$PROMETHEUS_VERSION. Does nothing when they are there.
# The tests start them locally (docs/metrics.md); promtool checks the alerting rules.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
CACHE=${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}
log() { echo "kubedrill: monitoring: $*" >&2; }
die() { echo "kubedrill: monitoring: $*" >&2; exit 1; }

# name  module  package-in-module  version
TOOLS=(
  "pushgateway github.com/prometheus/pushgateway . $PUSHGATEWAY_VERSION"
  "prometheus github.com/prometheus/prometheus ./cmd/prometheus $PROMETHEUS_VERSION"
  "promtool github.com/prometheus/prometheus ./cmd/promtool $PROMETHEUS_VERSION"
)

# shellcheck source=cluster/gotools.sh
source "$here/gotools.sh"

all_there && exit 0
command -v go >/dev/null || die "Go is missing to build the monitoring tools; install Go 1.25+ and run again."
mkdir -p "$CACHE/bin"
exec 9>"$CACHE/monitoring-build.lock"
flock 9
for t in "${TOOLS[@]}"; do
  # shellcheck disable=SC2086
  build $t
done
