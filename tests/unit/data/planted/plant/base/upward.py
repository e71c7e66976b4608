"""Planted fault: an import against the layer order (base imports top)."""

from plant.top import leaf

VALUE = leaf.VALUE
