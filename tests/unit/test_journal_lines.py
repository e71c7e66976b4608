"""The fault journal read back line by line: unreadable lines (each reported with its file and
line; a torn intent makes the replay exit non-zero), another host's journal (liveness unknown,
not replayed unless asked), releasing an undo that can never run (--forget, --force)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kubedrill import journal
from kubedrill.journal import Journal, Undo
from tests.unit.test_journal import dead_pid, make_crashed_journal

OK = {journal.DOCKER_START: lambda e: f"started {e.undo.args['container']}",
      journal.REMOVE_TAINT: lambda e: f"untainted {e.undo.args['node']}"}


def run_cli(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "kubedrill.journal", *args, "--dir", str(tmp_path)],
                          capture_output=True, text=True, env={**os.environ})


def append(path, text):
    with open(path, "a") as f:
        f.write(text + "\n")


def lines_of(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_intent_names_its_writer_op_first(tmp_path):
    j = Journal(tmp_path, "r1", holder="r1@lease")
    j.record("taint node w2", Undo(journal.REMOVE_TAINT, {"node": "w2"}, "remove taint"))
    line = j.path.read_text().splitlines()[0]
    assert line.startswith('{"op": "intent", ')
    d = json.loads(line)
    assert (d["run_id"], d["holder"], d["host"], d["pid"]) == ("r1", "r1@lease", socket.gethostname(), os.getpid())
    jf = journal.read(j.path)
    assert (jf.run_id, jf.holder, jf.host, jf.pid) == ("r1", "r1@lease", socket.gethostname(), os.getpid())
    assert Journal(tmp_path, "r2").holder == "r2"   # the run id, when the lock holds it by that


def test_a_line_that_is_json_but_not_an_object_is_reported_and_the_rest_undone(tmp_path):
    j, _ = make_crashed_journal(tmp_path)
    append(j.path, "[]")
    said = []
    report = journal.replay(tmp_path, OK, out=said.append)
    assert report.warnings == (f"WARNING: {j.path}:3: unreadable line skipped (JSON but not an object: list): '[]'",)
    assert len(report.undone) == 2 and report.clean and not report.lost
    assert said[0] == report.warnings[0]
    assert journal.journals(tmp_path) == ()


def test_odd_lines_never_crash_the_reading(tmp_path):
    j, _ = make_crashed_journal(tmp_path)
    for text in ('"intent"', "42", "null", '{"op": "intent", "id": 9, "undo": []}', '{"op": "resolved"}',
                 '{"op": "teleport"}', '{"op": "resolved", "id": true}', "\x00\x00"):
        append(j.path, text)
    jf = journal.read(j.path)
    assert len(jf.pending) == 2
    assert [b.number for b in jf.bad_lines] == list(range(3, 11))
    assert [b.number for b in jf.lost] == [6, 10]   # an intent without its fields, bytes that are no JSON


NOTHING_TO_DO = (("delete pods ns/p1", journal.NOTHING, {}), ("delete pods ns/p2", journal.NOTHING, {}))


def test_a_torn_intent_line_is_reported_loudly_and_the_replay_exits_non_zero(tmp_path):
    j, _ = make_crashed_journal(tmp_path, entries=NOTHING_TO_DO)
    append(j.path, '{"op": "intent", "context": "kind-x", "host": "h", "id": 3, "kubeco')
    proc = run_cli(tmp_path, "--replay")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        "kubedrill: undid: delete pods ns/p2 (run r1: delete pods ns/p2)",
        "kubedrill: undid: delete pods ns/p1 (run r1: delete pods ns/p1)",
        f"kubedrill: ERROR: {j.path}:3: unreadable line that may be an intent (torn or not JSON): the undo it "
        "recorded may be lost; check by hand what run r1 changed, then release it with make clean FORCE=1 or "
        "python -m kubedrill.journal --forget r1/line3: "
        "'{\"op\": \"intent\", \"context\": \"kind-x\", \"host\": \"h\", \"id\": 3, \"kubeco'"]
    (left,) = journal.journals(tmp_path)   # kept: the next replay says it again
    assert left.pending == () and [b.number for b in left.lost] == [3]
    again = run_cli(tmp_path, "--replay-if-needed")
    assert again.returncode == 1 and "--forget r1/line3" in again.stdout
    forgot = run_cli(tmp_path, "--forget", "r1/line3")
    assert forgot.returncode == 0 and forgot.stdout.startswith(f"kubedrill: would have undone whatever {j.path}:3")
    assert run_cli(tmp_path, "--replay").stdout == "kubedrill: fault journal is empty: nothing to undo\n"


def test_the_raw_text_of_a_bad_line_is_truncated(tmp_path):
    j, _ = make_crashed_journal(tmp_path)
    append(j.path, '{"op": "intent", "what": "' + "x" * 500)
    (b,) = journal.read(j.path).lost
    assert b.shown().endswith("xxx...'") and len(b.shown()) < 130


def test_a_torn_resolved_line_is_a_warning_only(tmp_path):
    j, _ = make_crashed_journal(tmp_path)
    append(j.path, '{"op": "resolved", "id": 2, "no')
    report = journal.replay(tmp_path, OK)
    assert report.clean and len(report.undone) == 2
    assert "a resolved line, torn or not JSON: its entry may be undone again" in report.warnings[0]


def test_a_journal_file_that_cannot_be_read_may_have_held_intents(tmp_path):
    # no readable intent: no writer to ask after (and nothing to undo); it is reported, not skipped
    (tmp_path / "r9.jsonl").mkdir()
    report = journal.replay(tmp_path, OK)
    assert report.skipped_unknown == () and report.lost and f"{tmp_path / 'r9.jsonl'}:0: unreadable line that may be an intent (the file cannot " \
                           "be read" in report.lost[0]


def another_hosts_journal(tmp_path):
    j, _ = make_crashed_journal(tmp_path)
    lines = lines_of(j.path)
    for d in lines:
        d["host"] = "other-host"
    j.path.write_text("".join(json.dumps(d) + "\n" for d in lines))
    return j


def test_another_hosts_journal_is_unknown_liveness_and_not_replayed_unless_asked(tmp_path):
    j = another_hosts_journal(tmp_path)
    calls, said = [], []
    execs = {k: (lambda e, f=f: calls.append(e.id) or f(e)) for k, f in OK.items()}
    report = journal.replay(tmp_path, execs, out=said.append)
    assert calls == [] and report.skipped_unknown == ("r1",) and report.clean
    pid = lines_of(j.path)[0]["pid"]
    assert said == [f"skipped the journal of run r1 (run r1, lock holder r1, host other-host, pid {pid}): written on "
                    "another host, whether it still runs is unknown; it would undo: taint node w2 [remove_taint key=k "
                    "node=w2]; stop node container w1 [docker_start container=w1]; once that run is gone: make clean "
                    "OTHER_HOSTS=1 or python -m kubedrill.journal --replay --other-hosts"]
    assert journal.liveness(pid, "other-host") == journal.UNKNOWN
    assert journal.liveness(dead_pid(), socket.gethostname()) == "dead"
    again = journal.replay(tmp_path, execs, other_hosts=True)
    assert calls == [2, 1] and len(again.undone) == 2 and journal.journals(tmp_path) == ()


def test_forget_says_what_it_would_have_done_then_resolves_the_entry(tmp_path):
    j, _ = make_crashed_journal(tmp_path, entries=NOTHING_TO_DO)
    proc = run_cli(tmp_path, "--forget", "r1/1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith(
        "kubedrill: would have undone r1/1: delete pods ns/p1 [nothing] "
        "(run r1: delete pods ns/p1; run r1, lock holder r1, host ")
    assert proc.stdout.splitlines()[1] == (f"kubedrill: forgot r1/1: nothing was undone; {j.path} notes it "
                                           "\"forgotten by operator\"")
    last = lines_of(j.path)[-1]
    assert (last["op"], last["id"], last["note"]) == ("resolved", 1, "forgotten by operator")
    assert [e.id for e in journal.read(j.path).pending] == [2]


def test_forget_an_unknown_id_is_one_line_exit_2(tmp_path):
    make_crashed_journal(tmp_path)
    proc = run_cli(tmp_path, "--forget", "r1/7")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("kubedrill: error: no pending journal entry 'r1/7' "
                           "(python -m kubedrill.journal --show lists them)\n")


def test_forget_an_unreadable_line_and_a_bare_id(tmp_path):
    j, _ = make_crashed_journal(tmp_path)
    append(j.path, '{"op": "intent", "id": 3, "ki')
    journal.forget("line3", tmp_path)
    journal.forget("2", tmp_path)
    jf = journal.read(j.path)
    assert jf.lost == () and [e.id for e in jf.pending] == [1]


def test_forget_refuses_an_entry_of_a_live_run(tmp_path):
    j = Journal(tmp_path, "live")
    j.record("taint node w2", Undo(journal.REMOVE_TAINT, {"node": "w2"}, ""))   # our own pid: alive
    with pytest.raises(journal.UsageError, match="belongs to run live, which is still running"):
        journal.forget("live/1", tmp_path)
    assert len(journal.read(j.path).pending) == 1


def test_a_failing_undo_names_its_entry_and_force_releases_it(tmp_path):
    make_crashed_journal(tmp_path)

    def api_gone(entry):
        raise ConnectionRefusedError("connection refused")

    said = []
    kept = journal.replay(tmp_path, {**OK, journal.DOCKER_START: api_gone}, out=said.append)
    assert not kept.clean and "--forget r1/1" in kept.failed[0] and "make clean FORCE=1" in kept.failed[0]
    forced = journal.replay(tmp_path, {**OK, journal.DOCKER_START: api_gone}, force=True)
    assert forced.forgotten == ("forgot r1/1 (forgotten by operator): would have undone: stop node container w1 "
                                "[docker_start container=w1] (run r1: stop node container w1)",)
    assert journal.journals(tmp_path) == ()


def test_replay_if_needed_with_a_failing_undo_tells_how_to_forget(tmp_path):
    make_crashed_journal(tmp_path, entries=(("mystery", "teleport", {}),))
    proc = run_cli(tmp_path, "--replay-if-needed")
    assert proc.returncode == 1
    assert "could not undo entry r1/1 (mystery, run r1)" in proc.stdout
    assert proc.stdout.rstrip().endswith("release it: make clean FORCE=1 or python -m kubedrill.journal --forget r1/1")
    forced = run_cli(tmp_path, "--replay", "--force")
    assert forced.returncode == 0 and "forgot r1/1 (forgotten by operator)" in forced.stdout
    assert run_cli(tmp_path, "--replay-if-needed").stdout == ""


def test_a_journal_whose_only_line_is_torn_is_reported_as_a_lost_intent(tmp_path):
    (tmp_path / "r1.jsonl").write_text('{"op": "intent", "context": "kind-x", "h')
    report = journal.replay(tmp_path, OK)
    assert not report.clean and "r1.jsonl:1: unreadable line that may be an intent" in report.lost[0]


# --- a journal that cannot be written; the journal's pause points -----------------------------------

def test_a_full_filesystem_is_one_journal_error_and_no_line(tmp_path):
    from kubedrill.errors import JournalUnwritable
    from kubedrill.journalfile import append

    with pytest.raises(JournalUnwritable) as err:
        append(Path("/dev/full"), {"op": "intent", "id": 1})
    assert str(err.value) == ("cannot write the fault journal /dev/full: No space left on device; nothing is done "
                              "without its journal line")


def test_an_intent_that_cannot_be_written_is_not_pending(tmp_path):
    from kubedrill.errors import JournalUnwritable

    j = Journal(tmp_path, "run-a")
    (tmp_path / "run-a.jsonl").mkdir()   # the journal's path is a directory: every write fails
    with pytest.raises(JournalUnwritable):
        j.record("stop node container n1", Undo(journal.DOCKER_START, {"container": "n1"}, "docker start n1"))
    assert j.pending() == ()


def test_the_journal_pauses_after_an_intent_is_on_disk_and_before_it_is_resolved(tmp_path):
    j = Journal(tmp_path, "run-a")
    seen = []
    j.pause = lambda point, action: seen.append((point, action, (tmp_path / "run-a.jsonl").read_text().count("\n")))
    e = j.record("taint node n1", Undo(journal.REMOVE_TAINT, {"node": "n1"}, "remove taint"))
    j.resolve(e)
    j.resolve(e)   # resolved already: no second pause
    assert seen == [("intent", "remove_taint", 1), ("resolve", "remove_taint", 1)]


def test_a_line_written_in_part_is_taken_back(tmp_path, monkeypatch):
    from kubedrill import journalfile
    from kubedrill.errors import JournalUnwritable

    j = Journal(tmp_path, "run-a")
    j.record("create namespace kd-a", Undo(journal.DELETE_NAMESPACE, {"namespace": "kd-a"}, "delete kd-a"))
    before = j.path.read_bytes()
    real = os.write
    monkeypatch.setattr(journalfile.os, "write", lambda fd, data: real(fd, data[: len(data) // 2]))
    with pytest.raises(JournalUnwritable, match="No space left on device"):
        j.record("stop node container n1", Undo(journal.DOCKER_START, {"container": "n1"}, "docker start n1"))
    assert j.path.read_bytes() == before   # no torn intent left for a replay to fear
    assert [e.what for e in j.pending()] == ["create namespace kd-a"]


# --- a node stop the daemon still carries out after its client was killed --------------------------

def test_a_stop_is_under_way_from_its_kill_until_the_container_dies():
    from kubedrill.docker import stop_under_way

    assert not stop_under_way([])
    assert not stop_under_way(["exec_start: bash -c true", "exec_die"])
    assert stop_under_way(["kill"])                                   # SIGTERM sent, still running
    assert stop_under_way(["kill", "kill"])                           # the grace is over: SIGKILL sent
    assert not stop_under_way(["kill", "kill", "die", "stop"])        # stopped: start it
    assert not stop_under_way(["kill", "die", "stop", "start"])       # started again since
    assert stop_under_way(["kill", "die", "stop", "start", "kill"])   # and a second stop begun
