"""kubedrill's Chaos Toolkit control: the same experiment file, run by ``chaos run``, is a
kubedrill drill. Declared in the experiment::

    controls:
    - name: kubedrill
      provider: {type: python, module: kubedrill.ctk.control}

Under ``chaos run``:

    before_experiment_control   connect (the local kind cluster, or KUBEDRILL_CONTEXT with
                                KUBEDRILL_ALLOW_CONTEXTS), the guard's policy on the whole
                                experiment, the drill lock (journalled first), stale journals
                                replayed, the target applied into a fresh namespace (or the
                                existing one KUBEDRILL_ALLOW_NAMESPACES allows) and the
                                configuration's ``ns`` set to it, every workload Ready, kubedrill's
                                data read and written, its prober started
    before_method_control       what must recover is looked at; the fault phase (the lock fresh)
    before_activity_control     the guard on each activity; the fault's moment (RTO's start)
    after_method_control        kubedrill's recovery wait (RTO)
    after_experiment_control    kubedrill's checks (identity, data, RPO, objectives); then
                                everything the drill made is deleted, the lock released, the leak
                                check; kubedrill's verdict and figures go into the journal under
                                ``kubedrill``, and its status is "failed" unless the verdict is
                                passed, so that ``chaos run`` exits 1
    cleanup_control             whatever the drill left (an interrupted run) is undone

Anything that refuses or fails before the fault raises InterruptExecution: Chaos Toolkit stops the
run, nothing is injected. chaoslib swallows every other error a control raises, so each is kept
here for kubedrill's verdict. Under kubedrill's own runner (``make drill``) the control does
nothing: the drill is already kubedrill's.

Settings come from the control's ``arguments`` or the environment: ``context``
(KUBEDRILL_CONTEXT), ``kubeconfig`` ($KUBECONFIG), ``allow_contexts`` (KUBEDRILL_ALLOW_CONTEXTS,
comma-separated), ``allow_namespaces`` (KUBEDRILL_ALLOW_NAMESPACES), ``wait_for_lock_s``
(KUBEDRILL_WAIT_FOR_LOCK), ``timeout_scale`` (KUBEDRILL_TIMEOUT_SCALE), ``objectives``
(KUBEDRILL_OBJECTIVES, a file as ``--objectives``), ``prober_image`` (KUBEDRILL_PROBER_IMAGE),
``writer_image`` (KUBEDRILL_WRITER_IMAGE); the fault journal in KUBEDRILL_STATE_DIR.
"""

from __future__ import annotations

import logging
from typing import Any

from chaoslib.exceptions import InterruptExecution

from kubedrill.ctk import current
from kubedrill.ctk.chaosrun import SECTION, ChaosRun
from kubedrill.errors import first_line
from kubedrill.report import verdicts

LOG = logging.getLogger("chaostoolkit")


def _warn(line: str) -> None:
    LOG.warning(f"kubedrill: {line}")


# --- Chaos Toolkit's hooks ---------------------------------------------------------------------
_run: ChaosRun | None = None


def _interrupt(where: str, exc: BaseException) -> InterruptExecution:
    return InterruptExecution(f"kubedrill: {where}: {first_line(exc)}")


def configure_control(experiment: dict, configuration: dict | None = None, secrets: Any = None,
                      settings: Any = None, **arguments: Any) -> None:
    """Nothing touches the cluster yet (chaoslib drops a control whose configuration raises)."""
    global _run
    _run = None
    if current.active():
        return   # kubedrill's own runner drills it: nothing to add
    if configuration is None:
        configuration = {}
    _run = ChaosRun(experiment, configuration, arguments)


def before_experiment_control(context: dict, configuration: dict | None = None, **kwargs: Any) -> None:
    r = _run
    if r is None:
        return
    if configuration is not None and configuration is not r.configuration:
        r.configuration = configuration
    try:
        r.start()
    except BaseException as exc:  # noqa: BLE001 - refused or failed before the fault: nothing is injected
        r.error = exc
        r.teardown()
        raise _interrupt("before the fault", exc) from None


def before_method_control(context: dict, **kwargs: Any) -> None:
    r = _run
    if r is None or r.error is not None:
        return
    try:
        r.before_method()
    except BaseException as exc:  # noqa: BLE001 - e.g. the drill lock lost: no fault
        r.error = exc
        raise _interrupt("before the method", exc) from None


def before_activity_control(context: dict, **kwargs: Any) -> None:
    r = _run
    if r is None or r.error is not None or r.scope is None:
        return
    try:
        r.before_activity(context)
    except BaseException as exc:  # noqa: BLE001 - the guard refused the activity
        r.error = exc
        raise _interrupt(f"activity {context.get('name', '?')!r}", exc) from None


def after_method_control(context: dict, state: Any = None, **kwargs: Any) -> None:
    r = _run
    if r is not None and r.scope is not None:
        r.after_method(state)


def after_experiment_control(context: dict, state: dict | None = None, **kwargs: Any) -> None:
    r = _run
    if r is None or state is None:
        return
    try:
        r.finish(state)
    except BaseException as exc:  # noqa: BLE001 - never leave the run looking passed
        state[SECTION] = {"verdict": verdicts.HARNESS_ERROR, "reason": f"kubedrill failed: {first_line(exc)}"}
        state["status"] = "failed"
        _warn(f"kubedrill failed after the experiment: {first_line(exc)}")


def cleanup_control() -> None:
    global _run
    r, _run = _run, None
    if r is not None:
        try:
            r.teardown()
        except Exception as exc:  # noqa: BLE001
            _warn(f"cleanup failed: {first_line(exc)}; `make clean` replays the fault journal")

