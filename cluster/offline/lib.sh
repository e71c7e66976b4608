# kubedrill offline build helpers, shared by build.sh and build-storage.sh (sourced).
log() { printf 'kubedrill: build: %s\n' "$*" >&2; }
die() { printf 'kubedrill: error: %s\n' "$*" >&2; exit 1; }
key() { { for a in "$@"; do if [[ -f $a ]]; then cat "$a"; else echo "$a"; fi; done; } | sha256sum | cut -c1-12; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# a distroless-like root for static Go programs: passwd, group, CA bundle, /tmp
static_root() { # DIR
  local r=$1
  mkdir -p "$r"/{etc/ssl/certs,tmp,usr/local/bin,var/run}
  chmod 1777 "$r/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$r/etc/group"
  cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/" 2>/dev/null || true
  echo 'hosts: files dns' >"$r/etc/nsswitch.conf"
}

static_image() { # IMAGE ENTRYPOINT_JSON BINARY...
  local image=$1 entry=$2; shift 2
  local r; r=$(mktemp -d "$CACHE/rootfs/static.XXXXXX")
  static_root "$r"
  local b
  for b in "$@"; do install -m 0755 "$b" "$r/usr/local/bin/"; done
  local changes=(--change 'ENV PATH=/usr/local/bin:/usr/bin:/bin')
  [[ -n $entry ]] && changes+=(--change "ENTRYPOINT $entry")
  tar -C "$r" -c . | docker import "${changes[@]}" - "$image" >/dev/null
  rm -rf "$r"
}

