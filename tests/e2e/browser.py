"""Headless Chromium (Debian's) driven over the DevTools protocol, for looking at the HTML report
the way a reader does. Installs chromium with apt-get when it is missing and we are root;
otherwise the caller skips with the reason.

Every wait is an event: Chromium's "DevTools listening" line on stderr, a DevTools reply, or an
in-page promise that a MutationObserver resolves when the page shows what is asked for.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from tests.e2e.processes import stop

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000"]


class Unavailable(Exception):
    """Chromium cannot be found or installed here (the test skips with this reason)."""


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        exe = shutil.which(name)
        if exe:
            return exe
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Unavailable("chromium is not installed and cannot be installed here "
                          "(needs root and apt-get: apt-get install -y chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
                ["apt-get", "update"],
                ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        if cmd[1] == "install" and proc.returncode == 0:
            break
    exe = shutil.which("chromium")
    if not exe:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise Unavailable("apt-get could not install chromium: " + " | ".join(tail))
    return exe


class StaticServer:
    """A directory over HTTP on 127.0.0.1 (the report loads its data with fetch)."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "StaticServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class Browser:
    """One headless Chromium with one page, and the DevTools calls the tests need."""

    def __init__(self, exe: str, start_timeout_s: float = 60):
        import websocket  # websocket-client (dev dependency)

        # ignore_cleanup_errors: a profile file chromium still writes must not fail a test
        self._dir = tempfile.TemporaryDirectory(prefix="kubedrill-chromium-", ignore_cleanup_errors=True)
        # its own process group: close() ends the renderer and utility processes too, not only
        # the browser process (they write the profile's Cache while they live)
        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={self._dir.name}", "--remote-debugging-port=0",
             "--remote-allow-origins=*", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        port = self._wait_listening(start_timeout_s)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as r:
            pages = [t for t in json.load(r) if t.get("type") == "page"]
        if not pages:
            self.close()
            raise Unavailable("chromium started without a page")
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=120,
                                              suppress_origin=True)
        self._id = 0
        self.call("Page.enable")
        self.call("Runtime.enable")

    def _wait_listening(self, timeout_s: float) -> int:
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout_s
        seen = b""
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    break
                chunk = os.read(self.proc.stderr.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
                for line in seen.decode(errors="replace").splitlines():
                    if "DevTools listening on ws://" in line:
                        # keep draining stderr so chromium never blocks on a full pipe
                        threading.Thread(target=self._drain, daemon=True).start()
                        return int(line.split("ws://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        finally:
            sel.close()
        self.close()
        raise Unavailable("chromium did not start: " + seen.decode(errors="replace")[-800:])

    def _drain(self) -> None:
        try:
            while self.proc.stderr.read(65536):
                pass
        except (OSError, ValueError):
            pass

    def call(self, method: str, **params):
        self._id += 1
        mine = self._id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mine:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str):
        """Evaluate JS (promises awaited); the value, JSON-serialisable; JS errors raise."""
        res = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            text = (d.get("exception") or {}).get("description") or d.get("text")
            raise AssertionError(f"in the page: {text}")
        return res["result"].get("value")

    def wait_for(self, predicate_js: str, description: str, timeout_s: float = 60):
        """Resolve when ``predicate_js`` (an expression) is truthy: checked now, on every DOM
        change and whenever a resource (an image) loads or fails; returns its value; raises AssertionError with ``description`` at the deadline."""
        js = f"""new Promise((resolve, reject) => {{
            const check = () => {{ try {{ return ({predicate_js}); }} catch (e) {{ return null; }} }};
            const first = check();
            if (first) {{ resolve(first); return; }}
            const done = () => {{ obs.disconnect(); document.removeEventListener('load', onEvent, true);
                                  document.removeEventListener('error', onEvent, true); clearTimeout(timer); }};
            const onEvent = () => {{ const v = check(); if (v) {{ done(); resolve(v); }} }};
            const obs = new MutationObserver(onEvent);
            obs.observe(document, {{subtree: true, childList: true, attributes: true, characterData: true}});
            // an image or other resource finishing is no DOM change: listen for it too
            document.addEventListener('load', onEvent, true);
            document.addEventListener('error', onEvent, true);
            const timer = setTimeout(() => {{ done(); reject(new Error({json.dumps("timed out waiting for " + description)})); }},
                                     {int(timeout_s * 1000)});
        }})"""
        return self.evaluate(js)

    def text(self) -> str:
        return self.evaluate("document.body ? document.body.innerText : ''")

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            try:
                self.call("Browser.close")  # an orderly shutdown: chromium flushes and exits
            except Exception:  # noqa: BLE001
                pass
            try:
                ws.close()
            except Exception:  # noqa: BLE001
                pass
        try:
            self.proc.wait(timeout=30 if ws is not None else 0)
        except subprocess.TimeoutExpired:
            stop(self.proc)
        try:  # whatever of the group is left (renderers, utility processes)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._dir.cleanup()

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
