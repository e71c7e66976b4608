import pytest

from kubedrill import pins
from kubedrill.errors import UsageError


def test_parse_expands_comments_and_quotes():
    text = """
# a comment
KUBE_VERSION=v1.35.4
export PAUSE='3.10 ${NOT}'
IMAGE_API=registry.k8s.io/kube-apiserver:${KUBE_VERSION}
IMAGE_X="kubedrill.local/x:$KUBE_VERSION"   
IMAGE_Y=y:1 # trailing comment
"""
    p = pins.parse(text)
    assert p["IMAGE_API"] == "registry.k8s.io/kube-apiserver:v1.35.4"
    assert p["IMAGE_X"] == "kubedrill.local/x:v1.35.4"
    assert p["PAUSE"] == "3.10 ${NOT}"
    assert p["IMAGE_Y"] == "y:1"
    assert pins.images(p) == {"IMAGE_API": p["IMAGE_API"], "IMAGE_X": p["IMAGE_X"], "IMAGE_Y": "y:1"}


def test_undefined_variables_and_bad_lines_are_errors():
    with pytest.raises(UsageError, match=r"line 1: \$\{NOPE\} is not defined"):
        pins.parse("A=${NOPE}")
    with pytest.raises(UsageError, match="line 2: expected KEY=value"):
        pins.parse("A=1\nnot a pin\n")


def test_the_repository_pins_the_shell_image():
    image = pins.shell_image()
    assert image and ":" in image
    assert image in pins.images(pins.load()).values()


def test_sample_workloads_use_the_pinned_image_and_never_pull():
    from kubedrill.workloads import base as workloads

    spec = workloads.web_pod_spec()
    (container,) = spec["containers"]
    assert container["image"] == pins.shell_image()
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["readinessProbe"]["periodSeconds"] == 1
