"""Drills written as Chaos Toolkit experiments (layer 11, on top of the library): the ``kubedrill``
extension of an experiment (``extension``) and the strict verdict of a Chaos Toolkit run in
kubedrill's verdict classes (``verdict``). The guard's policy for experiments is a safety rule
of layer 1 (kubedrill.policy)."""
