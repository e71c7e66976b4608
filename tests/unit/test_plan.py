"""A scenario's plan, without a cluster: how plans merge and are summed up, how a fresh
namespace is described and recognised, what an experiment's file says it will touch (and when
the guard would refuse it), and ``--plan`` on the whole drill: every scenario's plan printed,
nothing run, nothing journalled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fixtures import requirements
from kubedrill import plan as kplan
from kubedrill.ctk import planned
from kubedrill.guard import Guard
from kubedrill.plan import Namespace, Plan
from kubedrill.policy import Policy

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "scenarios" / "experiments"


def test_plans_merge_each_part_once_in_order_and_faults_in_sequence():
    a = Plan(item="x", objects=("Deployment web",), nodes=("one worker",), capabilities=("node-stop",),
             faults=("stop a worker",))
    b = Plan(objects=("Deployment web", "Service web"), cluster_kinds=("Node",), faults=("bring it back",),
             refused="no")
    m = a.merged(b)
    assert m.item == "x"
    assert m.objects == ("Deployment web", "Service web")
    assert m.faults == ("stop a worker", "bring it back")
    assert m.capabilities == ("node-stop",) and m.cluster_kinds == ("Node",) and m.refused == "no"


def test_a_plan_names_only_known_capabilities_the_ones_require_takes():
    assert requirements.CAPABILITIES is kplan.CAPABILITIES
    with pytest.raises(ValueError, match="unknown capabilities warp-drive"):
        Plan(capabilities=("warp-drive",))


def test_a_fresh_namespace_is_recognised_in_its_run_and_no_other():
    ns = Namespace(scenario="test_deployment_replaces_a_killed_pod")
    name = kplan.fresh_namespace("1201t0640-a4ff", ns.scenario, 3)
    assert name == "kd-1201t0640-a4ff-test-deployment-repl-3"
    assert ns.describe() == "a fresh namespace kd-<run>-test-deployment-repl-N"
    assert ns.matches(name, "1201t0640-a4ff")
    assert not ns.matches(name, "1201t0640-ffff")
    assert not Namespace(scenario="test_all_pods_killed").matches(name, "1201t0640-a4ff")
    assert not ns.matches("kd-1201t0640-a4ff-test-deployment-repl-x", "1201t0640-a4ff")
    shop = Namespace(existing="shop")
    assert shop.matches("shop", "any") and not shop.matches("kd-shop", "any")
    assert shop.describe() == "the existing namespace shop"


def test_the_namespace_fixture_names_namespaces_as_the_plan_says():
    from fixtures.namespace import new_namespace_name

    class Run:
        run_id = "1201t0640-a4ff"

    class Item:
        originalname = "replication-controller-pod-deleted"

    made = new_namespace_name(Run(), Item())
    assert Namespace(scenario=Item.originalname).matches(made, Run.run_id)


def test_a_summary_joins_every_plan_and_lists_the_refusals():
    s = kplan.summarize([
        Plan(item="a", namespaces=(Namespace(scenario="a"),), nodes=("one worker",), cluster_kinds=("Node",),
             capabilities=("snapshot", "node-stop"), faults=("x", "y"), pdbs=("PodDisruptionBudget web",)),
        Plan(item="b", namespaces=(Namespace(existing="shop"),), nodes=("one worker",),
             cluster_kinds=("Namespace",), refused="not allowed"),
    ])
    assert (s.items, s.faults, s.pdbs) == (2, 2, 1)
    assert s.namespaces == ("a fresh namespace kd-<run>-a-N", "the existing namespace shop")
    assert s.nodes == ("one worker",) and s.cluster_kinds == ("Namespace", "Node")
    assert s.capabilities == ("node-stop", "snapshot")   # in CAPABILITIES' order
    assert s.refused == ("b: not allowed",)
    assert "  REFUSED: b: not allowed" in s.lines()


def _doc(name: str) -> dict:
    return yaml.safe_load((EXPERIMENTS / name).read_text())


def _plan(doc: dict, path: Path = EXPERIMENTS / "x.yaml", guard: Guard | None = None, **kwargs) -> Plan:
    return planned.of("item", path.stem, doc, path, guard or Guard("r1"), {}, **kwargs)


def test_an_experiment_plan_reads_its_manifests_and_its_method_in_order():
    p = _plan(_doc("replication-controller-container-killed.yaml"),
              EXPERIMENTS / "replication-controller-container-killed.yaml")
    assert p.refused == ""
    assert p.namespaces == (Namespace(scenario="replication-controller-container-killed"),)
    assert "ReplicationController web" in p.objects and "Service web" in p.objects
    assert any(o.startswith("Pod (the prober of Service web") for o in p.objects)
    assert p.faults == ("kill-one-web-container: kubedrill.ctk.actions.kill_containers(kind=ReplicationController, "
                        "name=web, count=1)",)
    assert p.capabilities == (kplan.CONTAINER_KILL,)
    assert p.cluster_kinds == ("Namespace",)
    assert len(p.nodes) == 1 and "web's chosen pods" in p.nodes[0]


def test_a_statefulset_experiment_plans_its_claims_volumes():
    p = _plan(_doc("statefulset-pod-deleted.yaml"), EXPERIMENTS / "statefulset-pod-deleted.yaml")
    assert "StatefulSet db" in p.objects and p.nodes == () and p.capabilities == ()
    assert p.cluster_kinds == ("Namespace", "PersistentVolume")


def _experiment(*actions: dict, target: dict | None = None, rollbacks: tuple = ()) -> dict:
    return {"title": "t", "description": "d", "method": list(actions), "rollbacks": list(rollbacks),
            "extensions": [{"name": "kubedrill", "target": target or {"manifests": ["manifests/statefulset.yaml"]},
                            "recover": [{"kind": "StatefulSet", "name": "db"}]}]}


def _own(title: str, func: str, **args) -> dict:
    return {"type": "action", "name": title,
            "provider": {"type": "python", "module": "kubedrill.ctk.actions", "func": func, "arguments": args}}


def test_kubedrills_own_actions_plan_their_nodes_cluster_kinds_and_capabilities():
    p = _plan(_experiment(_own("snap", "snapshot_claims", name="db"), _own("lose", "lose_node", kind="StatefulSet",
                                                                            name="db", how="stop"),
                          _own("restore", "restore_claims", name="db"),
                          rollbacks=(_own("again", "kill_pods", kind="StatefulSet", name="db", count=1),)))
    assert [f.split(":")[0] for f in p.faults] == ["snap", "lose", "restore", "rollback again"]
    assert set(p.capabilities) == {kplan.SNAPSHOT, kplan.NODE_STOP}
    assert set(p.cluster_kinds) == {"Namespace", "Node", "PersistentVolume", "VolumeSnapshotContent"}
    assert p.nodes == ("one worker, chosen at run time: the one hosting most of StatefulSet db's pods (stopped)",)
    drained = _plan(_experiment(_own("lose", "lose_node", kind="StatefulSet", name="db")))
    assert drained.capabilities == () and "(drained)" in drained.nodes[0]


def test_an_experiment_the_guard_would_refuse_says_why_in_its_plan():
    chaos = {"type": "action", "name": "kill-everything",
             "provider": {"type": "python", "module": "chaosk8s.pod.actions", "func": "terminate_pods",
                          "arguments": {"label_selector": "app=web"}}}
    p = _plan(_experiment(chaos))
    assert "kill-everything" in p.refused and "names no namespace" in p.refused
    assert p.faults and p.namespaces   # what it would have touched is still said

    existing = _experiment(_own("kill", "kill_pods", kind="StatefulSet", name="db", count=1),
                           target={"namespace": "shop"})
    refused = _plan(existing)
    assert "shop" in refused.refused and refused.namespaces == (Namespace(scenario="x", existing="shop"),)
    allowed = _plan(existing, guard=Guard("r1", allowed_namespaces=frozenset({"shop"})))
    assert allowed.refused == "" and allowed.cluster_kinds == ()

    process = _experiment({"type": "action", "name": "run", "provider": {"type": "process", "path": "true"}})
    assert "--allow-process" in _plan(process).refused
    assert _plan(process, policy=Policy(allow_process=True)).refused == ""


def test_an_invalid_extension_is_a_refusal_in_the_plan():
    doc = _experiment(_own("kill", "kill_pods", kind="StatefulSet", name="db"))
    doc["extensions"] = []
    p = _plan(doc)
    assert "no entry named 'kubedrill'" in p.refused and p.faults == ()


def test_the_policy_check_leaves_the_guard_as_it_was():
    g = Guard("r1")
    _plan(_doc("statefulset-pod-deleted.yaml"), EXPERIMENTS / "statefulset-pod-deleted.yaml", guard=g)
    assert g.owned == frozenset()


def _plan_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KUBEDRILL_STATE_DIR": str(tmp_path / "state")}
    return subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT),
                           "-p", "no:cacheprovider", f"--alluredir={tmp_path / 'allure'}",
                           f"--junitxml={tmp_path / 'junit.xml'}", "--reports-dir", str(tmp_path / "reports"),
                           "scenarios/", "--plan", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_plan_of_the_whole_drill_prints_every_scenario_and_runs_nothing(tmp_path):
    """Without a cluster (a kubeconfig that is not there) the plans are printed all the same, and
    the run that could not be made is the reason of a non-zero exit; nothing is journalled."""
    done = _plan_run(tmp_path, "--kubeconfig", str(tmp_path / "no-kubeconfig"))
    out = done.stdout + done.stderr
    assert done.returncode == 4, out
    assert "ERROR: kubedrill: --plan: the run would be refused: the cluster: " in out
    assert "kubedrill: scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod\n" in out
    assert "1. delete one pod of Deployment web through the API" in out
    stop = out.split("test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker[stop]\n")[1]
    assert "capabilities:  node-stop\n" in stop.split("[drain]")[0]
    drain = out.split("test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker[drain]\n")[1]
    assert "capabilities:  none\n" in drain.split("kubedrill: scenarios/")[0]
    assert "PodDisruptionBudget web (maxUnavailable 1)" in out
    # make drill requires every capability: the plans of the whole drill name each
    assert f"capabilities:  {', '.join(kplan.CAPABILITIES)}\n" in out
    assert " passed" not in out and " failed" not in out
    assert not (tmp_path / "state").exists() and not (tmp_path / "reports" / "verdict").exists()


def test_plan_refuses_an_existing_namespace_the_run_may_not_drill(tmp_path):
    exp = _experiment(_own("kill", "kill_pods", kind="StatefulSet", name="db", count=1),
                      target={"namespace": "shop"})
    (tmp_path / "shop.yaml").write_text(yaml.safe_dump(exp))
    done = _plan_run(tmp_path, "-k", "shop", "--experiments", str(tmp_path / "shop.yaml"))
    out = done.stdout + done.stderr
    assert done.returncode == 4, out
    assert "REFUSED: " in out and "--allow-namespace" in out.split("ERROR: kubedrill: --plan:")[1], out


class Item:
    """What requirements reads of a collected scenario: its stash (its plan) and its warnings."""

    nodeid = "scenarios/test_x.py::test_x"

    def __init__(self, plan: Plan | None):
        self.stash = pytest.Stash()
        if plan is not None:
            self.stash[requirements.plan_key] = plan
        self.warned: list[Warning] = []

    def warn(self, warning: Warning) -> None:
        self.warned.append(warning)


def test_a_capability_a_scenario_checks_is_one_its_plan_lists_else_a_warning_says_so():
    listed = Item(Plan(capabilities=(kplan.SNAPSHOT,)))
    assert requirements.planned(listed, kplan.SNAPSHOT) and not listed.warned
    unlisted = Item(Plan())
    assert not requirements.planned(unlisted, kplan.NODE_STOP)
    (warning,) = unlisted.warned
    assert "checks capability node-stop, which its plan does not list" in str(warning)
    assert requirements.planned(Item(None), kplan.NODE_STOP)   # collected without a plan: nothing to compare


def test_a_teams_python_scenario_that_declares_no_fault_says_so_in_its_plan(tmp_path):
    """examples/shop's Python scenario breaks its database through the ``faults`` fixture and has
    no plan marker: its plan says its faults are not declared, never "none"."""
    done = _plan_run(tmp_path, "--kubeconfig", str(tmp_path / "no-kubeconfig"), "--experiments",
                     str(ROOT / "examples" / "shop"), "-k", "test_shop")
    out = done.stdout + done.stderr
    shop = out.split("test_the_database_keeps_its_orders_when_its_pod_dies\n")[1]
    assert "1. not declared: its own calls of kubedrill's `faults` fixture" in shop, out
    assert "faults:        none" not in shop.split("the whole run")[0], out
