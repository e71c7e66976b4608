"""Event sources beyond one list+watch: several kinds merged into one stream, so that a single
``wait_for`` can watch pods and their controller together (the controller says when it
cannot create pods; the pods say when they are Ready)."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any, Iterator

from kubedrill.wait import Expired, Obj, Source

_END = object()


class MergedSource:
    """List and watch several sources as one. Every object carries its ``kind``; the combined
    resourceVersion is a JSON list of the sources' own (each event's copy carries it, which is
    what ``wait_for`` resumes from)."""

    def __init__(self, sources: dict[str, Source]):
        self.kinds = list(sources)
        self.sources = [sources[k] for k in self.kinds]

    def list(self) -> tuple[list[Obj], str]:
        items: list[Obj] = []
        rvs: list[str] = []
        for kind, src in zip(self.kinds, self.sources):
            got, rv = src.list()
            items += [_with(o, kind, None) for o in got]
            rvs.append(rv)
        return items, json.dumps(rvs)

    def watch(self, resource_version: str, timeout_s: int) -> Iterator[tuple[str, Obj]]:
        rvs = list(json.loads(resource_version))
        q: queue.Queue = queue.Queue()

        def pump(i: int) -> None:
            try:
                for etype, obj in self.sources[i].watch(rvs[i], timeout_s):
                    q.put((i, etype, obj))
                q.put((i, _END, None))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                q.put((i, exc, None))

        threads = [threading.Thread(target=pump, args=(i,), daemon=True, name=f"kubedrill-watch-{k}")
                   for i, k in enumerate(self.kinds)]
        for t in threads:
            t.start()
        open_ = len(threads)
        while open_:
            i, etype, obj = q.get()
            if etype is _END:
                open_ -= 1
                continue
            if isinstance(etype, BaseException):
                raise etype
            rv = (obj.get("metadata") or {}).get("resourceVersion")
            if rv:
                rvs[i] = rv
            yield etype, _with(obj, self.kinds[i], json.dumps(rvs))


def _with(obj: Obj, kind: str, rv: str | None) -> Obj:
    out: dict[str, Any] = dict(obj)
    out["kind"] = obj.get("kind") or kind
    if rv is not None:
        m = dict(obj.get("metadata") or {})
        m["resourceVersion"] = rv
        # keep objects of different kinds apart in wait_for's state (keyed by namespace/name)
        out["metadata"] = m
    if out["kind"] != "Pod":
        m = dict(out.get("metadata") or {})
        m["name"] = f"{out['kind']}/{m.get('name', '')}"
        m.setdefault("resourceVersion", (obj.get("metadata") or {}).get("resourceVersion", ""))
        out["metadata"] = m
    return out


__all__ = ["MergedSource", "Expired"]
