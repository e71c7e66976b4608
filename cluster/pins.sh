# kubedrill pins as the cluster scripts read them (sourced; kubedrill.pins reads them the same way).
#   load_pins      cluster/versions.env for KUBE_VERSION ($KUBEDRILL_KUBE_VERSION when set: every
#                  ${KUBE_VERSION} in the file then expands to it), then, when that version was
#                  built or used before, the etcd, CoreDNS and pause pins kubeadm of that version
#                  deploys (pins_file)
#   pins_file      $KUBEDRILL_CACHE/pins/<KUBE_VERSION>.env (cache default ~/.cache/kubedrill)
#   kubeadm_pins   `kubeadm config images list` on stdin -> those pins, as KEY=value lines
pins_repo_cluster=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

pins_file() { # [KUBE_VERSION]
  echo "${KUBEDRILL_CACHE:-$HOME/.cache/kubedrill}/pins/${1:-$KUBE_VERSION}.env"
}

load_pins() {
  local f
  set -a
  if [[ -n ${KUBEDRILL_KUBE_VERSION:-} ]]; then
    KUBE_VERSION=$KUBEDRILL_KUBE_VERSION
    # shellcheck disable=SC1090
    source <(grep -v '^KUBE_VERSION=' "$pins_repo_cluster/versions.env")
  else
    # shellcheck source=cluster/versions.env
    source "$pins_repo_cluster/versions.env"
  fi
  f=$(pins_file)
  # shellcheck disable=SC1090
  [[ $KUBE_VERSION =~ ^v1\.[0-9]+\.[0-9]+$ && -f $f ]] && source "$f"
  set +a
  return 0
}

# The images kubeadm lists name the etcd, CoreDNS and pause versions it deploys:
#   registry.k8s.io/etcd:3.6.6-0               -> ETCD_VERSION=v3.6.6 (the Go module's version)
#   registry.k8s.io/coredns/coredns:v1.13.1    -> COREDNS_VERSION=v1.13.1
#   registry.k8s.io/pause:3.10.1               -> PAUSE_VERSION=3.10.1
# and IMAGE_ETCD, IMAGE_COREDNS, IMAGE_PAUSE: the references themselves. Anything else listed
# (kube-apiserver, ...) is left to the caller. Exit 1, with one sentence, when one is missing,
# listed twice or has a tag that names no version.
kubeadm_pins() {
  awk '
    function fail(msg) { print "kubedrill: error: kubeadm config images list: " msg > "/dev/stderr"; bad = 1; exit 1 }
    NF == 0 { next }
    NF != 1 || $1 !~ /^[^:@]+(:[0-9]+)?\/[^:@]+:[A-Za-z0-9_.-]+$/ { fail("not an image reference with a tag: \"" $0 "\"") }
    {
      ref = $1; tag = ref; sub(/.*:/, "", tag); name = substr(ref, 1, length(ref) - length(tag) - 1)
      base = name; sub(/.*\//, "", base)
      if (base != "etcd" && base != "coredns" && base != "pause") next
      if (base in seen) fail(base " is listed twice (" seen[base] ", " ref ")")
      seen[base] = ref; tags[base] = tag
    }
    END {
      if (bad) exit 1
      split("etcd coredns pause", want, " ")
      for (i = 1; i <= 3; i++) if (!(want[i] in seen)) fail("no " want[i] " image is listed")
      t = tags["etcd"]
      if (t !~ /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+)?$/) fail("the etcd tag \"" t "\" is not VERSION[-N]")
      sub(/-[0-9]+$/, "", t); etcd = "v" t
      t = tags["coredns"]
      if (t !~ /^v?[0-9]+\.[0-9]+\.[0-9]+$/) fail("the coredns tag \"" t "\" is not a version")
      coredns = (t ~ /^v/ ? t : "v" t)
      t = tags["pause"]
      if (t !~ /^[0-9]+(\.[0-9]+)+$/) fail("the pause tag \"" t "\" is not a version")
      print "ETCD_VERSION=" etcd
      print "COREDNS_VERSION=" coredns
      print "PAUSE_VERSION=" t
      print "IMAGE_ETCD=" seen["etcd"]
      print "IMAGE_COREDNS=" seen["coredns"]
      print "IMAGE_PAUSE=" seen["pause"]
    }'
}
