"""PersistentVolume retention: a claim, a pod that holds oracle records on it, and what happens
to the volume when the claim is deleted.

Retain: the PV must go Released, not away; clearing its claimRef and binding a new claim to it by
``spec.volumeName`` gives back the same volume (volumeHandle unchanged) with its data. Delete: the
PV and its data are gone. A PV that vanishes where it should have been retained ends the wait
at once with VolumeLost ("PV ... deleted"), not with a timeout.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kubedrill import docker, guard, journal
from kubedrill.data import inpod
from kubedrill.errors import FaultFailed, KubedrillError, VolumeLost
from kubedrill.k8s import claims, pods
from kubedrill.k8s.common import ignore_not_found
from kubedrill.k8s.claims import PvInfo
from kubedrill.observe.measure import Instant, Recovery, Timeline
from kubedrill.data.oracle import Report
from kubedrill.scope import Scope
from kubedrill.wait import ApiSource, Check, wait_for

DATA_DIR = "/data"
RECORDS = f"{DATA_DIR}/records"
CLAIM_SIZE = "16Mi"
# where kubedrill's CSI hostpath driver keeps a volume on its node (docs/storage.md)
HOSTPATH_VOLUMES = "/var/lib/kubedrill-csi/volumes"


@dataclass(frozen=True)
class ClaimDeleted:
    """The fault: a claim (and the pod using it) deleted."""

    namespace: str
    claim: str
    pv: str
    volume_handle: str
    reclaim_policy: str
    at: Instant

    def describe(self) -> str:
        return f"deleted claim {self.namespace}/{self.claim} (volume {self.pv}, reclaim policy {self.reclaim_policy})"


def consumer_pod(name: str, claim: str, labels: dict[str, str], image: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{
                "name": "data", "image": image, "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", "exec sleep 2147483647"],
                "readinessProbe": {"exec": {"command": ["test", "-d", DATA_DIR]}, "periodSeconds": 1,
                                   "failureThreshold": 1},
                "volumeMounts": [{"name": "data", "mountPath": DATA_DIR}],
            }],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
        },
    }


class DataVolume:
    """A claim, its bound PV, and a pod that mounts it at /data."""

    def __init__(self, scope: Scope, claim: str, pod: str, storage_class: str):
        self.scope = scope
        self.namespace = scope.namespace
        self.claim = claim
        self.pod = pod
        self.storage_class = storage_class
        self.volume_name: str | None = None
        self.entry: journal.Entry | None = None   # the journal's record of the volume (reclaim_volume)
        self.released_at: float | None = None

    def __repr__(self) -> str:
        return f"DataVolume({self.namespace}/{self.claim}, class {self.storage_class})"

    # --- probes ---------------------------------------------------------------------------
    def pv(self) -> PvInfo:
        name = claims.claim_info(self.scope.clients, self.namespace, self.claim).volume_name
        return claims.pv_info(self.scope.clients, name)

    def node(self) -> str:
        return node_of(self.scope.clients, self.namespace, self.pod)

    def write_records(self, count: int) -> int:
        """Append ``count`` records with the oracle's writer; returns the acknowledged sequence."""
        return inpod.write_records(self.scope.clients, self.namespace, self.pod, RECORDS, count,
                                   timeout_s=self.scope.timeouts.verify_s)

    def verify_records(self, acknowledged: int) -> Report:
        """DataLost ("data lost: records 1–N missing") unless records 1..acknowledged are back."""
        return inpod.verify_records(self.scope.clients, self.namespace, self.pod, RECORDS, acknowledged,
                                    timeout_s=self.scope.timeouts.verify_s)

    # --- the fault ------------------------------------------------------------------------
    def delete_claim(self) -> ClaimDeleted:
        """Delete the pod and the claim (guarded, journalled first; nothing to undo)."""
        s = self.scope
        with s.phase("fault"):
            s.guard.check_namespace(self.namespace, "delete a claim in")
            pv = self.pv()
            entry = s.journal.record(f"delete claim {self.namespace}/{self.claim} and pod {self.pod}",
                                     journal.Undo(journal.NOTHING, {"owner": ""},
                                                  "nothing to undo: a deleted claim is the drill"))
            at = Instant.now()
            ignore_not_found(s.clients.core.delete_namespaced_pod, self.pod, self.namespace, grace_period_seconds=0)
            claims.delete_claim(s.clients, self.namespace, self.claim)
            s.journal.resolve(entry)
            fault = ClaimDeleted(self.namespace, self.claim, pv.name, pv.volume_handle, pv.reclaim_policy, at)
            s.run.log(f"[{s.name}] {fault.describe()}")
        return fault

    # --- waits ----------------------------------------------------------------------------
    def wait_released(self, after: ClaimDeleted) -> PvInfo:
        """The PV goes Released and stays; VolumeLost at once if it is deleted instead."""
        def released(items: list[dict]) -> Check:
            if not items or (items[0].get("metadata") or {}).get("deletionTimestamp"):
                raise VolumeLost(f"PV deleted: {after.pv} (reclaim policy {after.reclaim_policy}, class "
                                 f"{self.storage_class}) went with claim {after.namespace}/{after.claim}; "
                                 "retention was expected")
            pv = claims.pv_of(items[0])
            # Released under any other policy is on its way out: wait to see it go
            return Check(pv.phase == "Released" and pv.reclaim_policy == "Retain",
                         f"{pv.phase} ({pv.reclaim_policy})")

        with self.scope.phase("recover"):
            res = wait_for(claims.pv_source(self.scope.clients, after.pv), released,
                           description=f"volume {after.pv} to be Released (retained)",
                           timeout_s=self.scope.timeouts.recover_s, progress=self.scope.progress)
        self.released_at = res.satisfied_at
        return claims.pv_of(res.items[0])

    def rebind(self, after: ClaimDeleted, claim: str | None = None, pod: str | None = None) -> tuple["DataVolume", Recovery]:
        """Bind a new claim to the Released PV, pre-bound both ways (the claim names the volume
        in spec.volumeName, then the volume's claimRef is set to that claim's UID: it is never
        Available, so no other claim can take it), and start a pod on it. RTO: from the claim's
        deletion to the new pod Ready on the same volume."""
        s = self.scope
        claim = claim or f"{self.claim}-again"
        pod = pod or f"{self.pod}-again"
        with s.phase("recover"):
            again, created = _create_claim(s, claim, pod, self.storage_class, volume_name=after.pv)
            if not claims.bind_to_claim(s.clients, after.pv, s.namespace, claim, created.uid):
                raise VolumeLost(f"PV deleted: {after.pv} vanished while it was being reclaimed; retention was expected")
            referenced = Instant.now().mono
            # bound before its pod exists: a pod whose claim is still unbound waits out the
            # scheduler's back-off (seconds) for nothing
            bound = wait_for(claims.claim_source(s.clients, s.namespace, claim), _claim_bound(after.pv),
                             description=f"claim {claim} Bound to {after.pv}", timeout_s=s.timeouts.recover_s,
                             progress=s.progress)
            _create_pod(s, again)
            ready = _wait_pod_ready(s, pod)
        timeline = Timeline(after.at).add("fault", after.at.mono, after.describe())
        if self.released_at is not None:
            timeline = timeline.add("Released", max(self.released_at, after.at.mono), after.pv)
        timeline = (timeline
                    .add("claimRef set", max(referenced, after.at.mono), f"{after.pv} pre-bound to claim {claim}")
                    .add("Bound", max(bound.satisfied_at, after.at.mono), f"claim {claim} bound by volumeName")
                    .add("Ready", ready.satisfied_at, f"pod {pod} on claim {claim}"))
        recovery = Recovery(f"volume {after.pv} bound to claim {claim}, pod {pod} Ready",
                            max(0.0, ready.satisfied_at - after.at.mono), timeline, ready.summary)
        s.run.results.append((s.name, recovery))
        return again, recovery

    def wait_volume_deleted(self, after: ClaimDeleted) -> Recovery:
        """Delete class: the PV is gone. The measure is the reclaim time."""
        def gone(items: list[dict]) -> Check:
            return Check(not items, "gone" if not items else claims.pv_of(items[0]).phase)

        with self.scope.phase("recover"):
            res = wait_for(claims.pv_source(self.scope.clients, after.pv), gone,
                           description=f"volume {after.pv} to be deleted with its claim",
                           timeout_s=self.scope.timeouts.recover_s, progress=self.scope.progress)
        timeline = Timeline(after.at).add("fault", after.at.mono, after.describe()).add(
            "PV deleted", max(res.satisfied_at, after.at.mono), after.pv)
        recovery = Recovery(f"volume {after.pv} deleted with its claim",
                            max(0.0, res.satisfied_at - after.at.mono), timeline, res.summary)
        self.scope.run.results.append((self.scope.name, recovery))
        return recovery


@dataclass(frozen=True)
class NodeData:
    """What a volume's node holds of it: ``present`` True or False when looked at; None when it
    cannot be looked at on this cluster (``why``)."""

    pv: str
    node: str
    path: str
    present: bool | None
    why: str = ""

    @property
    def checkable(self) -> bool:
        return self.present is not None

    def mark(self) -> tuple[str, str]:
        """(name, detail) of the timeline mark that reports what was seen."""
        if not self.checkable:
            return "data on node not checkable", self.why
        return ("data on node" if self.present else "data gone from node"), f"{self.node}:{self.path}"


# on the node: is the volume's directory there, and is the driver's store there at all?
_LOOK = 'if [ ! -d "$1" ]; then echo no-store; elif [ -e "$1/$2" ]; then echo present; else echo absent; fi'


def data_on_node(clients, pv: PvInfo, node: str) -> NodeData:
    """Is the volume's directory on its node? Looked at through docker on the local kind cluster
    (kubedrill's CSI hostpath driver keeps it under HOSTPATH_VOLUMES); not checkable elsewhere,
    or for a volume of another driver. Docker failing, or an unexpected answer, is an error
    (KubedrillError: a harness error), never "gone"."""
    path = f"{HOSTPATH_VOLUMES}/{pv.volume_handle}"
    if not node:
        raise ValueError(f"PV {pv.name}: no node to look at")
    if not pv.volume_handle:
        return NodeData(pv.name, node, path, None, f"PV {pv.name} is not a CSI volume: only kubedrill's "
                                                   "CSI hostpath driver's volumes can be looked at on their node")
    if node not in docker.local_nodes(clients.kind_cluster):
        return NodeData(pv.name, node, path, None,
                        f"node {node} is not a container of the local kind cluster: its disk cannot be looked at")
    try:
        answer = docker.cli("exec", node, "sh", "-c", _LOOK, "sh", HOSTPATH_VOLUMES, pv.volume_handle, timeout=30).strip()
    except FaultFailed as exc:
        raise KubedrillError(f"cannot look for {path} on node {node}: {exc}") from None
    if answer == "no-store":
        return NodeData(pv.name, node, path, None, f"node {node} has no {HOSTPATH_VOLUMES}: PV {pv.name} is not "
                                                   "a volume of kubedrill's CSI hostpath driver")
    if answer not in ("present", "absent"):
        raise KubedrillError(f"looking for {path} on node {node}: unexpected answer {answer!r}")
    return NodeData(pv.name, node, path, answer == "present")


def require_present(seen: NodeData) -> NodeData:
    """Before the fault: where the look can be made, the data must be seen there, or finding it
    gone afterwards would prove nothing (KubedrillError: kubedrill looks in the wrong place)."""
    if seen.checkable and not seen.present:
        raise KubedrillError(f"the data of PV {seen.pv} is not on node {seen.node} ({seen.path}) before the "
                             "fault: finding it gone afterwards would prove nothing")
    return seen


def noted(recovery: Recovery, seen: NodeData) -> Recovery:
    """``recovery`` with a mark of what was seen on the node (or why it could not be)."""
    name, detail = seen.mark()
    return dataclasses.replace(recovery, timeline=recovery.timeline.add(name, Instant.now().mono, detail))


def node_of(clients, namespace: str, pod: str) -> str:
    return clients.core.read_namespaced_pod(pod, namespace).spec.node_name or ""


def _wait_pod_ready(s: Scope, pod: str):
    return wait_for(ApiSource(s.clients.core.list_namespaced_pod, s.namespace, field_selector=f"metadata.name={pod}"),
                    pods.serving_with_image(1, "writer's pod"), description=f"pod {pod} Ready with its volume",
                    timeout_s=s.timeouts.deploy_s, progress=s.progress)


def _create_claim(s: Scope, claim: str, pod: str, storage_class: str,
                  volume_name: str | None = None) -> tuple[DataVolume, claims.PvcInfo]:
    """The claim (bound to ``volume_name``, a volume kubedrill provisioned, when given) and its
    cleanup, which reclaims only the volume recorded as kubedrill's (``handle.volume_name``)."""
    c, ns = s.clients, s.namespace
    labels, _ = guard.app_labels(s.run.run_id, claim)
    handle = DataVolume(s, claim, pod, storage_class)
    handle.volume_name = volume_name
    created = claims.create_claim(c, ns, claims.claim_manifest(claim, labels, CLAIM_SIZE, storage_class,
                                                               volume_name=volume_name))
    def cleanup() -> None:
        reclaim(s, claim, handle.volume_name)
        if handle.entry is not None:
            s.journal.resolve(handle.entry)

    s.cleanups.defer(f"delete claim {ns}/{claim} and the volume provisioned for it, whatever its reclaim policy",
                     cleanup)
    return handle, created


def _create_pod(s: Scope, handle: DataVolume) -> None:
    c, ns, pod = s.clients, s.namespace, handle.pod
    labels, _ = guard.app_labels(s.run.run_id, handle.claim)
    c.core.create_namespaced_pod(ns, consumer_pod(pod, handle.claim, labels, s.run.images.writer_image()))
    s.cleanups.defer(f"delete pod {ns}/{pod}",
                     lambda: ignore_not_found(c.core.delete_namespaced_pod, pod, ns, grace_period_seconds=0))


def _create(s: Scope, claim: str, pod: str, storage_class: str) -> tuple[DataVolume, claims.PvcInfo]:
    handle, created = _create_claim(s, claim, pod, storage_class)
    _create_pod(s, handle)
    return handle, created


def _claim_bound(pv: str):
    def check(items: list[dict]) -> Check:
        if not items:
            return Check(False, "claim not there yet")
        got = claims.pvc_of(items[0])
        return Check(got.phase == "Bound" and got.volume_name == pv, f"{got.phase or 'Pending'}")
    return check


def create(scope: Scope, name: str, storage_class: str) -> DataVolume:
    """A claim of ``storage_class`` and a pod using it, Ready; cleanups registered at once.
    The cleanup reclaims the volume whatever its policy (Retain is switched to Delete)."""
    s = scope
    s.guard.check_namespace(s.namespace, "create a claim in")
    with s.phase("deploy"):
        claims.refuse_premade(s.clients, storage_class, f"claim {s.namespace}/{name}")
        vol, created = _create(s, name, f"{name}-writer", storage_class)
        _wait_pod_ready(s, vol.pod)
        bound = vol.pv().name  # bound now (WaitForFirstConsumer)
        if not claims.provisioned_for(bound, created.uid):
            # a volume that existed before the claim matched it: not kubedrill's, never reclaimed
            raise KubedrillError(
                f"claim {s.namespace}/{name} bound PersistentVolume {bound}, which was not provisioned for it "
                f"(a pre-made volume of class {storage_class}): kubedrill does not drill or reclaim a volume it "
                "did not make; the volume is left as it is, with its own reclaim policy")
        vol.volume_name = bound  # provisioned for the claim: the cleanup reclaims it
        # journalled: a Retain volume outlives its claim and namespace, a crashed run's replay reclaims it
        vol.entry = s.journal.record(f"hold volume {bound} for claim {s.namespace}/{name}",
                                     journal.Undo(journal.RECLAIM_VOLUME, {"pv": bound}, f"reclaim volume {bound}"))
    return vol


def reclaim(s: Scope, claim: str, volume_name: str | None = None) -> None:
    """Cleanup: make sure the claim's volume goes (Delete policy), then the claim; wait for the PV.
    Only a volume kubedrill provisioned is reclaimed: ``volume_name`` (recorded as the run's), or
    the one the claim holds when it was provisioned for that claim. A volume that existed before
    the claim is left with its own reclaim policy (reported)."""
    c, ns = s.clients, s.namespace
    name, foreign = (volume_name, "") if volume_name else claims.provisioned_volume(c, ns, claim)
    if foreign:
        s.run.log(f"[{s.name}] claim {ns}/{claim} holds PersistentVolume {foreign}, which was not "
                  "provisioned for it: its reclaim policy is left as it is")
    if name:
        claims.set_reclaim_policy(c, name, "Delete")
    claims.delete_claim(c, ns, claim)
    if not name:
        return
    try:
        pv = claims.pv_info(c, name)
    except Exception:  # noqa: BLE001 - already gone
        return
    if pv.phase == "Available":
        claims.delete_pv(c, name)  # never re-bound: nothing will reclaim it (its directory stays on the node)
    claims.wait_pv_gone(c, name, s.timeouts.delete_s, s.progress)
