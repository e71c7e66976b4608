"""Bad input that once ended in an INTERNALERROR traceback: each now ends with one line naming the
input and what is expected, and pytest's usage-error exit (4), before any cluster is asked
anything; nothing is created, not even the state directory.

Every run points at a kubeconfig of nowhere (https://127.0.0.1:1: nothing listens there), so a
connection, were one ever tried, would be refused."""

import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kubedrill import client as kclient
from kubedrill import config, journal, undo
from kubedrill.config import Timeouts
from kubedrill.errors import UsageError
from tests.unit.test_bad_input import ROOT, kubeconfig

NOWHERE = "https://127.0.0.1:1"
YAML_KUBECONFIG = "a YAML kubeconfig (clusters, contexts, users)"
PAUSE_EXPECTED = ("KUBEDRILL_PAUSE_AT: expected one of deploy, fault, recover, verify, teardown with "
                  "optional :start or :end, or intent:<undo action> or resolve:<undo action>, got ")
RANDOM_BYTES = random.Random(15).randbytes(512)


def refused(tmp_path, *args, env=None, cwd=ROOT):
    """Run the scenarios; the one line they end with, after checking the exit (4), that nothing
    else was printed to stderr and that the state directory was not created."""
    state = tmp_path / "state"
    nowhere = kubeconfig(tmp_path, "kind-nowhere", NOWHERE)
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "scenarios"), "-p", "no:cacheprovider",
           f"--junitxml={tmp_path / 'junit.xml'}", f"--alluredir={tmp_path / 'allure'}",
           "--reports-dir", str(tmp_path / "reports"), "--context", "kind-nowhere", *args]
    if "--kubeconfig" not in args:
        cmd += ["--kubeconfig", str(nowhere)]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KUBEDRILL_STATE_DIR": str(state), **(env or {})})
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert not state.exists()
    return lines[0]


# --- --timeout-scale ------------------------------------------------------------------------

TIMEOUT_SCALES = [
    ("1e308", "--timeout-scale: expected a number from 0.01 to 100, got '1e308'"),
    ("nan", "--timeout-scale: expected a number from 0.01 to 100, got 'nan'"),
    ("inf", "--timeout-scale: expected a number from 0.01 to 100, got 'inf'"),
    ("1e-9", "--timeout-scale: expected a number from 0.01 to 100, got '1e-9'"),
    ("0", "--timeout-scale: expected a positive number, got '0'"),
    ("-1", "--timeout-scale: expected a positive number, got '-1'"),
    ("-inf", "--timeout-scale: expected a positive number, got '-inf'"),
]


@pytest.mark.parametrize("text, expected", TIMEOUT_SCALES)
def test_a_timeout_scale_out_of_range_is_refused(text, expected):
    with pytest.raises(UsageError) as err:
        config.parse_timeout_scale(text)
    assert str(err.value) == expected


@pytest.mark.parametrize("text, expected", TIMEOUT_SCALES[:3] + TIMEOUT_SCALES[4:6])
def test_a_timeout_scale_out_of_range_is_one_line_and_exit_4(tmp_path, text, expected):
    assert refused(tmp_path, "--timeout-scale", text) == f"ERROR: kubedrill: {expected}"


@pytest.mark.parametrize("factor", [1e308, float("nan"), float("inf"), 0.0, -1.0, 1e-9, 101.0])
def test_timeouts_cannot_be_scaled_out_of_range(factor):
    with pytest.raises(UsageError, match="timeout scale must be a number from 0.01 to 100, got "):
        Timeouts().scaled(factor)
    with pytest.raises(UsageError, match="timeout scale must be a number from 0.01 to 100"):
        undo.default_executors(factor)   # the journal replay's deadlines


def test_the_longest_scaled_deadline_fits_every_clock_and_socket():
    low, high = config.TIMEOUT_SCALE_RANGE
    for factor in (low, high):
        t = Timeouts().scaled(factor)
        for name in ("api_s", "deploy_s", "recover_s", "verify_s", "delete_s", "node_s", "lock_s"):
            deadline = getattr(t, name)
            assert 0 < deadline < threading.TIMEOUT_MAX
            assert time.monotonic() + deadline < float("inf")
            with socket.socket() as s:
                s.settimeout(deadline)   # what overflowed with --timeout-scale 1e308


# --- --objectives -------------------------------------------------------------------------------

def objectives_files(tmp_path):
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "latin1.yaml").write_bytes(b"pod_kill_rto_s: 3\n# caf\xe9\n")
    (tmp_path / "string.yaml").write_text('"pod_kill_rto_s 3"\n')
    (tmp_path / "broken.yaml").write_text("pod_kill_rto_s: [3,\n")
    return {
        "a-directory": f"--objectives: {tmp_path / 'a-directory'} is a directory, expected a YAML or JSON file",
        "latin1.yaml": f"--objectives: {tmp_path / 'latin1.yaml'} is not UTF-8 text (byte 0xe9 at offset 23), "
                       "expected a YAML or JSON file",
        "string.yaml": f"--objectives: {tmp_path / 'string.yaml'} must hold a mapping of objective: value, "
                       "got a string",
        "broken.yaml": f"--objectives: cannot parse {tmp_path / 'broken.yaml'}: expected the node content, "
                       "but found '<stream end>' (line 2, column 1)",
    }


@pytest.mark.parametrize("name", ["a-directory", "latin1.yaml", "string.yaml", "broken.yaml"])
def test_an_objectives_file_that_is_no_mapping_is_refused(tmp_path, name):
    expected = objectives_files(tmp_path)[name]
    with pytest.raises(UsageError) as err:
        config.parse_objectives(tmp_path / name)
    assert str(err.value) == expected


@pytest.mark.parametrize("name", ["a-directory", "latin1.yaml", "string.yaml", "broken.yaml"])
def test_an_objectives_file_that_is_no_mapping_is_one_line_and_exit_4(tmp_path, name):
    expected = objectives_files(tmp_path)[name]
    assert refused(tmp_path, "--objectives", str(tmp_path / name)) == f"ERROR: kubedrill: {expected}"


# --- the kubeconfig -------------------------------------------------------------------------------

def kubeconfig_files(tmp_path):
    (tmp_path / "random").write_bytes(RANDOM_BYTES)
    (tmp_path / "string").write_text('"https://127.0.0.1:1"\n')
    (tmp_path / "broken").write_text("apiVersion: v1\nclusters: [\n")
    (tmp_path / "a-list").write_text("- apiVersion: v1\n")
    (tmp_path / "contexts-5").write_text("apiVersion: v1\ncontexts: 5\n")
    (tmp_path / "a-directory").mkdir()
    first_bad = RANDOM_BYTES.decode("utf-8", "replace").index("\ufffd")
    return {
        "random": f"kubeconfig: {tmp_path / 'random'} is not UTF-8 text (byte {RANDOM_BYTES[first_bad]:#04x} "
                  f"at offset {first_bad}), expected {YAML_KUBECONFIG}",
        "string": f"kubeconfig: {tmp_path / 'string'} is a string, expected {YAML_KUBECONFIG}",
        "broken": f"kubeconfig: cannot parse {tmp_path / 'broken'}: expected the node content, but found "
                  "'<stream end>' (line 3, column 1)",
        "a-list": f"kubeconfig: {tmp_path / 'a-list'} is a list, expected {YAML_KUBECONFIG}",
        "contexts-5": f"kubeconfig: {tmp_path / 'contexts-5'}: contexts must be a list of entries with a name",
        "a-directory": f"kubeconfig: {tmp_path / 'a-directory'} is a directory, expected {YAML_KUBECONFIG}",
    }


KUBECONFIGS = ["random", "string", "broken", "a-list", "contexts-5", "a-directory"]


@pytest.mark.parametrize("name", KUBECONFIGS)
def test_a_kubeconfig_that_is_no_kubeconfig_is_refused(tmp_path, name):
    expected = kubeconfig_files(tmp_path)[name]
    with pytest.raises(UsageError) as err:
        kclient.api_client(tmp_path / name, "kind-nowhere")
    assert str(err.value) == expected


@pytest.mark.parametrize("name", ["random", "string", "broken"])
def test_a_kubeconfig_that_is_no_kubeconfig_is_one_line_and_exit_4(tmp_path, name):
    expected = kubeconfig_files(tmp_path)[name]
    assert refused(tmp_path, "--kubeconfig", str(tmp_path / name)) == f"ERROR: kubedrill: {expected}"


@pytest.mark.parametrize("name", ["random", "string", "broken"])
def test_a_bad_file_in_the_kubeconfig_list_is_named(tmp_path, name, monkeypatch):
    expected = kubeconfig_files(tmp_path)[name]
    good = kubeconfig(tmp_path, "kind-nowhere", NOWHERE)
    monkeypatch.setenv("KUBECONFIG", f"{good}{os.pathsep}{tmp_path / name}")
    with pytest.raises(UsageError) as err:
        kclient.api_client(None, "kind-nowhere")
    assert str(err.value) == expected


def write_kubeconfig(path, contexts, clusters, current=None):
    """contexts: {name: cluster}; clusters: {name: server}."""
    lines = ["apiVersion: v1", "kind: Config", "clusters:"]
    lines += [f"- {{name: {c}, cluster: {{server: '{s}'}}}}" for c, s in clusters.items()]
    lines += ["users:", "- {name: u, user: {token: t}}", "contexts:"]
    lines += [f"- {{name: {n}, context: {{cluster: {c}, user: u}}}}" for n, c in contexts.items()]
    if current:
        lines.append(f"current-context: {current}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_kubeconfig_list_merges_as_kubectl_merges_it(tmp_path, monkeypatch):
    """For each name the first file that defines it wins; a context of the second file is found;
    a listed file that does not exist is skipped; no file needs a current-context."""
    a = write_kubeconfig(tmp_path / "a", {"kind-a": "shared"},
                         {"shared": "http://127.0.0.1:11", "only-a": "http://127.0.0.1:12"}, current="kind-a")
    b = write_kubeconfig(tmp_path / "b", {"kind-a": "only-b", "kind-b": "shared"},
                         {"shared": "http://127.0.0.1:21", "only-b": "http://127.0.0.1:22"})
    missing = tmp_path / "missing"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(a), str(missing), str(b)]))
    assert sorted(kclient.contexts(f"{a}{os.pathsep}{b}")) == ["kind-a", "kind-b"]
    path, ctx, api = kclient.api_client(None, "kind-a")
    assert (path, ctx, api.configuration.host) == (f"{a}{os.pathsep}{b}", "kind-a", "http://127.0.0.1:11")
    _, _, api = kclient.api_client(None, "kind-b")
    assert api.configuration.host == "http://127.0.0.1:11"   # b's context, a's cluster "shared"
    monkeypatch.setenv("KUBECONFIG", f"{b}{os.pathsep}{a}")
    _, _, api = kclient.api_client(None, "kind-a")
    assert api.configuration.host == "http://127.0.0.1:22"
    _, _, api = kclient.api_client(f"{a}{os.pathsep}{b}", "kind-b")   # --kubeconfig takes a list too
    assert api.configuration.host == "http://127.0.0.1:11"
    with pytest.raises(UsageError) as err:
        kclient.api_client(None, "kind-c")
    assert str(err.value) == f"context 'kind-c' not found in {b}{os.pathsep}{a} (contexts: kind-a, kind-b)"


def test_a_kubeconfig_list_of_files_that_do_not_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'x'}{os.pathsep}{tmp_path / 'y'}")
    with pytest.raises(UsageError) as err:
        kclient.api_client(None, "kind-nowhere")
    assert str(err.value) == f"kubeconfig not found: {tmp_path / 'x'}{os.pathsep}{tmp_path / 'y'}"


def test_an_empty_file_in_a_kubeconfig_list_is_an_empty_kubeconfig(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.write_text("")
    good = kubeconfig(tmp_path, "kind-nowhere", NOWHERE)
    monkeypatch.setenv("KUBECONFIG", f"{empty}{os.pathsep}{good}")
    path, _, api = kclient.api_client(None, "kind-nowhere")
    assert (path, api.configuration.host) == (str(good), "https://127.0.0.1:1")
    with pytest.raises(UsageError) as err:
        kclient.api_client(empty, "kind-nowhere")
    assert str(err.value) == f"context 'kind-nowhere' not found in {empty} (contexts: none)"


# --- the state directory ---------------------------------------------------------------------------

def test_the_state_directory_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KUBEDRILL_STATE_DIR", raising=False)
    assert journal.state_dir() == tmp_path / ".kubedrill"
    monkeypatch.setenv("KUBEDRILL_STATE_DIR", "drills/state")
    assert journal.state_dir() == tmp_path / "drills" / "state"
    monkeypatch.setenv("KUBEDRILL_STATE_DIR", str(tmp_path / "elsewhere"))
    assert journal.state_dir() == tmp_path / "elsewhere"


def test_a_writable_state_directory_is_taken_and_nothing_is_created(tmp_path):
    assert journal.check_state_dir(tmp_path / "new" / "state") == tmp_path / "new" / "state"
    (tmp_path / "made").mkdir()
    assert journal.check_state_dir(tmp_path / "made") == tmp_path / "made"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["made"]
    assert list((tmp_path / "made").iterdir()) == []


def test_an_unwritable_state_directory_is_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for state, culprit in [(blocker, blocker), (blocker / "state", blocker)]:
        with pytest.raises(UsageError) as err:
            journal.check_state_dir(state)
        assert str(err.value) == (f"state directory {state} is not writable ({culprit} is not a directory); "
                                  "expected a writable directory (KUBEDRILL_STATE_DIR)")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "journal").write_text("")
    with pytest.raises(UsageError, match=r"\(.*/state/journal is not a directory\)"):
        journal.check_state_dir(tmp_path / "state")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_state_directory_where_nothing_can_be_made_is_refused():
    """/proc takes no new file, whoever asks (root included)."""
    with pytest.raises(UsageError) as err:
        journal.check_state_dir(Path("/proc/kubedrill-state"))
    assert str(err.value).startswith("state directory /proc/kubedrill-state is not writable (")


def test_an_unwritable_state_directory_is_one_line_and_exit_4_before_any_connection(tmp_path):
    """Refused before the kubeconfig is even read: the context is not in it, and that is not said."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = refused(tmp_path, "--context", "not-in-the-kubeconfig",
                   env={"KUBEDRILL_STATE_DIR": str(blocker / "state")})
    assert line == (f"ERROR: kubedrill: state directory {blocker / 'state'} is not writable ({blocker} is not "
                    "a directory); expected a writable directory (KUBEDRILL_STATE_DIR)")


def test_a_relative_state_directory_is_resolved_against_the_working_directory(tmp_path):
    (tmp_path / "a-file").write_text("")
    line = refused(tmp_path, env={"KUBEDRILL_STATE_DIR": "a-file/state"}, cwd=tmp_path)
    assert line == (f"ERROR: kubedrill: state directory {tmp_path / 'a-file' / 'state'} is not writable "
                    f"({tmp_path / 'a-file'} is not a directory); expected a writable directory "
                    "(KUBEDRILL_STATE_DIR)")


# --- KUBEDRILL_PAUSE_AT ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["deploy:", ":start", "fault:start:end", "deploy :end"])
def test_a_pause_point_without_its_place_is_refused(text):
    with pytest.raises(UsageError) as err:
        config.parse_pause_at(text)
    assert str(err.value) == PAUSE_EXPECTED + repr(text)


def test_a_pause_point_of_deploy_colon_is_one_line_and_exit_4(tmp_path):
    line = refused(tmp_path, env={"KUBEDRILL_PAUSE_AT": "deploy:"})
    assert line == f"ERROR: kubedrill: {PAUSE_EXPECTED}'deploy:'"


# --- the journal's own pause points ---------------------------------------------------------------

def test_the_journal_pause_points_name_an_undo_action():
    assert config.parse_pause_at("intent:docker_start") == ("intent", "docker_start")
    assert config.parse_pause_at("resolve:reclaim_volume") == ("resolve", "reclaim_volume")


@pytest.mark.parametrize("text", ["intent", "intent:", "resolve:start", "intent:docker_stop"])
def test_a_journal_pause_point_without_a_known_undo_action_is_refused(text):
    with pytest.raises(UsageError) as err:
        config.parse_pause_at(text)
    assert str(err.value) == (f"KUBEDRILL_PAUSE_AT: {text.partition(':')[0]}: expected one of "
                              f"{', '.join(config.JOURNAL_ACTIONS)}, got {text!r}")


def test_the_journal_pause_points_know_every_undo_action_replay_knows():
    from kubedrill import undo
    assert sorted(config.JOURNAL_ACTIONS) == sorted(undo.default_executors())
