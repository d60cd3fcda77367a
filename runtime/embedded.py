"""The embedded dev stack: a MongoDB-wire server and a Temporal dev server as child processes.

`EmbeddedStack(settings)` starts whichever of the two has no configured address
(`MONGODB_URI`, `TEMPORAL_ADDRESS`) and exposes the addresses to connect to. Both keep their
data under `DATA_DIR`, so journeys, customers and workflow histories survive a restart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

from runtime.processes import ManagedProcess, venv_bin
from runtime.settings import Settings
from workflows import search_attributes

LOCALHOST = "127.0.0.1"

SQLITE_PRAGMA_ARGS: tuple[str, ...] = (
    "--sqlite-pragma",
    "journal_mode=wal",
    "--sqlite-pragma",
    "synchronous=normal",
)
"""Dev-server SQLite pragmas: without them 30 workflow starts/s gave a p50 of ~20 s, with them ~0.1 s."""

_CLI_TYPE_NAMES = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


def search_attribute_args(keys: Iterable[SearchAttributeKey[Any]]) -> list[str]:
    """`--search-attribute Name=Type` arguments of the Temporal CLI for `keys`."""
    args: list[str] = []
    for key in keys:
        args += ["--search-attribute", f"{key.name}={_CLI_TYPE_NAMES[key.indexed_value_type]}"]
    return args


def mongodb_server(storage_path: Path, port: int, log_path: Path) -> ManagedProcess:
    """A SecantusDB (MongoDB wire protocol) server on 127.0.0.1:`port`, not yet started.

    Data lives in `storage_path` and survives restarts. SecantusDB is GPL: it only ever runs
    as a separate process, never imported.
    """
    storage_path.mkdir(parents=True, exist_ok=True)
    return ManagedProcess(
        "secantusd",
        [
            venv_bin("secantusd-py"),
            "--host",
            LOCALHOST,
            "--port",
            str(port),
            "--storage-path",
            str(storage_path),
            "--log-level",
            "WARNING",
        ],
        host=LOCALHOST,
        port=port,
        log_path=log_path,
    )


def temporal_dev_server(
    data_dir: Path, port: int, ui_port: int, namespace: str, log_path: Path
) -> ManagedProcess:
    """A Temporal dev server on 127.0.0.1:`port` (Web UI on `ui_port`), not yet started.

    State lives in `data_dir/temporal.sqlite` and survives restarts; `namespace` is created and
    our search attributes are registered at every start (both are idempotent).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        venv_bin("temporal"),
        "server",
        "start-dev",
        "--ip",
        LOCALHOST,
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--ui-disable-news-fetch",
        "--db-filename",
        str(data_dir / "temporal.sqlite"),
        *SQLITE_PRAGMA_ARGS,
        "--namespace",
        namespace,
        *search_attribute_args(search_attributes.ALL),
        "--log-level",
        "warn",
    ]
    return ManagedProcess("temporal", args, host=LOCALHOST, port=port, log_path=log_path)


class EmbeddedStack:
    """The servers `settings` leave unconfigured, started on enter and stopped on exit.

    A server whose address is configured is not started; its configured address is passed
    through, so callers always connect to `mongodb_uri` and `temporal_address`.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        self._processes = contextlib.ExitStack()
        self.mongodb: ManagedProcess | None = None
        self.temporal: ManagedProcess | None = None

    @property
    def mongodb_uri(self) -> str:
        """Where to connect for MongoDB (may hold credentials: do not log it)."""
        if self.settings.mongodb_uri is not None:
            return self.settings.mongodb_uri.get_secret_value()
        return f"mongodb://{LOCALHOST}:{self.settings.embedded_mongodb_port}"

    @property
    def temporal_address(self) -> str:
        """Where to connect for Temporal (host:port)."""
        if self.settings.temporal_address is not None:
            return self.settings.temporal_address
        return f"{LOCALHOST}:{self.settings.embedded_temporal_port}"

    @property
    def temporal_ui_url(self) -> str | None:
        """The embedded Temporal Web UI, or None when Temporal runs elsewhere."""
        if self.settings.temporal_address is not None:
            return None
        return f"http://{LOCALHOST}:{self.settings.temporal_ui_port}"

    @property
    def log_dir(self) -> Path:
        """Where the embedded servers write their logs."""
        return self.data_dir / "logs"

    def start(self) -> EmbeddedStack:
        """Start the needed servers; blocks until each accepts connections."""
        settings = self.settings
        try:
            if settings.uses_embedded_mongodb:
                self.mongodb = mongodb_server(
                    self.data_dir / "mongodb",
                    settings.embedded_mongodb_port,
                    self.log_dir / "secantusd.log",
                )
                self._processes.enter_context(self.mongodb)
            if settings.uses_embedded_temporal:
                self.temporal = temporal_dev_server(
                    self.data_dir,
                    settings.embedded_temporal_port,
                    settings.temporal_ui_port,
                    settings.temporal_namespace,
                    self.log_dir / "temporal.log",
                )
                self._processes.enter_context(self.temporal)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop what `start` started, in reverse order."""
        self._processes.close()
        self.mongodb = None
        self.temporal = None

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
