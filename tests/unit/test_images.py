"""The images of the pods kubedrill starts itself (--prober-image, --writer-image): parsing. No cluster."""

import pytest

from kubedrill import pins
from kubedrill.errors import UsageError
from kubedrill.run import Run

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize("ref", [
    "busybox", "busybox:1.36", "kubedrill.local/shell:1", "localhost:5999/nope:1",
    "registry.example.com:443/team/kubedrill/shell:v1.2-rc_3", f"registry.example.com/shell@{DIGEST}",
    f"registry.example.com/shell:1@{DIGEST}", "a__b/c-d.e:TAG", "Registry.Example.com/shell:1",
])
def test_an_image_reference_is_taken_as_given(ref):
    assert pins.parse_image("--prober-image", ref) == ref


@pytest.mark.parametrize("ref", [
    "Shell:1", "registry.example.com/Team/shell:1", "shell:", "shell::1", "/shell", "shell/", "-shell",
    " shell:1", "shell:1 ", "shell 1", "shell@sha256:abc", "shell:" + "t" * 129, "https://registry/shell:1",
    "registry/" + "a" * 250 + ":1",
])
def test_a_malformed_image_reference_is_a_usage_error(ref):
    with pytest.raises(UsageError, match=r"^--writer-image: (not an image reference|an image name has at most)"):
        pins.parse_image("--writer-image", ref)


@pytest.mark.parametrize("ref", ["", " ", "\t"])
def test_an_empty_image_reference_is_a_usage_error(ref):
    with pytest.raises(UsageError, match="^--prober-image: empty image reference$"):
        pins.parse_image("--prober-image", ref)


def test_not_given_is_the_pinned_shell_image():
    images = pins.parse_images(None, None, {})
    assert images == pins.Images()
    assert images.prober_image() == images.writer_image() == pins.shell_image()
    assert Run("r", 1).images == pins.Images()


def test_an_option_wins_over_its_variable_and_each_image_is_its_own():
    env = {"KUBEDRILL_PROBER_IMAGE": "registry.example.com/prober:1",
           "KUBEDRILL_WRITER_IMAGE": "registry.example.com/writer:1"}
    images = pins.parse_images("localhost:5000/prober:2", None, env)
    assert images.prober_image() == "localhost:5000/prober:2"
    assert images.writer_image() == "registry.example.com/writer:1"
    assert pins.parse_images(None, None, {"KUBEDRILL_WRITER_IMAGE": "w:1"}) == pins.Images(writer="w:1")


@pytest.mark.parametrize("env, message", [
    ({"KUBEDRILL_PROBER_IMAGE": ""}, "KUBEDRILL_PROBER_IMAGE: empty image reference"),
    ({"KUBEDRILL_WRITER_IMAGE": "Nope"}, "KUBEDRILL_WRITER_IMAGE: not an image reference"),
])
def test_a_variable_is_checked_as_the_option_is(env, message):
    with pytest.raises(UsageError, match=message):
        pins.parse_images(None, None, env)
