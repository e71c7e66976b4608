"""The kubedrill extension of a Chaos Toolkit experiment, checked against its JSON schema: a good
one becomes an Extension; each bad one is one line per error (file, path, what is wrong)."""

from __future__ import annotations

import copy

import pytest

from kubedrill.ctk import extension
from kubedrill.ctk.extension import ExtensionInvalid

FILE = "examples/shop/experiments/kill-web.yaml"
GOOD = {
    "name": "kubedrill",
    "target": {"manifests": ["../manifests"]},
    "recover": [{"kind": "Deployment", "name": "web", "rto_s": 30},
                {"kind": "StatefulSet", "selector": "app.kubernetes.io/name=db"}],
    "data": {"probe": {"sql": {"pod": "db-0", "query": "select count(*) from orders",
                               "password_secret": {"name": "db", "key": "password"}}, "compare": "prefix"}},
    "availability": {"service": "web", "port": 80, "path": "/"},
    "objectives": {"rto_s": 60, "availability": 0.5, "longest_outage_s": 20},
    "timeouts": {"deploy_s": 120, "recover_s": 180},
}


def experiment(entry=GOOD, *others):
    return {"title": "t", "description": "d", "method": [], "extensions": [*others, entry]}


def lines(entry) -> tuple[str, ...]:
    with pytest.raises(ExtensionInvalid) as err:
        extension.of(experiment(entry), FILE)
    return err.value.lines


def changed(**kw):
    entry = copy.deepcopy(GOOD)
    for key, value in kw.items():
        if value is None:
            del entry[key]
        else:
            entry[key] = value
    return entry


def test_a_good_extension_is_read_whole():
    ext = extension.of(experiment(GOOD, {"name": "chaostoolkit-reliably"}), FILE)
    assert ext.target == {"manifests": ["../manifests"]} and ext.existing_namespace == ""
    assert [w.describe() for w in ext.recover] == ["Deployment web", "StatefulSets app.kubernetes.io/name=db"]
    assert ext.recover[0].rto_s == 30 and ext.recover[1].rto_s is None
    assert ext.objectives["rto_s"] == 60 and ext.timeouts == {"deploy_s": 120, "recover_s": 180}
    assert ext.where == FILE


def test_an_existing_namespace_is_the_target_as_it_is():
    ext = extension.of(experiment(changed(target={"namespace": "shop"})), FILE)
    assert ext.existing_namespace == "shop"


def test_an_experiment_without_the_extension_says_what_is_needed():
    with pytest.raises(ExtensionInvalid) as err:
        extension.of({"title": "t", "method": []}, FILE)
    assert err.value.lines == (f"{FILE}: extensions: no entry named 'kubedrill': kubedrill needs its target and "
                               "what must recover (schemas/experiment-extension.schema.json)",)


def test_two_entries_are_one_too_many():
    with pytest.raises(ExtensionInvalid, match=r"extensions\[1\]: a second entry named 'kubedrill'; give one"):
        extension.of({"extensions": [GOOD, GOOD]}, FILE)


@pytest.mark.parametrize("entry, expected", [
    (changed(target=None), [f"{FILE}: extensions[0]: missing 'target'"]),
    (changed(recover=[]), [f"{FILE}: extensions[0].recover: [] should be non-empty"]),
    (changed(target={"namespace": "shop", "manifests": ["m"]}),
     [f"{FILE}: extensions[0].target: give exactly one of namespace, manifests, kustomize or helm"]),
    (changed(target={}), [f"{FILE}: extensions[0].target: give exactly one of namespace, manifests, kustomize or helm"]),
    (changed(target={"namespace": "Shop_App"}),
     [f"{FILE}: extensions[0].target.namespace: 'Shop_App' does not match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'"]),
    (changed(recover=[{"kind": "Deployment"}]),
     [f"{FILE}: extensions[0].recover[0]: give exactly one of name or selector"]),
    (changed(recover=[{"kind": "Deployment", "name": "web", "selector": "app=web"}]),
     [f"{FILE}: extensions[0].recover[0]: give exactly one of name or selector"]),
    (changed(recover=[{"kind": "Pod", "name": "web"}]),
     [f"{FILE}: extensions[0].recover[0].kind: 'Pod' is not one of Deployment, StatefulSet, ReplicaSet, "
      "ReplicationController, DaemonSet"]),
    (changed(recover=[{"kind": "Deployment", "name": "web", "rto_s": 0}]),
     [f"{FILE}: extensions[0].recover[0].rto_s: 0 is less than or equal to the minimum of 0"]),
    (changed(objectives={"rto": 30}),
     [f"{FILE}: extensions[0].objectives: unknown key 'rto' (expected: availability, longest_outage_s, rpo_records, rpo_s, rto_s)"]),
    (changed(objectives={"availability": 1.5}),
     [f"{FILE}: extensions[0].objectives.availability: 1.5 is greater than the maximum of 1"]),
    (changed(data={"writer": {"claim": "data"}, "probe": {"http": {"service": "web", "path": "/"}}}),
     [f"{FILE}: extensions[0].data: unknown key 'writer' (expected: probe, records, stream)"]),
    (changed(data={}), [f"{FILE}: extensions[0].data: give one or more of probe, records, stream"]),
    (changed(data={"records": {"statefulset": "db"}}), [f"{FILE}: extensions[0].data.records: missing 'path'"]),
    (changed(data={"records": {"statefulset": "db", "path": "data/records"}}),
     [f"{FILE}: extensions[0].data.records.path: 'data/records' does not match '^/'"]),
    (changed(data={"records": {"statefulset": "db", "path": "/data/records", "count": 0}}),
     [f"{FILE}: extensions[0].data.records.count: 0 is less than the minimum of 1"]),
    (changed(data={"records": {"statefulset": "db", "path": "/data/records", "pod": "db-0"}}),
     [f"{FILE}: extensions[0].data.records: unknown key 'pod' (expected: container, count, path, statefulset)"]),
    (changed(availability=None),
     [f"{FILE}: extensions[0].objectives.availability: needs 'availability' (the Service the prober measures)",
      f"{FILE}: extensions[0].objectives.longest_outage_s: needs 'availability' (the Service the prober measures)"]),
    (changed(data={"probe": {"http": {"service": "web", "path": "orders"}}}),
     [f"{FILE}: extensions[0].data.probe.http.path: 'orders' does not match '^/'"]),
    (changed(data={"probe": {"sql": {"pod": "db-0", "query": "q", "password": "hunter2"}}}),
     [f"{FILE}: extensions[0].data.probe.sql: unknown key 'password' (expected: container, database, "
      "password_secret, pod, query, user)"]),
    (changed(objectives={"rpo_records": 0, "rpo_s": 2}),
     [f"{FILE}: extensions[0].objectives.rpo_records: needs 'data.stream' (the writer whose RPO is measured)",
      f"{FILE}: extensions[0].objectives.rpo_s: needs 'data.stream' (the writer whose RPO is measured)"]),
    (changed(data={"stream": {"pod": "db-0", "path": "/data/stream", "interval_s": 0}}),
     [f"{FILE}: extensions[0].data.stream.interval_s: 0 is less than the minimum of 0.01"]),
    (changed(objectives={"rpo_records": -1}, data={"stream": {"pod": "db-0", "path": "/data/stream"}}),
     [f"{FILE}: extensions[0].objectives.rpo_records: -1 is less than the minimum of 0"]),
    (changed(timeouts={"recover_s": "soon"}), [f"{FILE}: extensions[0].timeouts.recover_s: 'soon' is not of type 'number'"]),
])
def test_each_bad_extension_is_one_line_per_error(entry, expected):
    assert list(lines(entry)) == expected


def test_records_alone_or_with_a_probe_are_a_data_check():
    for data in ({"records": {"statefulset": "db", "path": "/data/records"}},
                 {"records": {"statefulset": "db", "path": "/data/records", "count": 20, "container": "db"},
                  "probe": {"http": {"service": "web", "path": "/"}}},
                 {"stream": {"pod": "db-0", "path": "/data/stream", "interval_s": 0.1, "before": 5}}):
        assert extension.of(experiment(changed(data=data)), FILE).data == data


def test_several_errors_are_several_lines_in_document_order():
    got = lines(changed(target=None, objectives={"rto": 1}, timeouts={"verify_s": -1}))
    assert got == (f"{FILE}: extensions[0]: missing 'target'",
                   f"{FILE}: extensions[0].objectives: unknown key 'rto' (expected: availability, longest_outage_s, "
                   "rpo_records, rpo_s, rto_s)",
                   f"{FILE}: extensions[0].timeouts.verify_s: -1 is less than or equal to the minimum of 0")


def test_an_objective_may_be_named_from_kubedrills_own_and_is_resolved_with_the_overrides():
    from kubedrill.config import Objectives
    from kubedrill.defaults import OBJECTIVES

    entry = changed(objectives={"rto_s": "pod_delete_one_rto_s", "availability": "pod_delete_one_availability",
                                "longest_outage_s": 5},
                    recover=[{"kind": "ReplicationController", "name": "web", "rto_s": "pod_delete_one_rto_s"}])
    ext = extension.of(experiment(entry), FILE)
    assert ext.objectives["rto_s"] == "pod_delete_one_rto_s"
    held = extension.resolve(ext, Objectives(pod_delete_one_rto_s=9.5))
    assert held.objectives == {"rto_s": 9.5, "availability": OBJECTIVES["pod_delete_one_availability"],
                               "longest_outage_s": 5}
    assert held.recover[0].rto_s == 9.5 and held.where == FILE


def test_the_names_an_objective_may_take_are_kubedrills_objectives():
    from kubedrill.defaults import OBJECTIVES

    assert extension.schema()["$defs"]["default_objective"]["enum"] == list(OBJECTIVES)


def test_an_unknown_objective_name_is_one_line():
    assert lines(changed(objectives={"rto_s": "pod_delete_one_rt"})) == (
        f"{FILE}: extensions[0].objectives.rto_s: 'pod_delete_one_rt' is not one of kubedrill's objectives "
        "(give a number, or a name of kubedrill/defaults.py)",)
