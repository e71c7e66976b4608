"""The cluster scripts fail at once, with one sentence, on missing prerequisites and bad input.
No cluster and no Docker engine are needed: each case stops before touching either."""

from __future__ import annotations

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
