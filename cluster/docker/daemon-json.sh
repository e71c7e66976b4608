#!/usr/bin/env bash
# daemon-json.sh CONFIG SHIM: make SHIM docker's default runtime ("kubedrill-runc") in CONFIG
# (docker's daemon.json), keeping everything else in it. Atomic: the new file is written beside
# the old one and renamed over it, so a CONFIG that is not valid JSON, or a failed write, leaves
# the old file exactly as it was.
set -euo pipefail
die() { echo "kubedrill: error: $*" >&2; exit 1; }
(( $# == 2 )) || die "usage: daemon-json.sh CONFIG SHIM"
cfg=$1 shim=$2
old='{}'
[[ -s $cfg ]] && old=$(<"$cfg")
mkdir -p "$(dirname "$cfg")"
tmp=$(mktemp "$cfg.XXXXXX")
trap 'rm -f "$tmp"' EXIT
jq --arg p "$shim" '.runtimes["kubedrill-runc"] = {path: $p} | .["default-runtime"] = "kubedrill-runc"' \
  <<<"$old" >"$tmp" 2>/dev/null \
  || die "kubedrill's runtime cannot be added to $cfg (it is not valid JSON, or the new file could not be written); it was left as it was: fix it and run again."
if [[ -e $cfg ]]; then chmod --reference="$cfg" "$tmp"; else chmod 0644 "$tmp"; fi
mv -f "$tmp" "$cfg"
trap - EXIT
