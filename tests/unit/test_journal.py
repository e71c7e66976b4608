import json
import os
import subprocess
import sys

from kubedrill import journal
from kubedrill.journal import Journal, Undo


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def make_crashed_journal(tmp_path, run_id="r1", entries=(("stop node container w1", journal.DOCKER_START, {"container": "w1"}),
                                                          ("taint node w2", journal.REMOVE_TAINT, {"node": "w2", "key": "k"}))):
    j = Journal(tmp_path, run_id, "/kc", "kind-x")
    recorded = [j.record(what, Undo(action, args, what)) for what, action, args in entries]
    # pretend the process that wrote it died (SIGKILL): rewrite the pid
    pid = dead_pid()
    lines = [json.loads(line) for line in j.path.read_text().splitlines()]
    for d in lines:
        if d["op"] == "intent":
            d["pid"] = pid
    j.path.write_text("".join(json.dumps(d) + "\n" for d in lines))
    return j, recorded


def test_record_is_on_disk_before_the_call_returns(tmp_path):
    j = Journal(tmp_path, "r1", "/kc", "kind-x")
    entry = j.record("stop node container w1", Undo(journal.DOCKER_START, {"container": "w1"}, "docker start w1"))
    on_disk = journal.read(j.path)
    assert [e.what for e in on_disk.pending] == ["stop node container w1"]
    assert on_disk.pending[0].undo.args == {"container": "w1"}
    assert entry.context == "kind-x"


def test_resolved_entries_are_not_pending_and_a_clean_journal_is_removed(tmp_path):
    j = Journal(tmp_path, "r1")
    e1 = j.record("a", Undo(journal.NOTHING, {}, ""))
    e2 = j.record("b", Undo(journal.NOTHING, {}, ""))
    j.resolve(e1)
    assert [e.what for e in journal.read(j.path).pending] == ["b"]
    j.close()
    assert j.path.exists()  # b still pending
    j.resolve(e2)
    j.close()
    assert not j.path.exists()


def test_replay_undoes_newest_first_and_says_what_it_undid(tmp_path):
    make_crashed_journal(tmp_path)
    calls = []
    executors = {
        journal.DOCKER_START: lambda e: calls.append(("start", e.undo.args["container"])) or "started w1",
        journal.REMOVE_TAINT: lambda e: calls.append(("untaint", e.undo.args["node"])) or "untainted w2",
    }
    said = []
    report = journal.replay(tmp_path, executors, out=said.append)
    assert calls == [("untaint", "w2"), ("start", "w1")]
    assert report.undone == ("undid: untainted w2 (run r1: taint node w2)",
                             "undid: started w1 (run r1: stop node container w1)")
    assert said == list(report.undone)
    assert journal.journals(tmp_path) == ()  # fully undone: removed


def test_a_failed_undo_stays_pending_for_the_next_replay(tmp_path):
    make_crashed_journal(tmp_path)

    def boom(entry):
        raise RuntimeError("docker: no such container\nmore")

    report = journal.replay(tmp_path, {journal.DOCKER_START: boom, journal.REMOVE_TAINT: lambda e: "ok"})
    assert report.failed == ("could not undo entry r1/1 (stop node container w1, run r1): docker: no such container; "
                             "it stays in the journal for the next replay; if it can never run, release it: "
                             "make clean FORCE=1 or python -m kubedrill.journal --forget r1/1",)
    (left,) = journal.journals(tmp_path)
    assert [e.what for e in left.pending] == ["stop node container w1"]
    second = journal.replay(tmp_path, {journal.DOCKER_START: lambda e: "started"})
    assert len(second.undone) == 1 and journal.journals(tmp_path) == ()


def test_journals_of_live_runs_are_skipped(tmp_path):
    j = Journal(tmp_path, "live")
    j.record("taint node w2", Undo(journal.REMOVE_TAINT, {"node": "w2"}, ""))  # our own pid: alive
    calls = []
    report = journal.replay(tmp_path, {journal.REMOVE_TAINT: lambda e: calls.append(e) or "x"})
    assert report.skipped_live == ("live",) and calls == []


def test_a_line_torn_by_a_crash_is_ignored(tmp_path):
    j, _ = make_crashed_journal(tmp_path)
    with open(j.path, "a") as f:
        f.write('{"op": "resolved", "i')
    jf = journal.read(j.path)
    assert jf.unreadable_lines == 1 and len(jf.pending) == 2


def test_an_unknown_undo_action_is_reported_not_raised(tmp_path):
    make_crashed_journal(tmp_path, entries=(("mystery", "teleport", {}),))
    report = journal.replay(tmp_path, {})
    assert report.failed[0].startswith("could not undo entry r1/1 (mystery, run r1): no way to undo action 'teleport';")


def run_cli(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "kubedrill.journal", *args, "--dir", str(tmp_path)],
                          capture_output=True, text=True, env={**os.environ})


def test_cli_replay_of_an_empty_journal_says_so(tmp_path):
    proc = run_cli(tmp_path, "--replay")
    assert proc.returncode == 0
    assert proc.stdout == "kubedrill: fault journal is empty: nothing to undo\n"
    quiet = run_cli(tmp_path, "--replay-if-needed")
    assert quiet.returncode == 0 and quiet.stdout == ""


def test_cli_replay_says_what_it_undid(tmp_path):
    make_crashed_journal(tmp_path, entries=(("delete pods ns/p1", journal.NOTHING, {}),))
    proc = run_cli(tmp_path, "--replay")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "kubedrill: undid: delete pods ns/p1 (run r1: delete pods ns/p1)\n"
    assert journal.journals(tmp_path) == ()


def test_cli_bad_input_is_one_line(tmp_path):
    proc = run_cli(tmp_path, "--replay", "--timeout-scale", "zero")
    assert proc.returncode == 2
    assert proc.stderr == "kubedrill: error: --timeout-scale: expected a number, got 'zero'\n"


def test_cli_without_a_mode_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "kubedrill.journal"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("kubedrill: error: one of the arguments")
