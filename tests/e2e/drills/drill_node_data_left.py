"""Broken on purpose: the Delete-class scenario with a volume whose directory stays on its node
once the PV is gone, as a driver that forgets to delete the data would leave it (the drill puts
the directory back after the PV is deleted, and removes it at teardown). Looking at the node,
the scenario must say "data lost": the data outlived the volume it was promised to go with."""

import pytest

from kubedrill import docker
from kubedrill.faults import volumes
from scenarios.test_persistent_volumes import test_a_deleted_claim_takes_its_volume_and_data_with_it  # noqa: F401


@pytest.fixture
def data_volume(drill_scope):
    def make(name, storage_class):
        vol = volumes.create(drill_scope, name, storage_class)
        node, path = vol.node(), f"{volumes.HOSTPATH_VOLUMES}/{vol.pv().volume_handle}"
        wait = vol.wait_volume_deleted

        def wait_then_leave_the_data(after):
            recovery = wait(after)
            drill_scope.cleanups.defer(f"remove {path} from node {node}",
                                       lambda: docker.cli("exec", node, "rm", "-rf", path))
            docker.cli("exec", node, "mkdir", "-p", path)
            return recovery

        vol.wait_volume_deleted = wait_then_leave_the_data
        return vol

    return make
