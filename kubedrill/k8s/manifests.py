"""A user's manifests applied into one namespace, through the dynamic client (any kind the API
serves, custom resources too). kubedrill labels every object it creates (and the pods and claims
a workload's templates make) with its run id; a cluster-scoped kind, or an object that names
another namespace, is refused before anything is created."""

from __future__ import annotations

import copy
from typing import Any, Iterable

from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

from kubedrill.errors import UsageError, first_line

# workload kinds whose pod template (and claim templates) get the run's labels too
TEMPLATED = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "DaemonSet", "Job")


def dynamic(clients) -> DynamicClient:
    return DynamicClient(clients.api)


def _resource(dyn: DynamicClient, doc: dict[str, Any], where: str):
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if not api_version or not kind:
        raise UsageError(f"{where}: a document without apiVersion or kind")
    try:
        return dyn.resources.get(api_version=api_version, kind=kind)
    except ResourceNotFoundError:
        raise UsageError(f"{where}: the cluster serves no {kind} in {api_version}") from None


def check(clients, namespace: str, docs: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """UsageError (one line: the file, the object, why) for a document kubedrill will not apply
    into ``namespace``: cluster-scoped, naming another namespace, or of a kind the cluster does not serve."""
    dyn = dynamic(clients)
    for where, doc in docs:
        resource = _resource(dyn, doc, where)
        name = (doc.get("metadata") or {}).get("name", "?")
        what = f"{where}: {doc.get('kind')} {name}"
        if not resource.namespaced:
            raise UsageError(f"{what} is cluster-scoped: a drill applies only namespaced objects, into the "
                             "namespace it creates")
        other = (doc.get("metadata") or {}).get("namespace")
        if other and other != namespace:
            raise UsageError(f"{what} names namespace {other!r}: a drill applies its manifests into the "
                             "namespace it creates; remove metadata.namespace")


def labelled(doc: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """A copy of ``doc`` with ``labels`` on it and on its pod and claim templates."""
    out = copy.deepcopy(doc)
    out.setdefault("metadata", {}).setdefault("labels", {}).update(labels)
    if out.get("kind") in TEMPLATED:
        spec = out.setdefault("spec", {})
        spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {}).update(labels)
        for claim in spec.get("volumeClaimTemplates") or []:
            claim.setdefault("metadata", {}).setdefault("labels", {}).update(labels)
    return out


def _claim_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The claim specs a document makes: its own (a PersistentVolumeClaim) or its claim templates."""
    if not isinstance(doc, dict):
        return []
    if doc.get("kind") == "PersistentVolumeClaim":
        return [doc.setdefault("spec", {})]
    return [t.setdefault("spec", {}) for t in ((doc.get("spec") or {}).get("volumeClaimTemplates") or [])
            if isinstance(t, dict)]


def has_claims(docs: Iterable[tuple[str, dict[str, Any]]]) -> bool:
    """Whether any document makes a claim (a PersistentVolumeClaim, or a workload's claim templates)."""
    return any(_claim_specs(copy.deepcopy(doc)) for _, doc in docs)


def with_storage_class(docs: Iterable[tuple[str, dict[str, Any]]],
                       storage_class: str) -> list[tuple[str, dict[str, Any]]]:
    """Copies of ``docs`` whose claims and claim templates are all of ``storage_class``."""
    out = []
    for where, doc in docs:
        body = copy.deepcopy(doc)
        for spec in _claim_specs(body):
            spec["storageClassName"] = storage_class
        out.append((where, body))
    return out


def apply(clients, namespace: str, docs: Iterable[tuple[str, dict[str, Any]]], labels: dict[str, str]) -> list[str]:
    """Create every document in ``namespace`` (check() first); returns "Kind/name" of each."""
    dyn = dynamic(clients)
    created = []
    for where, doc in docs:
        body = labelled(doc, labels)
        body["metadata"]["namespace"] = namespace
        resource = _resource(dyn, body, where)
        try:
            resource.create(body=body, namespace=namespace)
        except DynamicApiError as exc:
            raise UsageError(f"{where}: {body['kind']} {body['metadata'].get('name', '?')} was refused by "
                             f"the API server: {first_line(exc.summary())}") from None
        except ApiException as exc:
            raise UsageError(f"{where}: {body['kind']} {body['metadata'].get('name', '?')} was refused by "
                             f"the API server: {first_line(exc)}") from None
        created.append(f"{body['kind']}/{body['metadata'].get('name', '?')}")
    return created
