"""kubedrill's pytest layer: the fixtures live in fixtures/, the command-line options in
fixtures/options.py (see ``pytest --help``, group "kubedrill")."""

pytest_plugins = [
    "fixtures.options",
    "fixtures.storage_classes",
    "fixtures.reporting",
    "fixtures.diagnostics",
    "fixtures.plans",
    "fixtures.parallel",
    "fixtures.cluster",
    "fixtures.namespace",
    "fixtures.workloads",
    "fixtures.chaos",
    "fixtures.experiments",
    "fixtures.own_workloads",
    "fixtures.snapshot_restore",
    "fixtures.replicas",
    "fixtures.node_loss",
]
