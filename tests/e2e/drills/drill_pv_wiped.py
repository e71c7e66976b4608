"""Broken on purpose (issue 13): the retained-volume scenario on a volume whose directory is
emptied once it is Released, as a driver that scrubs released volumes would (the drill empties
it on its node, through docker: the local kind cluster only). The same PV, the same volumeHandle,
is bound again, and its pod is Ready on it, but the records are gone: the scenario must end
"data lost" at its data check (records 1–5 missing). One fixture overridden: ``data_volume``."""

import pytest

from kubedrill import docker
from kubedrill.faults import volumes
from scenarios.test_persistent_volumes import test_a_retained_volume_binds_to_a_new_claim_with_its_data  # noqa: F401


@pytest.fixture
def data_volume(drill_scope):
    def make(name, storage_class):
        vol = volumes.create(drill_scope, name, storage_class)
        node, path = vol.node(), f"{volumes.HOSTPATH_VOLUMES}/{vol.pv().volume_handle}"
        wait = vol.wait_released

        def wait_then_wipe(after):
            released = wait(after)
            docker.cli("exec", node, "find", path, "-mindepth", "1", "-delete")
            drill_scope.run.log(f"[{drill_scope.name}] emptied {path} on node {node} (volume {after.pv} Released)")
            return released

        vol.wait_released = wait_then_wipe
        return vol

    return make


@pytest.fixture
def record_count() -> int:
    return 5
