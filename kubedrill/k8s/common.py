"""Helpers shared by the per-kind modules."""

from __future__ import annotations

from typing import Any

from kubernetes.client.rest import ApiException


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def ignore_not_found(fn, *args, **kwargs) -> bool:
    """Call fn; True when it acted, False when the object was already gone."""
    try:
        fn(*args, **kwargs)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def read_or_none(fn, *args, **kwargs):
    """fn's object, None when the API says it does not exist (404): the one place a read's
    "not found" becomes a value."""
    try:
        return fn(*args, **kwargs)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def condition(obj: dict[str, Any], ctype: str) -> str | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c.get("status")
    return None


def selector_string(match_labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))
