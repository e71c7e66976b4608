"""The harness survives the faults it causes (README: Safety), on the kind cluster.

Too long for `make test` (about an hour): `make torture` runs it, and
benchmarks/results.md keeps its figures. The file is named so that `pytest tests/e2e` does not
collect it; named on the command line, pytest does.

Every test ends with the leftover check of tests/e2e/conftest.leftovers (labelled objects, PVs of
run namespaces, VolumeSnapshotContents, stopped node containers, kubedrill taints, cordoned
nodes, the drill lock, open journal entries), which must be empty.

1. SIGKILL inside the injection and inside the undo of each fault kind, placed with
   KUBEDRILL_PAUSE_AT (the journal's own points: ``intent:<undo action>`` just after the intent
   is on disk, ``resolve:<undo action>`` just after the undo acted, before it is recorded), each
   followed by `make clean`; then 10 kills at seeded random moments of a whole `make drill`.
2. A replay killed half-way, a ``[]`` line appended to the journal, then `make clean`.
3. The API server stopped for longer than the lease during a node-loss drill, then restored.
4. The control plane paused (`docker pause`) for 90 s mid-drill.
5. The journal's filesystem full (a small tmpfs), at start and mid-run.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kubedrill import docker, journal
from kubedrill.k8s import nodes
from tests.e2e.conftest import NO_ALLURE, ROOT, leftovers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPLICAS = "scenarios/test_replicas.py::"
POD_DELETE = REPLICAS + "test_pods_deleted_through_the_api_are_replaced_by_new_pods[Deployment-one]"
CONTAINER_KILL = REPLICAS + "test_containers_killed_in_place_restart_in_the_same_pods[Deployment-one]"
VOLUMES = "scenarios/test_persistent_volumes.py::"
CLAIM_DELETE = VOLUMES + "test_a_deleted_claim_takes_its_volume_and_data_with_it"
RETAIN_REBIND = VOLUMES + "test_a_retained_volume_binds_to_a_new_claim_with_its_data"
RESTORE = "scenarios/test_snapshot_restore.py::test_files_are_restored_from_a_consistent_snapshot_up_to_the_cut"
LOST_NODE = "scenarios/test_node_loss.py::test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker"
NODE_STOP = LOST_NODE + "[stop]"
DRAIN = LOST_NODE + "[drain]"
TAINT = "tests/e2e/drills/drill_taint.py"
CHAOS = "tests/e2e/drills/drill_chaos.py"
PLUMBING = "scenarios/test_plumbing.py"

# (fault kind, what runs, where it is killed): a fault whose undo is "nothing" (the owner or the
# namespace's deletion repairs it) is killed once it acted (resolve:nothing) and inside the
# namespace's or the volume's undo; a fault with an undo of its own, right after its intent is on
# disk (the undo then finds nothing to undo) and right after its undo acted (replayed again)
KILLS = [
    ("pod delete", POD_DELETE, "resolve:nothing"),
    ("pod delete", POD_DELETE, "resolve:delete_namespace"),
    ("container kill", CONTAINER_KILL, "resolve:nothing"),
    ("container kill", CONTAINER_KILL, "resolve:delete_namespace"),
    ("claim delete", CLAIM_DELETE, "resolve:nothing"),
    ("claim delete", CLAIM_DELETE, "resolve:reclaim_volume"),
    ("retain rebind", RETAIN_REBIND, "resolve:nothing"),       # the claim gone, its Retain volume Released
    ("retain rebind", RETAIN_REBIND, "resolve:reclaim_volume"),
    ("snapshot/restore", RESTORE, "resolve:nothing"),          # the source gone, not yet restored
    ("snapshot/restore", RESTORE, "resolve:delete_namespace"),
    ("node stop", NODE_STOP, "intent:docker_start"),
    ("node stop", NODE_STOP, "resolve:docker_start"),
    ("drain", DRAIN, "intent:uncordon"),
    ("drain", DRAIN, "resolve:uncordon"),
    ("taint", TAINT, "intent:remove_taint"),
    ("taint", TAINT, "resolve:remove_taint"),
    ("chaos toolkit experiment", CHAOS, "intent:nothing"),
    ("chaos toolkit experiment", CHAOS, "resolve:delete_namespace"),
]

RANDOM_KILLS = int(os.environ.get("KUBEDRILL_TORTURE_KILLS", "10"))
DRILL_S = 520   # a whole make drill on this machine (benchmarks/results.md: 492-515 s)


def figure(line: str) -> None:
    """A figure for benchmarks/results.md, in the run's output (-s) and its log."""
    print(f"torture: {line}", flush=True)
    log = os.environ.get("KUBEDRILL_TORTURE_LOG")
    if log:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as f:
            f.write(line + "\n")


def make_clean(state: Path, reports: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """`make clean` as a user types it after a crash, on the run's own state dir and reports."""
    return subprocess.run(["make", "--no-print-directory", "clean", f"REPORTS={reports}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "KUBEDRILL_STATE_DIR": str(state)})


def all_nodes_ready(clients) -> None:
    """A node container a replay started is Ready before the next case deploys."""
    for n in clients.core.list_node().items:
        nodes.wait_ready(clients, n.metadata.name, 300)


def clean_and_check(clients, run_id: str, state: Path, reports: Path) -> str:
    started = time.monotonic()
    replay = make_clean(state, reports)
    out = replay.stdout + replay.stderr
    assert replay.returncode == 0, out[-4000:]
    assert "could not undo" not in out and "FAILED" not in out, out[-4000:]
    all_nodes_ready(clients)
    assert leftovers(clients, run_id, state) == [], out[-4000:]
    assert journal.journals(state / "journal") == ()
    return f"make clean {time.monotonic() - started:.0f}s"


@pytest.mark.parametrize("kind, target, point", KILLS, ids=[f"{k}--{p}".replace(" ", "_").replace("/", "_").replace(":", "-") for k, _, p in KILLS])
def test_sigkill_inside_a_fault_then_make_clean_leaves_nothing(drill, clients, kind, target, point):
    started = time.monotonic()
    d = drill(target, "--seed", "15", NO_ALLURE).start(pause_at=point)
    _, run_id = d.wait_paused()
    paused = time.monotonic() - started
    before = leftovers(clients, run_id, d.tmp / "state")
    assert before, "the run had made something by then"
    d.signal(signal.SIGKILL)
    d.finish()
    assert d.proc.returncode == -signal.SIGKILL
    took = clean_and_check(clients, run_id, d.tmp / "state", d.tmp / "reports")
    figure(f"{kind} killed at {point} after {paused:.0f}s ({len(before)} things in place): {took}, nothing left")


def test_sigkill_while_the_daemon_still_stops_the_node_then_make_clean_starts_it(drill, clients):
    """The node stop's `docker stop` is carried on by the daemon after its client is killed: the
    replay must not take the still-running container for one that was never stopped."""
    d = drill(NODE_STOP, "--seed", "15", NO_ALLURE).start(pause_at="intent:docker_start")
    _, run_id = d.wait_paused()
    d.resume()
    threading.Event().wait(2)   # the moment of the kill: the kind node takes seconds to stop
    d.signal(signal.SIGKILL)
    d.finish()
    stopping = [c.name for c in docker.node_containers(clients.kind_cluster) if c.running]
    took = clean_and_check(clients, run_id, d.tmp / "state", d.tmp / "reports")
    figure(f"node stop killed 2s into its docker stop ({len(stopping)} node containers still running then): "
           f"{took}, every node Ready, nothing left")


@pytest.mark.timeout(RANDOM_KILLS * 900)
def test_sigkills_at_random_moments_of_a_whole_make_drill(clients, tmp_path):
    seed = int(os.environ.get("KUBEDRILL_TORTURE_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    figure(f"random kills: seed {seed} (KUBEDRILL_TORTURE_SEED={seed} repeats them), {RANDOM_KILLS} kills")
    first = int(os.environ.get("KUBEDRILL_TORTURE_FROM", "1"))   # go on from kill N of the same seed
    for i in range(RANDOM_KILLS):
        at = rng.uniform(5, DRILL_S)
        if i + 1 < first:
            continue
        tmp = tmp_path / f"kill{i}"
        tmp.mkdir()
        log = tmp / "drill.log"
        with open(log, "wb") as out:
            # its own session: the kill reaches make, pytest and whatever they started, as a crash would
            proc = subprocess.Popen(["make", "--no-print-directory", "drill", f"REPORTS={tmp / 'reports'}"],
                                    cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                    env={**os.environ, "KUBEDRILL_STATE_DIR": str(tmp / "state")})
            try:
                proc.wait(timeout=at)   # the moment of the kill, not a wait for anything
                ended = True
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                ended = False
        text = log.read_text(errors="replace")
        found = re.search(r"kubedrill: run (\S+), seed", text)
        last = [ln for ln in text.splitlines() if ln.startswith("kubedrill:")][-1:] or ["(no kubedrill line yet)"]
        run_id = found.group(1) if found else "no-run-yet"
        took = clean_and_check(clients, run_id, tmp / "state", tmp / "reports")
        assert not any(n.metadata.name.startswith("kd-") for n in clients.core.list_namespace().items)
        figure(f"random kill {i + 1}: at {at:.0f}s{' (the drill had ended)' if ended else ''}, run {run_id}, "
               f"last line {last[0][:100]!r}: {took}, nothing left")


def test_a_replay_killed_half_way_then_a_bad_line_then_make_clean(drill, clients):
    d = drill("tests/e2e/drills/drill_node.py", "--seed", "5", NO_ALLURE).start(pause_at="fault:end")
    _, run_id = d.wait_paused()
    d.signal(signal.SIGKILL)
    d.finish()
    state = d.tmp / "state"
    (path,) = (state / "journal").glob("*.jsonl")
    # the replay undoes newest first: the node's start, then the namespace's deletion (a wait of
    # seconds), then the lock; it is killed once the node is started
    replay = subprocess.Popen([sys.executable, "-m", "kubedrill.journal", "--replay", "--dir", str(state / "journal")],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said = []
    for line in replay.stdout:
        said.append(line)
        if "undid: started node container" in line:
            replay.send_signal(signal.SIGKILL)
            break
    replay.wait()
    assert replay.returncode == -signal.SIGKILL, "".join(said)
    assert journal.read(path).pending, "the replay was killed before it undid everything"
    with open(path, "a") as f:
        f.write("[]\n")
    bad = len(path.read_text().splitlines())
    clean = make_clean(state, d.tmp / "reports")
    out = clean.stdout + clean.stderr
    assert f"{path}:{bad}: unreadable line skipped (JSON but not an object: list): '[]'" in out, out[-3000:]
    assert "kubedrill: undid: deleted namespace kd-" in out, out[-3000:]
    assert "kubedrill: undid: released drill lock" in out, out[-3000:]
    all_nodes_ready(clients)
    assert leftovers(clients, run_id, state) == []
    figure(f"replay killed after {len(said)} lines, '[]' appended at line {bad}: make clean reported it, "
           "undid the rest, nothing left")


CONTROL_PLANE = "kubedrill-control-plane"
MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
AWAY = "/etc/kubernetes/kube-apiserver.yaml.away"


def api_answers(clients, within_s: float) -> None:
    """Ask the API server once a second up to ``within_s``: a stopped one has nothing to watch."""
    deadline = time.monotonic() + within_s
    pause = threading.Event()
    while time.monotonic() < deadline:
        try:
            clients.core.list_namespace(limit=1, _request_timeout=5)
            return
        except Exception:  # noqa: BLE001 - not yet
            pass
        pause.wait(1)
    pytest.fail(f"the API server did not answer within {within_s:.0f}s")


def test_the_api_server_stopped_past_the_lease_during_a_node_loss_drill(drill, clients):
    first = drill(NODE_STOP, "--seed", "5", NO_ALLURE).start(pause_at="fault:end")
    _, run_id = first.wait_paused()
    outage_s = 150   # the lease is 120 s
    docker.cli("exec", CONTROL_PLANE, "mv", MANIFEST, AWAY)
    down = time.monotonic()
    try:
        first.resume()   # the run goes on into its recovery, the API gone
        second = drill(PLUMBING, "--wait-for-lock", "0", NO_ALLURE)
        rc2 = second.run(limit_s=300)
        assert rc2 != 0, second.output[-3000:]
        second_said = [ln for ln in second.output.splitlines() if "kubedrill:" in ln][-1:]
        threading.Event().wait(max(0.0, outage_s - (time.monotonic() - down)))   # the outage's length
    finally:
        docker.cli("exec", CONTROL_PLANE, "mv", AWAY, MANIFEST)
    api_answers(clients, 300)
    back = time.monotonic() - down
    rc = first.finish(limit_s=1200)
    verdict = (first.tmp / "reports" / "verdict").read_text()
    assert verdict.split(" ", 1)[1] == "harness error\n", first.output[-4000:]
    assert "data lost" not in first.output
    assert "lost the drill lock" in first.output or "LockLost" in first.output, first.output[-4000:]
    all_nodes_ready(clients)
    assert leftovers(clients, run_id, first.tmp / "state") == []
    figure(f"API server stopped {outage_s}s (back after {back:.0f}s) during a node stop: exit {rc}, "
           f"verdict {verdict.strip()!r}; a second drill meanwhile exit {rc2}: {second_said}; nothing left")


def test_the_control_plane_paused_90s_mid_drill(drill, clients):
    d = drill(PLUMBING, "--seed", "5", NO_ALLURE).start(pause_at="recover")
    _, run_id = d.wait_paused()
    docker.cli("pause", CONTROL_PLANE)
    paused = time.monotonic()
    try:
        d.resume()
        threading.Event().wait(90)   # the pause's length
    finally:
        docker.cli("unpause", CONTROL_PLANE)
    api_answers(clients, 300)
    rc = d.finish(limit_s=900)   # every wait has a deadline: the run ends on its own
    took = time.monotonic() - paused
    verdict = (d.tmp / "reports" / "verdict").read_text().strip()
    all_nodes_ready(clients)
    assert leftovers(clients, run_id, d.tmp / "state") == [], d.output[-4000:]
    figure(f"control plane paused 90s at recover: the run ended {took:.0f}s after the pause began, exit {rc}, "
           f"verdict {verdict!r}; nothing left")


@pytest.fixture
def small_fs(tmp_path):
    mount = tmp_path / "state"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def fill(mount: Path) -> None:
    subprocess.run(["dd", "if=/dev/zero", f"of={mount / 'filler'}", "bs=4k"], capture_output=True)


def test_a_full_journal_filesystem_at_start_is_one_line_and_nothing_made(drill, clients, small_fs):
    fill(small_fs)
    d = drill(PLUMBING, NO_ALLURE, env={"KUBEDRILL_STATE_DIR": str(small_fs)})
    rc = d.run()
    errors = [ln for ln in d.output.splitlines() if ln.startswith("ERROR:")]
    assert rc == 4 and len(errors) == 1, d.output[-3000:]
    assert "No space left on device" in errors[0], errors
    assert not any(n.metadata.name.startswith("kd-") for n in clients.core.list_namespace().items)
    figure(f"journal filesystem full at start: exit {rc}, {errors[0]!r}")


def test_a_journal_filesystem_filled_mid_run_stops_the_fault(drill, clients, small_fs, tmp_path):
    # tmpfs gives a file whole pages: a line that fits the journal's last page is written even on a
    # full filesystem (and is then on disk, as it should be). Every intent names the kubeconfig's
    # path, so a long one makes the fault's intent need a page of its own.
    deep = tmp_path.joinpath(*["k" * 200] * 5)
    deep.mkdir(parents=True)
    kubeconfig = deep / "config"
    kubeconfig.write_text(Path(clients.kubeconfig).read_text())
    d = drill(PLUMBING, "--kubeconfig", str(kubeconfig), NO_ALLURE, env={"KUBEDRILL_STATE_DIR": str(small_fs)})
    d.start(pause_at="deploy:end")
    _, run_id = d.wait_paused()
    (path,) = (small_fs / "journal").glob("*.jsonl")
    written = path.stat().st_size
    line = max(len(ln) + 1 for ln in path.read_text().splitlines())
    assert written % 4096 + line > 4096, f"the next intent ({line} bytes) would fit the page ({written} written)"
    fill(small_fs)
    d.resume()
    rc = d.finish()
    verdict = (d.tmp / "reports" / "verdict").read_text().strip()
    assert verdict.endswith("harness error"), d.output[-4000:]
    errors = [ln for ln in d.output.splitlines() if ln.startswith("harness error: ")]
    assert len(errors) == 1 and "cannot write the fault journal" in errors[0], d.output[-4000:]
    assert "No space left on device; nothing is done without its journal line" in errors[0]
    assert "phase injecting the fault: FAILED" in d.output, d.output[-4000:]
    assert "killed 1 pod(s)" not in d.output, d.output[-4000:]
    (small_fs / "filler").unlink()
    clean_and_check(clients, run_id, small_fs, d.tmp / "reports")
    figure(f"journal filesystem filled at deploy:end ({written} bytes written, the next line {line}): exit {rc}, "
           f"verdict {verdict!r}, no fault injected; make clean left nothing")
