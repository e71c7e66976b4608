"""What a scenario will touch, known before it runs: its plan.

Every collected scenario (a Python scenario or a Chaos Toolkit experiment) carries one
:class:`Plan`, built at collection from what it declares: the namespaces it acts in, the objects
it applies, the nodes and the cluster-scoped kinds it touches, its PodDisruptionBudgets, the
capabilities it needs of the cluster, and its faults in order. ``--plan`` prints the plans of a
run and touches nothing; ``--require`` names the same capabilities. A plan is read from files
and declarations only: nothing is asked of the cluster to build it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from kubedrill.leaks import run_namespace_prefix
from kubedrill.run import slug

# What some clusters cannot do. A scenario that needs one the cluster lacks is skipped, or fails
# as "not applicable" with --require (fixtures/requirements.py).
NODE_STOP = "node-stop"
SNAPSHOT = "snapshot"
CONTAINER_KILL = "container-kill"
DATA_ON_NODE = "data-on-node"

CAPABILITIES = {
    NODE_STOP: "stop a worker (its node container, through docker: the local kind cluster)",
    SNAPSHOT: "take and restore VolumeSnapshots (the snapshot.storage.k8s.io CRDs and a VolumeSnapshotClass)",
    CONTAINER_KILL: "kill a container in place (the node's runtime on the local kind cluster; elsewhere "
                    "through exec, when the container's main process handles a terminating signal)",
    DATA_ON_NODE: "look at a volume's data on its node (kubedrill's CSI hostpath driver on the local kind cluster)",
}

NAMESPACE_SLUG = 20   # characters of the scenario's name in its namespace's name


def fresh_namespace(run_id: str, scenario: str, n: int) -> str:
    """The name of the ``n``-th namespace a run creates, for the scenario named ``scenario``."""
    return f"{run_namespace_prefix(run_id)}{slug(scenario, NAMESPACE_SLUG)}-{n}"[:63].rstrip("-")


@dataclass(frozen=True)
class Namespace:
    """A namespace a scenario acts in: a fresh one the run creates for it (its name known once the
    run has an id), or ``existing``, one a drill is allowed into (--allow-namespace)."""

    scenario: str = ""     # the scenario's name (a fresh namespace is named after it)
    existing: str = ""

    def describe(self) -> str:
        if self.existing:
            return f"the existing namespace {self.existing}"
        return f"a fresh namespace kd-<run>-{slug(self.scenario, NAMESPACE_SLUG)}-N"

    def matches(self, name: str, run_id: str) -> bool:
        """Whether ``name`` is this namespace in run ``run_id``."""
        if self.existing:
            return name == self.existing
        head = f"{run_namespace_prefix(run_id)}{slug(self.scenario, NAMESPACE_SLUG)}-"
        if not name.startswith(head[:63].rstrip("-")):
            return False
        rest = name[len(head):]
        return rest.isdigit() or len(name) == 63 or len(head) >= 63   # a long name is cut at 63


@dataclass(frozen=True)
class Plan:
    """What one scenario will touch. ``refused`` is why the guard would refuse it ('' when it
    would not)."""

    item: str = ""
    namespaces: tuple[Namespace, ...] = ()
    objects: tuple[str, ...] = ()          # "Deployment web", in the scenario's namespace
    nodes: tuple[str, ...] = ()            # "one worker, chosen at run time: stopped"
    cluster_kinds: tuple[str, ...] = ()    # cluster-scoped kinds it creates, changes or deletes
    pdbs: tuple[str, ...] = ()             # "PodDisruptionBudget web (maxUnavailable 1)"
    capabilities: tuple[str, ...] = ()     # names of CAPABILITIES
    faults: tuple[str, ...] = ()           # in the order they are injected
    refused: str = ""
    # why it needs the cluster to itself (no other drill running beside it), beyond touching nodes
    exclusive: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.capabilities) - set(CAPABILITIES))
        if unknown:
            raise ValueError(f"unknown capabilities {', '.join(unknown)}; known: {', '.join(CAPABILITIES)}")

    def merged(self, *others: Plan) -> Plan:
        """This plan with ``others``' parts added after its own (each once, in order)."""
        plans = (self, *others)

        def union(name: str) -> tuple:
            return tuple(dict.fromkeys(x for p in plans for x in getattr(p, name)))

        return Plan(item=self.item or next((p.item for p in others if p.item), ""),
                    namespaces=union("namespaces"), objects=union("objects"), nodes=union("nodes"),
                    cluster_kinds=union("cluster_kinds"), pdbs=union("pdbs"),
                    capabilities=union("capabilities"), faults=tuple(f for p in plans for f in p.faults),
                    refused="; ".join(p.refused for p in plans if p.refused),
                    exclusive="; ".join(dict.fromkeys(p.exclusive for p in plans if p.exclusive)))

    def alone(self) -> str:
        """Why this scenario runs alone, after every parallel one ('' when it may run beside
        others): it changes nodes (Node among its cluster kinds: a stop, a drain, a taint), or it
        declares why (``exclusive``, e.g. rebinding a released PersistentVolume)."""
        why = [self.exclusive] if self.exclusive else []
        if "Node" in self.cluster_kinds:
            why.insert(0, "it changes nodes")
        return "; ".join(why)

    def lines(self) -> list[str]:
        """The plan, one line per part, indented under the scenario's id."""
        def part(label: str, values: Iterable[str]) -> str:
            values = list(values)
            return f"  {label + ':':<15}{', '.join(values) if values else 'none'}"

        out = [self.item]
        out.append(part("namespaces", (n.describe() for n in self.namespaces)))
        out.append(part("objects", self.objects))
        out.append(part("nodes", self.nodes))
        out.append(part("cluster kinds", self.cluster_kinds))
        out.append(part("PDBs", self.pdbs))
        out.append(part("capabilities", self.capabilities))
        if self.alone():
            out.append(f"  {'runs alone:':<15}{self.alone()}")
        out.append(f"  {'faults:':<15}none" if not self.faults else "  faults:")
        out += [f"    {i}. {f}" for i, f in enumerate(self.faults, 1)]
        if self.refused:
            out.append(f"  REFUSED: {self.refused}")
        return out

    def touches_namespace(self, name: str, run_id: str) -> bool:
        return any(n.matches(name, run_id) for n in self.namespaces)


@dataclass(frozen=True)
class Summary:
    """The plans of a whole run, together."""

    items: int
    namespaces: tuple[str, ...]
    nodes: tuple[str, ...]
    cluster_kinds: tuple[str, ...]
    pdbs: int
    capabilities: tuple[str, ...]
    faults: int
    refused: tuple[str, ...]    # "item: why", one per scenario the guard would refuse

    def lines(self) -> list[str]:
        def part(label: str, values: Iterable[str]) -> str:
            values = list(values)
            return f"  {label + ':':<15}{', '.join(values) if values else 'none'}"

        def listed(label: str, values: tuple[str, ...]) -> list[str]:
            return [f"  {label}:" + ("" if values else " none"), *(f"    - {v}" for v in values)]

        return [f"the whole run: {self.items} scenario(s), {self.faults} fault(s), {self.pdbs} PodDisruptionBudget(s)",
                *listed("namespaces", self.namespaces), *listed("nodes", self.nodes),
                part("cluster kinds", self.cluster_kinds), part("capabilities", self.capabilities),
                *(f"  REFUSED: {r}" for r in self.refused)]


def summarize(plans: Iterable[Plan]) -> Summary:
    plans = list(plans)

    def union(values) -> tuple[str, ...]:
        return tuple(dict.fromkeys(values))

    return Summary(
        items=len(plans),
        namespaces=union(n.describe() for p in plans for n in p.namespaces),
        nodes=union(x for p in plans for x in p.nodes),
        cluster_kinds=tuple(sorted({k for p in plans for k in p.cluster_kinds})),
        pdbs=sum(len(p.pdbs) for p in plans),
        capabilities=tuple(c for c in CAPABILITIES if any(c in p.capabilities for p in plans)),
        faults=sum(len(p.faults) for p in plans),
        refused=tuple(f"{p.item}: {p.refused}" for p in plans if p.refused))

