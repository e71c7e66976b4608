"""kubedrill: prove that Kubernetes disaster recovery works.

The library never imports pytest. It returns frozen dataclasses and raises the typed
errors of :mod:`kubedrill.errors`.
"""

__version__ = "0.1.0"
