"""Cluster diagnostics for a report, read-only and bounded in size.

Always: the namespace's events. On failure: pod logs and describe-style dumps of the objects
involved, logs of the CSI driver and snapshot controller (namespace kubedrill-storage), node
conditions and taints, VolumeAttachments, and kind's own log export (``kind export logs``).

Every function returns :class:`Attachment` values and never raises: a diagnostic that cannot
be read becomes an attachment that says why (a report is no place for a second failure).
"""

from __future__ import annotations

import datetime as _dt
import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import yaml

from kubedrill.client import Clients

STORAGE_NAMESPACE = "kubedrill-storage"

# bounds: each text attachment keeps its last TEXT_LIMIT bytes; the kind export is a tar.gz of
# the useful files, each cut to its last KIND_FILE_LIMIT bytes, KIND_TOTAL_LIMIT in all
TEXT_LIMIT = 256 * 1024
LOG_LIMIT = 128 * 1024
KIND_FILE_LIMIT = 1024 * 1024
KIND_TOTAL_LIMIT = 24 * 1024 * 1024
KIND_TIMEOUT_S = 120
API_TIMEOUT_S = 15
# files of `kind export logs` worth keeping (per node), and directories of pod/container logs
KIND_KEEP = ("kubelet.log", "containerd.log", "journal.log", "serial.log", "kubernetes-version.txt",
             "inspect.json", "images.log", "kind-version.txt", "docker-info.txt")
KIND_KEEP_DIRS = ("pods", "containers")


@dataclass(frozen=True)
class Attachment:
    name: str
    body: bytes
    mime: str = "text/plain"
    extension: str = "txt"

    @property
    def size(self) -> int:
        return len(self.body)


def bounded(text: str | bytes, limit: int = TEXT_LIMIT) -> bytes:
    """The last ``limit`` bytes, with a first line saying how much was cut."""
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    if len(data) <= limit:
        return data
    cut = len(data) - limit
    return f"[... {cut} bytes cut; the last {limit} bytes follow]\n".encode() + data[-limit:]


def _text(name: str, text: str, limit: int = TEXT_LIMIT) -> Attachment:
    return Attachment(name, bounded(text, limit))


def _safe(name: str, fn: Callable[[], Iterable[Attachment]]) -> list[Attachment]:
    try:
        return list(fn())
    except Exception as exc:  # noqa: BLE001 - diagnostics never fail a report
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return [_text(f"{name} (could not read)", f"{type(exc).__name__}: {first[:500]}\n")]


def _age(ts) -> str:
    if ts is None:
        return "-"
    if isinstance(ts, str):
        try:
            ts = _dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
        except ValueError:
            return ts
    return ts.astimezone(_dt.timezone.utc).strftime("%H:%M:%S")


def _clean(obj: dict) -> dict:
    meta = obj.get("metadata") or {}
    meta.pop("managedFields", None)
    ann = meta.get("annotations") or {}
    ann.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return obj


def _plain(clients: Clients, obj) -> dict:
    return _clean(clients.api.sanitize_for_serialization(obj))


# --- events -------------------------------------------------------------------------------
def event_lines(clients: Clients, namespace: str, involved: str | None = None) -> list[str]:
    evs = clients.core.list_namespaced_event(namespace, _request_timeout=API_TIMEOUT_S).items
    evs = sorted(evs, key=lambda e: (e.last_timestamp or e.event_time or e.first_timestamp or e.metadata.creation_timestamp
                                      or _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)))
    lines = []
    for e in evs:
        obj = f"{e.involved_object.kind}/{e.involved_object.name}"
        if involved and obj != involved:
            continue
        when = _age(e.last_timestamp or e.event_time or e.first_timestamp or e.metadata.creation_timestamp)
        count = f" x{e.count}" if e.count and e.count > 1 else ""
        src = getattr(e, "reporting_component", None) or (e.source.component if e.source else "") or ""
        lines.append(f"{when}  {e.type or '':7} {e.reason or '':24} {obj:40} {(e.message or '').strip()}{count}"
                     + (f"  [{src}]" if src else ""))
    return lines


def events(clients: Clients, namespace: str) -> list[Attachment]:
    def read():
        lines = event_lines(clients, namespace)
        head = f"events of namespace {namespace} (UTC, oldest first): {len(lines)}\n"
        return [_text(f"events: namespace {namespace}", head + "\n".join(lines) + "\n")]
    return _safe(f"events: namespace {namespace}", read)


# --- objects of the namespace -------------------------------------------------------------
def _namespace_objects(clients: Clients, ns: str) -> list[tuple[str, dict]]:
    t = API_TIMEOUT_S
    found: list[tuple[str, dict]] = []
    lists = [
        ("Pod", lambda: clients.core.list_namespaced_pod(ns, _request_timeout=t).items),
        ("Deployment", lambda: clients.apps.list_namespaced_deployment(ns, _request_timeout=t).items),
        ("ReplicaSet", lambda: clients.apps.list_namespaced_replica_set(ns, _request_timeout=t).items),
        ("StatefulSet", lambda: clients.apps.list_namespaced_stateful_set(ns, _request_timeout=t).items),
        ("ReplicationController", lambda: clients.core.list_namespaced_replication_controller(ns, _request_timeout=t).items),
        ("Service", lambda: clients.core.list_namespaced_service(ns, _request_timeout=t).items),
        ("PersistentVolumeClaim", lambda: clients.core.list_namespaced_persistent_volume_claim(ns, _request_timeout=t).items),
    ]
    for kind, fn in lists:
        for o in fn():
            found.append((kind, _plain(clients, o)))
    try:
        snaps = clients.custom.list_namespaced_custom_object("snapshot.storage.k8s.io", "v1", ns, "volumesnapshots",
                                                             _request_timeout=t)["items"]
        found += [("VolumeSnapshot", _clean(s)) for s in snaps]
    except Exception:  # noqa: BLE001 - no snapshot API on this cluster
        pass
    # the PVs behind the namespace's claims
    pv_names = {o["spec"].get("volumeName") for k, o in found if k == "PersistentVolumeClaim"} - {None, ""}
    for name in sorted(pv_names):
        try:
            found.append(("PersistentVolume", _plain(clients, clients.core.read_persistent_volume(name, _request_timeout=t))))
        except Exception:  # noqa: BLE001 - already gone
            pass
    return found


def describe_text(kind: str, obj: dict, event_lines_for: list[str]) -> str:
    """A describe-style dump: a header, the object as YAML (no managedFields), its events."""
    meta = obj.get("metadata") or {}
    head = [f"Kind:       {kind}", f"Name:       {meta.get('name', '')}"]
    if meta.get("namespace"):
        head.append(f"Namespace:  {meta['namespace']}")
    head.append(f"UID:        {meta.get('uid', '')}")
    if meta.get("deletionTimestamp"):
        head.append(f"Deleting:   since {meta['deletionTimestamp']}")
    status = obj.get("status") or {}
    for c in status.get("conditions") or []:
        head.append(f"Condition:  {c.get('type')}={c.get('status')}"
                    + (f" ({c.get('reason')}: {c.get('message', '')})" if c.get("reason") else ""))
    body = yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=120)
    ev = "\n".join(event_lines_for) or "<none>"
    return "\n".join(head) + "\n\n" + body + "\nEvents:\n" + ev + "\n"


def describe_objects(clients: Clients, namespace: str) -> list[Attachment]:
    def read():
        objs = _namespace_objects(clients, namespace)
        try:
            all_events = event_lines(clients, namespace)
        except Exception:  # noqa: BLE001
            all_events = []
        parts = []
        for kind, o in objs:
            name = (o.get("metadata") or {}).get("name", "")
            mine = [line for line in all_events if f" {kind}/{name} " in line]
            parts.append(describe_text(kind, o, mine))
        text = (f"describe: {len(objs)} objects of namespace {namespace}\n\n" + ("\n" + "=" * 100 + "\n").join(parts)
                if parts else f"namespace {namespace} holds no workload objects\n")
        return [_text(f"describe: namespace {namespace}", text, TEXT_LIMIT * 2)]
    return _safe(f"describe: namespace {namespace}", read)


# --- logs ---------------------------------------------------------------------------------
def _pod_logs(clients: Clients, namespace: str, name_filter: Callable[[str], bool] = lambda n: True,
              label: str = "") -> list[Attachment]:
    pods = clients.core.list_namespaced_pod(namespace, _request_timeout=API_TIMEOUT_S).items
    out: list[Attachment] = []
    for p in sorted(pods, key=lambda p: p.metadata.name):
        if not name_filter(p.metadata.name):
            continue
        sections = []
        statuses = {s.name: s for s in (p.status.container_statuses or [])}
        for c in (p.spec.init_containers or []) + p.spec.containers:
            st = statuses.get(c.name)
            restarts = st.restart_count if st else 0
            for previous in ((False, True) if restarts else (False,)):
                title = f"--- container {c.name}{' (previous)' if previous else ''}, restarts {restarts}, node {p.spec.node_name}"
                try:
                    text = clients.core.read_namespaced_pod_log(
                        p.metadata.name, namespace, container=c.name, previous=previous, timestamps=True,
                        limit_bytes=LOG_LIMIT, _request_timeout=API_TIMEOUT_S)
                except Exception as exc:  # noqa: BLE001 - e.g. container not started
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    text = f"<no log: {getattr(exc, 'status', '')} {getattr(exc, 'reason', '') or first[:200]}>"
                sections.append(f"{title}\n{text or '<empty>'}")
        what = f"{label}logs: {namespace}/{p.metadata.name}"
        out.append(_text(what, "\n".join(sections) + "\n", LOG_LIMIT * 2))
    return out


def pod_logs(clients: Clients, namespace: str) -> list[Attachment]:
    return _safe(f"logs: namespace {namespace}", lambda: _pod_logs(clients, namespace)
                 or [_text(f"logs: namespace {namespace}", "no pods\n")])


def storage_logs(clients: Clients) -> list[Attachment]:
    """Logs of the CSI driver and of the snapshot controller."""
    csi = _safe("CSI driver logs", lambda: _pod_logs(clients, STORAGE_NAMESPACE,
                                                     lambda n: not n.startswith("snapshot-controller"), "CSI driver ")
                or [_text("CSI driver logs", f"no CSI driver pod in {STORAGE_NAMESPACE}\n")])
    snap = _safe("snapshot controller logs", lambda: _pod_logs(clients, STORAGE_NAMESPACE,
                                                               lambda n: n.startswith("snapshot-controller"),
                                                               "snapshot controller ")
                 or [_text("snapshot controller logs", f"no snapshot-controller pod in {STORAGE_NAMESPACE}\n")])
    return csi + snap


# --- cluster-wide ---------------------------------------------------------------------------
def node_text(clients: Clients) -> str:
    nodes = clients.core.list_node(_request_timeout=API_TIMEOUT_S).items
    out = []
    for n in sorted(nodes, key=lambda n: n.metadata.name):
        info = n.status.node_info
        out.append(f"Node {n.metadata.name}  (kubelet {info.kubelet_version if info else '?'}, "
                   f"unschedulable={bool(n.spec.unschedulable)})")
        out.append("  Conditions:")
        for c in n.status.conditions or []:
            out.append(f"    {c.type:20} {c.status:8} {c.reason or '':28} heartbeat {_age(c.last_heartbeat_time)}  "
                       f"transition {_age(c.last_transition_time)}  {(c.message or '').strip()}")
        out.append("  Taints:" + ("" if n.spec.taints else " <none>"))
        for t in n.spec.taints or []:
            out.append(f"    {t.key}={t.value or ''}:{t.effect}" + (f"  (added {_age(t.time_added)})" if t.time_added else ""))
        out.append(f"  Volumes in use: {', '.join(n.status.volumes_in_use or []) or '<none>'}")
        out.append("")
    return "\n".join(out)


def nodes(clients: Clients) -> list[Attachment]:
    return _safe("nodes: conditions and taints", lambda: [_text("nodes: conditions and taints", node_text(clients))])


def volume_attachments(clients: Clients) -> list[Attachment]:
    def read():
        vas = clients.storage.list_volume_attachment(_request_timeout=API_TIMEOUT_S).items
        lines = [f"{len(vas)} VolumeAttachment(s)"]
        for v in sorted(vas, key=lambda v: v.metadata.name):
            st = v.status
            err = ""
            if st and st.attach_error:
                err += f" attachError={st.attach_error.message}"
            if st and st.detach_error:
                err += f" detachError={st.detach_error.message}"
            lines.append(f"{v.metadata.name}  attacher={v.spec.attacher}  node={v.spec.node_name}  "
                         f"pv={v.spec.source.persistent_volume_name}  attached={bool(st and st.attached)}"
                         f"{'  deleting' if v.metadata.deletion_timestamp else ''}{err}")
        return [_text("VolumeAttachments", "\n".join(lines) + "\n")]
    return _safe("VolumeAttachments", read)


def kind_logs(cluster: str | None, kind: str | None) -> list[Attachment]:
    """``kind export logs``, cut down to a bounded tar.gz (kubelet, containerd, journal, pod logs ...)."""
    if not cluster:
        return [_text("kind logs (not exported)", "not a kind cluster: no kind log export\n")]
    if not kind:
        return [_text("kind logs (not exported)", "kind is not installed (make cluster installs it)\n")]

    def read():
        with tempfile.TemporaryDirectory(prefix="kubedrill-kind-logs-") as tmp:
            dest = Path(tmp) / "export"
            try:
                proc = subprocess.run([kind, "export", "logs", str(dest), "--name", cluster],
                                      capture_output=True, text=True, timeout=KIND_TIMEOUT_S)
                note = (proc.stdout + proc.stderr).strip()
                rc = proc.returncode
            except subprocess.TimeoutExpired:
                note, rc = f"kind export logs did not finish within {KIND_TIMEOUT_S}s", -1
            if not dest.is_dir():
                return [_text("kind logs (could not export)", f"exit {rc}: {note}\n")]
            return [Attachment(f"kind logs: {cluster} (kind export logs, bounded)",
                               bounded_tar(dest, f"kind-logs-{cluster}", note, rc), "application/gzip", "tar.gz")]
    return _safe("kind logs", read)


def bounded_tar(src: Path, arcroot: str, note: str = "", rc: int = 0) -> bytes:
    """A tar.gz of the useful files under ``src``, each cut to its tail, KIND_TOTAL_LIMIT in all."""
    buf = io.BytesIO()
    total = 0
    skipped: list[str] = []
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        files = sorted(p for p in src.rglob("*") if p.is_file())
        # the small, most telling files first, so the budget goes to them
        files.sort(key=lambda p: (p.name not in KIND_KEEP, p.stat().st_size))
        for p in files:
            rel = p.relative_to(src)
            keep = p.name in KIND_KEEP or any(part in KIND_KEEP_DIRS for part in rel.parts[:-1])
            if not keep:
                continue
            data = p.read_bytes()
            data = bounded(data, KIND_FILE_LIMIT)
            if total + len(data) > KIND_TOTAL_LIMIT:
                skipped.append(str(rel))
                continue
            total += len(data)
            info = tarfile.TarInfo(f"{arcroot}/{rel}")
            info.size = len(data)
            info.mtime = int(p.stat().st_mtime)
            tar.addfile(info, io.BytesIO(data))
        readme = (f"kind export logs (exit {rc}); each file keeps its last {KIND_FILE_LIMIT} bytes, "
                  f"{KIND_TOTAL_LIMIT} bytes in all; binary journals and package logs left out.\n"
                  + (f"kind said: {note}\n" if note else "")
                  + (f"left out for the size bound: {', '.join(skipped)}\n" if skipped else "")).encode()
        info = tarfile.TarInfo(f"{arcroot}/README.kubedrill.txt")
        info.size = len(readme)
        tar.addfile(info, io.BytesIO(readme))
    return buf.getvalue()


def on_failure(clients: Clients, namespace: str | None, kind_cluster: str | None, kind: str | None) -> list[Attachment]:
    """Everything a failed scenario's report carries beyond its events, in reading order."""
    out: list[Attachment] = []
    if namespace:
        out += pod_logs(clients, namespace)
        out += describe_objects(clients, namespace)
    out += nodes(clients)
    out += volume_attachments(clients)
    out += storage_logs(clients)
    out += kind_logs(kind_cluster, kind)
    return out
