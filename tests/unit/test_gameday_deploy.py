"""deploy/: every YAML parses; deploy/gameday's CronJob has the fields a game day needs; its RBAC
is exactly what kubedrill's code requests and what docs/gameday.md lists; its admission policy
names kubedrill's labels, taint keys and the runner's ServiceAccount. No cluster: the files are
read with PyYAML, the code with an AST walk (tests/unit/apicalls.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.unit import apicalls
from kubedrill import guard, pins
from kubedrill.config import Timeouts
from kubedrill.k8s import nodes

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GAMEDAY = DEPLOY / "gameday"
DOC = ROOT / "docs" / "gameday.md"


def documents(directory: Path = DEPLOY) -> dict[tuple[str, str], dict]:
    """(kind, name) -> document, for every document of every deploy/**/*.yaml."""
    out = {}
    for path in sorted(directory.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and "kind" in doc:
                out[(doc["kind"], (doc.get("metadata") or {}).get("name", str(path)))] = doc
    return out


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.yaml")), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_deploy_file_parses(path):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs and all(isinstance(d, dict) for d in docs)


def test_the_kustomizations_name_files_that_exist():
    for path in DEPLOY.rglob("kustomization.yaml"):
        for resource in yaml.safe_load(path.read_text())["resources"]:
            assert (path.parent / resource).exists(), f"{path}: {resource}"


# --- the CronJob ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cronjob() -> dict:
    return documents(GAMEDAY)[("CronJob", "kubedrill-gameday")]


def test_one_run_at_a_time_never_retried_and_bounded(cronjob):
    spec = cronjob["spec"]
    job = spec["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] > 0
    assert job["backoffLimit"] == 0
    assert job["activeDeadlineSeconds"] > 0
    assert pod["restartPolicy"] == "Never"


def test_a_stopped_run_has_its_whole_cleanup_deadline(cronjob):
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= Timeouts().cleanup_s


def test_the_runner_stays_off_every_node_a_fault_can_target(cronjob):
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]}]
    tolerated = {t["key"] for t in pod["tolerations"] if t["operator"] == "Exists"}
    assert {"node-role.kubernetes.io/control-plane", "node.kubernetes.io/unschedulable", guard.TAINT_KEY,
            nodes.OUT_OF_SERVICE} <= tolerated


def test_the_runner_drills_in_cluster_by_drain_with_its_state_on_the_claim(cronjob):
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == pins.load()["IMAGE_KUBEDRILL"]
    assert container["command"] == ["kubedrill"] and container["args"][0] == "drill"
    args = container["args"]
    assert {"--context=in-cluster", "--allow-context=in-cluster", "--node-fault=drain"} <= set(args)
    env = {e["name"]: e for e in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    state = mounts["state"]
    assert volumes["state"]["persistentVolumeClaim"]["claimName"] == "kubedrill-state"
    assert env["KUBEDRILL_STATE_DIR"]["value"].startswith(state + "/")
    for option in ("--reports-dir=", "--alluredir=", "--junitxml="):
        (value,) = [a[len(option):] for a in args if a.startswith(option)]
        assert value.startswith(state + "/"), option
    push = env["KUBEDRILL_PUSHGATEWAY"]["valueFrom"]["configMapKeyRef"]
    assert (push["name"], push["key"], push["optional"]) == ("kubedrill-settings", "pushgateway", True)
    assert documents(GAMEDAY)[("ConfigMap", "kubedrill-settings")]["data"]["pushgateway"] == ""
    kubeconfig = [a.split("=", 1)[1] for a in args if a.startswith("--kubeconfig=")][0]
    assert kubeconfig.startswith(mounts["kubeconfig"] + "/")
    assert volumes["kubeconfig"]["configMap"]["name"] == "kubedrill-kubeconfig"
    for option, volume in (("--objectives=", "drills"), ("--experiments=", "experiments")):
        (value,) = [a[len(option):] for a in args if a.startswith(option)]
        assert value.startswith(mounts[volume]), option
    assert pod["serviceAccountName"] == "kubedrill-runner"


def test_the_image_is_the_one_the_image_build_makes_and_kustomize_can_replace():
    (image,) = yaml.safe_load((GAMEDAY / "kustomization.yaml").read_text())["images"]
    name, tag = pins.load()["IMAGE_KUBEDRILL"].rsplit(":", 1)
    assert (image["name"], image["newName"], image["newTag"]) == (name, name, tag)


# --- RBAC: the code, rbac.yaml and docs/gameday.md agree ------------------------------------------

def requested() -> dict[apicalls.Rule, set[str]]:
    rules = apicalls.source_rules(ROOT)
    for rule, where in apicalls.manifest_rules(ROOT / "scenarios" / "experiments" / "manifests").items():
        rules.setdefault(rule, set()).update(where)
    return rules


def granted() -> set[apicalls.Rule]:
    docs = documents(GAMEDAY)
    return apicalls.role_rules(docs[("ClusterRole", "kubedrill-runner")]) | apicalls.role_rules(
        docs[("Role", "kubedrill-drill-lock")])


def test_the_runner_is_granted_every_request_the_code_makes():
    missing = {rule: sorted(where) for rule, where in requested().items() if rule not in granted()}
    assert not missing, "rbac.yaml lacks what the code requests:\n" + "\n".join(
        f"  {rule}: {where}" for rule, where in sorted(missing.items()))


def test_the_runner_is_granted_nothing_the_code_does_not_request():
    extra = granted() - set(requested())
    assert not extra, f"rbac.yaml grants what no code requests: {sorted(extra)}"


def test_the_docs_table_lists_exactly_the_rules_granted():
    table = apicalls.table_rules(DOC.read_text())
    assert table == granted(), (f"in docs/gameday.md, not in rbac.yaml: {sorted(table - granted())}; "
                                f"in rbac.yaml, not in docs/gameday.md: {sorted(granted() - table)}")


def test_the_drill_locks_writes_are_the_lock_lease_only():
    docs = documents(GAMEDAY)
    role = docs[("Role", "kubedrill-drill-lock")]
    assert role["metadata"]["namespace"] == guard.LOCK_NAMESPACE
    for rule in role["rules"]:
        assert rule["verbs"] == ["create"] or rule["resourceNames"] == [guard.LOCK_NAME]
    cluster = apicalls.role_rules(docs[("ClusterRole", "kubedrill-runner")])
    assert {verb for group, resource, verb in cluster if resource == "leases"} == {"list"}


@pytest.mark.parametrize("kind, name", [("ClusterRoleBinding", "kubedrill-runner"),
                                        ("RoleBinding", "kubedrill-drill-lock")])
def test_the_bindings_name_the_runners_service_account(kind, name):
    docs = documents(GAMEDAY)
    (account,) = [d for (k, _), d in docs.items() if k == "ServiceAccount"]
    (subject,) = docs[(kind, name)]["subjects"]
    assert (subject["name"], subject["namespace"]) == (account["metadata"]["name"], account["metadata"]["namespace"])


# --- the admission policy ------------------------------------------------------------------------

def test_the_policy_is_bound_denying_and_names_the_runner_kubedrills_labels_and_taints():
    docs = documents(GAMEDAY)
    policy = docs[("ValidatingAdmissionPolicy", "kubedrill-runner-guard")]
    binding = docs[("ValidatingAdmissionPolicyBinding", "kubedrill-runner-guard")]
    assert binding["spec"] == {"policyName": "kubedrill-runner-guard", "validationActions": ["Deny"]}
    (account,) = [d for (k, _), d in docs.items() if k == "ServiceAccount"]
    user = f"system:serviceaccount:{account['metadata']['namespace']}:{account['metadata']['name']}"
    (condition,) = policy["spec"]["matchConditions"]
    assert condition["expression"] == f"request.userInfo.username == '{user}'"
    (rule,) = policy["spec"]["matchConstraints"]["resourceRules"]
    assert set(rule["resources"]) == {"namespaces", "persistentvolumes", "nodes"}
    assert set(rule["operations"]) == {"CREATE", "UPDATE", "DELETE"}
    text = yaml.safe_dump(policy["spec"])
    for name in (guard.MANAGED_BY, guard.MANAGED_BY_VALUE, guard.RUN_ID):
        assert f"'{name}'" in text
    variables = {v["name"]: v["expression"] for v in policy["spec"]["variables"]}
    assert variables["taintKeys"] == f"['{guard.TAINT_KEY}', '{nodes.OUT_OF_SERVICE}']"
    assert {v["expression"].split(" ", 1)[0] for v in policy["spec"]["validations"]} == {"request.resource.resource"}
    assert len(policy["spec"]["validations"]) == 3


def test_kubedrills_guard_protects_the_runners_own_namespace():
    (namespace,) = [name for kind, name in documents(GAMEDAY) if kind == "Namespace"]
    assert namespace in guard.PROTECTED_NAMESPACES
