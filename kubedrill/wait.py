"""The one way to wait: a watch (or any event source), a predicate, a monotonic deadline,
a description. Reads like ``kubectl wait``; a timeout raises WaitTimeout carrying the last
state seen. No sleeps: state changes arrive as watch events; the watch is re-opened in
short server-side chunks so progress can be shown while nothing changes.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Protocol

import urllib3
from kubernetes.client.rest import ApiException

from kubedrill.errors import WaitTimeout

Obj = dict[str, Any]


@dataclass(frozen=True)
class Check:
    """What a predicate says about the current state: done or not, and a short summary."""

    done: bool
    summary: str = ""


@dataclass(frozen=True)
class WaitResult:
    description: str
    items: tuple[Obj, ...]       # the state when the condition first held
    summary: str
    started_at: float            # monotonic
    satisfied_at: float          # monotonic: when the event that satisfied the condition arrived
    events_seen: int

    @property
    def elapsed_s(self) -> float:
        return self.satisfied_at - self.started_at


class Source(Protocol):
    """A list + watch of one kind of object (the shape of a Kubernetes list endpoint)."""

    def list(self) -> tuple[list[Obj], str]: ...

    def watch(self, resource_version: str, timeout_s: int) -> Iterable[tuple[str, Obj]]: ...


class Expired(Exception):
    """The watch's resourceVersion is too old (HTTP 410): list again."""


Progress = Callable[[str, str, float, bool], None]
Predicate = Callable[[list[Obj]], "Check | bool"]
OnEvent = Callable[[float, str, Obj], None]


class ApiSource:
    """List + watch through a kubernetes-client list function, on raw JSON dicts."""

    def __init__(self, list_fn: Callable[..., Any], *args: Any, **kwargs: Any):
        self.list_fn = list_fn
        self.args = args
        self.kwargs = kwargs

    def list(self) -> tuple[list[Obj], str]:
        resp = self.list_fn(*self.args, _preload_content=False, **self.kwargs)
        data = json.loads(resp.data)
        return list(data.get("items") or []), (data.get("metadata") or {}).get("resourceVersion", "")

    def watch(self, resource_version: str, timeout_s: int) -> Iterator[tuple[str, Obj]]:
        from kubernetes import watch

        w = watch.Watch()
        try:
            for event in w.stream(self.list_fn, *self.args, resource_version=resource_version,
                                  timeout_seconds=timeout_s, allow_watch_bookmarks=True,
                                  _request_timeout=timeout_s + 10, **self.kwargs):
                raw = event.get("raw_object") or {}
                etype = event.get("type", "")
                if etype == "ERROR":
                    if raw.get("code") == 410:
                        raise Expired()
                    continue
                yield etype, raw
        except ApiException as exc:
            if exc.status == 410:
                raise Expired() from None
            raise
        finally:
            w.stop()


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")


def wait_for(
    source: Source,
    predicate: Predicate,
    *,
    description: str,
    timeout_s: float,
    progress: Progress | None = None,
    on_event: OnEvent | None = None,
    clock: Callable[[], float] = time.monotonic,
    chunk_s: int = 2,
    started_at: float | None = None,
) -> WaitResult:
    """Wait until ``predicate(items)`` holds. Raises WaitTimeout at the deadline."""
    start = clock() if started_at is None else started_at
    deadline = start + timeout_s
    state: dict[tuple[str, str], Obj] = {}
    rv = ""
    need_list = True
    last = Check(False, "nothing observed yet")
    last_shown: str | None = None
    events = 0
    backoff = threading.Event()

    def evaluate() -> Check:
        verdict = predicate(list(state.values()))
        return verdict if isinstance(verdict, Check) else Check(bool(verdict), "")

    def show(done: bool = False) -> None:
        nonlocal last_shown
        if progress is not None:
            progress(description, last.summary, clock() - start, done)
            last_shown = last.summary

    def timeout() -> WaitTimeout:
        show(done=True)
        return WaitTimeout(description, timeout_s, tuple(state.values()), last.summary)

    while True:
        if need_list:
            try:
                items, rv = source.list()
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
                last = Check(False, f"API error: {_short(exc)}")
                if clock() >= deadline:
                    raise timeout() from None
                backoff.wait(min(1.0, max(0.0, deadline - clock())))
                continue
            state = {_key(o): o for o in items}
            now = clock()
            if on_event:
                for o in items:
                    on_event(now, "LISTED", o)
            need_list = False
            last = evaluate()
            if last.done:
                show(done=True)
                return WaitResult(description, tuple(state.values()), last.summary, start, now, events)
            show()
        remaining = deadline - clock()
        if remaining <= 0:
            raise timeout()
        chunk = max(1, min(chunk_s, math.ceil(remaining)))
        try:
            for etype, obj in source.watch(rv, chunk):
                now = clock()
                events += 1
                meta = obj.get("metadata") or {}
                rv = meta.get("resourceVersion", rv) or rv
                if etype == "BOOKMARK":
                    continue
                if etype == "DELETED":
                    state.pop(_key(obj), None)
                elif etype in ("ADDED", "MODIFIED"):
                    state[_key(obj)] = obj
                else:
                    continue
                if on_event:
                    on_event(now, etype, obj)
                last = evaluate()
                if last.done:
                    show(done=True)
                    return WaitResult(description, tuple(state.values()), last.summary, start, now, events)
                if last.summary != last_shown:
                    show()
                if now >= deadline:
                    raise timeout()
        except Expired:
            need_list = True
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            last = Check(False, f"{last.summary} (watch error: {_short(exc)})")
            need_list = True
            backoff.wait(min(1.0, max(0.0, deadline - clock())))
        if clock() >= deadline:
            raise timeout()
        show()


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "reason", None) or exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:120]
