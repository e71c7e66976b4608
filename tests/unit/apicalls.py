"""The Kubernetes API requests kubedrill's code makes, read from its source: every method of the
kubernetes client's API classes it names, as (API group, resource, verb), and the documents its
bundled experiments create through the dynamic client. Pure logic over source files (nothing
is imported from kubedrill or run); tests/unit/test_gameday_deploy.py holds deploy/gameday's
RBAC to exactly this.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterable

import kubernetes.client as k8s
import yaml

# the API classes kubedrill.client builds, and their groups
API_GROUPS = {k8s.CoreV1Api: "", k8s.AppsV1Api: "apps", k8s.PolicyV1Api: "policy",
              k8s.CoordinationV1Api: "coordination.k8s.io", k8s.StorageV1Api: "storage.k8s.io"}
SNAPSHOT_GROUP = "snapshot.storage.k8s.io"
SNAPSHOT_PLURALS = ("volumesnapshots", "volumesnapshotcontents", "volumesnapshotclasses")

# the client's kind in a method name -> the API's resource (plural)
RESOURCES = {
    "namespace": "namespaces", "pod": "pods", "service": "services", "node": "nodes", "secret": "secrets",
    "persistent_volume_claim": "persistentvolumeclaims", "persistent_volume": "persistentvolumes",
    "replication_controller": "replicationcontrollers", "config_map": "configmaps", "event": "events",
    "deployment": "deployments", "replica_set": "replicasets", "stateful_set": "statefulsets",
    "daemon_set": "daemonsets", "pod_disruption_budget": "poddisruptionbudgets", "lease": "leases",
    "storage_class": "storageclasses", "csi_driver": "csidrivers", "volume_attachment": "volumeattachments",
}
SUBRESOURCES = {"exec": "exec", "log": "log", "eviction": "eviction", "scale": "scale", "proxy_with_path": "proxy",
                "status": "status"}
# the client's verb prefix -> the RBAC verb. A pod exec is a websocket GET: authorized as `get`, and
# (Kubernetes 1.31+, AuthorizePodWebsocketUpgradeCreatePermission) also as `create`, as kubectl
# exec's POST was; seen in the cluster: without `get`, "cannot get resource pods/exec".
VERBS = (("connect_get", "get"), ("delete_collection", "deletecollection"), ("create", "create"),
         ("delete", "delete"), ("list", "list"), ("patch", "patch"), ("read", "get"), ("replace", "update"),
         ("get", "get"))
CREATE_SUBRESOURCES = {("pods", "exec")}
# a list function handed to kubedrill.wait.ApiSource is also watched
WATCHED_BY = "ApiSource"

Rule = tuple[str, str, str]   # (group, resource[/subresource], verb)


def _api_methods() -> dict[str, str]:
    out = {}
    for api, group in API_GROUPS.items():
        for name in dir(api):
            if not name.startswith("_") and not name.endswith("_with_http_info") and name != "get_api_resources":
                out.setdefault(name, group)
    return out


def method_rule(method: str, group: str) -> Rule:
    """(group, resource, verb) of a typed client method, e.g. list_namespaced_pod -> ("", "pods", "list")."""
    verb, rest = next((v, method[len(p) + 1:]) for p, v in VERBS if method.startswith(p + "_"))
    rest = rest.removeprefix("namespaced_").removesuffix("_for_all_namespaces")
    for sub_name, sub in SUBRESOURCES.items():
        if rest.endswith("_" + sub_name) and rest[:-len(sub_name) - 1] in RESOURCES:
            resource = RESOURCES[rest[:-len(sub_name) - 1]]
            return group, f"{resource}/{sub}", verb
    return group, RESOURCES[rest], verb


def _strings(tree: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _plurals(call: ast.Call, at: int, tree: ast.AST) -> set[str]:
    """The snapshot plural a custom-object call names: its string argument, or every snapshot
    plural the module's loops over a tuple bind to the name it passes."""
    args = call.args[at:]
    found = {a.value for a in args if isinstance(a, ast.Constant) and a.value in SNAPSHOT_PLURALS}
    names = {a.id for a in args if isinstance(a, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id in names:
            found |= _strings(node.iter) & set(SNAPSHOT_PLURALS)
    return found


def _custom_rules(method: str, plurals: Iterable[str]) -> set[Rule]:
    verb = next(v for p, v in VERBS if method.startswith(p + "_"))
    return {(SNAPSHOT_GROUP, plural, verb) for plural in plurals}


def source_rules(root: Path, package: str = "kubedrill") -> dict[Rule, set[str]]:
    """Every request the package's code names -> the modules that name it."""
    methods = _api_methods()
    found: dict[Rule, set[str]] = {}

    def add(rule: Rule, where: str) -> None:
        found.setdefault(rule, set()).add(where)

    for path in sorted((root / package).rglob("*.py")):
        tree = ast.parse(path.read_text())
        where = str(path.relative_to(root))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in methods:
                group, resource, verb = method_rule(node.attr, methods[node.attr])
                add((group, resource, verb), where)
                if tuple(resource.split("/")) in CREATE_SUBRESOURCES:
                    add((group, resource, "create"), where)
            if not isinstance(node, ast.Call):
                continue
            # a custom-object method called, or handed to a helper (ApiSource, ignore_not_found) with its args
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            handed = [(i, a.attr) for i, a in enumerate(node.args) if isinstance(a, ast.Attribute)]
            for at, method in [(0, callee)] + [(i + 1, m) for i, m in handed]:
                if method.endswith("_custom_object") or method.endswith("_custom_object_with_http_info"):
                    for rule in _custom_rules(method, _plurals(node, at, tree)):
                        add(rule, where)
            if callee == WATCHED_BY and node.args and isinstance(node.args[0], ast.Attribute):
                method = node.args[0].attr
                if method in methods:
                    group, resource, _ = method_rule(method, methods[method])
                    add((group, resource, "watch"), where)
                elif method.endswith("_custom_object"):
                    for plural in _plurals(node, 1, tree):
                        add((SNAPSHOT_GROUP, plural, "watch"), where)
    return found


# kinds of the bundled experiments' manifests, created through the dynamic client (kubedrill.k8s.manifests)
KINDS = {"Deployment": ("apps", "deployments"), "StatefulSet": ("apps", "statefulsets"),
         "ReplicationController": ("", "replicationcontrollers"), "Service": ("", "services"),
         "PodDisruptionBudget": ("policy", "poddisruptionbudgets"), "Secret": ("", "secrets"),
         "ConfigMap": ("", "configmaps"), "PersistentVolumeClaim": ("", "persistentvolumeclaims")}


def manifest_rules(manifests: Path) -> dict[Rule, set[str]]:
    found: dict[Rule, set[str]] = {}
    for path in sorted(manifests.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind"):
                group, resource = KINDS[doc["kind"]]
                found.setdefault((group, resource, "create"), set()).add(path.name)
    return found


def role_rules(role: dict) -> set[Rule]:
    """A ClusterRole's rules as (group, resource, verb) triples."""
    return {(group, resource, verb) for rule in role.get("rules") or [] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


RBAC_SECTION = "### RBAC"


def table_rules(markdown: str) -> set[Rule]:
    """The RBAC table of docs/gameday.md (the section headed ``### RBAC``): rows of
    | `group` | `resource`[, `resource`] | verb, verb | why |."""
    section = markdown.split(RBAC_SECTION, 1)[1].split("\n### ", 1)[0]
    out = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not re.fullmatch(r"`[^`]*`", cells[0]):
            continue
        group = cells[0].strip("`")
        for resource in re.findall(r"`([^`]+)`", cells[1]):
            for verb in cells[2].split(","):
                out.add(("" if group == '""' else group, resource, verb.strip()))
    return out
