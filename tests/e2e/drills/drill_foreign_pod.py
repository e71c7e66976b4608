"""Foreign on purpose: the API-delete scenario, all pods of the Deployment, with a pod in the
drilled namespace that only matches the workload's selector (the same labels, kubedrill's among
them, and no ownerReference). It must never be a victim nor counted as a replica: the scenario
passes, and the pod keeps its UID to the end (written to $KUBEDRILL_E2E_OUT as
"<uid before> <uid after> <deletionTimestamp or ->")."""

import os
from pathlib import Path

import pytest

from kubedrill import guard
from kubedrill.k8s import pods
from kubedrill.wait import ApiSource, wait_for
from kubedrill.workloads.base import web_pod_spec
from scenarios.test_replicas import test_pods_deleted_through_the_api_are_replaced_by_new_pods  # noqa: F401

INTRUDER = "aaa-not-the-workloads"   # first by name among the candidates


@pytest.fixture
def replicated(replicated, drill_scope):
    s, ns = drill_scope, replicated.namespace
    labels, _ = guard.app_labels(s.run.run_id, replicated.name)
    s.clients.core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod",
                                              "metadata": {"name": INTRUDER, "labels": labels},
                                              "spec": web_pod_spec()})
    ready = wait_for(ApiSource(s.clients.core.list_namespaced_pod, ns, field_selector=f"metadata.name={INTRUDER}"),
                     pods.all_serving(1), description=f"pod {INTRUDER} Ready", timeout_s=s.timeouts.deploy_s)
    uid = pods.info(ready.items[0]).uid
    yield replicated
    now = s.clients.core.read_namespaced_pod(INTRUDER, ns).metadata
    Path(os.environ["KUBEDRILL_E2E_OUT"]).write_text(f"{uid} {now.uid} {now.deletion_timestamp or '-'}\n")
