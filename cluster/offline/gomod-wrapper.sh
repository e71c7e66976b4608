#!/usr/bin/env bash
# Writes a wrapper Go module that builds programs of a module whose own go.mod
# carries replace directives (which `go install pkg@version` refuses).
#   gomod-wrapper.sh DIR MODULE VERSION [STAGING_VERSION]
# For k8s.io/kubernetes, every staging repo required at v0.0.0 is pinned to
# STAGING_VERSION (v1.35.4 -> v0.35.4), and the go/godebug lines are copied.
set -euo pipefail
dir=$1 mod=$2 ver=$3 staging=${4:-}
mkdir -p "$dir"
upstream=$(curl -fsS "${GOPROXY_URL:-https://proxy.golang.org}/${mod}/@v/${ver}.mod")
{
  echo "module kubedrill.local/build"
  echo
  grep -E '^(go|godebug) ' <<<"$upstream" || echo "go 1.25.0"
  echo
  echo "require ${mod} ${ver}"
  if [[ -n $staging ]]; then
    echo
    awk '/=> \.\/staging\/src\// {print $1}' <<<"$upstream" | sort -u | while read -r m; do
      echo "replace ${m} => ${m} ${staging}"
    done
  fi
  # replace directives of the upstream module that point at other versions
  # (not at local paths) still matter for a consistent build
  awk '/^replace \(/{r=1;next} r&&/^\)/{r=0} r&&/=>/&&$0!~/=> *\./{print "replace " $0}' <<<"$upstream"
} >"$dir/go.mod"
# a main package so `go mod tidy` keeps the requirement
cat >"$dir/tools.go" <<GO
//go:build tools

package tools
GO
