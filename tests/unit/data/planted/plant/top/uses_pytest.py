"""Planted fault: the library imports pytest."""

import pytest

MARK = pytest.mark
