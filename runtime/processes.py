"""Child processes of the embedded stack (Temporal dev server, MongoDB-wire server).

A `ManagedProcess` starts a command, sends its output to a log file, waits until its TCP port
accepts connections, and stops it (SIGTERM, then SIGKILL) when closed. Children are put in their
own process group and are told to die with their parent (Linux `PR_SET_PDEATHSIG`), so a test run
or a `make run` that is killed leaves no server behind.  The signal comes when the *thread* that
started the child ends: start servers from a long-lived thread (the main one, or a pool's).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

_PR_SET_PDEATHSIG = 1


class ProcessStartError(RuntimeError):
    """A child process exited or never opened its port; the message ends with its log's tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def venv_bin(name: str) -> str:
    """Path of an executable installed beside the running interpreter (the project's venv)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    raise FileNotFoundError(f"{name} is not installed in {candidate.parent}; run `make setup`")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ManagedProcess:
    """One server child process: `start()` blocks until `port` is open; `stop()` ends it."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        *,
        host: str,
        port: int,
        log_path: Path,
        env: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.host = host
        self.port = port
        self.log_path = log_path
        self.env = env
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        if port_open(self.host, self.port):
            raise ProcessStartError(f"{self.name}: port {self.host}:{self.port} is already in use")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv built by this module's callers
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(self.env or {})},
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ProcessStartError(
                    f"{self.name} exited with {self._process.returncode}:\n{self.log_tail()}"
                )
            if port_open(self.host, self.port):
                return self
            time.sleep(0.1)
        self.stop()
        raise ProcessStartError(
            f"{self.name} did not open {self.host}:{self.port} within {self.startup_timeout:.0f}s:\n"
            f"{self.log_tail()}"
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (None before `start()` and after `stop()`)."""
        return None if self._process is None else self._process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        stop_group(process, timeout)

    def kill(self) -> None:
        """SIGKILL the process group at once (a crash, for fault tests); `start()` restarts it
        on the same port and data."""
        process, self._process = self._process, None
        kill_group(process)

    def __enter__(self) -> ManagedProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def stop_group(process: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    """End a child that leads its own process group: SIGTERM, then SIGKILL after `timeout`."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)


def kill_group(process: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL a child's process group at once and reap it."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=15)
