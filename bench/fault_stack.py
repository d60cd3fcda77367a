"""The pieces of the fault suite: servers that can be killed, a worker process, channel receivers.

- `FaultStack`: SecantusDB and a Temporal dev server as child processes on free ports, each with
  its data under one directory, so `kill()` (SIGKILL) then `restart()` brings it back on the same
  port with the same data;
- `WorkerProcess`: `omnijourney worker` as its own OS process (so it can be killed with -9),
  configured only through `worker_env`;
- `Receiver`: a local HTTP server standing in for a channel's API; it records when each request
  with each `Idempotency-Key` arrived and answers 200 after `latency` seconds (a real receiver
  de-duplicates on the key; this one counts);
- `WeComChannel`: the WeCom simulator (real HTTP, WeCom's API) recording when each mass-message
  task was created, per customer (`external_userid`). WeCom takes no idempotency key, so every
  task beyond a customer's first is a message sent twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from connectors.wecom.simulator import WeComSimulator
from connectors.wecom.simulator.state import Body
from runtime.embedded import LOCALHOST, mongodb_server, temporal_dev_server
from runtime.processes import ManagedProcess, free_port, kill_group, stop_group
from store.secretbox import encode_key, generate_key

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "omnijourney_faults"
# Without a bound, a driver call during a MongoDB outage waits 30 s (PyMongo's default server
# selection timeout) before failing; the suite's outages last a few seconds.
MONGODB_OPTIONS = "serverSelectionTimeoutMS=5000&connectTimeoutMS=2000"


class Receiver(ThreadingHTTPServer):
    """A channel's server: when each request arrived (`time.monotonic()`), per `Idempotency-Key`."""

    def __init__(self, name: str, latency: float = 0.0) -> None:
        super().__init__((LOCALHOST, 0), _ReceiverHandler)
        self.name = name
        self.latency = latency
        self.dedupes = True  # a real receiver answers a repeated Idempotency-Key from its record
        self.keys: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return LOCALHOST

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.server_address[1]}/{self.name}"

    def repeated(self) -> dict[str, list[float]]:
        """Keys that arrived more than once, with their arrival times."""
        with self.lock:
            return {key: list(times) for key, times in self.keys.items() if len(times) > 1}

    def received_since(self, since: float) -> int:
        with self.lock:
            return sum(1 for times in self.keys.values() for at in times if at >= since)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A killed worker drops its connections mid-call: expected here, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class WeComChannel(WeComSimulator):
    """The simulated corp; `keys` are when a mass-message task was created, per customer."""

    name = "wecom"
    dedupes = False  # WeCom has no idempotency key: a second task is a second message

    def __init__(self, corp_id: str, secret: str, latency: float = 0.0) -> None:
        super().__init__(corp_id, secret, answer_delay=latency)
        self.keys: dict[str, list[float]] = {}
        self.on_next_task: Callable[[], None] | None = None
        """Called (once) right after the next task is created, before WeCom answers."""

    def add_msg_template(self, body: Body) -> Body:
        answer = super().add_msg_template(body)
        if body.get("chat_type", "single") == "single":
            for row in self.msg_tasks[answer["msgid"]]["results"]:
                self.keys.setdefault(row["external_userid"], []).append(time.monotonic())
        hook, self.on_next_task = self.on_next_task, None
        if hook is not None:
            hook()
        return answer

    def repeated(self) -> dict[str, list[float]]:
        """Customers who were issued more than one task, with the times they were issued."""
        return {key: list(times) for key, times in self.keys.items() if len(times) > 1}

    def received_since(self, since: float) -> int:
        return sum(1 for times in self.keys.values() for at in times if at >= since)


Channel = Receiver | WeComChannel


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        key = self.headers.get("Idempotency-Key", "")
        with self.server.lock:
            self.server.keys.setdefault(key, []).append(time.monotonic())
        if self.server.latency:
            time.sleep(self.server.latency)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"id": "ok"}')

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FaultStack:
    """SecantusDB and the Temporal dev server under `root`, each killable and restartable."""

    def __init__(self, root: Path) -> None:
        self.root = root
        logs = root / "logs"
        self.mongodb_port = free_port()
        self.temporal_port = free_port()
        self.mongodb = mongodb_server(root / "mongodb", self.mongodb_port, logs / "secantusd.log")
        self.temporal = temporal_dev_server(
            root / "temporal", self.temporal_port, free_port(), "default", logs / "temporal.log"
        )
        self.secrets_keys = json.dumps({"faults": encode_key(generate_key())})

    @property
    def mongodb_uri(self) -> str:
        return f"mongodb://{LOCALHOST}:{self.mongodb_port}/?{MONGODB_OPTIONS}"

    @property
    def temporal_address(self) -> str:
        return f"{LOCALHOST}:{self.temporal_port}"

    @staticmethod
    def restart(server: ManagedProcess) -> None:
        """Start `server` again on its port and data directory (after `kill`)."""
        # The killed server's port may take a moment to be released.
        for _ in range(100):
            with contextlib.suppress(Exception):
                server.start()
                return
            time.sleep(0.1)
        server.start()

    def __enter__(self) -> FaultStack:
        self.mongodb.start()
        try:
            self.temporal.start()
        except BaseException:
            self.mongodb.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.temporal.stop()
        self.mongodb.stop()


def stack_env(stack: FaultStack, receivers: list[Receiver]) -> dict[str, str]:
    """The settings (environment) of the worker process and of the API: where the servers are,
    the key sealing stored secrets (both must read what the other sealed), and the receivers the
    webhook connector may reach (loopback only through the allow-list). The journey names their
    URLs; this is the one place that lets the connector call them."""
    return {
        "MONGODB_URI": stack.mongodb_uri,
        "MONGODB_DATABASE": DATABASE,
        "TEMPORAL_ADDRESS": stack.temporal_address,
        "TEMPORAL_NAMESPACE": "default",
        "SECRETS_KEYS": stack.secrets_keys,
        "WEBHOOK_ALLOWED_NETWORKS": ",".join(sorted({f"{r.host}/32" for r in receivers})),
        "LOG_LEVEL": "WARNING",
        "WECOM_RESULT_POLL_INTERVAL": "60",
    }


class WorkerProcess:
    """`omnijourney worker` (or another `command`, e.g. `api`) in its own process group;
    `kill()` is kill -9."""

    def __init__(self, env: dict[str, str], log_path: Path, command: str = "worker") -> None:
        self.env = env
        self.log_path = log_path
        self.command = command
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self._process = subprocess.Popen(  # noqa: S603 - our own CLI, a fixed sub-command
                [sys.executable, "-m", "runtime.cli", self.command],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        """The process's id (it runs the interpreter itself: no shell in between)."""
        assert self._process is not None, "not started"
        return self._process.pid

    def kill(self) -> None:
        process, self._process = self._process, None
        kill_group(process)

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_group(process, timeout=30)
