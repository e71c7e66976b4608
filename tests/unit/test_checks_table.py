"""Every check a scenario makes has its row in docs/checks.md, with the verdict class it raises
and the e2e test that proves it can fail (tests/unit/checks_table.py)."""

from pathlib import Path

import pytest

from tests.unit import checks_table

ROOT = Path(__file__).resolve().parents[2]


def test_scenarios_make_only_typed_checks():
    _, problems = checks_table.scan_all(ROOT / "scenarios")
    assert problems == []


def test_every_check_has_its_row_and_proof():
    checks, _ = checks_table.scan_all(ROOT / "scenarios")
    table = checks_table.rows((ROOT / "docs" / "checks.md").read_text())
    assert checks and table
    assert checks_table.table_problems(checks, table, ROOT) == []


def test_the_walk_finds_a_bare_assert_and_a_check_without_a_row(tmp_path):
    (tmp_path / "test_x.py").write_text(
        "from kubedrill import checks\n"
        "def test_a(objectives, w):\n"
        "    assert w.ok\n"
        "    assert w.rto <= objectives.x_rto_s\n"
        "    checks.recovered('x.count', w.n == 3, 'count')\n"
        "    checks.identity(name, True, 'no literal id')\n"
        "    w.verify_records(1)\n")
    checks, problems = checks_table.scan_all(tmp_path)
    assert [c.check_id for c in checks] == ["x.count", "x.test_a.verify_records"]
    assert [c.verdict for c in checks] == ["not recovered", "data lost"]
    assert len([p for p in problems if "bare assert" in p]) == 2
    assert any("objective comparison" in p for p in problems)
    assert any("literal check id" in p for p in problems)
    table = checks_table.rows("| `x.count` | x | count | n=2 | identity lost | tests/e2e/nope.py::test_n |\n")
    found = checks_table.table_problems(checks, table, tmp_path)
    assert any("row says 'identity lost'" in p for p in found)
    assert any("x.test_a.verify_records" in p and "no row" in p for p in found)
    assert any("does not exist" in p for p in found)


def test_a_row_with_the_wrong_cell_count_is_refused():
    with pytest.raises(ValueError):
        checks_table.rows("| `x.count` | x | count |\n")
