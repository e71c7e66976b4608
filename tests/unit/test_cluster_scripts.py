"""The cluster scripts fail at once, with one sentence, on missing prerequisites and bad input;
they parse; daemon.json is rewritten atomically; a cluster without kubedrill's record is not
touched. No cluster and no Docker engine are needed: each case stops before touching either."""

from __future__ import annotations

import json
import re
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO / script), *args], capture_output=True, text=True, timeout=60,
                          env={"HOME": os.environ.get("HOME", "/root"), **env})


def test_offline_build_without_go_says_what_is_missing(tmp_path):
    # a PATH with bash and coreutils but no go
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("bash", "dirname", "cat", "sha256sum", "cut", "id", "awk", "df", "mkdir", "printf"):
        real = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if real:
            (bindir / tool).symlink_to(real)
    result = run("cluster/offline/build.sh", "--check", env={"PATH": str(bindir)})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "kubedrill: error: Go is not installed; install Go 1.25 or newer (https://go.dev/dl) and run again."]


def test_offline_build_refuses_too_little_disk(tmp_path):
    result = run("cluster/offline/build.sh", "--check",
                 env={"PATH": os.environ["PATH"], "KUBEDRILL_CACHE": str(tmp_path / "cache"),
                      "KUBEDRILL_BUILD_DISK_GB": "999999"})
    if "no Docker engine answers" in result.stderr:
        pytest.skip("the disk check comes after the Docker check, and no Docker engine runs here")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("kubedrill: error: the offline build needs about 999999 GB free under")


@pytest.mark.parametrize("env, message", [
    ({"KUBEDRILL_CLUSTER_MODE": "sideways"}, "MODE must be auto, online or offline, not 'sideways'."),
    ({"KUBEDRILL_KUBE_VERSION": "1.35"}, "KUBE_VERSION must look like v1.35.4, not '1.35'."),
])
def test_make_cluster_rejects_bad_variables_before_doing_anything(env, message):
    result = run("cluster/up.sh", env={"PATH": os.environ["PATH"], **env})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"kubedrill: error: {message}"]


SCRIPTS = sorted(str(p.relative_to(REPO)) for p in (REPO / "cluster").rglob("*.sh"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_cluster_script_parses(script):
    result = subprocess.run(["bash", "-n", str(REPO / script)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_daemon_json_that_is_not_json_is_left_exactly_as_it_was(tmp_path):
    cfg = tmp_path / "daemon.json"
    cfg.write_text('{"log-level": "warn"')
    result = run("cluster/docker/daemon-json.sh", str(cfg), "/usr/local/libexec/kubedrill/runc-shim",
                 env={"PATH": os.environ["PATH"]})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"kubedrill: error: kubedrill's runtime cannot be added to {cfg} (it is not valid JSON, or the new file "
        "could not be written); it was left as it was: fix it and run again."]
    assert cfg.read_text() == '{"log-level": "warn"'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daemon.json"]   # no temporary file left


def test_daemon_json_gets_the_runtime_and_keeps_the_rest_and_its_mode(tmp_path):
    cfg = tmp_path / "daemon.json"
    cfg.write_text('{"log-level": "warn", "runtimes": {"other": {"path": "/bin/other"}}}')
    cfg.chmod(0o600)
    shim = "/usr/local/libexec/kubedrill/runc-shim"
    result = run("cluster/docker/daemon-json.sh", str(cfg), shim, env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0, result.stderr
    assert json.loads(cfg.read_text()) == {"log-level": "warn", "default-runtime": "kubedrill-runc",
                                           "runtimes": {"other": {"path": "/bin/other"},
                                                        "kubedrill-runc": {"path": shim}}}
    assert cfg.stat().st_mode & 0o777 == 0o600
    fresh = tmp_path / "etc" / "docker" / "daemon.json"
    assert run("cluster/docker/daemon-json.sh", str(fresh), shim, env={"PATH": os.environ["PATH"]}).returncode == 0
    assert json.loads(fresh.read_text())["default-runtime"] == "kubedrill-runc"


def test_a_cluster_without_kubedrills_record_is_neither_repaired_nor_deleted(tmp_path):
    """The ownership check of cluster/up.sh and cluster/down.sh: no record, no touching (here a
    name no cluster has, so it stops before docker or kind could be asked to do anything)."""
    name = "kd-unit-no-such-cluster"
    script = (f'set -euo pipefail; NAME={name} CONTEXT=kind-{name} CACHE={tmp_path} KIND=false repo={REPO}\n'
              'log() { echo "log: $*" >&2; }; die() { echo "kubedrill: error: $*" >&2; exit 1; }\n'
              f'source {REPO}/cluster/ownership.sh\n'
              'refuse_unless_ours "deleting it"\necho touched\n')
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "touched" not in result.stdout
    assert result.stderr.strip().splitlines() == [
        f"kubedrill: error: a kind cluster named '{name}' exists that kubedrill did not create (no record of its "
        f"control plane in {tmp_path}/clusters/{name}/created): deleting it is not kubedrill's to do. Delete it "
        f"yourself if it may go ('kind delete cluster --name {name}'), or drill it as an existing cluster "
        f"(make drill CONTEXT=kind-{name})."]


# the fake docker's `docker run ... kubeadm config images list`
KUBEADM_IMAGES = ('[ "$1" = run ] && printf "%s\\n" registry.k8s.io/etcd:3.6.6-0 '
                  'registry.k8s.io/coredns/coredns:v1.13.1 registry.k8s.io/pause:3.10.1\nexit 0\n')


def test_reuse_only_refuses_to_create_a_missing_cluster(tmp_path):
    """KUBEDRILL_CLUSTER_REUSE_ONLY (tests on a cluster others share): make cluster fails with one
    line instead of creating the cluster. docker, kubectl and kind are fakes that log their calls;
    the online node image is 'present', so nothing is built."""
    cache, fakes, calls = tmp_path / "cache", tmp_path / "bin", tmp_path / "calls"
    kind_version = re.search(r"^KIND_VERSION=(\S+)", (REPO / "cluster/versions.env").read_text(), re.M)[1]
    (cache / "bin").mkdir(parents=True)
    fakes.mkdir()
    fake = f'#!/bin/sh\necho "$(basename "$0") $*" >>{calls}\n'
    for path in (fakes / "docker", fakes / "kubectl", fakes / "sysctl", cache / "bin" / f"kind-{kind_version}"):
        path.write_text(fake + {"sysctl": '[ "$1" = -n ] && echo 1048576\n', "docker": KUBEADM_IMAGES}.get(path.name, ""))
        path.chmod(0o755)
    name = "kd-unit-reuse-only"
    result = run("cluster/up.sh", env={"PATH": f"{fakes}:{os.environ['PATH']}", "KUBEDRILL_CACHE": str(cache),
                                       "KUBEDRILL_CLUSTER_NAME": name, "KUBEDRILL_CLUSTER_MODE": "online",
                                       "KUBEDRILL_CLUSTER_REUSE_ONLY": "1"})
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"kubedrill: error: KUBEDRILL_CLUSTER_REUSE_ONLY is set: the cluster '{name}' is left as it is "
        "instead of creating it (it does not exist).")
    kind_calls = [c for c in calls.read_text().splitlines() if c.startswith("kind-")]
    assert kind_calls == [f"kind-{kind_version} get clusters"]
