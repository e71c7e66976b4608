"""The pytest-kubernetes manager kubedrill uses never creates, deletes or unlinks anything."""

import pytest

from fixtures.state import AttachedCluster


def test_attached_cluster_never_deletes_the_cluster_or_its_kubeconfig(tmp_path, monkeypatch):
    kc = tmp_path / "config"
    kc.write_text("apiVersion: v1\nkind: Config\n")
    called = []
    monkeypatch.setattr(AttachedCluster, "_exec", lambda self, *a, **k: called.append(a))
    c = AttachedCluster(kc, "kind-kubedrill", "kubedrill")
    assert (c.cluster_name, c.context, c.kubeconfig) == ("kubedrill", "kind-kubedrill", kc)
    c.create()
    c.delete()
    assert kc.exists() and called == []
    with pytest.raises(RuntimeError, match="never recreates"):
        c.reset()
