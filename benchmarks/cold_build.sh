#!/usr/bin/env bash
# Benchmark: the offline build from nothing (no Go build cache, no module cache, no
# kubedrill cache), then again warm. Uses throw-away caches under $BENCH_DIR so the
# real ones stay; the images it tags are the same as the real build's (same inputs).
#   benchmarks/cold_build.sh            -> prints one line per run, and appends to benchmarks/results.md
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/kubedrill-bench}
rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR"
export KUBEDRILL_CACHE=$BENCH_DIR/cache GOCACHE=$BENCH_DIR/go-build GOMODCACHE=$BENCH_DIR/gomod KUBEDRILL_REBUILD=1
run() { # label
  local t0=$SECONDS
  "$repo/cluster/offline/build.sh" >"$BENCH_DIR/$1.log" 2>&1
  local secs=$((SECONDS - t0))
  local size; size=$(du -sh "$BENCH_DIR" | cut -f1)
  echo "| $(date -u +%F) | $(nproc) cores | $1 | ${secs} s | caches ${size} | $(grep -o 'done in [0-9]* s' "$BENCH_DIR/$1.log" | tr '\n' ' ')|"
}
{
  run cold
  rm -f "$KUBEDRILL_CACHE"/stamps/*
  run warm-go-caches
} | tee -a "$repo/benchmarks/results.md"
