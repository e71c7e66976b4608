"""Undo actions: how the fault journal says to undo a fault (:class:`Undo`, recorded inside an
:class:`Entry`) and the executors that carry each action out when a journal is replayed.

A harness module (layer 5, beside kubedrill.journal, which imports it): the executors act through
kubedrill.client, kubedrill.docker and kubedrill.k8s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from kubedrill import client as kclient
from kubedrill import docker, helm
from kubedrill.client import Clients
from kubedrill.config import Timeouts
from kubedrill.k8s import claims, leases, namespaces, nodes

# undo actions understood by replay
DOCKER_START = "docker_start"          # args: container
REMOVE_TAINT = "remove_taint"          # args: node, key, value, effect
DELETE_NAMESPACE = "delete_namespace"  # args: namespace
RELEASE_LEASE = "release_lease"        # args: namespace, name
NOTHING = "nothing"                    # e.g. a deleted pod: its owner recreates it; args: owner
UNCORDON = "uncordon"                  # args: node (a drain's cordon)
RECLAIM_VOLUME = "reclaim_volume"      # args: pv (a volume provisioned for a run's claim)
HELM_UNINSTALL = "helm_uninstall"      # args: release, namespace (a release an experiment installed)


@dataclass(frozen=True)
class Undo:
    action: str
    args: Mapping[str, str]
    description: str

    def as_dict(self) -> dict:
        return {"action": self.action, "args": dict(self.args), "description": self.description}


@dataclass(frozen=True)
class Entry:
    id: int
    run_id: str
    what: str
    undo: Undo
    kubeconfig: str
    context: str
    pid: int
    host: str
    ts: float
    holder: str = ""   # the drill lock's holder identity of the run that wrote it

    @property
    def ref(self) -> str:
        """How an operator names the entry (``--forget``): ``<run id>/<id>``."""
        return f"{self.run_id}/{self.id}"

    @staticmethod
    def from_dict(d: dict) -> "Entry":
        u = d["undo"]
        if not (isinstance(u, dict) and isinstance(u.get("action"), str)
                and isinstance(d["run_id"], str) and isinstance(d["what"], str)):
            raise ValueError("not an intent record")
        return Entry(int(d["id"]), d["run_id"], d["what"],
                     Undo(u["action"], dict(u.get("args") or {}), u.get("description", "")),
                     d.get("kubeconfig", ""), d.get("context", ""), int(d.get("pid", 0)),
                     d.get("host", ""), float(d.get("ts", 0)), d.get("holder") or d["run_id"])

    def undo_text(self) -> str:
        """What replaying the entry would do: its description, action and arguments."""
        args = " ".join(f"{k}={v}" for k, v in sorted(self.undo.args.items()))
        return f"{self.undo.description or self.undo.action} [{self.undo.action}{' ' + args if args else ''}]"


Executor = Callable[[Entry], str]

# how long a `docker stop` of a node container can take: its 10 s grace, the kill, and slack
DOCKER_STOP_S = 90.0


def default_executors(timeout_scale: float = 1.0) -> dict[str, Executor]:
    """The real executors: each undoes one action against the cluster (or docker) the entry names."""
    timeouts = Timeouts().scaled(timeout_scale)
    cache: dict[tuple[str, str], Clients] = {}

    def clients(entry: Entry) -> Clients:
        key = (entry.kubeconfig, entry.context)
        if key not in cache:
            # the context was allowed when the journal was written; it is not re-judged here
            cache[key] = kclient.load(entry.kubeconfig or None, entry.context or None,
                                      allowed_contexts=(entry.context,), timeout_s=timeouts.api_s)
        return cache[key]

    def docker_start(entry: Entry) -> str:
        name = entry.undo.args["container"]
        if docker.is_running(name):
            if not docker.stopping(name, entry.ts):
                return f"node container {name} was already running"
            # the crashed run's `docker stop` is still under way in the daemon: let it end, then start
            docker.wait_stopped(name, DOCKER_STOP_S)
        docker.start(name)
        return f"started node container {name}"

    def remove_taint(entry: Entry) -> str:
        a = entry.undo.args
        removed = nodes.remove_taint(clients(entry), a["node"], a["key"], a.get("value"), a.get("effect"))
        return (f"removed taint {a['key']}:{a.get('effect')} from node {a['node']}" if removed
                else f"taint {a['key']} was already gone from node {a['node']}")

    def delete_namespace(entry: Entry) -> str:
        ns = entry.undo.args["namespace"]
        c = clients(entry)
        gone_already = namespaces.delete(c, ns, run_id=entry.run_id)
        namespaces.wait_gone(c, ns, timeouts.delete_s)
        claims.wait_deleting_volumes_gone(c, ns, timeouts.delete_s)
        return f"namespace {ns} was already gone" if gone_already else f"deleted namespace {ns}"

    def release_lease(entry: Entry) -> str:
        a = entry.undo.args
        lease = leases.Leases(clients(entry), a["namespace"], a["name"], {}, timeouts.api_s)
        if lease.release(entry.run_id):
            return f"released drill lock {a['namespace']}/{a['name']}"
        return f"drill lock {a['namespace']}/{a['name']} was not held by the run"

    def nothing(entry: Entry) -> str:
        return entry.undo.description or "nothing to undo"

    def uncordon(entry: Entry) -> str:
        node = entry.undo.args["node"]
        changed = nodes.set_unschedulable(clients(entry), node, False)
        return f"uncordoned node {node}" if changed else f"node {node} was already schedulable"

    def reclaim_volume(entry: Entry) -> str:
        """A volume provisioned for a run's claim: Delete policy (a Retain volume would outlive
        its claim), deleted when no claim holds it any more, waited for until gone."""
        name = entry.undo.args["pv"]
        c = clients(entry)
        if not claims.set_reclaim_policy(c, name, "Delete"):
            return f"volume {name} was already gone"
        pv = claims.pv_info(c, name)
        if pv.phase == "Available":   # no claim will release it: nothing else reclaims it
            claims.delete_pv(c, name)
        elif pv.claim_namespace and namespaces.exists(c, pv.claim_namespace):
            return (f"volume {name} is still bound to claim {pv.claim_namespace}/{pv.claim_name}: set to Delete, "
                    "it goes with its claim")
        claims.wait_pv_gone(c, name, timeouts.delete_s)
        return f"reclaimed volume {name}"

    def helm_uninstall(entry: Entry) -> str:
        a = entry.undo.args
        c = clients(entry)
        if helm.uninstall(a["release"], a["namespace"], c.kubeconfig, c.context):
            return f"uninstalled helm release {a['namespace']}/{a['release']}"
        return f"helm release {a['namespace']}/{a['release']} was already gone"

    return {DOCKER_START: docker_start, REMOVE_TAINT: remove_taint,
            DELETE_NAMESPACE: delete_namespace, RELEASE_LEASE: release_lease, NOTHING: nothing,
            UNCORDON: uncordon, RECLAIM_VOLUME: reclaim_volume, HELM_UNINSTALL: helm_uninstall}
