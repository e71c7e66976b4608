"""Planted fault: a private name taken from another module."""

from plant.base.clean import _hidden

VALUE = _hidden()
