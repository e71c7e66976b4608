"""``python -m kubedrill.lock``: does a live drill hold the cluster's drill lock?

For the steps that must not touch a cluster another drill holds: cluster/up.sh asks before it
starts a stopped node container, recreates or deletes anything. Reads the lock (a Lease with an
expiry, kubedrill.guard.DrillLock); changes nothing.

Exit status: 0 when no drill holds it (no lease, or an expired one: its run is gone); 3 when a
live drill holds it (one line says which, and when the lock expires unless renewed); 2 when it
cannot be read (one line says why).
"""

from __future__ import annotations

import argparse
import sys
from typing import Iterable

import urllib3
from kubernetes.client.rest import ApiException

from kubedrill import client as kclient
from kubedrill import guard
from kubedrill.errors import KubedrillError, LockHeld

FREE, UNKNOWN, HELD = 0, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        self.exit(UNKNOWN, f"kubedrill: error: {message} (see --help)\n")


def main(argv: Iterable[str] | None = None) -> int:
    parser = _Parser(prog="python -m kubedrill.lock",
                     description="Exit 0 when no live drill holds the cluster's drill lock, 3 when one does.")
    parser.add_argument("--kubeconfig", default=None, help="kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", default=None, help="context of the cluster (default: kind-<cluster name>)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds the API server has to answer")
    args = parser.parse_args(list(argv) if argv is not None else None)
    context = args.context or kclient.default_context()
    try:
        # reading one lease is allowed on any context: nothing is changed
        clients = kclient.load(args.kubeconfig, context, (context,), timeout_s=args.timeout)
        guard.check_lock_free(clients)
    except LockHeld as exc:
        print(f"kubedrill: {exc} ({guard.LOCK_NAMESPACE}/{guard.LOCK_NAME}, context {context})", flush=True)
        return HELD
    except (KubedrillError, ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else type(exc).__name__
        print(f"kubedrill: error: cannot read the drill lock of context {context}: {reason}", file=sys.stderr)
        return UNKNOWN
    return FREE


if __name__ == "__main__":
    sys.exit(main())
