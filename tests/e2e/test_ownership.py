"""The harness never harms what it does not own (docs/ownership.md), on the kind cluster.

Each test ends with the leftover check (tests/e2e/conftest.leftovers: labelled objects, PVs of
run namespaces, kubedrill taints, stopped node containers, ...) and checks that what belongs to
somebody else is as it was.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess

import pytest
from kubernetes import client as k8s

from kubedrill import docker, guard
from kubedrill.k8s import claims
from kubedrill.wait import Check, wait_for
from tests.e2e.conftest import NO_ALLURE, ROOT, leftovers, other_context, unbroken_passed

DEPLOYMENT_DRAINED = "test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker[drain]"
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"


def make(*args: str, state_dir, timeout: float = 600) -> subprocess.CompletedProcess:
    """A make target as a user types it (its own state dir, so no other run's journal is read)."""
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "KUBEDRILL_STATE_DIR": str(state_dir)})


def stopped_nodes(clients) -> list[str]:
    return sorted(c.name for c in docker.node_containers(clients.kind_cluster) if not c.running)


@pytest.mark.slow
def test_a_second_make_drill_is_refused_and_the_first_drills_stopped_node_stays_stopped(drill, clients, tmp_path):
    first = drill("tests/e2e/drills/drill_node.py", "--seed", "5", NO_ALLURE).start(pause_at="fault:end")
    _, run_id = first.wait_paused()
    stopped = stopped_nodes(clients)
    assert len(stopped) == 1
    second = make("drill", state_dir=tmp_path / "second")
    out = second.stdout + second.stderr
    assert second.returncode == 2, out[-3000:]
    assert f"another drill ({run_id}) holds the cluster-wide drill lock" in out, out[-3000:]
    assert "not repairing, restarting or deleting the cluster under that drill" in out, out[-3000:]
    assert "starting it" not in out and "deleting and creating it anew" not in out, out[-3000:]
    assert stopped_nodes(clients) == stopped  # the first drill's fault is still in place
    # the scenarios run directly (no cluster step): refused by the lock, a usage error
    third = drill("scenarios/", "--wait-for-lock", "0")
    assert third.run() == 4, third.output[-3000:]
    assert (third.tmp / "reports" / "verdict").read_text() == "4 usage error\n"
    assert f"ERROR: kubedrill: another drill ({run_id}) holds the cluster-wide drill lock" in third.output
    assert stopped_nodes(clients) == stopped
    first.signal(signal.SIGINT)  # the first drill ends, brings its node back, releases the lock
    first.finish()
    assert stopped_nodes(clients) == []
    assert leftovers(clients, run_id, first.tmp / "state") == []


@pytest.fixture
def foreign(clients):
    """Objects carrying kubedrill's labels (another run's id) that no run created: a namespace,
    a ConfigMap in a user's namespace, and an Available PV of the class the retained-volume
    scenario drills. Yields their names; deleted at the end whatever happened."""
    tag = secrets.token_hex(3)
    labels = guard.labels(f"not-a-run-{tag}")
    made = {"namespace": f"kd-foreign-{tag}", "user_namespace": f"team-{tag}", "config_map": "settings",
            "pv": f"premade-{tag}"}
    core = clients.core
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=made["namespace"], labels=labels)))
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=made["user_namespace"])))
    core.create_namespaced_config_map(made["user_namespace"], k8s.V1ConfigMap(
        metadata=k8s.V1ObjectMeta(name=made["config_map"], labels=labels), data={"owner": "a team"}))
    core.create_persistent_volume({
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": made["pv"], "labels": labels},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "storageClassName": "kubedrill-hostpath-retain", "persistentVolumeReclaimPolicy": "Retain",
                 "hostPath": {"path": f"/tmp/{made['pv']}"}}})
    # a new volume is Pending until the PV controller has seen it: the test starts from Available
    wait_for(claims.pv_source(clients, made["pv"]),
             lambda items: Check(bool(items) and (items[0].get("status") or {}).get("phase") == "Available"),
             description=f"PersistentVolume {made['pv']} Available", timeout_s=60)
    try:
        yield made
    finally:
        for name in (made["namespace"], made["user_namespace"]):
            core.delete_namespace(name)
        core.delete_persistent_volume(made["pv"])


def foreign_state(clients, made: dict) -> dict:
    core = clients.core
    ns = core.read_namespace(made["namespace"])
    cm = core.read_namespaced_config_map(made["config_map"], made["user_namespace"])
    pv = core.read_persistent_volume(made["pv"])
    return {"namespace": (ns.metadata.resource_version, ns.status.phase),
            "config_map": (cm.metadata.resource_version, cm.data),
            "pv": (pv.metadata.resource_version, pv.status.phase, pv.spec.persistent_volume_reclaim_policy,
                   pv.spec.claim_ref)}


def test_objects_that_only_carry_kubedrills_labels_are_reported_and_left_alone(drill, clients, foreign, tmp_path):
    before = foreign_state(clients, foreign)
    assert before["pv"][1:] == ("Available", "Retain", None)
    out = tmp_path / "foreign-pod"
    retained = "scenarios/test_persistent_volumes.py::test_a_retained_volume_binds_to_a_new_claim_with_its_data"
    all_pods = "tests/e2e/drills/drill_foreign_pod.py::test_pods_deleted_through_the_api_are_replaced_by_new_pods"
    d = drill(retained, all_pods, "-k", "retained or (Deployment and all)", NO_ALLURE,
              env={"KUBEDRILL_E2E_OUT": str(out)})
    done = d.run_clean(clients)
    # the pre-made volume could bind the scenario's claim: refused before any claim is made
    row = done.rows[next(k for k in done.rows if "retained" in k)]
    assert row["verdict"] == "harness error", row
    assert f"PersistentVolume {foreign['pv']} of class kubedrill-hostpath-retain is Available" in row["reason"]
    # the pod that only matches the Deployment's selector: never a victim, never a replica
    (pods_row,) = [r for k, r in done.rows.items() if "drill_foreign_pod" in k]
    unbroken_passed(pods_row, done.output)
    uid_before, uid_after, deleted = out.read_text().split()
    assert (uid_after, deleted) == (uid_before, "-")
    assert "pod " in done.output and "aaa-not-the-workloads matches Deployment web's selector but is not its own" \
        in done.output
    assert (done.rc, done.verdict) == (15, "15 harness error\n"), done.output[-3000:]
    for what in (f"Namespace {foreign['namespace']}", f"ConfigMap {foreign['user_namespace']}/settings",
                 f"PersistentVolume {foreign['pv']}"):
        assert f"carries kubedrill's labels but was not made by this run (left alone): {what}" in done.output
    clean = make("clean", f"REPORTS={d.tmp / 'reports'}", state_dir=d.tmp / "state")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert foreign_state(clients, foreign) == before


def operator_marks(clients, node: str) -> tuple[bool, bool]:
    """(cordoned, carries the operator's out-of-service taint)."""
    n = clients.core.read_node(node)
    taints = n.spec.taints or []
    return bool(n.spec.unschedulable), any(t.key == OUT_OF_SERVICE and t.value == "operator" for t in taints)


def set_operator_marks(clients, node: str, on: bool) -> None:
    n = clients.core.read_node(node)
    taints = [clients.api.sanitize_for_serialization(t) for t in n.spec.taints or []
              if not (t.key == OUT_OF_SERVICE and t.value == "operator")]
    if on:
        taints.append({"key": OUT_OF_SERVICE, "value": "operator", "effect": "NoSchedule"})
    clients.core.patch_node(node, {"spec": {"unschedulable": on, "taints": taints}})


@pytest.mark.slow
def test_an_operators_cordon_and_taint_survive_a_drain_drill_a_sigkill_and_make_clean(drill, clients, tmp_path):
    from kubedrill.k8s import nodes

    workers = sorted(n.name for n in nodes.workers(clients))
    try:
        # 1. made before the drain, on the node the drill drains
        out = tmp_path / "node"
        d = drill(f"tests/e2e/drills/drill_operator_cordon.py::{DEPLOYMENT_DRAINED}", NO_ALLURE,
                  env={"KUBEDRILL_E2E_OUT": str(out)})
        done = d.run_clean(clients, operator_cordoned=tuple(workers))
        assert (done.rc, done.verdict) == (0, "0 passed\n"), done.output[-3000:]
        drained = out.read_text().strip()
        assert f"node {drained} unschedulable (cordoned already, not by kubedrill)" in json.dumps(done.rows)
        assert operator_marks(clients, drained) == (True, True)
        clean = make("clean", f"REPORTS={d.tmp / 'reports'}", state_dir=d.tmp / "state")
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert operator_marks(clients, drained) == (True, True)
        set_operator_marks(clients, drained, False)

        # 2. made while a drill that cordoned a worker is dead (SIGKILL): on the other worker
        # (a cordon repeated on the node kubedrill cordoned is the same bit: docs/ownership.md)
        k = drill(f"scenarios/test_node_loss.py::{DEPLOYMENT_DRAINED}", NO_ALLURE).start(pause_at="fault:end")
        _, run_id = k.wait_paused()
        (cordoned,) = [w for w in workers if clients.core.read_node(w).spec.unschedulable]
        k.signal(signal.SIGKILL)
        k.finish()
        (other,) = [w for w in workers if w != cordoned]
        set_operator_marks(clients, other, True)
        clean = make("clean", f"REPORTS={k.tmp / 'reports'}", state_dir=k.tmp / "state")
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert f"kubedrill: undid: uncordoned node {cordoned}" in clean.stdout, clean.stdout
        assert operator_marks(clients, other) == (True, True)
        assert operator_marks(clients, cordoned) == (False, False)
        assert leftovers(clients, run_id, k.tmp / "state", operator_cordoned=(other,)) == []
    finally:
        for w in workers:
            set_operator_marks(clients, w, False)


def test_a_context_named_kind_other_on_another_server_is_refused_before_anything_is_created(
        drill, clients, tmp_path):
    kubeconfig = other_context(tmp_path, clients, name="kind-other")
    before = sorted(n.metadata.name for n in clients.core.list_namespace().items)
    d = drill("scenarios/test_plumbing.py", "--kubeconfig", str(kubeconfig), "--context", "kind-other", NO_ALLURE)
    rc = d.run()
    assert rc == 4, d.output[-3000:]
    assert "context 'kind-other' is not the local kind cluster" in d.output, d.output[-3000:]
    assert "refusing to drill it (pass --allow-context kind-other to allow it)" in d.output
    assert sorted(n.metadata.name for n in clients.core.list_namespace().items) == before
