"""Which set-ups and tear-downs an Allure result lists: the scenario's own fixtures, each with its
status, not pytest's internals (fixtures/allure_results.FixtureFilter applies it to each
container allure-pytest writes).

allure-pytest records every fixture a test used, pytest's and every plugin's too, as a set-up
("before", named after the fixture) and one tear-down ("after") per finalizer, named
"fixture::finalizer": the finalizer's __name__, or its index when it has none (the fixture's own
code after ``yield`` is a functools.partial). One of them is pytest's own: the ``<lambda>`` that
calls pytest_fixture_post_finalizer, in which allure-pytest writes the container; that tear-down
is still running when its container is written, so it has no status.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import Callable

FINALIZER_SEPARATOR = "::"


def defined_in_project(source: Path | str | None, root: Path | str) -> bool:
    """A fixture whose source file is the project's (under ``root``), not pytest's, the standard
    library's or an installed plugin's (anything under an installation's library directories, a
    virtualenv inside the project too)."""
    if source is None:
        return False
    path = Path(source).resolve()
    libraries = {Path(p).resolve() for key in ("purelib", "platlib", "stdlib", "platstdlib")
                 if (p := sysconfig.get_paths().get(key))}
    if any(path.is_relative_to(lib) for lib in libraries) or {"site-packages", "dist-packages"} & set(path.parts):
        return False
    return path.is_relative_to(Path(root).resolve())


def fixture_shown(name: str, named_by_scenario: bool, in_project: bool) -> bool:
    """Whether a fixture appears in a result's set-up and tear-down: the scenario names it as an
    argument, or the project (kubedrill, the team's conftest) defines it and it is not private
    (``_name``). pytest's own (pytestconfig), plugins' (remaining_clusters_teardown) and private
    ones (_allure_phase_steps) are left out."""
    return named_by_scenario or (in_project and not name.startswith("_"))


def after_title(name: str, status: str | None, shown: Callable[[str], bool]) -> str | None:
    """The title of a tear-down allure-pytest named ``name`` (None: left out). A fixture's own
    tear-down (a finalizer without a name, or a lambda) is titled with the fixture's name; a named
    finalizer keeps ``fixture::finalizer``; pytest's post-finalizer (still running, no status) and
    the tear-downs of fixtures not shown are left out."""
    fixture, _, finalizer = name.partition(FINALIZER_SEPARATOR)
    if status is None or not shown(fixture):
        return None
    if not finalizer or finalizer.isdigit() or finalizer == "<lambda>":
        return fixture
    return name


def tidy_fixtures(container, shown: Callable[[str], bool]) -> None:
    """Keep, in an Allure container (allure_commons' TestResultContainer, changed in place before it
    is written), the set-ups and tear-downs of the fixtures shown, each tear-down titled by
    :func:`after_title`; kubedrill's phase steps inside them (arrange, teardown) stay where they are."""
    container.befores[:] = [b for b in container.befores if shown(b.name)]
    afters = []
    for after in container.afters:
        title = after_title(after.name, after.status, shown)
        if title is not None:
            after.name = title
            afters.append(after)
    container.afters[:] = afters
