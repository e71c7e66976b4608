"""Typed errors. Every error the library raises on purpose is a KubedrillError."""

from __future__ import annotations

from typing import Any


def first_line(exc: BaseException | object, limit: int | None = None) -> str:
    """The first line of what ``exc`` says (its type's name when it says nothing), cut at ``limit``."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line[:limit] if limit else line


class KubedrillError(Exception):
    """Base of every error kubedrill raises on purpose."""


class UsageError(KubedrillError):
    """Bad input from the user: an option value, a missing file, a context not allowed."""


class ClusterUnreachable(UsageError):
    """The API server of the chosen context does not answer."""


class GuardRefused(KubedrillError):
    """A destructive action was refused by the safety guard."""


class LockHeld(KubedrillError):
    """Another drill holds the cluster-wide drill lock: its lease was not seen unchanged for its
    full duration (``expires_in_s``: what is left of it, on this host's clock, unless renewed)."""

    def __init__(self, holder: str, expires_in_s: float, watched_s: float | None = None):
        self.holder = holder
        self.expires_in_s = expires_in_s
        self.watched_s = watched_s
        watched = "" if watched_s is None else f" (waited {watched_s:.0f}s; --wait-for-lock SECONDS waits longer)"
        super().__init__(
            f"another drill ({holder}) holds the cluster-wide drill lock; "
            f"it expires in {expires_in_s:.0f}s unless renewed{watched}"
        )


class LockLost(KubedrillError):
    """This run lost the cluster-wide drill lock (someone else wrote its lease, or it could not
    be renewed before it expired), or its last renewal is too old to inject a new fault."""


class JournalUnwritable(KubedrillError):
    """The fault journal cannot be written (a full or read-only filesystem): no fault is injected
    without its journal line."""


class WaitTimeout(KubedrillError):
    """A wait reached its deadline. Carries the last state it observed."""

    def __init__(self, description: str, timeout_s: float, last_state: Any, summary: str = ""):
        self.description = description
        self.timeout_s = timeout_s
        self.last_state = last_state
        self.summary = summary
        detail = f"; last seen: {summary}" if summary else ""
        super().__init__(f"timed out after {timeout_s:.1f}s waiting for {description}{detail}")


class DataLost(KubedrillError):
    """The data oracle found acknowledged records missing or corrupt."""


class FaultFailed(KubedrillError):
    """A fault could not be injected (nothing to kill, node not found, ...)."""


class FaultNotInjected(FaultFailed):
    """The fault was applied and did nothing: the killed pod's UID is still there, the killed
    container's restart count did not move, the node never became unreachable."""


class IdentityLost(KubedrillError):
    """A workload came back as something else: a name, an ordinal or a claim (PVC UID) changed,
    pods came back out of their guaranteed order, or a pod that must wait for its volume ran
    without it."""


class NotRecovered(KubedrillError):
    """The workload never came back as required (a count not restored, a replacement missing);
    not a matter of speed."""


class ObjectiveExceeded(KubedrillError):
    """A recovery happened, measured outside its objective (an RTO, an outage, an availability,
    an RPO). Carries the objective's name, the measured value and the limit."""

    def __init__(self, message: str, name: str = "", measured: float | None = None,
                 limit: float | None = None):
        self.name = name
        self.measured = measured
        self.limit = limit
        super().__init__(message)


class NotApplicable(KubedrillError):
    """A scenario cannot run on this cluster (a capability is missing) and --require names that
    capability: the run must not pass without it."""


class CapabilityMissing(NotApplicable):
    """A fault this cluster cannot inject, from an experiment's action: a capability is missing
    (e.g. container-kill from inside a pod, where no node runtime answers). Like a scenario's
    missing capability: "not applicable", a skip unless --require names the capability."""

    PREFIX = "not applicable: "

    def __init__(self, capability: str, why: str):
        self.capability = capability
        self.why = why
        super().__init__(f"{self.PREFIX}{capability} not available: {why}")

    @classmethod
    def from_reason(cls, reason: str) -> "CapabilityMissing":
        """Back from its message, as a Chaos Toolkit journal keeps it (the action's error text)."""
        capability, _, why = reason.removeprefix(cls.PREFIX).partition(" not available: ")
        return cls(capability, why)


class ObjectiveMissed(WaitTimeout):
    """A recovery did not finish within its objective (the wait stopped there). Names the stage
    that was still running, the one that took the time, and carries the partial timeline."""

    def __init__(self, message: str, description: str, timeout_s: float, last_state: Any,
                 stage: str, timeline: Any = None):
        super().__init__(description, timeout_s, last_state, "")
        self.stage = stage
        self.timeline = timeline
        self.args = (message,)

    def __str__(self) -> str:
        return self.args[0]


class RecoveryFailed(KubedrillError):
    """A recovery cannot happen: the controller reports it cannot create the pods (e.g.
    ReplicaFailure/FailedCreate) or a replacement is stuck in a state it never leaves
    (ErrImageNeverPull, ...). Names the pods the wait was waiting for. Not a timeout."""


class ImageUnavailable(KubedrillError):
    """A pod kubedrill starts itself (the availability prober, a pod holding the writer's records,
    its database) cannot get its image (ErrImagePull, ImagePullBackOff, ...): the harness failed, whenever it
    happens. Names the pod, the image and the kubelet's reason; raised at the first sign, not at
    the deadline of the wait."""


class VolumeLost(DataLost):
    """A volume that should have been retained is gone ("PV deleted")."""


class ExecFailed(KubedrillError):
    """A command run in a pod failed: it exited non-zero, the exec could not be opened, or its
    session broke or ended (kubedrill.k8s.podexec, kubedrill.k8s.podsession)."""


class SnapshotNotReady(WaitTimeout):
    """A VolumeSnapshot did not become readyToUse in time (or reported an error). Carries
    the snapshot's and its VolumeSnapshotContent's status as last seen."""

    def __init__(self, description: str, timeout_s: float, snapshot_status: Any, content_status: Any,
                 summary: str = ""):
        self.snapshot_status = snapshot_status
        self.content_status = content_status
        super().__init__(description, timeout_s, {"snapshot": snapshot_status, "content": content_status},
                         summary or f"snapshot status {snapshot_status}; content status {content_status}")


class RestoreFailed(RecoveryFailed):
    """A restore cannot succeed: the claim's provisioning failed (``event`` carries the
    ProvisioningFailed event: reason, message, object, time), or the restored workload never
    answered."""

    def __init__(self, message: str, event: Any = None, elapsed_s: float | None = None):
        self.event = event
        self.elapsed_s = elapsed_s
        super().__init__(message)


class MetricsUnreported(KubedrillError):
    """The run's metrics could not be written (reports/metrics.prom) or pushed (--pushgateway):
    what monitoring shows would not be this run's, so the run is a harness error (never a pass)."""
