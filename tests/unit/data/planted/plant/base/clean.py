"""A clean module: imports nothing of the package."""


def _hidden() -> int:
    return 1


def visible() -> int:
    return _hidden()
