"""make push (cluster/push.sh): where each image goes, what it tells a user who gave a wrong
REGISTRY or lacks an image, and that nothing is pushed then. docker and crane are stand-ins that
write down what they were asked (the real push is tests/e2e/test_registry.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kubedrill import pins

REPO = Path(__file__).resolve().parents[2]
PINS = pins.load()
KUBEDRILL, SHELL, POSTGRES = PINS["IMAGE_KUBEDRILL"], PINS["IMAGE_SHELL"], PINS["IMAGE_POSTGRES"]
DIGEST = "sha256:" + "ab" * 32

DOCKER = """#!/bin/sh
echo "docker $*" >> "$STANDIN_LOG"
case "$1 $2" in
  "image inspect") for i in $STANDIN_IMAGES; do [ "$i" = "$3" ] && exit 0; done; exit 1 ;;
esac
[ "$1" = save ] && [ "$2" = -o ] && echo tar > "$3"
"""
CRANE = """#!/bin/sh
echo "crane $*" >> "$STANDIN_LOG"
while [ $# -gt 0 ]; do
  case $1 in --image-refs) refs=$2; shift ;; --insecure) ;; push) ;; *) last=$1 ;; esac
  shift
done
[ -n "$STANDIN_CRANE_FAILS" ] && { echo "Error: PUT $last: UNAUTHORIZED" >&2; exit 1; }
echo "${last%:*}@DIGEST" > "$refs"
""".replace("DIGEST", DIGEST)


@pytest.fixture
def standins(tmp_path):
    """PATH with the docker stand-in; a cache whose crane is the crane stand-in."""
    bindir, cache = tmp_path / "bin", tmp_path / "cache"
    (cache / "bin").mkdir(parents=True)
    bindir.mkdir()
    for path, text in ((bindir / "docker", DOCKER), (cache / "bin" / f"crane-{PINS['CRANE_VERSION']}", CRANE)):
        path.write_text(text)
        path.chmod(0o755)
    log = tmp_path / "log"
    log.touch()

    def run(*args: str, images=(KUBEDRILL, SHELL, POSTGRES), make: bool = False, **env: str):
        command = ["make", "--no-print-directory", "push", *args] if make else [str(REPO / "cluster" / "push.sh"), *args]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60, env={
            "PATH": f"{bindir}:{os.environ['PATH']}", "HOME": str(tmp_path), "KUBEDRILL_CACHE": str(cache),
            "STANDIN_LOG": str(log), "STANDIN_IMAGES": " ".join(images), "TMPDIR": str(tmp_path), **env})
        return done, log.read_text().splitlines()
    return run


def test_each_image_goes_to_the_registry_under_its_last_name_and_tag(standins):
    done, asked = standins("registry.example.com/team")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == [
        f"kubedrill: push: pushed {KUBEDRILL} to registry.example.com/team/kubedrill:dev@{DIGEST} (0 s)",
        f"kubedrill: push: pushed {SHELL} to registry.example.com/team/shell:1@{DIGEST} (0 s)",
        f"kubedrill: push: pushed {POSTGRES} to registry.example.com/team/postgres:15@{DIGEST} (0 s)"]
    assert "kustomize edit set image kubedrill/kubedrill=registry.example.com/team/kubedrill:dev" in done.stdout
    assert "PROBER_IMAGE=registry.example.com/team/shell:1 WRITER_IMAGE=registry.example.com/team/shell:1" in done.stdout
    pushes = [line.split() for line in asked if line.startswith("crane push")]
    assert [p[-1] for p in pushes] == ["registry.example.com/team/kubedrill:dev", "registry.example.com/team/shell:1",
                                      "registry.example.com/team/postgres:15"]
    assert not any("--insecure" in p for p in pushes)
    assert [line.split()[-1] for line in asked if line.startswith("docker save")] == [KUBEDRILL, SHELL, POSTGRES]


def test_make_push_passes_insecure_and_a_choice_of_images(standins):
    done, asked = standins("REGISTRY=localhost:5000", "INSECURE=1", "IMAGES=shell", make=True)
    assert done.returncode == 0, done.stderr
    (push,) = [line for line in asked if line.startswith("crane push")]
    assert push.split()[2] == "--insecure" and push.endswith(" localhost:5000/shell:1"), push
    done, asked = standins("REGISTRY=localhost:5000/", "INSECURE=0", make=True, images=(SHELL, POSTGRES, KUBEDRILL))
    assert [line.split()[-1] for line in asked if line.startswith("crane push")][-3:] == [
        "localhost:5000/kubedrill:dev", "localhost:5000/shell:1", "localhost:5000/postgres:15"]
    assert not any("--insecure" in line for line in asked[-3:])


@pytest.mark.parametrize("registry, says", [
    ("", "REGISTRY is not set: make push REGISTRY=registry.example.com/team"),
    ("team", "REGISTRY must start with the registry's host (registry.example.com/team, localhost:5000): "
             "'team' would be a namespace on Docker Hub."),
    ("https://registry.example.com/team", "REGISTRY is a host and path without a scheme: 'registry.example.com/team', "
                                          "not 'https://registry.example.com/team'"),
    ("registry.example.com/Team", "REGISTRY's path 'Team' is not a repository path"),
    ("registry.example.com/team:1", "REGISTRY's path 'team:1' is not a repository path"),
    ("registry.example.com/team@" + DIGEST, "no digest in"),
    ("registry.example.com:port/team", "REGISTRY's host 'registry.example.com:port' is not a host[:port]."),
])
def test_a_wrong_registry_is_named_and_nothing_is_pushed(standins, registry, says):
    done, asked = standins(f"REGISTRY={registry}", make=True)
    assert done.returncode != 0
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("kubedrill: push: ")]
    assert says in line, line
    assert asked == []


def test_a_missing_image_is_named_with_what_builds_it_before_anything_is_pushed(standins):
    done, asked = standins("registry.example.com/team", images=(SHELL, POSTGRES))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"kubedrill: push: {KUBEDRILL} is not in the local docker store: "
                                        "'make image' builds it (nothing was pushed)."]
    assert not [line for line in asked if not line.startswith("docker image inspect")]
    done, _ = standins("registry.example.com/team", "--images", "shell postgres", images=(SHELL,))
    assert done.stderr.splitlines() == [f"kubedrill: push: {POSTGRES} is not in the local docker store: "
                                        "'make images' builds it (nothing was pushed)."]


@pytest.mark.parametrize("args, says", [
    (("--images", "shell mysql", "r.example.com"), "no image named 'mysql' (IMAGES: one or more of kubedrill shell postgres)."),
    (("--force", "r.example.com"), "unknown option '--force'"),
    (("r.example.com/a", "r.example.com/b"), "one REGISTRY only, not 'r.example.com/a' and 'r.example.com/b'."),
])
def test_bad_arguments_are_named(standins, args, says):
    done, asked = standins(*args)
    assert done.returncode == 1 and says in done.stderr, done.stderr
    assert not [line for line in asked if line.startswith(("docker save", "crane"))]


def test_a_refused_push_stops_there_and_says_which(standins):
    done, asked = standins("registry.example.com/team", STANDIN_CRANE_FAILS="1")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (f"kubedrill: push: crane push of {KUBEDRILL} to registry.example.com/team/"
                                            "kubedrill:dev failed (nothing more was pushed); the line above says why.")
    assert "UNAUTHORIZED" in done.stderr
    assert len([line for line in asked if line.startswith("crane push")]) == 1
    assert done.stdout == ""
