"""The etcd, CoreDNS and pause pins come from what kubeadm of the chosen Kubernetes version deploys
(cluster/pins.sh: kubeadm_pins reads `kubeadm config images list`); the cluster scripts and
kubedrill.pins then read cluster/versions.env for that version and the recorded pins after it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kubedrill import pins

REPO = Path(__file__).resolve().parents[2]

KUBEADM_1_35_4 = """\
registry.k8s.io/kube-apiserver:v1.35.4
registry.k8s.io/kube-controller-manager:v1.35.4
registry.k8s.io/kube-scheduler:v1.35.4
registry.k8s.io/kube-proxy:v1.35.4
registry.k8s.io/coredns/coredns:v1.13.1
registry.k8s.io/pause:3.10.1
registry.k8s.io/etcd:3.6.6-0
"""

KUBEADM_1_36_3 = """\
registry.k8s.io/kube-apiserver:v1.36.3
registry.k8s.io/kube-controller-manager:v1.36.3
registry.k8s.io/kube-scheduler:v1.36.3
registry.k8s.io/kube-proxy:v1.36.3
registry.k8s.io/coredns/coredns:v1.14.2
registry.k8s.io/pause:3.10.2
registry.k8s.io/etcd:3.6.8-0
"""


def bash(script: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f'source "{REPO}/cluster/pins.sh"; {script}'], input=stdin,
                          capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **(env or {})})


def kubeadm_pins(listing: str) -> subprocess.CompletedProcess:
    return bash("kubeadm_pins", listing)


@pytest.mark.parametrize("listing, expected", [
    (KUBEADM_1_35_4, ["ETCD_VERSION=v3.6.6", "COREDNS_VERSION=v1.13.1", "PAUSE_VERSION=3.10.1",
                      "IMAGE_ETCD=registry.k8s.io/etcd:3.6.6-0",
                      "IMAGE_COREDNS=registry.k8s.io/coredns/coredns:v1.13.1",
                      "IMAGE_PAUSE=registry.k8s.io/pause:3.10.1"]),
    (KUBEADM_1_36_3, ["ETCD_VERSION=v3.6.8", "COREDNS_VERSION=v1.14.2", "PAUSE_VERSION=3.10.2",
                      "IMAGE_ETCD=registry.k8s.io/etcd:3.6.8-0",
                      "IMAGE_COREDNS=registry.k8s.io/coredns/coredns:v1.14.2",
                      "IMAGE_PAUSE=registry.k8s.io/pause:3.10.2"]),
    # another image repository (kubeadm's imageRepository), with a port; a CoreDNS tag without its v,
    # an etcd tag without a revision; blank lines
    ("\nmirror.example:5000/k8s/etcd:3.5.21\nmirror.example:5000/k8s/coredns:1.11.3\n"
     "mirror.example:5000/k8s/pause:3.10\n\n",
     ["ETCD_VERSION=v3.5.21", "COREDNS_VERSION=v1.11.3", "PAUSE_VERSION=3.10",
      "IMAGE_ETCD=mirror.example:5000/k8s/etcd:3.5.21", "IMAGE_COREDNS=mirror.example:5000/k8s/coredns:1.11.3",
      "IMAGE_PAUSE=mirror.example:5000/k8s/pause:3.10"]),
])
def test_kubeadm_images_name_the_etcd_coredns_and_pause_versions(listing, expected):
    result = kubeadm_pins(listing)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected
    assert result.stderr == ""


@pytest.mark.parametrize("listing, message", [
    (KUBEADM_1_35_4.replace("registry.k8s.io/etcd:3.6.6-0\n", ""), "no etcd image is listed"),
    ("", "no etcd image is listed"),
    (KUBEADM_1_35_4 + "registry.k8s.io/pause:3.9\n",
     "pause is listed twice (registry.k8s.io/pause:3.10.1, registry.k8s.io/pause:3.9)"),
    (KUBEADM_1_35_4.replace("etcd:3.6.6-0", "etcd:latest"), 'the etcd tag "latest" is not VERSION[-N]'),
    (KUBEADM_1_35_4.replace("coredns:v1.13.1", "coredns:v1.13"), 'the coredns tag "v1.13" is not a version'),
    (KUBEADM_1_35_4.replace("pause:3.10.1", "pause:v3"), 'the pause tag "v3" is not a version'),
    ("W1201 12:00:00 some warning\n" + KUBEADM_1_35_4,
     'not an image reference with a tag: "W1201 12:00:00 some warning"'),
    (KUBEADM_1_35_4.replace("etcd:3.6.6-0", "etcd"), 'not an image reference with a tag: "registry.k8s.io/etcd"'),
])
def test_a_listing_that_names_no_version_is_refused_in_one_sentence(listing, message):
    result = kubeadm_pins(listing)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"kubedrill: error: kubeadm config images list: {message}"]


def record(cache: Path, version: str, listing: str) -> None:
    (cache / "pins").mkdir(parents=True, exist_ok=True)
    (cache / "pins" / f"{version}.env").write_text(
        f"# kubeadm {version} deploys these\n" + kubeadm_pins(listing).stdout)


def test_the_pins_of_the_chosen_version_are_read_after_versions_env(tmp_path):
    record(tmp_path, "v1.36.3", KUBEADM_1_36_3)
    env = {"KUBEDRILL_CACHE": str(tmp_path), "KUBEDRILL_KUBE_VERSION": "v1.36.3"}
    loaded = pins.load(environ=env)
    assert loaded["KUBE_VERSION"] == "v1.36.3"
    # every ${KUBE_VERSION} of versions.env expands to the chosen version, not the file's own
    assert loaded["IMAGE_KUBE_APISERVER"] == "registry.k8s.io/kube-apiserver:v1.36.3"
    assert loaded["IMAGE_CNI"] == "kubedrill.local/route-agent:v1.36.3"
    assert (loaded["ETCD_VERSION"], loaded["IMAGE_ETCD"]) == ("v3.6.8", "registry.k8s.io/etcd:3.6.8-0")
    assert loaded["IMAGE_PAUSE"] == "registry.k8s.io/pause:3.10.2"
    assert loaded["IMAGE_COREDNS"] == "registry.k8s.io/coredns/coredns:v1.14.2"

    # cluster/pins.sh's load_pins reads the same
    shell = bash('load_pins && echo "$KUBE_VERSION $IMAGE_KUBE_APISERVER $IMAGE_ETCD $PAUSE_VERSION"', env=env)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split() == ["v1.36.3", "registry.k8s.io/kube-apiserver:v1.36.3",
                                    "registry.k8s.io/etcd:3.6.8-0", "3.10.2"]


def test_another_versions_pins_are_not_read(tmp_path):
    record(tmp_path, "v1.36.3", KUBEADM_1_36_3)
    loaded = pins.load(environ={"KUBEDRILL_CACHE": str(tmp_path)})
    default = pins.parse((REPO / "cluster" / "versions.env").read_text())["KUBE_VERSION"]
    assert loaded["KUBE_VERSION"] == default
    assert loaded["IMAGE_KUBE_APISERVER"] == f"registry.k8s.io/kube-apiserver:{default}"
    # nothing recorded for the default version in this cache: versions.env pins no etcd of its own
    assert "IMAGE_ETCD" not in loaded and "ETCD_VERSION" not in loaded
    shell = bash('load_pins && echo "$KUBE_VERSION ${IMAGE_ETCD:-none}"', env={"KUBEDRILL_CACHE": str(tmp_path)})
    assert shell.stdout.split() == [default, "none"]


def test_a_given_value_wins_over_the_files_own_line():
    parsed = pins.parse("A=1\nB=x${A}\nA=2\nC=${A}", given={"A": "9"})
    assert parsed == {"A": "9", "B": "x9", "C": "9"}
