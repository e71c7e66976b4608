"""A clean top-layer module."""

from plant.base import clean

VALUE = str(clean.visible())
