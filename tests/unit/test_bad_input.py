"""Bad input: one clear error line, a non-zero exit, nothing created, no traceback.

These run pytest on scenarios/ in a subprocess; none of them needs a cluster (that is the
point: each is refused before anything is touched)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def kubeconfig(tmp_path, context: str, server: str) -> Path:
    p = tmp_path / "kubeconfig"
    p.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "{server}", insecure-skip-tls-verify: true}}
users:
- name: u
  user: {{token: t}}
contexts:
- name: {context}
  context: {{cluster: c, user: u}}
current-context: {context}
""")
    return p


def drill(tmp_path, *args, env=None):
    state = tmp_path / "state"
    cmd = [sys.executable, "-m", "pytest", "scenarios/", "-p", "no:cacheprovider",
           f"--junitxml={tmp_path / 'junit.xml'}", f"--alluredir={tmp_path / 'allure'}",
           "--reports-dir", str(tmp_path / "reports"), *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KUBEDRILL_STATE_DIR": str(state), **(env or {})})
    return proc, state


def assert_one_line(proc, expected_fragment):
    assert proc.returncode not in (0, 1), proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ERROR: kubedrill: ") and expected_fragment in lines[0], lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("args, fragment", [
    (["--timeout-scale", "fast"], "--timeout-scale: expected a number, got 'fast'"),
    (["--timeout-scale", "0"], "--timeout-scale: expected a positive number"),
    (["--seed", "-1"], "--seed: expected a non-negative integer"),
    (["--objective", "pod_kill_rto=3"], "unknown objective 'pod_kill_rto'"),
    (["--objectives", "/nonexistent/objectives.yaml"], "--objectives: file not found"),
    (["--objective", "pod_kill_rto_s=0"], "--objective pod_kill_rto_s: no recovery takes 0 s or less"),
    (["--objective", "pod_delete_one_availability=5"], "a share of requests answered must be between 0 and 1"),
    (["--allow-namespace", "kube-system"], "kube-system can never be a drill target"),
    (["--allow-namespace", "default"], "--allow-namespace: default can never be a drill target"),
    (["--allow-namespace", ""], "--allow-namespace: empty name"),
    (["--prober-image", ""], "--prober-image: empty image reference"),
    (["--writer-image", "Registry/Shell:1"], "--writer-image: not an image reference"),
])
def test_unknown_option_values(tmp_path, args, fragment):
    proc, state = drill(tmp_path, *args)
    assert_one_line(proc, fragment)
    assert not state.exists()


def test_an_image_variable_is_checked_as_its_option(tmp_path):
    proc, state = drill(tmp_path, env={"KUBEDRILL_PROBER_IMAGE": "localhost:5999/nope:"})
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert_one_line(proc, "KUBEDRILL_PROBER_IMAGE: not an image reference")
    assert not state.exists()


def test_pause_point_names_are_checked(tmp_path):
    proc, _ = drill(tmp_path, env={"KUBEDRILL_PAUSE_AT": "lunch"})
    assert_one_line(proc, "KUBEDRILL_PAUSE_AT")


def test_a_kubeconfig_that_does_not_exist(tmp_path):
    proc, state = drill(tmp_path, "--kubeconfig", str(tmp_path / "nope"))
    assert_one_line(proc, f"kubeconfig not found: {tmp_path / 'nope'}")
    assert not state.exists()


@pytest.mark.parametrize("context", ["prod-eu", "kind-other"])
def test_a_context_that_is_not_allowed(tmp_path, context):
    """Whatever its name: a server that is not the port docker publishes for a kind control
    plane here is not the local kind cluster, and is refused before it is ever asked anything."""
    kc = kubeconfig(tmp_path, context, "https://127.0.0.1:9")
    proc, state = drill(tmp_path, "--kubeconfig", str(kc), "--context", context)
    assert_one_line(proc, f"context '{context}' is not the local kind cluster (")
    assert_one_line(proc, f"; refusing to drill it (pass --allow-context {context} to allow it)")
    assert not state.exists()


def test_a_context_that_does_not_exist(tmp_path):
    kc = kubeconfig(tmp_path, "kind-a", "https://127.0.0.1:9")
    proc, _ = drill(tmp_path, "--kubeconfig", str(kc), "--context", "kind-b")
    assert_one_line(proc, "context 'kind-b' not found")


def test_an_unreachable_api_server(tmp_path):
    kc = kubeconfig(tmp_path, "kind-ghost", "https://127.0.0.1:9")
    proc, state = drill(tmp_path, "--kubeconfig", str(kc), "--context", "kind-ghost", "--allow-context", "kind-ghost")
    assert_one_line(proc, "cannot reach the API server https://127.0.0.1:9 (context kind-ghost): Connection refused")
    assert not state.exists()


def test_an_allowed_foreign_context_gets_as_far_as_the_server(tmp_path):
    kc = kubeconfig(tmp_path, "staging", "https://127.0.0.1:9")
    proc, _ = drill(tmp_path, "--kubeconfig", str(kc), "--context", "staging", "--allow-context", "staging")
    assert_one_line(proc, "cannot reach the API server")


def test_collect_only_lists_scenarios_without_touching_any_cluster(tmp_path):
    proc, state = drill(tmp_path, "--collect-only", "-q", "--kubeconfig", str(tmp_path / "nope"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod" in proc.stdout
    assert not state.exists()


@pytest.mark.parametrize("value, fragment", [
    ("soon", "--wait-for-lock: expected a number of seconds, got 'soon'"),
    ("-5", "--wait-for-lock: expected a number of seconds from 0 to 86400, got '-5'"),
    ("nan", "--wait-for-lock: expected a number of seconds from 0 to 86400, got 'nan'"),
])
def test_a_bad_wait_for_lock_is_one_line_and_exit_4(tmp_path, value, fragment):
    proc, state = drill(tmp_path, "--wait-for-lock", value)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert_one_line(proc, fragment)
    assert not state.exists()
