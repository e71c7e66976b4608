"""The images of the pods kubedrill starts itself (--prober-image, --writer-image): parsing, and
the pod specs that use them; a pod that cannot get its image ends its wait at once. No cluster."""

import pytest

from kubedrill import pins
from kubedrill.errors import ImageUnavailable, UsageError
from kubedrill.faults import volumes
from kubedrill.k8s import pods
from kubedrill.observe import prober
from kubedrill.report import results as report
from kubedrill.report import verdicts
from kubedrill.run import Run
from kubedrill.workloads import database

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


def _container(spec: dict) -> dict:
    (container,) = (spec.get("spec") or spec)["containers"]
    return container


def test_the_prober_pod_runs_the_prober_image_if_not_present():
    body = prober.pod("prober", {"app.kubernetes.io/name": "prober"}, "registry.example.com/prober:1",
                      "http://web.ns.svc:80/", 0.1, 300)
    c = _container(body)
    assert (c["image"], c["imagePullPolicy"]) == ("registry.example.com/prober:1", "IfNotPresent")
    assert {"name": "URL", "value": "http://web.ns.svc:80/"} in c["env"]
    assert body["spec"]["activeDeadlineSeconds"] == 360


def test_the_writers_pods_run_the_writer_image_if_not_present():
    for spec in (volumes.consumer_pod("data", "claim", {}, "registry.example.com/writer:1"),
                 database.file_pod_spec("registry.example.com/writer:1")):
        c = _container(spec)
        assert (c["image"], c["imagePullPolicy"]) == ("registry.example.com/writer:1", "IfNotPresent")


def pod(name="prober", reason="", message="", ready=False, image="localhost:5999/nope:1", init=False):
    waiting = {"reason": reason, **({"message": message} if message else {})} if reason else None
    status = {"image": image, "state": {"waiting": waiting} if waiting else {"running": {}}}
    return {"metadata": {"name": name, "namespace": "ns", "uid": f"u-{name}"},
            "status": {"phase": "Pending" if not ready else "Running",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       ("initContainerStatuses" if init else "containerStatuses"): [status]}}


@pytest.mark.parametrize("reason", sorted(pods.IMAGE_FAILURES))
def test_a_pod_that_cannot_get_its_image_ends_the_wait_at_once(reason):
    check = pods.serving_with_image(1, "prober pod")
    message = 'Back-off pulling image "localhost:5999/nope:1": ErrImagePull: dial tcp [::1]:5999: connect:\n refused'
    with pytest.raises(ImageUnavailable) as caught:
        check([pod(reason=reason, message=message)])
    text = str(caught.value)
    assert text.startswith(f"prober pod ns/prober cannot start: image localhost:5999/nope:1: {reason} (Back-off")
    assert "connect: refused" in text and "\n" not in text


def test_an_init_container_without_its_image_counts_too():
    with pytest.raises(ImageUnavailable, match="image busybox:1: ErrImagePull"):
        pods.serving_with_image(1, "pod")([pod(reason="ErrImagePull", image="busybox:1", init=True)])


@pytest.mark.parametrize("reason", ["", "ContainerCreating", "PodInitializing"])
def test_a_pod_still_starting_is_waited_for(reason):
    got = pods.serving_with_image(1, "prober pod")([pod(reason=reason)])
    assert not got.done and got.summary == "0/1 Ready"


def test_a_ready_pod_is_done_whatever_another_pod_waits_for():
    got = pods.serving_with_image(1, "pod")([pod("a", ready=True), pod("b", reason="ImagePullBackOff")])
    assert got.done


def test_a_helper_without_its_image_is_a_harness_error_before_and_after_the_fault():
    error = ImageUnavailable("prober pod ns/prober cannot start: image x:1: ErrImagePull")
    assert verdicts.class_of(error) == report.HARNESS_ERROR
    assert verdicts.of_failure(error, verdicts.CALL, frozenset({"deploy", "fault"})).verdict == report.HARNESS_ERROR
