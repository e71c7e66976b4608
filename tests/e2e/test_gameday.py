"""The in-cluster game day (docs/gameday.md) on the kind cluster, through the README's commands:
`make gameday-install` (the kubedrill image loaded into the nodes, deploy/gameday/kind applied),
then `make gameday-now` (one Job from the CronJob, followed, its reports copied from the
kubedrill-state claim). The Job drills a short subset, chosen the way a team would, with
kubedrill-settings' `pytest-args` (a whole drill in the pod takes minutes: benchmarks/results.md);
its results.json and junit.xml must list exactly the scenario ids a workstation run of the same
arguments collects. The runner's ServiceAccount is then asked `kubectl auth can-i` for what
its drills do and what they must never do, and made to delete kube-system, a namespace without
kubedrill's labels and a PersistentVolume without them: each refused, the last two by the
admission policy (kube-system is refused by the API server itself already), while a namespace and a
volume that carry kubedrill's labels are its to delete. Uninstalled at the end (the CronJob would
otherwise drill the cluster every night)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from kubedrill import docker
from tests.e2e.conftest import CONTEXT, ROOT

pytestmark = pytest.mark.e2e

NS = "kubedrill-gameday"
RUNNER = f"system:serviceaccount:{NS}:kubedrill-runner"
# the subset the Job drills: a Deployment's killed pod and one deleted through the API (both run
# in a pod; ~20 s), and a container kill, which needs the node's runtime: "not applicable" there
SUBSET = "test_plumbing or Deployment-one"
STATE_DIR = "/var/lib/kubedrill-gameday"   # deploy/gameday/kind/state-volume.yaml, on the control plane
NOT_APPLICABLE, OBJECTIVE_MISSED = 14, 1   # the worst class present: the container kill, or a slow recovery


def kubectl(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(["kubectl", "--context", CONTEXT, *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done


def make(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "CONTEXT": ""})


def control_planes() -> list[str]:
    out = kubectl("get", "nodes", "-l", "node-role.kubernetes.io/control-plane", "-o", "name").stdout
    return [n.split("/", 1)[1] for n in out.split()]


@pytest.fixture(scope="module")
def installed():
    for node in control_planes():  # a run of an earlier install must not be read as this one's
        docker.cli("exec", node, "sh", "-c", f"rm -rf {STATE_DIR}/*")
    done = make("gameday-install", timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    yield done
    # not awaited: nothing later in the session uses the namespace, and its deletion takes ~10 s
    kubectl("delete", "-k", str(ROOT / "deploy" / "gameday" / "kind"), "--ignore-not-found", "--wait=false",
            check=False, timeout=300)
    for node in control_planes():
        docker.cli("exec", node, "rm", "-rf", STATE_DIR)


@pytest.fixture(scope="module")
def run_now(installed, tmp_path_factory):
    kubectl("-n", NS, "patch", "configmap", "kubedrill-settings", "--type", "merge",
            "-p", json.dumps({"data": {"pytest-args": f'-k "{SUBSET}"'}}))
    done = make("gameday-now", timeout=900)
    reports = [line.split("reports of ", 1)[1].split(": ", 1)[1].split(" (", 1)[0]
               for line in done.stderr.splitlines() if "gameday: reports of " in line]
    assert reports, f"gameday-now copied no reports (exit {done.returncode}):\n{done.stderr[-3000:]}"
    return done, Path(reports[-1])


def workstation_ids() -> list[str]:
    """The ids a workstation run of the same arguments drills (collected, nothing touched)."""
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "pytest", "scenarios", "--collect-only", "-q",
                           "-p", "no:cacheprovider", "-k", SUBSET], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return sorted(line for line in done.stdout.splitlines() if "::" in line)


def test_one_job_from_the_cronjob_drills_in_the_cluster_and_leaves_its_reports_on_the_claim(run_now):
    done, reports = run_now
    out = done.stdout + done.stderr
    results = json.loads((reports / "results.json").read_text())
    verdict = (reports / "verdict").read_text().split()
    # the run was the Job's: in-cluster context, its log (followed by gameday-now) names its run id
    assert results["context"] == "in-cluster"
    assert f"run {results['run_id']}" in out, out[-3000:]
    # it ended by itself with its verdict's code, which gameday-now exits with (make then exits 2, as
    # `make drill` does; README "Verdicts and exit codes")
    assert f"ended: exit {verdict[0]}" in out and f"gameday-now] Error {verdict[0]}" in out, out[-3000:]
    assert done.returncode == 2 and int(verdict[0]) in (NOT_APPLICABLE, OBJECTIVE_MISSED)
    rows = {r["scenario"]: r for r in results["scenarios"]}
    ids = workstation_ids()
    assert sorted(rows) == ids and len(ids) == 3
    junit = ET.parse(reports / "junit.xml").getroot()
    cases = sorted(f"{c.get('classname').replace('.', '/')}.py::{c.get('name')}" for c in junit.iter("testcase"))
    assert cases == ids
    # in the pod: the API's faults recover; the container kill needs the node's runtime
    kill = next(i for i in ids if "containers_killed" in i)
    assert rows[kill]["verdict"] == "not applicable" and "container-kill not available" in rows[kill]["reason"]
    assert all(rows[i]["verdict"] in ("passed", "objective missed") for i in ids if i != kill), rows
    assert results["leaks"] == [], results["leaks"]


# what the runner's drills do (yes) and what no drill does (no): kubectl auth can-i as its ServiceAccount
# (RESOURCE/NAME is one object; a subresource is --subresource)
CAN_I = [
    ("yes", "create", "namespaces", ""), ("yes", "delete", "namespaces", ""),
    ("yes", "create", "pods", "kd-any"), ("yes", "delete", "pods", "kd-any"),
    ("yes", "create", "pods --subresource=exec", "kd-any"), ("yes", "get", "pods --subresource=exec", "kd-any"),
    ("yes", "create", "pods --subresource=eviction", "kd-any"), ("yes", "patch", "nodes", ""),
    ("yes", "delete", "persistentvolumes", ""), ("yes", "create", "volumesnapshots.snapshot.storage.k8s.io", "kd-any"),
    ("yes", "update", "leases.coordination.k8s.io/kubedrill-drill-lock", "default"),
    ("no", "delete", "nodes", ""), ("no", "create", "nodes", ""),
    ("no", "create", "clusterrolebindings.rbac.authorization.k8s.io", ""),
    ("no", "escalate", "clusterroles.rbac.authorization.k8s.io", ""),
    ("no", "impersonate", "serviceaccounts", "kube-system"),
    ("no", "update", "leases.coordination.k8s.io/kube-controller-manager", "kube-system"),
    ("no", "create", "secrets", "kube-system"), ("no", "delete", "secrets", "kube-system"),
    ("no", "update", "cronjobs.batch", NS),
]


def test_the_runner_may_do_what_its_drills_do_and_nothing_it_must_not(installed):
    rows = []
    for want, verb, resource, namespace in CAN_I:
        args = ["auth", "can-i", verb, *resource.split(), f"--as={RUNNER}"] + (["-n", namespace] if namespace else [])
        got = kubectl(*args, check=False).stdout.strip()
        rows.append((verb, resource, namespace, want, got))
    assert [r for r in rows if r[3] != r[4]] == [], "\n".join(" ".join(r) for r in rows)


@pytest.fixture
def objects(installed):
    """A namespace and a volume without kubedrill's labels, and a labelled pair, made by the test."""
    tag = secrets.token_hex(3)
    made = {"plain-ns": f"kd-e2e-gameday-plain-{tag}", "ours-ns": f"kd-e2e-gameday-ours-{tag}",
            "plain-pv": f"kd-e2e-gameday-plain-{tag}", "ours-pv": f"kd-e2e-gameday-ours-{tag}"}
    labels = {"app.kubernetes.io/managed-by": "kubedrill", "kubedrill.io/run-id": f"e2e-gameday-{tag}"}
    docs = []
    for kind, key in (("Namespace", "plain-ns"), ("Namespace", "ours-ns")):
        docs.append({"apiVersion": "v1", "kind": kind,
                     "metadata": {"name": made[key], **({"labels": labels} if key.startswith("ours") else {})}})
    for key in ("plain-pv", "ours-pv"):
        docs.append({"apiVersion": "v1", "kind": "PersistentVolume",
                     "metadata": {"name": made[key], **({"labels": labels} if key.startswith("ours") else {})},
                     "spec": {"capacity": {"storage": "1Mi"}, "accessModes": ["ReadWriteOnce"],
                              "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "",
                              "hostPath": {"path": f"/tmp/{made[key]}"}}})
    done = subprocess.run(["kubectl", "--context", CONTEXT, "create", "-f", "-"], input=yaml.safe_dump_all(docs),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    yield made
    for key in ("plain-ns", "ours-ns"):  # empty namespaces: their deletion is not awaited
        kubectl("delete", "namespace", made[key], "--ignore-not-found", "--wait=false", check=False, timeout=180)
    for key in ("plain-pv", "ours-pv"):
        kubectl("delete", "pv", made[key], "--ignore-not-found", "--wait=true", check=False, timeout=60)


def test_the_runner_is_refused_what_is_not_its_own_and_allowed_what_is(objects):
    def delete_as_runner(*what: str) -> subprocess.CompletedProcess:
        return kubectl("delete", *what, f"--as={RUNNER}", "--wait=false", check=False)

    system = delete_as_runner("namespace", "kube-system")
    assert system.returncode != 0 and "forbidden" in system.stderr.lower(), system.stderr
    plain_ns = delete_as_runner("namespace", objects["plain-ns"])
    assert plain_ns.returncode != 0 and "kubedrill runner: namespace" in plain_ns.stderr, plain_ns.stderr
    plain_pv = delete_as_runner("pv", objects["plain-pv"])
    assert plain_pv.returncode != 0 and "kubedrill runner: PersistentVolume" in plain_pv.stderr, plain_pv.stderr
    for name in ("kube-system", objects["plain-ns"]):  # still there, not terminating
        assert kubectl("get", "namespace", name, "-o", "jsonpath={.status.phase}").stdout == "Active"
    assert kubectl("get", "pv", objects["plain-pv"], "-o", "jsonpath={.metadata.deletionTimestamp}").stdout == ""
    # kubedrill's own: the policy lets them go
    ours_ns = delete_as_runner("namespace", objects["ours-ns"])
    ours_pv = delete_as_runner("pv", objects["ours-pv"])
    assert ours_ns.returncode == 0 and ours_pv.returncode == 0, ours_ns.stderr + ours_pv.stderr
