"""Volumes lost, and a StatefulSet's restored from VolumeSnapshots, for the kubedrill.ctk actions
``delete_claim`` (a disk lost), ``snapshot_claims`` and ``restore_claims`` (the DR story "the
database's disk is gone; bring it back from the last snapshot").

Only claims that carry the run's id are touched (a drill's own manifests, applied into the
namespace it created): in an existing namespace nothing kubedrill did not create is deleted.
Everything they make lives in the run's namespace, which the journal deletes after a crash.
"""

from __future__ import annotations

from kubedrill import guard as kguard
from kubedrill import journal
from kubedrill.errors import FaultFailed, GuardRefused
from kubedrill.k8s import claims, owners, pods, snapshots, statefulsets
from kubedrill.k8s.common import meta
from kubedrill.scope import Scope
from kubedrill.wait import ApiSource, Check, wait_for

# the snapshot each claim was last given by snapshot_claims, per (namespace, claim)
_taken: dict[tuple[str, str], str] = {}
# the UID each claim got when restore_claims made it again, per (namespace, claim)
_restored: dict[tuple[str, str], str] = {}


def restored(namespace: str) -> dict[str, str]:
    """The claims restore_claims made again in ``namespace``: claim name -> its new UID (a
    StatefulSet restored from its snapshots is itself on these: kubedrill.ctk.recover)."""
    return {claim: uid for (ns, claim), uid in _restored.items() if ns == namespace}


def own_claim(scope: Scope, name: str) -> dict:
    """Claim ``name`` of the drill's namespace, when it carries the run's id (GuardRefused
    otherwise: in an existing namespace nothing kubedrill did not create is deleted)."""
    claim = claims.read_claim(scope.clients, scope.namespace, name)
    if claim is None:
        raise FaultFailed(f"claim {name} does not exist in namespace {scope.namespace}")
    if (meta(claim).get("labels") or {}).get(kguard.RUN_ID) != scope.run.run_id:
        raise GuardRefused(f"refusing to delete claim {scope.namespace}/{name}: it does not carry run id "
                           f"{scope.run.run_id} (only a drill's own manifests' claims are deleted)")
    return claim


def delete_claim(scope: Scope, name: str) -> list[str]:
    """Delete claim ``name`` and the pods that mount it, so that it goes at once (a claim in use
    is kept until no pod uses it): its volume is lost, as a disk is. A StatefulSet makes the
    pod again, and its claim anew from the template: empty. Returns the pods deleted."""
    claim = own_claim(scope, name)
    users = pods.mounting(scope.clients, scope.namespace, name)
    for p in users:
        scope.guard.check_object(dict(p.labels), scope.namespace, f"pod {p.name}")
    with scope.phase("fault"):
        entry = scope.journal.record(
            f"delete claim {scope.namespace}/{name} and the pods that mount it",
            journal.Undo(journal.NOTHING, {"namespace": scope.namespace},
                         "nothing to undo: the run's namespace, deleted by its own entry, holds all of it"))
        claims.delete_claim(scope.clients, scope.namespace, name, meta(claim)["uid"])
        for p in users:
            pods.delete(scope.clients, scope.namespace, p.name, p.uid)
        scope.journal.resolve(entry)
    deleted = [p.name for p in users]
    scope.run.log(f"[{scope.name}] deleted claim {name}" + (f" and pod(s) {', '.join(deleted)}" if deleted else ""))
    return deleted


def claims_of(scope: Scope, name: str) -> list[dict]:
    """The StatefulSet's claims (one per template per ordinal), each carrying the run's id."""
    sts = owners.read(scope.clients, scope.namespace, "StatefulSet", name)
    if sts is None:
        raise FaultFailed(f"StatefulSet {name} does not exist in namespace {scope.namespace}")
    templates = [t.metadata.name for t in sts.spec.volume_claim_templates or []]
    if not templates:
        raise FaultFailed(f"StatefulSet {name} has no volumeClaimTemplates: no claim to snapshot or restore")
    out = []
    for tpl in templates:
        for i in range(int(sts.spec.replicas or 0)):
            claim = claims.read_claim(scope.clients, scope.namespace, f"{tpl}-{name}-{i}")
            if claim is None:
                raise FaultFailed(f"claim {tpl}-{name}-{i} of StatefulSet {name} does not exist")
            labels = meta(claim).get("labels") or {}
            if labels.get(kguard.RUN_ID) != scope.run.run_id:
                raise GuardRefused(f"refusing to snapshot or restore claim {scope.namespace}/{meta(claim)['name']}: "
                                   f"it does not carry run id {scope.run.run_id} (only a drill's own manifests' "
                                   "claims are restored)")
            out.append(claim)
    return out


def snapshot_claims(scope: Scope, name: str) -> list[str]:
    """A VolumeSnapshot of each claim of StatefulSet ``name``, waited readyToUse."""
    made = []
    for claim in claims_of(scope, name):
        claim_name = meta(claim)["name"]
        snap = f"{claim_name}-{len([k for k in _taken if k[0] == scope.namespace]) + 1}"
        body = snapshots.manifest(snap, kguard.labels(scope.run.run_id), claim_name)
        snapshots.create(scope.clients, scope.namespace, body)
        snapshots.wait_ready(scope.clients, scope.namespace, snap, scope.timeouts.recover_s, scope.progress)
        _taken[(scope.namespace, claim_name)] = snap
        made.append(snap)
        scope.run.log(f"[{scope.name}] snapshot {snap} of claim {claim_name} is readyToUse")
    return made


def restore_claims(scope: Scope, name: str) -> list[str]:
    """Scale StatefulSet ``name`` to 0, delete its claims (the loss), create each again from its
    last snapshot, scale back: the StatefulSet's pods come back on the restored volumes."""
    found = claims_of(scope, name)
    missing = [meta(c)["name"] for c in found if (scope.namespace, meta(c)["name"]) not in _taken]
    if missing:
        raise FaultFailed(f"no snapshot of claim(s) {', '.join(missing)}: run snapshot_claims first")
    replicas = int(owners.read(scope.clients, scope.namespace, "StatefulSet", name).spec.replicas or 0)
    with scope.phase("fault"):
        entry = scope.journal.record(
            f"restore the claims of StatefulSet {scope.namespace}/{name} from snapshots",
            journal.Undo(journal.NOTHING, {"namespace": scope.namespace},
                         "nothing to undo: the run's namespace, deleted by its own entry, holds all of it"))
        statefulsets.scale(scope.clients, scope.namespace, name, 0)
        _wait_no_pods(scope, name)
        for c in found:
            claims.delete_claim(scope.clients, scope.namespace, meta(c)["name"], meta(c)["uid"])
        _wait_claims_gone(scope, [meta(c)["name"] for c in found])
        for c in found:
            spec = c.get("spec") or {}
            size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
            body = claims.claim_manifest(meta(c)["name"], meta(c).get("labels") or {}, size,
                                         spec.get("storageClassName"), _taken[(scope.namespace, meta(c)["name"])])
            made = claims.create_claim(scope.clients, scope.namespace, body)
            _restored[(scope.namespace, made.name)] = made.uid
        statefulsets.scale(scope.clients, scope.namespace, name, replicas)
        scope.journal.resolve(entry)
    names = [meta(c)["name"] for c in found]
    scope.run.log(f"[{scope.name}] claims {', '.join(names)} restored from snapshots; StatefulSet {name} "
                  f"scaled back to {replicas}")
    return names


def _wait_no_pods(scope: Scope, name: str) -> None:
    own = owners.Owners(scope.clients, scope.namespace, "StatefulSet", name)

    def none_left(items: list[dict]) -> Check:
        left = [meta(o)["name"] for o in items if own.owns(owners.controller_uid(o))]
        return Check(not left, f"{len(left)} pod(s) left" if left else "no pod left")

    wait_for(ApiSource(scope.clients.core.list_namespaced_pod, scope.namespace), none_left,
             description=f"StatefulSet {name} scaled to 0", timeout_s=scope.timeouts.delete_s,
             progress=scope.progress)


def _wait_claims_gone(scope: Scope, names: list[str]) -> None:
    def gone(items: list[dict]) -> Check:
        left = sorted(meta(o)["name"] for o in items if meta(o)["name"] in names)
        return Check(not left, f"left: {', '.join(left)}" if left else "gone")

    wait_for(ApiSource(scope.clients.core.list_namespaced_persistent_volume_claim, scope.namespace), gone,
             description=f"claim(s) {', '.join(names)} deleted", timeout_s=scope.timeouts.delete_s,
             progress=scope.progress)
