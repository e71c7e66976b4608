"""The leak check at the end of a run: beyond labels.

Looks for objects carrying the run's label, PVs and VolumeSnapshotContents pointing at the
run's namespaces, stopped node containers of the kind cluster, and taints the run added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from kubernetes.client.rest import ApiException

from kubedrill import docker, guard
from kubedrill.client import Clients
from kubedrill.errors import first_line
from kubedrill.k8s import claims, nodes, snapshots


@dataclass(frozen=True)
class LeakReport:
    labelled: tuple[str, ...] = ()
    pvs: tuple[str, ...] = ()
    snapshot_contents: tuple[str, ...] = ()
    stopped_nodes: tuple[str, ...] = ()
    taints: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    foreign: tuple[str, ...] = ()   # carry kubedrill's labels, not this run's: reported, left alone

    @property
    def clean(self) -> bool:
        return not (self.labelled or self.pvs or self.snapshot_contents or self.stopped_nodes or self.taints)

    def lines(self) -> tuple[str, ...]:
        out = [f"object with the run label left: {x}" for x in self.labelled]
        out += [f"PersistentVolume left pointing at a run namespace: {x}" for x in self.pvs]
        out += [f"VolumeSnapshotContent left pointing at a run namespace: {x}" for x in self.snapshot_contents]
        out += [f"node container stopped: {x}" for x in self.stopped_nodes]
        out += [f"taint left by the run: {x}" for x in self.taints]
        out += [f"leak check could not look: {x}" for x in self.errors]
        return tuple(out)

    def foreign_lines(self) -> tuple[str, ...]:
        """Not leaks: objects that carry kubedrill's labels without this run having made them."""
        return tuple(f"carries kubedrill's labels but was not made by this run (left alone): {x}"
                     for x in self.foreign)


def foreign_selector(run_id: str) -> str:
    """kubedrill's label with another run's id (or none): what this run reports and never touches."""
    return f"{guard.MANAGED_BY}={guard.MANAGED_BY_VALUE},{guard.RUN_ID}!={run_id}"


def _labelled(clients: Clients, selector: str, skip: tuple[str, ...] = ()) -> list[str]:
    found: list[str] = []
    checks = [
        ("Namespace", lambda: clients.core.list_namespace(label_selector=selector)),
        ("Pod", lambda: clients.core.list_pod_for_all_namespaces(label_selector=selector)),
        ("Service", lambda: clients.core.list_service_for_all_namespaces(label_selector=selector)),
        ("ConfigMap", lambda: clients.core.list_config_map_for_all_namespaces(label_selector=selector)),
        ("PersistentVolumeClaim",
         lambda: clients.core.list_persistent_volume_claim_for_all_namespaces(label_selector=selector)),
        ("PersistentVolume", lambda: clients.core.list_persistent_volume(label_selector=selector)),
        ("ReplicationController",
         lambda: clients.core.list_replication_controller_for_all_namespaces(label_selector=selector)),
        ("Deployment", lambda: clients.apps.list_deployment_for_all_namespaces(label_selector=selector)),
        ("ReplicaSet", lambda: clients.apps.list_replica_set_for_all_namespaces(label_selector=selector)),
        ("StatefulSet", lambda: clients.apps.list_stateful_set_for_all_namespaces(label_selector=selector)),
        ("Lease", lambda: clients.coordination.list_lease_for_all_namespaces(label_selector=selector)),
    ]
    for kind, fn in checks:
        if kind in skip:
            continue
        for item in fn().items:
            ns = item.metadata.namespace
            found.append(f"{kind} {ns + '/' if ns else ''}{item.metadata.name}")
    for plural in ("volumesnapshots", "volumesnapshotcontents"):
        try:
            data = clients.custom.list_cluster_custom_object(snapshots.GROUP, snapshots.VERSION, plural,
                                                             label_selector=selector)
        except ApiException as exc:
            if exc.status == 404:
                continue
            raise
        for item in data.get("items") or []:
            m = item["metadata"]
            found.append(f"{plural} {m.get('namespace', '') + '/' if m.get('namespace') else ''}{m['name']}")
    return found


def run_namespace_prefix(run_id: str) -> str:
    """Every namespace a run creates is named kd-<run id>-..."""
    return f"kd-{run_id}-"


def check(clients: Clients, run_id: str, namespaces: Iterable[str], kind_cluster: str | None) -> LeakReport:
    """``namespaces``: the run's namespaces; any namespace named after the run counts too."""
    named = set(namespaces)
    prefix = run_namespace_prefix(run_id)
    errors: list[str] = []
    labelled: list[str] = []
    pv: list[str] = []
    vsc: list[str] = []
    stopped: list[str] = []
    taints: list[str] = []
    foreign: list[str] = []
    try:
        labelled = _labelled(clients, guard.run_selector(run_id))
        # the drill lock's Lease outlives the run that last held it: it is the lock, not a leak
        foreign = _labelled(clients, foreign_selector(run_id), skip=("Lease",))
        pv = [f"{p.name} (claim {p.claim_namespace}/{p.claim_name}, {p.phase})"
              for p in claims.list_pvs(clients)
              if p.claim_namespace in named or p.claim_namespace.startswith(prefix)]
        vsc = [f"{c.name} (snapshot {c.snapshot_namespace}/{c.snapshot_name})"
               for c in snapshots.list_contents(clients)
               if c.snapshot_namespace in named or c.snapshot_namespace.startswith(prefix)]
        taints = [f"{n.name}: {t.key}={t.value}:{t.effect}" for n in nodes.list_nodes(clients)
                  for t in n.taints if t.key == guard.TAINT_KEY and t.value == run_id]
    except (ApiException, OSError) as exc:
        errors.append(first_line(exc))
    if kind_cluster and docker.available():
        try:
            stopped = [c.name for c in docker.node_containers(kind_cluster) if not c.running]
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            errors.append(str(exc))
    return LeakReport(tuple(labelled), tuple(pv), tuple(vsc), tuple(stopped), tuple(taints), tuple(errors),
                      tuple(foreign))
