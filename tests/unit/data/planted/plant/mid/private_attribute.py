"""Planted fault: a private function of another module called through the module."""

from plant.base import clean

VALUE = clean._hidden()
