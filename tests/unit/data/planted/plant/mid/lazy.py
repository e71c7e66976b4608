"""Planted fault: an import inside a function body, the way a cycle gets dodged."""


def later() -> str:
    from plant.top import leaf

    return leaf.VALUE
