# Pinned Go tools built from their modules into $CACHE/bin (sourced by monitoring.sh and
# registry.sh, which define CACHE, TOOLS ("name module package-in-module version" each), log and die).

all_there() {
  local t name version
  for t in "${TOOLS[@]}"; do
    read -r name _ _ version <<<"$t"
    [[ -x $CACHE/bin/$name-$version ]] || return 1
  done
}

# go install MODULE/PKG@VERSION; when go install refuses (replace directives in the module's go.mod,
# or a module whose version list the proxy withholds: pushgateway v1.11.1 is served though the
# proxy lists none, and go install reads the list for deprecations), build in a copy of the
# downloaded module under the cache, never in the repo.
build() {
  local name=$1 module=$2 pkg=$3 version=$4
  local out="$CACHE/bin/$name-$version" path="$module${pkg#.}" tmp="$CACHE/bin/.$name-$version"
  [[ -x $out ]] && return 0
  log "installing $name $version (go install $path@$version; a few minutes the first time)"
  local started=$SECONDS
  rm -rf "$tmp"
  if GOBIN="$tmp" GOFLAGS= nice -n 10 go install "$path@$version" 2>"$tmp.err"; then
    mv "$tmp/$(basename "$path")" "$out" && rmdir "$tmp" && rm -f "$tmp.err"
  else
    log "go install refused ($(grep -m1 -oE 'replace directives|reading [^ ]*/@v/list: [0-9]+[^:]*' "$tmp.err" || tail -n1 "$tmp.err")):"
    log "building in a copy of the downloaded module under $CACHE/src"
    local dir src="$CACHE/src/${module//\//_}@$version"
    dir=$(GOFLAGS= go mod download -json "$module@$version" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
    [[ -d $dir ]] || die "go mod download $module@$version failed; check that the Go module proxy answers."
    if [[ ! -f $src/go.mod ]]; then
      rm -rf "$src.tmp" && mkdir -p "$(dirname "$src")"
      cp -r "$dir" "$src.tmp" && chmod -R u+w "$src.tmp" && mv "$src.tmp" "$src"
    fi
    (cd "$src" && GOFLAGS= nice -n 10 go build -o "$out.tmp" "$pkg") \
      || die "go build $pkg in $src failed."
    mv "$out.tmp" "$out" && rm -rf "$tmp" "$tmp.err"
  fi
  log "installed $out ($((SECONDS - started)) s)"
}

