"""Drills on a team's own workloads, as Chaos Toolkit experiments and as a Python scenario, on the
real cluster: examples/shop passes with ``make drill EXPERIMENTS=examples/shop`` and reports no
secret; each broken variant of its experiment (tests/e2e/experiments) fails for its stated reason
with its verdict class, in results.json and in the exit code; kubedrill's node and claim actions
do what they say (a drained node's pods back elsewhere, a deleted claim made anew: the
StatefulSet's identity lost)."""

import json
import re
import secrets
import shutil

import pytest
from kubernetes import client as k8s

from kubedrill import defaults
from kubedrill.ctk import target
from kubedrill.k8s import manifests, namespaces
from tests.e2e.conftest import NO_ALLURE, ROOT, leftovers, unbroken_passed

pytestmark = pytest.mark.e2e

SHOP = ROOT / "examples" / "shop"
SHOP_PASSWORD = "shop-db-password-7f3a91"   # examples/shop/manifests/db.yaml
NOT_ALLOWED = "kd-e2e-not-allowed"           # tests/e2e/experiments/namespace-not-allowed.yaml
ALLOWED = "kd-e2e-allowed"                   # tests/e2e/experiments/existing-namespace.yaml


def _files(root):
    return [p for p in root.rglob("*") if p.is_file()]


def test_the_shop_passes_and_no_secret_reaches_the_reports(drill, clients, tmp_path):
    # the shop, with a password and a Chaos Toolkit secret of this run's own, planted
    shop = tmp_path / "shop"
    shutil.copytree(SHOP, shop)
    planted = f"planted-{secrets.token_hex(8)}"
    db = shop / "manifests" / "db.yaml"
    db.write_text(db.read_text().replace(SHOP_PASSWORD, planted))
    kill_web = shop / "kill-web.yaml"
    kill_web.write_text(kill_web.read_text().replace(
        "configuration:\n", f"secrets:\n  shop:\n    password: {planted}\nconfiguration:\n", 1))

    # as make drill EXPERIMENTS=<dir> runs it, the built-in scenarios left out by -k
    d = drill("scenarios/", "--experiments", str(shop), "-k", "shop", "--seed", "16")
    done = d.run_clean(clients)
    assert done.rc == 0, d.output[-6000:]
    assert done.verdict == "0 passed\n"
    got = {sid.split("::")[-1]: row for sid, row in done.rows.items()}
    assert set(got) == {"kill-web", "restore-db", "test_the_database_keeps_its_orders_when_its_pod_dies"}
    assert all(r["verdict"] == "passed" for r in got.values()), got
    assert got["kill-web"]["rto_s"] > 0 and got["kill-web"]["availability"]["success_ratio"] >= 0.5
    assert got["restore-db"]["objectives"]["statefulset_db_rto_s"] == 120
    # each experiment's journal is kept, the planted secret taken out of it
    journals = list((d.tmp / "reports" / "chaos").glob("*.json"))
    assert len(journals) == 2
    kill_web_journal = json.loads(next(j for j in journals if j.name.endswith("-kill-web.json")).read_text())
    assert kill_web_journal["experiment"]["secrets"]["shop"]["password"] == "***"
    # nowhere in what the run reports: results.json, the journals, junit, Allure, its output
    leaked = [str(p) for p in _files(d.tmp) if planted.encode() in p.read_bytes()]
    assert leaked == [] and planted not in d.output


def test_kubedrills_own_experiments_pass_held_to_its_objectives_by_name(drill, clients):
    # as make drill runs them: every experiment of scenarios/experiments/ (the seed's
    # ReplicationController and StatefulSet stories), the Python scenarios left out by -k
    d = drill("scenarios/", "-k", "replication-controller or statefulset-pod-deleted", NO_ALLURE)
    done = d.run_clean(clients)
    got = {sid.split("::")[-1]: row for sid, row in done.rows.items()}
    assert set(got) == {"replication-controller-pod-deleted", "replication-controller-container-killed",
                        "statefulset-pod-deleted"}, got
    all_passed = all([unbroken_passed(row, done.output) for row in got.values()])
    assert (done.rc, done.verdict) == ((0, "0 passed\n") if all_passed else (1, "1 objective missed\n")), done.output[-6000:]
    for name, case in (("replication-controller-pod-deleted", "pod_delete_one"),
                       ("replication-controller-container-killed", "container_kill_one")):
        row = got[name]
        assert row["objectives"] == {"rto_s": defaults.OBJECTIVES[f"{case}_rto_s"],
                                     "availability": defaults.OBJECTIVES[f"{case}_availability"],
                                     "longest_outage_s": defaults.OBJECTIVES[f"{case}_outage_s"]}, row["objectives"]
        assert row["rto_s"] > 0 and row["availability"]["requests"] > 0, row
    # one pod of three deleted: back on its claim with its records, all 150 of them read back
    row = got["statefulset-pod-deleted"]
    assert row["objectives"] == {"rto_s": defaults.OBJECTIVES["statefulset_pod_rto_s"]}, row["objectives"]
    assert row["rto_s"] > 0 and row["rpo"] == {"records_lost": 0, "seconds_lost": 0.0}, row
    assert len(re.findall(r"\[statefulset-pod-deleted\] db-\d: records 1–50 intact", done.output)) == 3, \
        done.output[-6000:]


def _existing(clients, name: str):
    namespaces.wait_gone(clients, name, 120)   # one an earlier test left Terminating
    clients.core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))


def _gone(clients, name: str):
    clients.core.delete_namespace(name)   # the next _existing waits for it to be gone


@pytest.fixture
def not_allowed_namespace(clients):
    """A namespace that exists, and that no run created or was allowed."""
    _existing(clients, NOT_ALLOWED)
    yield NOT_ALLOWED
    _gone(clients, NOT_ALLOWED)


@pytest.fixture
def allowed_namespace(clients):
    """A namespace someone else made, with the shop's web tier in it (no kubedrill label)."""
    _existing(clients, ALLOWED)
    docs = target.documents_of(SHOP / "manifests", ["web.yaml"])
    manifests.apply(clients, ALLOWED, docs, {})
    yield ALLOWED
    _gone(clients, ALLOWED)


EXPECTED = {
    "fault-misses-the-workload": ("fault not injected", "the method disturbed none of Deployment web: no pod of "
                                                        "theirs was deleted, restarted or NotReady"),
    "selector-matches-nothing": ("fault not injected", "action 'terminate-one-web-pod' matched nothing to act on"),
    "hypothesis-deviates": ("not recovered", "the steady state did not come back after the method: probe "
                                             "'web-service-exists' failed: service 'web' is not initialized"),
    "slow-readiness": ("objective missed", "misses the objective deployment_web_rto_s (at most 4s)"),
    "data-in-emptydir": ("data lost", "the data probe (sql in pod db-0: SELECT id, item, placed FROM orders "
                                      "ORDER BY id) after the fault differs from its result before"),
    "namespace-not-allowed": ("harness error", f"refusing to drill namespace '{NOT_ALLOWED}': not created by run"),
    "extension-malformed": ("harness error", "tests/e2e/experiments/extension-malformed.yaml: "
                                             "extensions[0].recover[0]: unknown key 'rto' (expected: kind, name, "
                                             "rto_s, selector)"),
    "existing-namespace": ("passed", ""),
    "helm-template": ("passed", ""),
    "kustomize": ("passed", ""),
    "helm-install": ("passed", ""),
    "pdb-blocks-eviction": ("fault not injected", "still refused at its deadline by PodDisruptionBudget db: it "
                                                  "allows no disruption"),
    # kubedrill's node and claim actions: a drain the web tier survives, a disk lost
    "drain-the-web-node": ("passed", ""),
    "claim-deleted": ("identity lost", "StatefulSet db: a pod came back on another claim (PVC UID changed): "
                                       "data-db-0 "),
    # kubedrill's records (data.records): kept on the StatefulSet's claims, lost in an emptyDir
    "records-kept": ("passed", ""),
    "records-in-emptydir": ("data lost", "db-0: data lost: records 1–20 missing"),
    # kubedrill's writer through the fault (data.stream): kept on the claims, rolled back by a
    # restore beyond its RPO objectives, lost in an emptyDir with no RPO objective
    "stream-kept": ("passed", ""),
    "stream-restored": ("objective missed", "misses the objective rpo_records (at most 0 records) "
                                            "[experiment.rpo-records]; RPO "),
    "stream-in-emptydir": ("data lost", "acknowledged records lost (records 1–"),
    # kubedrill's checks as Chaos Toolkit probes in the steady state: its data probe finds the
    # records gone (data lost, not "not recovered"); the prober's figures outside a tolerance
    "hypothesis-data-lost": ("data lost", "the steady state did not come back after the method: probe "
                                          "'records-intact' failed: db-0: data lost: records 1–20 missing "
                                          "[experiment.records]"),
    "availability-probe": ("not recovered", "the steady state did not come back after the method: probe "
                                            "'web-answered' got {'target': 'http://web."),
    # the StatefulSet's pods are not the ones before the fault
    "statefulset-scaled-up": ("identity lost", "StatefulSet db: pod names changed: ['db-0', 'db-1'] before, "
                                               "['db-0', 'db-1', 'db-2'] after [experiment.identity]"),
}


def test_each_broken_variant_fails_for_its_reason_with_its_class(drill, clients, not_allowed_namespace,
                                                                 allowed_namespace):
    web_before = {d.metadata.uid for d in clients.apps.list_namespaced_deployment(ALLOWED).items}
    d = drill("--experiments", "tests/e2e/experiments", "tests/e2e/experiments", "--allow-namespace", ALLOWED,
              NO_ALLURE)
    done = d.run_clean(clients)
    got = {sid.split("::")[-1]: (row["verdict"], row["reason"]) for sid, row in done.rows.items()}
    assert set(got) == set(EXPECTED), got
    for name, (verdict, reason) in EXPECTED.items():
        assert got[name][0] == verdict and reason in got[name][1], (name, got[name])
    # every objective the slow variant misses is named, each with its check
    for check in ("experiment.availability", "experiment.outage", "experiment.workload-rto", "experiment.rto"):
        assert f"[{check}]" in got["slow-readiness"][1], got["slow-readiness"]
    # the records' RPO is in the results: none lost on the claims, all 20 in the emptyDir
    rpo = {sid.split("::")[-1]: row["rpo"] for sid, row in done.rows.items()}
    assert rpo["records-kept"] == {"records_lost": 0, "seconds_lost": 0.0}, rpo
    assert rpo["records-in-emptydir"]["records_lost"] == 20, rpo
    # the writer's RPO: none lost on the claims; the restore's loss is its RPO, both objectives named
    assert rpo["stream-kept"] == {"records_lost": 0, "seconds_lost": 0.0}, rpo
    assert rpo["stream-restored"]["records_lost"] > 0 and rpo["stream-restored"]["seconds_lost"] > 0, rpo
    assert "misses the objective rpo_s (at most 0s) [experiment.rpo-s]" in got["stream-restored"][1]
    # the snapshot was taken with the writer paused: the restore brought back exactly its cut
    assert re.search(r"\[stream-restored\] restored from the snapshot cut at record (\d+): consistent: records "
                     r"1–\1 intact, none after the cut; RPO [1-9]\d* records", done.output), done.output[-6000:]
    assert got["stream-in-emptydir"][1].endswith("and no RPO objective (rpo_records, rpo_s) allows a loss "
                                                 "[experiment.stream]"), got["stream-in-emptydir"]
    assert rpo["stream-in-emptydir"]["records_lost"] >= 20, rpo
    # the malformed extension is one line
    assert "\n" not in got["extension-malformed"][1]
    # the run's exit code and reports/verdict are its worst class's
    assert done.rc == 10 and done.verdict == "10 data lost\n"
    # refused before anything ran: nothing of the run in the namespace it may not drill
    assert clients.core.list_namespaced_pod(NOT_ALLOWED).items == []
    assert [s.metadata.name for s in clients.core.list_namespaced_service(NOT_ALLOWED).items] == []
    assert leftovers(clients, json.loads((d.tmp / "reports" / "results.json").read_text())["run_id"]) == []
    # the allowed namespace was drilled as it is: its own Deployment and Service are still there,
    # nothing of the run (its prober) is left, and the namespace itself was not deleted
    assert {d.metadata.uid for d in clients.apps.list_namespaced_deployment(ALLOWED).items} == web_before
    assert [s.metadata.name for s in clients.core.list_namespaced_service(ALLOWED).items] == ["web"]
    # the release installed there was uninstalled: no Deployment but the one that was there
    assert [d.metadata.name for d in clients.apps.list_namespaced_deployment(ALLOWED).items] == ["web"]
    assert not [p.metadata.name for p in clients.core.list_namespaced_pod(ALLOWED).items
                if "kubedrill.io/run-id" in (p.metadata.labels or {})]
