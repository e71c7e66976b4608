"""Python providers for the unit tests of kubedrill.ctk.runner: each notes that it ran."""

import logging

SEEN: list[str] = []
ANSWER = 200   # what the service answers now (a test changes it to break the service)
LOG = logging.getLogger("chaostoolkit")


def probe(answer: int | None = None) -> int:
    SEEN.append("probe")
    return ANSWER if answer is None else answer


def act(who: str = "web") -> list[str]:
    SEEN.append(f"act {who}")
    LOG.info("acting on %s", who)
    return [who]


def fail() -> None:
    SEEN.append("fail")
    raise RuntimeError("the action broke")


def nothing() -> None:
    SEEN.append("probe none")
    return None


def rollback() -> None:
    SEEN.append("rollback")
